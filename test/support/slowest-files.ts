// A vitest reporter that prints, after the default summary, the ten test files that took longest (tests and hooks,
// then import time): where the suite's minutes go, in every run's log.
import type { Reporter, TestModule } from 'vitest/node'

export default class SlowestFiles implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows = modules
      .map((m) => ({ file: m.relativeModuleId, ...m.diagnostic() }))
      .sort((a, b) => b.duration + b.collectDuration - (a.duration + a.collectDuration))
      .slice(0, 10)
    if (rows.length === 0) return
    const lines = rows.map((r) => {
      const seconds = ((r.duration + r.collectDuration) / 1000).toFixed(1).padStart(7)
      return `  ${seconds} s  ${r.file}`
    })
    process.stdout.write(`\nSlowest test files (tests, hooks and import):\n${lines.join('\n')}\n`)
  }
}
