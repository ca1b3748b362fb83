// The workload's progress: a bar redrawn in place on a terminal; elsewhere (a CI log, a file) one plain line per
// quarter, so the log stays readable.
import { int } from './format.ts'

/** Where progress goes: `process.stderr`, or anything with `write` (and `isTTY` for a terminal). */
export interface ProgressOutput {
  write(text: string): unknown
  isTTY?: boolean
}

export interface Progress {
  /** Operations done so far; cheap to call after every one (it writes only when the shown figure changes). */
  update(done: number): void
  /** Clears the bar (terminal) so the report starts on a clean line. */
  end(): void
}

const WIDTH = 30

export function progressBar(label: string, count: number, out: ProgressOutput): Progress {
  const total = Math.max(count, 1)
  let shown = -1
  if (out.isTTY) {
    return {
      update(done) {
        const percent = Math.floor((100 * done) / total)
        if (percent === shown) return
        shown = percent
        const filled = Math.round((WIDTH * done) / total)
        const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled)
        out.write(`\r   ${label} ${bar} ${String(percent).padStart(3)}%  ${int(done)}/${int(total)}`)
      },
      end() {
        out.write(`\r${' '.repeat(label.length + WIDTH + 40)}\r`)
      },
    }
  }
  return {
    update(done) {
      const quarter = Math.floor((4 * done) / total)
      if (quarter === shown || quarter === 0) return
      shown = quarter
      out.write(`   ${label} ${quarter * 25}% (${int(done)}/${int(total)} operations)\n`)
    },
    end() {},
  }
}
