// Fails when the package's source has an import cycle, type-only imports included: a cycle of types still ties
// the files' designs together, and one value import added to it later makes the load order matter.
// madge builds the graph (its TypeScript reader counts `import type` and `import { type X }`); this script finds
// the cycles itself, because madge lists only the cycles its walk meets, and a cycle through files already in a
// listed one can go unlisted.
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import madge from 'madge'

const root = resolve(fileURLToPath(new URL('..', import.meta.url)), 'packages/prisma-strata/src')

// Imports that close a cycle known before this check existed, each to be removed with the import it names. The
// check ignores these edges and fails on any cycle left: a new cycle fails even through a file listed here.
const known = []

const result = await madge(root, {
  fileExtensions: ['ts'],
  // Said outright: the cycles of types count, whatever madge's default becomes.
  detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
})

// An import madge cannot resolve is an edge missing from the graph, so a cycle through it would pass unseen.
const unresolved = result.warnings().skipped.filter((name) => name.startsWith('.'))
if (unresolved.length > 0) {
  console.error(`check-cycles: imports madge could not resolve (the graph would miss them): ${unresolved.join(', ')}`)
  process.exit(1)
}

const graph = result.obj()
const isKnown = (from, to) => known.some((edge) => edge.from === from && edge.to === to)
const without = Object.fromEntries(
  Object.entries(graph).map(([file, imports]) => [file, imports.filter((to) => !isKnown(file, to))]),
)

/** Tarjan's strongly connected components; every component of more than one file, or a file importing itself. */
function cyclicComponents(edges) {
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const found = []
  let next = 0
  const visit = (file) => {
    index.set(file, next)
    low.set(file, next)
    next++
    stack.push(file)
    onStack.add(file)
    for (const to of edges[file] ?? []) {
      if (!index.has(to)) {
        visit(to)
        low.set(file, Math.min(low.get(file), low.get(to)))
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file), index.get(to)))
    }
    if (low.get(file) !== index.get(file)) return
    const component = []
    let member
    do {
      member = stack.pop()
      onStack.delete(member)
      component.push(member)
    } while (member !== file)
    if (component.length > 1 || (edges[file] ?? []).includes(file)) found.push(component.sort())
  }
  for (const file of Object.keys(edges).sort()) if (!index.has(file)) visit(file)
  return found
}

/** One shortest cycle through the component's first file, as the chain of imports that makes it. */
function cycleIn(edges, component) {
  const members = new Set(component)
  const start = component[0]
  const cameFrom = new Map()
  const queue = [start]
  while (queue.length > 0) {
    const file = queue.shift()
    for (const to of edges[file] ?? []) {
      if (!members.has(to)) continue
      if (to === start) {
        const path = [file]
        while (path[0] !== start) path.unshift(cameFrom.get(path[0]))
        return [...path, start]
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, file)
        queue.push(to)
      }
    }
  }
  return component
}

const where = relative(process.cwd(), root) || '.'
for (const edge of known) {
  const inCycle = cyclicComponents(graph).some((c) => c.includes(edge.from) && c.includes(edge.to))
  if (!graph[edge.from]?.includes(edge.to) || !inCycle) {
    console.warn(
      `check-cycles: ${edge.from} -> ${edge.to} no longer closes a cycle; remove it from scripts/check-cycles.mjs`,
    )
  } else console.warn(`check-cycles: known cycle, not yet fixed: ${edge.from} -> ${edge.to} (${edge.why})`)
}
const cycles = cyclicComponents(without)
if (cycles.length > 0) {
  console.error(`check-cycles: ${cycles.length} import cycle(s) in ${where}:`)
  for (const component of cycles) {
    console.error(`  ${cycleIn(without, component).join(' -> ')}`)
    if (component.length > 2) console.error(`    (files in this tangle: ${component.join(', ')})`)
  }
  process.exit(1)
}
console.log(`check-cycles: no import cycles in ${where} (${Object.keys(graph).length} files)`)
