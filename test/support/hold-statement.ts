// Holds one statement between its result and Prisma (through the counting adapter's `afterQuery`), so a test can
// make a race happen in the order it wants: a reader that has read the old row and has not filled yet.

/** Holds the next SELECT that names `table`: `held` resolves once it is held, `release()` lets it go. */
export function holdNextSelect(table: string) {
  let arrived!: () => void
  let release!: () => void
  const held = new Promise<void>((resolve) => {
    arrived = resolve
  })
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let armed = true
  const hook = (sql: string): Promise<void> | undefined => {
    if (!armed || !/select/i.test(sql) || !sql.includes(table)) return undefined
    armed = false
    arrived()
    return gate
  }
  return { hook, held, release }
}
