// A large attack matrix split into slices: each run attacks with one slice (drawn at random and printed, so that
// runs together attack with every one), which keeps `npm test` within minutes; STRATA_ADVERSARY_SLICE=k replays
// slice k (k modulo a file's count of slices, so one value serves every file), STRATA_FULL_ADVERSARY=1 runs them all (how a matrix is run when it is written, and after a change to
// what it attacks).

/** The items of `all` whose index is the run's slice modulo `slices`; `name` labels the printed line. */
export function sliceOfRun<T>(name: string, all: readonly T[], slices: number): readonly T[] {
  if (process.env.STRATA_FULL_ADVERSARY) return all
  const given = process.env.STRATA_ADVERSARY_SLICE
  const chosen = given === undefined ? Math.floor(Math.random() * slices) : Number(given)
  if (!(Number.isInteger(chosen) && chosen >= 0)) {
    throw new Error(`STRATA_ADVERSARY_SLICE must be a whole number (0, 1, ...), not ${given}`)
  }
  const slice = chosen % slices
  console.log(`[${name}] the attacks i % ${slices} = ${slice} (replay: STRATA_ADVERSARY_SLICE=${slice})`)
  return all.filter((_, i) => i % slices === slice)
}
