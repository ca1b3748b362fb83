// Plain-text output helpers: no colors, so the output reads the same in a terminal, a CI log or a file.

export const int = (n: number) => Math.round(n).toLocaleString('en-US')

export const micros = (us: number) => `${int(us)} µs`

export const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`

export const plural = (n: number, word: string) => `${int(n)} ${word}${n === 1 ? '' : 's'}`

/** Rows as aligned columns; the columns listed in `right` are right-aligned (numbers). */
export function columns(rows: string[][], right: number[] = [], indent = '   '): string[] {
  const widths: number[] = []
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length)
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (right.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
        .join('   ')
        .trimEnd(),
  )
}

export function heading(title: string): string[] {
  return ['', title, '─'.repeat(title.length)]
}
