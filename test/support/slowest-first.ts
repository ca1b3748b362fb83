// The order test files start in: the files known to take longest first, longest first, then vitest's own order
// (files that took longest in this checkout's last run first, or the largest files when it has no record). Two
// workers each take the next file when one ends; a long file started last would leave one worker running alone.
import { relative } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Longest first, by the times a full run on an idle 2-core machine printed (`.ci/run`); the slowest-files lines
 * every run prints tell when this list is out of date.
 */
export const slowFiles = [
  'test/differential.test.ts',
  'test/writes.test.ts',
  'test/adversary/precise-counts-moves.test.ts',
  'test/package-install.test.ts',
  'test/adversary/changes.test.ts',
  'test/consistency.test.ts',
  'test/adversary/precise.test.ts',
  'test/stampede.test.ts',
  'test/adversary/raw-sql.test.ts',
  'test/adversary/write-forms.test.ts',
]

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root
    const rank = (f: TestSpecification) => {
      const i = slowFiles.indexOf(relative(root, f.moduleId).replaceAll('\\', '/'))
      return i < 0 ? slowFiles.length : i
    }
    // Array.prototype.sort is stable: the files not listed keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b))
  }
}
