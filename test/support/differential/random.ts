// A small seeded PRNG (mulberry32) and the choices the generator makes with it. Same seed, same sequence: a failing
// seed printed by the differential test replays exactly.
import { randomInt } from 'node:crypto'

export class Rng {
  private state: number

  constructor(readonly seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** One of `choices`, each with its weight. */
  weighted<T>(choices: ReadonlyArray<readonly [weight: number, value: T]>): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0)
    let roll = this.next() * total
    for (const [w, value] of choices) {
      roll -= w
      if (roll < 0) return value
    }
    return (choices.at(-1) as readonly [number, T])[1]
  }

  /** `count` distinct integers of [min, max], ascending. */
  distinctInts(count: number, min: number, max: number): number[] {
    const out = new Set<number>()
    while (out.size < Math.min(count, max - min + 1)) out.add(this.int(min, max))
    return [...out].sort((a, b) => a - b)
  }

  /** Keeps each key of `parts` with probability `p` (at least one when `atLeastOne`). */
  subset<T extends object>(parts: T, p = 0.5, atLeastOne = true): Partial<T> {
    const keys = Object.keys(parts) as (keyof T)[]
    const kept = keys.filter(() => this.chance(p))
    if (kept.length === 0 && atLeastOne && keys.length > 0) kept.push(this.pick(keys))
    const out: Partial<T> = {}
    for (const key of kept) out[key] = parts[key]
    return out
  }

  /** An independent generator derived from this one (for a sub-sequence that must not shift the main one). */
  fork(): Rng {
    return new Rng(this.int(0, 0xffffffff))
  }
}

/** The seed from `STRATA_SEED` (decimal or 0x hex), or a fresh random one. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.STRATA_SEED?.trim()
  if (!text) return randomInt(0, 2 ** 32 - 1)
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 32) {
    throw new Error(`STRATA_SEED must be an integer in [0, 2^32), got ${JSON.stringify(text)}`)
  }
  return value
}
