// Memory: Strata's local tier bounded at `--memory-max-mib`, under a million distinct queries, in a child process of
// its own so its RSS is its own; plain Prisma making the same queries in another child is the reference (what the
// process weighs without a cache). The two run at the same time: their timings do not matter here, only memory.
import type { BenchOptions } from '../options.ts'
import { type Check, markdownTable } from '../report.ts'
import type { MemoryConfig, MemoryReport } from '../workers/memory.ts'
import { withCleanup } from './cleanup.ts'
import { startFleet } from './fleet.ts'

const mib = (value: number) => value.toFixed(0)

export function runMemory(options: BenchOptions) {
  const { queries, maxMiB } = options.memory
  const maxBytes = maxMiB * 2 ** 20
  console.log(
    `Memory: ${queries.toLocaleString('en-US')} distinct findUnique (SQLite), 100 in flight, in a child process: ` +
      `Strata local tier bounded at ${maxMiB} MiB, and plain Prisma for reference`,
  )
  return withCleanup(async (defer) => {
    const configs: MemoryConfig[] = [
      { mode: 'strata', queries, maxBytes },
      { mode: 'prisma', queries, maxBytes },
    ]
    const fleet = await startFleet('memory', configs)
    defer(() => fleet.close())
    const [strata, prisma] = (await fleet.all<MemoryReport>({ cmd: 'run' })) as [MemoryReport, MemoryReport]

    // From half the queries on (the tier long full), RSS must stay level, not climb with the number of queries.
    const half = strata.series.findIndex((p) => p[0] >= queries / 2)
    const atHalf = strata.series[half] as MemoryReport['series'][number]
    const afterHalf = Math.max(...strata.series.slice(half).map((p) => p[1]))
    // What the cache holds: the heap still held after a full GC, grown since the baseline (taken after the warm-up,
    // so the rest of the process is counted on both sides); of it, the local tier's own, freed once it is emptied.
    const held = strata.endHeapMiB - strata.baselineHeapMiB
    const tier = strata.tierHeapMiB
    const checks: Check[] = [
      {
        ok: strata.maxLocalBytes <= maxBytes,
        text:
          `the local tier stayed within its bound: at most ${strata.maxLocalBytes.toLocaleString('en-US')} bytes ` +
          `of ${maxBytes.toLocaleString('en-US')} (${strata.localEntries.toLocaleString('en-US')} entries at the end)`,
      },
      {
        ok: tier <= maxMiB * 1.2,
        text:
          `the local tier held ${tier.toFixed(1)} MiB of heap after a full GC (freed once emptied): ` +
          `${(tier / maxMiB).toFixed(2)}× the bound (at most 1.2×)`,
      },

      {
        ok: strata.misses === queries,
        text: `every query was distinct: ${strata.misses.toLocaleString('en-US')} misses for ${queries.toLocaleString('en-US')} queries`,
      },
      {
        ok: afterHalf - atHalf[1] <= maxMiB,
        text:
          `RSS levels off: ${mib(atHalf[1])} MiB after ${atHalf[0].toLocaleString('en-US')} queries, at most ` +
          `${mib(afterHalf)} MiB after that`,
      },
    ]
    const header = ['process', 'baseline RSS MiB', 'peak RSS MiB', 'OS max RSS MiB', 'heap reserved at peak MiB']
    header.push('heap after GC MiB', 'heap grown MiB', 'local tier heap MiB', 'local tier max MiB', 'seconds')
    const row = (label: string, r: MemoryReport) => [
      label,
      mib(r.baselineRssMiB),
      mib(r.peakRssMiB),
      mib(r.maxRssMiB),
      mib(r.peakHeapTotalMiB),
      mib(r.endHeapMiB),
      (r.endHeapMiB - r.baselineHeapMiB).toFixed(1),
      r.mode === 'strata' ? r.tierHeapMiB.toFixed(1) : '-',
      r.mode === 'strata' ? (r.maxLocalBytes / 2 ** 20).toFixed(1) : '-',
      r.seconds.toFixed(0),
    ]
    console.log()
    console.log(
      markdownTable(header, [row(`Strata local, maxBytes ${maxMiB} MiB`, strata), row('plain Prisma', prisma)]),
    )
    console.log()
    console.log(
      `peak RSS with the cache − without: ${mib(strata.peakRssMiB - prisma.peakRssMiB)} MiB for a ${maxMiB} MiB ` +
        `bound; heap held after GC: ${mib(strata.endHeapMiB - prisma.endHeapMiB)} MiB more`,
    )
    // The rest of what the cache holds has bounds of its own, not the tier's: up to 50,000 versions known, the
    // dependencies of the last 2,000 query texts, answered flights until they are swept.
    console.log(
      `heap the cache held after a full GC: ${held.toFixed(1)} MiB (${(held / maxMiB).toFixed(2)}× the bound), of ` +
        `which the local tier ${tier.toFixed(1)} MiB and the rest (versions known, dependency memo, answered ` +
        `flights) ${(held - tier).toFixed(1)} MiB`,
    )
    // Where the rest of the RSS goes: the heap V8 keeps reserved for garbage between collections, and what is
    // outside it (code, native libraries and their allocations, WebAssembly memories as far as they are touched).
    for (const [label, r] of [
      ['Strata', strata],
      ['plain Prisma', prisma],
    ] as const) {
      console.log(
        `${label}: V8 heap reserved ${mib(r.baselineHeapTotalMiB)} MiB at the baseline, ${mib(r.peakHeapTotalMiB)} MiB ` +
          `at the peak RSS (${mib(r.peakHeapUsedMiB)} MiB in use there, garbage included; ${mib(r.endHeapMiB)} MiB ` +
          `held after a full GC); RSS beyond the heap reserved: ${mib(r.baselineRssMiB - r.baselineHeapTotalMiB)} ` +
          `MiB at the baseline, ${mib(r.peakRssMiB - r.peakHeapTotalMiB)} MiB at the peak; external (Buffers, ` +
          `WebAssembly memories, reserved): ${mib(r.peakExternalMiB)} MiB`,
      )
    }
    for (const v of checks) console.log(`${v.ok ? 'ok  ' : 'WARN'} ${v.text}`)
    return {
      config: { queries, maxMiB, inFlight: 100, database: 'SQLite (better-sqlite3), one file per process' },
      units: 'MiB (2^20 bytes); series: [queries done, RSS MiB, local tier bytes]',
      strata,
      prisma,
      checks,
    }
  })
}
