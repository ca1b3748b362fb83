// The benchmark runner: the hit path (one process, contenders interleaved round by round), the comparison with
// prisma-extension-redis, the write-through strategy, the local tier's memory bound, then the multi-process scenarios
// (a hot key read by several processes, a stampede on an expired key), and an application's mix of reads and writes
// through every cache. Writes results/latest.json and the chart.
// See README.md for every number.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chart } from './chart.ts'
import { commitInfo, machineInfo, stackVersions } from './machine.ts'
import { readOptions } from './options.ts'
import { runAppMix } from './scenarios/app-mix.ts'
import { runChangesLag } from './scenarios/changes-lag.ts'
import { runCompare } from './scenarios/compare.ts'
import { runHitPath } from './scenarios/hit-path.ts'
import { runHotKey } from './scenarios/hot-key.ts'
import { runMemory } from './scenarios/memory.ts'
import { runStampede } from './scenarios/stampede.ts'
import { runWriteThrough } from './scenarios/write-through.ts'

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const root = join(benchDir, '..', '..')
const options = readOptions(process.argv.slice(2), benchDir)

// Ctrl-C: exit through 'exit' handlers, which kill the worker processes and the throwaway redis-server.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))

async function main(): Promise<void> {
  const started = performance.now()
  const machine = machineInfo()
  console.log(
    `Strata benchmark: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average ` +
      `${machine.loadAverageAtStart.join(' ')}; scenarios: ${options.scenarios.join(', ')}`,
  )
  const sections: Record<string, unknown> = {}
  const scenarioSeconds: Record<string, number> = {}
  const failed: string[] = []
  for (const scenario of options.scenarios) {
    const start = performance.now()
    console.log()
    // A scenario that throws is reported and recorded; the others still run.
    try {
      if (scenario === 'hit-path') Object.assign(sections, await runHitPath(options))
      if (scenario === 'compare') sections.compare = await runCompare(options)
      if (scenario === 'write-through') sections.writeThrough = await runWriteThrough(options)
      if (scenario === 'memory') sections.memory = await runMemory(options)
      if (scenario === 'hot-key') sections.hotKey = await runHotKey(options)
      if (scenario === 'stampede') sections.stampede = await runStampede(options)
      if (scenario === 'app-mix') sections.appMix = await runAppMix(options)
      if (scenario === 'changes-lag') sections.changesLag = await runChangesLag(options)
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
      console.error(`\n${scenario} FAILED, the run goes on without it:\n${message}`)
      sections[`failed:${scenario}`] = message
      failed.push(scenario)
    }
    scenarioSeconds[scenario] = Math.round((performance.now() - start) / 100) / 10
    console.log(`(${scenario}: ${scenarioSeconds[scenario]} s)`)
  }
  const seconds = (performance.now() - started) / 1000
  const report = {
    date: new Date().toISOString(),
    durationSeconds: Math.round(seconds * 10) / 10,
    machine,
    versions: stackVersions(),
    source: commitInfo(root),
    scenarios: options.scenarios,
    scenarioSeconds,
    ...sections,
  }
  mkdirSync(dirname(options.out), { recursive: true })
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`, 'utf8')
  const wrote = [options.out]
  const svg = chart(report)
  if (svg) {
    writeFileSync(options.chart, svg, 'utf8')
    wrote.push(options.chart)
  }
  const where = wrote.map((file) => relative(process.cwd(), file) || file).join(', ')
  console.log(`\n${seconds.toFixed(1)} s; results written to ${where}`)
  if (failed.length) {
    console.error(`failed: ${failed.join(', ')}`)
    process.exit(1) // what a failed scenario left open (a reconnecting client, ...) must not keep the run alive
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
