// Latency measurement: one awaited call at a time, each timed on its own with `performance.now()`.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** What is measured: a function returning the promise (or thenable) of one call. */
export type Call = () => PromiseLike<unknown>

export interface Summary {
  samples: number
  /** Microseconds. */
  median: number
  p25: number
  p75: number
  p90: number
  p99: number
  min: number
  mean: number
  /** Calls per second, sequential: samples / the sum of their times. */
  opsPerSec: number
}

/** Sample buffer of one contender, filled batch by batch across rounds. */
export class Samples {
  private readonly us: Float64Array
  private length = 0
  private batchStart = 0
  /** Median of each batch (one per round), for ratios paired round by round. */
  readonly batchMedians: number[] = []

  constructor(capacity: number) {
    this.us = new Float64Array(capacity)
  }

  push(us: number): void {
    this.us[this.length++] = us
  }

  /** Closes the current batch (one round of this contender). */
  endBatch(): void {
    const batch = this.us.slice(this.batchStart, this.length).sort()
    this.batchMedians.push(batch[Math.floor(batch.length / 2)] ?? Number.NaN)
    this.batchStart = this.length
  }

  /** Every sample so far, in the order taken. */
  values(): Float64Array {
    return this.us.slice(0, this.length)
  }

  summary(): Summary {
    return summarize(this.values())
  }
}

/** Median, quantiles, mean and sequential ops/s of samples in µs. */
export function summarize(samples: Float64Array): Summary {
  const sorted = samples.slice().sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  let sum = 0
  for (const v of sorted) sum += v
  return {
    samples: sorted.length,
    median: at(0.5),
    p25: at(0.25),
    p75: at(0.75),
    p90: at(0.9),
    p99: at(0.99),
    min: sorted[0] ?? Number.NaN,
    mean: sum / sorted.length,
    opsPerSec: sorted.length / (sum / 1e6),
  }
}

/** Runs `n` calls, one at a time, recording each one's duration in µs, as one batch. */
export async function timed(call: Call, n: number, into: Samples): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await call()
    into.push((performance.now() - t0) * 1000)
  }
  into.endBatch()
}

/**
 * The ratio of two contenders measured in the same rounds: the median, over rounds, of the ratio of their batch
 * medians. The machine's speed drifts (loopback round trips here switch between ~20 and ~55 µs for seconds at a
 * time); pairing round by round compares each contender with the reference under the same conditions.
 */
export function pairedRatio(a: Samples, b: Samples): number {
  const ratios = a.batchMedians.map((m, i) => m / (b.batchMedians[i] as number)).sort((x, y) => x - y)
  return ratios[Math.floor(ratios.length / 2)] ?? Number.NaN
}

/** Runs `n` calls, one at a time, untimed. */
export async function untimed(call: Call, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await call()
}

/** The cost of the timing itself (two `performance.now()` and an `await` of a resolved promise), in µs. */
export async function timerOverhead(n = 20_000): Promise<Summary> {
  const samples = new Samples(n)
  const resolved = Promise.resolve(undefined)
  await timed(() => resolved, n, samples)
  return samples.summary()
}

let gc: (() => void) | undefined
/** A full garbage collection (V8's `gc()`, exposed on first use), to run untimed between measurements. */
export function fullGc(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
}
