/**
 * Redis key names. Version keys share one hash tag (`{prefix}`) so a script can bump several in one slot of a
 * Redis Cluster; entry keys carry no tag and spread over the cluster. No user input reaches a key name unhashed.
 */
import { hash as digest } from 'node:crypto'

/** 128+ bits of SHA-256, URL-safe: collisions are not a practical concern, and entries verify their query anyway. */
export function hash(text: string): string {
  // The one-shot digest: a third of the time of a Hash object, on every Redis read.
  return digest('sha256', text, 'base64url').slice(0, 24)
}

export function modelVersionName(model: string): string {
  return `m:${model}`
}

export function tagVersionName(tag: string): string {
  return `t:${hash(tag)}`
}

/**
 * A version every tagged entry depends on besides its tags: a backlog of owed tag bumps too large to send name by
 * name is sent as one bump of it.
 */
export const EVERY_TAG = 't:*'

/** The version names of an entry's tags: each tag's, and `EVERY_TAG`. */
export function tagVersionNames(tags: readonly string[]): string[] {
  return tags.length === 0 ? [] : [...tags.map(tagVersionName), EVERY_TAG]
}

/** The version of one row of a write-through model (`idText`: the canonical primary key values). */
export function rowVersionName(model: string, idText: string): string {
  return `r:${model}:${hash(idText)}`
}

/** The version every row entry of a write-through model depends on: bumped by writes that cannot name their rows. */
export function rowsVersionName(model: string): string {
  return `w:${model}`
}

/**
 * The version every predicate entry of a model depends on (precise invalidation, design invariant 11,
 * docs/design.md): bumped by writes that cannot name the rows they change.
 */
export function predicatesVersionName(model: string): string {
  return `e:${model}`
}

/** Precise invalidation: the version of one registry of predicate schemes. */
export function registryVersionName(model: string): string {
  return `g:${model}`
}

/** The version every predicate of one scheme (`fields`, sorted, comma-joined) depends on. */
export function schemeVersionName(model: string, scheme: string): string {
  return `s:${model}:${scheme}`
}

/** A short hash of one value text of a predicate: what writes send for each field of a row. */
export function valueHash(text: string): string {
  return digest('sha1', text, 'hex').slice(0, 20)
}

/**
 * The version of the rows of `model` whose `scheme` fields have the values hashed in `hashes` (scheme order).
 * The bump script builds the same name from the same parts (`redis.sha1hex`).
 */
export function predicateVersionName(model: string, scheme: string, hashes: readonly string[]): string {
  return `p:${model}:${predicateDigest(scheme, hashes)}`
}

/** What the content (`p:`), membership (`c:`) and arrivals (`a:`) versions of one predicate share after the model. */
function predicateDigest(scheme: string, hashes: readonly string[]): string {
  return digest('sha1', `${scheme}|${hashes.join(',')}`, 'hex')
}

/**
 * The version names of one predicate scheme's values, by their texts (`valueText`, scheme order): the same rows are
 * read again and again (a point read of a hot row, a list of the same rows from Redis, whose row names are derived
 * again on every hit), and each name costs two SHA-1s. Kept per model and scheme, by the value's text when the
 * scheme has one field (most are a key), else by the JSON of the texts (a string value may hold any separator).
 * Bounded; past the bound every scheme's map is emptied in place, since namers made earlier (one per memoised list
 * read) keep filling theirs.
 */
const namesOfValues = new Map<string, Map<string, string>>()
let namesKept = 0
const MAX_NAMES_OF_VALUES = 10_000

export function predicateNamer(model: string, scheme: string): (texts: readonly string[]) => string {
  const of = `${model}|${scheme}`
  let known = namesOfValues.get(of)
  if (known === undefined) {
    known = new Map()
    namesOfValues.set(of, known)
  }
  const names = known
  return (texts) => {
    const id = texts.length === 1 ? (texts[0] as string) : JSON.stringify(texts)
    let name = names.get(id)
    if (name === undefined) {
      if (namesKept >= MAX_NAMES_OF_VALUES) {
        for (const kept of namesOfValues.values()) kept.clear()
        namesKept = 0
      }
      name = predicateVersionName(model, scheme, texts.map(valueHash))
      names.set(id, name)
      namesKept++
    }
    return name
  }
}

/**
 * The membership version of a predicate (`predicateVersionName`): bumped when a row enters or leaves it (a create, a delete, a write
 * not known to keep its row in it), not when a row stays in it with other contents. Counts depend on it.
 */
export function membershipVersionName(model: string, scheme: string, hashes: readonly string[]): string {
  return `c:${model}:${predicateDigest(scheme, hashes)}`
}

/**
 * The arrivals version of a predicate: bumped when a row may enter it (a create, an upsert, a move in, a change from
 * the stream), not when one is only known to leave it (a delete, a move out). A list that shows its rows by key and
 * depends on each row it shows depends on this one instead of the membership version: a row that leaves it either
 * was shown (its own version is bumped) or was not (the list is the same). See `ListedRows`.
 */
export function arrivalsVersionName(model: string, scheme: string, hashes: readonly string[]): string {
  return `a:${model}:${predicateDigest(scheme, hashes)}`
}

export interface KeySpace {
  version(name: string): string
  /** Which server run issued the versions (its run id) and the lowest version valid in it; in the versions' slot. */
  timeline: string
  /** A lease on one query's fill; in the versions' slot, so one script can check both. */
  lease(query: string): string
  entry(model: string, query: string): string
  /** One row of a write-through model: a Redis hash holding its version and its entries (one per partition). */
  row(model: string, idText: string): string
  /** A unique key's value → the primary key of the row that had it (a hint, checked against the row). */
  alias(model: string, text: string): string
  /** The predicate schemes reads of `model` registered; in the versions' slot (the bump script reads it). */
  schemes(model: string): string
  channel: string
  /** Who follows the database's change stream for this prefix (one instance at a time); in the versions' slot. */
  follower: string
}

/**
 * Entry key names of recent query texts: every Redis read needs its query's key, and a hit is by definition a query
 * read before, so its SHA-256 is looked up instead of computed again. Bounded by texts and by their total length;
 * when either bound is passed the memo starts over.
 */
const MEMO_TEXTS = 10_000
const MEMO_CHARS = 4_000_000

class EntryKeys {
  private readonly names = new Map<string, { model: string; name: string }>()
  private chars = 0

  constructor(private readonly prefix: string) {}

  of(model: string, query: string): string {
    const known = this.names.get(query)
    if (known !== undefined && known.model === model) return known.name
    const name = `${this.prefix}:e:${model}:${hash(query)}`
    if (this.names.size >= MEMO_TEXTS || this.chars + query.length > MEMO_CHARS) {
      this.names.clear()
      this.chars = 0
    }
    this.names.set(query, { model, name })
    this.chars += query.length
    return name
  }
}

export function keySpace(prefix: string): KeySpace {
  const entries = new EntryKeys(prefix)
  return {
    version: (name) => `{${prefix}}:v:${name}`,
    timeline: `{${prefix}}:v:timeline`,
    lease: (query) => `{${prefix}}:l:${hash(query)}`,
    entry: (model, query) => entries.of(model, query),
    row: (model, idText) => `${prefix}:r:${model}:${hash(idText)}`,
    alias: (model, text) => `${prefix}:a:${model}:${hash(text)}`,
    schemes: (model) => `{${prefix}}:s:${model}`,
    channel: `${prefix}:bus`,
    follower: `{${prefix}}:c:follower`,
  }
}
