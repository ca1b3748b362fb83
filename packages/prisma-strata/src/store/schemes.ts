/**
 * The registry of predicate schemes (precise invalidation, design invariant 11, docs/design.md): which field sets
 * reads of each model name by equality (`Post: authorId`, `Post: authorId,published`). A write bumps, for each
 * registered scheme, the predicate its row matches; so a read must register its scheme before it snapshots.
 *
 * With Redis the registry is a set per model, written by the script that takes a read's snapshot (registration
 * first) and read by the bump script in the same step as it bumps: a scheme registered before a write's bump is
 * bumped by it, and a read that registers after the bump sends its query after the write. A registry lost
 * (eviction, FLUSHALL) is recreated by whichever script finds it missing, which bumps the model's registry version
 * `g:Model`: every predicate entry depends on it, so none filled before the loss answers, and a read registers
 * again whenever the registry version it snapshots is not the one it registered under.
 * Without Redis the registry is this process's, and writes expand their rows against it.
 */
import { arrivalsVersionName, membershipVersionName, predicateVersionName, schemeVersionName } from './keys'
import { parseRowRequest } from './row-request'

export class Schemes {
  /** `model|scheme` → the registry version it was registered under (with Redis), or 0 (without). */
  private readonly registered = new Map<string, number>()
  /** Without Redis: the schemes of each model. */
  private readonly local = new Map<string, Set<string>>()

  constructor(private readonly withRedis: boolean) {}

  /** Whether `scheme` of `model` is registered under registry version `version` (any, without Redis). */
  isRegistered(model: string, scheme: string, version: number | undefined): boolean {
    const at = this.registered.get(`${model}|${scheme}`)
    return at !== undefined && (!this.withRedis || at === version)
  }

  /** Redis registered `schemes` of `model` under registry version `version`. */
  recorded(model: string, schemes: Iterable<string>, version: number): void {
    for (const scheme of schemes) this.registered.set(`${model}|${scheme}`, version)
  }

  /** Without Redis: registers schemes (`[model, scheme]`) in this process. */
  registerLocally(schemes: ReadonlyArray<readonly [string, string]>): void {
    for (const [model, scheme] of schemes) {
      this.local.set(model, (this.local.get(model) ?? new Set<string>()).add(scheme))
      this.registered.set(`${model}|${scheme}`, 0)
    }
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
      if (whole) names.push(schemeVersionName(request.model, scheme))
      else {
        names.push(predicateVersionName(request.model, scheme, parts))
        if (request.kept !== '1') names.push(membershipVersionName(request.model, scheme, parts))
        if (request.kept === '') names.push(arrivalsVersionName(request.model, scheme, parts))
      }
    }
    return names
  }
}
