// Runs the pnpm pinned in package.json (`packageManager`): the one on PATH when it is that version, otherwise
// through npx. A fresh machine has no pnpm and corepack cannot verify it offline, so `npm run demo` and `npm test`
// work from a clean clone with nothing but Node and the npm registry.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).packageManager.split(
  '@',
)[1]
let command = ['pnpm']
try {
  if (execFileSync('pnpm', ['--version'], { encoding: 'utf8' }).trim() !== version) throw new Error('other version')
} catch {
  command = ['npx', '--yes', `pnpm@${version}`]
}
const run = spawnSync(command[0], [...command.slice(1), ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(run.status ?? 1)
