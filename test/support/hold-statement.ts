// Holds one statement between its result and Prisma (through the counting adapter's `afterQuery`), so a test can
// make a race happen in the order it wants: a reader that has read the old row and has not filled yet.

/** A point where one call waits: `arrived()` resolves `held`, and `gate` resolves once `release()` is called. */
export function gate() {
  let arrived!: () => void
  let release!: () => void
  const held = new Promise<void>((resolve) => {
    arrived = resolve
  })
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  return { arrived, held, gate, release }
}

/** Holds the next SELECT that names `table`: `held` resolves once it is held, `release()` lets it go. */
export function holdNextSelect(table: string) {
  const { arrived, held, gate: opened, release } = gate()
  let armed = true
  const hook = (sql: string): Promise<void> | undefined => {
    if (!armed || !/select/i.test(sql) || !sql.includes(table)) return undefined
    armed = false
    arrived()
    return opened
  }
  return { hook, held, release }
}
