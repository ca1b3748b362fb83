// A large attack matrix split into slices: each run attacks with one slice, drawn at random once per run (by the
// global setup, for every file) and printed, so that many runs together attack with every one while each keeps
// `npm test` within minutes. STRATA_ADVERSARY_SLICE=k replays a run (a file of n slices runs slice k modulo n);
// STRATA_FULL_ADVERSARY=1 runs every slice (how a matrix is run when it is written, and after a change to what it
// attacks).

/** A multiple of every file's count of slices: one drawn value gives each file a uniform slice. */
const DRAWN_FROM = 6

/** Draws the run's slice into STRATA_ADVERSARY_SLICE, unless one is given. */
export function drawSlice(): void {
  process.env.STRATA_ADVERSARY_SLICE ??= String(Math.floor(Math.random() * DRAWN_FROM))
}

/** The items of `all` whose index is the run's slice modulo `slices` (a divisor of 6); `name` labels the line. */
export function sliceOfRun<T>(name: string, all: readonly T[], slices: number): readonly T[] {
  if (process.env.STRATA_FULL_ADVERSARY === '1') return all
  drawSlice()
  const given = process.env.STRATA_ADVERSARY_SLICE as string
  if (!/^\d+$/.test(given)) throw new Error(`STRATA_ADVERSARY_SLICE must be a whole number (0, 1, ...), not ${given}`)
  const slice = Number(given) % slices
  console.log(`[${name}] the attacks i % ${slices} = ${slice} (replay: STRATA_ADVERSARY_SLICE=${given})`)
  return all.filter((_, i) => i % slices === slice)
}
