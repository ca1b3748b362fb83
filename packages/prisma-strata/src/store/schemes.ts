/**
 * The registry of predicate schemes (precise invalidation, design invariant 11, docs/design.md): which field sets
 * reads of each model name by equality (`Post: authorId`, `Post: authorId,published`). A write bumps, for each
 * registered scheme, the predicate its row matches; so a read must register its scheme before it snapshots.
 *
 * With Redis the registry is a set per model, read by the bump script in the same step as it bumps: a scheme
 * registered before a write's bump is bumped by it, and a read that registers after the bump sends its query after
 * the write. A registry lost (eviction, FLUSHALL) is recreated by whichever script finds it missing, which bumps the
 * model's registry version `g:Model`: every predicate entry depends on it, so none filled before the loss answers,
 * and a read registers again whenever the registry version it snapshots is not the one it registered under.
 * Without Redis the registry is this process's, and writes expand their rows against it.
 */
import { type KeySpace, predicateVersionName, registryVersionName, schemeVersionName } from './keys'
import { FAILED, type RedisTier } from './redis-tier'
import { parseRowRequest } from './row-request'
import { registerSchemes } from './scripts'
import type { Budget } from './turn-batch'

export class Schemes {
  /** `model|scheme` → the registry version it was registered under (with Redis), or 0 (without). */
  private readonly registered = new Map<string, number>()
  /** Without Redis: the schemes of each model. */
  private readonly local = new Map<string, Set<string>>()

  constructor(
    private readonly redis: RedisTier | undefined,
    private readonly keys: KeySpace,
    private readonly origin: string,
    private readonly ttlMs: number,
    /** Takes the registry versions a registration returned. */
    private readonly learn: (names: string[], versions: number[]) => void,
  ) {}

  /** Whether `scheme` of `model` is registered under registry version `version` (any, without Redis). */
  isRegistered(model: string, scheme: string, version: number | undefined): boolean {
    const at = this.registered.get(`${model}|${scheme}`)
    return at !== undefined && (this.redis === undefined || at === version)
  }

  /** Registers schemes (`[model, scheme]`); false when Redis did not answer (the read is then not cached). */
  async register(schemes: ReadonlyArray<readonly [string, string]>, budget?: Budget): Promise<boolean> {
    if (!this.redis) {
      for (const [model, scheme] of schemes) {
        const set = this.local.get(model) ?? new Set<string>()
        this.local.set(model, set.add(scheme))
        this.registered.set(`${model}|${scheme}`, 0)
      }
      return true
    }
    const byModel = new Map<string, string[]>()
    for (const [model, scheme] of schemes) byModel.set(model, [...(byModel.get(model) ?? []), scheme])
    const keys = [this.keys.timeline]
    const args = [this.keys.channel, this.origin, String(this.ttlMs)]
    for (const [model, list] of byModel) {
      keys.push(this.keys.schemes(model), this.keys.version(registryVersionName(model)))
      args.push(model, list.join(' '))
    }
    const reply = await this.redis.script(registerSchemes, keys, args, { deadline: budget?.deadline })
    if (reply === FAILED || !Array.isArray(reply) || reply.length !== byModel.size) return false
    const models = [...byModel.keys()]
    const versions = reply.map(Number)
    models.forEach((model, i) => {
      for (const scheme of byModel.get(model) ?? []) this.registered.set(`${model}|${scheme}`, versions[i] as number)
    })
    this.learn(models.map(registryVersionName), versions)
    return true
  }

  /**
   * Without Redis: the version names a row request bumps, against this process's registry (the bump script does
   * the same with Redis). A name that is not a row request is itself.
   */
  expand(name: string): string[] {
    const request = parseRowRequest(name)
    if (!request) return [name]
    const changed = new Set(request.changed.split(',').filter(Boolean))
    const fields = request.fields.split(',')
    const hashes = request.hashes.split(',')
    const hashOf = new Map(fields.map((f, i) => [f, hashes[i] as string]))
    const names: string[] = []
    for (const scheme of this.local.get(request.model) ?? []) {
      const parts: string[] = []
      let whole = false
      for (const field of scheme.split(',')) {
        const hash = hashOf.get(field)
        if (changed.has(field) || hash === undefined) {
          whole = true
          break
        }
        parts.push(hash)
      }
      names.push(whole ? schemeVersionName(request.model, scheme) : predicateVersionName(request.model, scheme, parts))
    }
    return names
  }
}
