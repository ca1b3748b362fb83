// Zipf-distributed indexes: index k (0-based) is drawn with weight 1 / (k + 1)^s, so a few indexes are hot and the
// rest form a long tail, as the keys of an application's traffic do.

/** A sampler of indexes in [0, keys) for uniform draws `u` in [0, 1): one binary search over the cumulative weights. */
export function zipf(keys: number, s = 1): (u: number) => number {
  const cdf = new Float64Array(keys)
  let sum = 0
  for (let k = 0; k < keys; k++) cdf[k] = sum += 1 / (k + 1) ** s
  return (u) => {
    const target = u * sum
    let lo = 0
    let hi = keys - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cdf[mid] as number) < target) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
