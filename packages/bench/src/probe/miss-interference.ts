// What a few µs of work between two queries cost the second one: an uncached Prisma query timed right after another
// query, after a Strata miss made without the database (`$cache.wrap` of a new key, loader returning a row: text,
// snapshot, flight, copy, encoding, local entry), after a Strata local hit (`$cache.wrap` of one key), and after plain
// JSON work. Each kind is also timed alone, in a loop. On these machines the query after the work grows by several
// times what the work takes alone: code run between two waits on I/O runs colder than in a loop, and so does the
// query's own code after it. Local-only Strata, PostgreSQL (DATABASE_URL) or SQLite (DB=sqlite).
//
//   npx tsx src/probe/miss-interference.ts [pairs]     (in packages/bench)
import { cache } from 'prisma-strata'
import { withCleanup } from '../scenarios/cleanup.ts'
import { missScene, type PostReads } from './miss-scene.ts'

const pairs = Number(process.argv[2] ?? 3000)
type Wrap = {
  $cache: {
    wrap(key: string, loader: () => unknown): Promise<unknown>
    stats(): { misses: number; localHits: number }
  }
}

await withCleanup(async (defer) => {
  const { plain, args, cached } = await missScene('local', defer)
  const strata = (await cached(cache, 'interference')) as unknown as Wrap
  const row = () => ({ id: 1, title: 'hot', published: true, views: 0, rating: null, authorId: null })
  let n = 0
  const kinds: Array<[string, () => unknown]> = [
    ['another query', () => undefined],
    ['a Strata miss', () => strata.$cache.wrap(`miss-${n++}`, row)],
    ['a Strata local hit', () => strata.$cache.wrap('hit', row)],
    [
      '8 JSON round trips of a row',
      () => {
        for (let i = 0; i < 8; i++) JSON.parse(JSON.stringify({ ...row(), views: n++ }))
      },
    ],
  ]
  const query = () => (plain as unknown as PostReads).post.findFirst(args())

  /** Mean µs of `work` alone, awaited in a loop. */
  const alone = async (work: () => unknown) => {
    for (let i = 0; i < 5000; i++) await work()
    const t0 = performance.now()
    for (let i = 0; i < 20_000; i++) await work()
    return ((performance.now() - t0) * 1000) / 20_000
  }
  const own = new Map<string, number>()
  for (const [name, work] of kinds) own.set(name, await alone(work))

  for (let i = 0; i < 500; i++) {
    for (const [, work] of kinds) {
      await work()
      await query()
    }
  }
  const after = new Map<string, number[]>(kinds.map(([name]) => [name, []]))
  const before = strata.$cache.stats()
  for (let i = 0; i < pairs; i++) {
    // Rotated: no kind always follows the same neighbour.
    for (let k = 0; k < kinds.length; k++) {
      const [name, work] = kinds[(k + i) % kinds.length] as [string, () => unknown]
      await work()
      const t0 = performance.now()
      await query()
      after.get(name)?.push((performance.now() - t0) * 1000)
    }
  }
  // Each timed Strata miss was one, and each local hit one.
  const now = strata.$cache.stats()
  if (now.misses - before.misses !== pairs || now.localHits - before.localHits !== pairs) {
    throw new Error(
      `expected ${pairs} misses and local hits, counted ${now.misses - before.misses} and ${now.localHits - before.localHits}`,
    )
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1] as number
  const reference = median(after.get('another query') as number[])
  console.log(`${pairs} queries after each kind, interleaved; the query's median µs, and what the work costs alone`)
  for (const [name] of kinds) {
    const q = median(after.get(name) as number[])
    const work = own.get(name) as number
    const added = q - reference
    const ratio = name === 'another query' ? '' : `, ${(added / work).toFixed(1)}× the work alone`
    console.log(
      `after ${name.padEnd(28)} query ${q.toFixed(1).padStart(6)} µs (+${added.toFixed(1).padStart(5)})` +
        `   the work alone ${work.toFixed(1).padStart(5)} µs${ratio}`,
    )
  }
})
