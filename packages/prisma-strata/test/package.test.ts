// The published shape: every `exports` path exists, and the built ESM and CJS both load and expose the API.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const api = [
  'cache',
  'StrataError',
  'StrataOptionsError',
  'RedisUnavailableError',
  'CodecError',
  'BusError',
  'errorCodes',
]

function paths(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  return Object.values(value as object).flatMap(paths)
}

describe('package', () => {
  it('every exports path exists after the build', () => {
    for (const path of [pkg.main, pkg.module, pkg.types, ...paths(pkg.exports)]) {
      expect(existsSync(join(root, path)), path).toBe(true)
    }
  })

  it('the CommonJS build loads with require and exposes the API', () => {
    const cjs = createRequire(import.meta.url)(join(root, pkg.exports['.'].require.default))
    for (const name of api) expect(cjs[name], name).toBeDefined()
    expect(() => cjs.cache({ ttl: -1 })).toThrow(cjs.StrataOptionsError)
  })

  it('the ES module build loads with import and exposes the API', async () => {
    const esm = await import(join(root, pkg.exports['.'].import.default))
    for (const name of api) expect(esm[name], name).toBeDefined()
    expect(typeof esm.cache()).toBe('function')
  })
})
