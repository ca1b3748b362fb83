// A deterministic, comparable form of whatever a Prisma call produced. Types stay visible (a Decimal must not come
// back as a string, a BigInt as a number): Decimal → { $decimal: string }, BigInt → { $bigint: string },
// Uint8Array → { $bytes: number[] }, Date → { $date: ISO }. Object keys are sorted (key order is not part of an
// answer), `undefined` fields dropped. An error becomes its class name and Prisma code.
export type Normal = string | number | boolean | null | Normal[] | { [key: string]: Normal }

/** An error's message is kept for the report but not compared (Prisma's embeds the call site). */
export type Outcome =
  | { ok: true; value: Normal }
  | { ok: false; error: { class: string; code: string | null }; message?: string }

function isDecimal(value: object): value is { toString(): string } {
  const name = value.constructor?.name ?? ''
  return /^Decimal\d*$/.test(name) && typeof (value as { toFixed?: unknown }).toFixed === 'function'
}

export function normalize(value: unknown): Normal {
  switch (typeof value) {
    case 'undefined':
      return null
    case 'bigint':
      return { $bigint: value.toString() }
    case 'number':
      if (Number.isNaN(value)) return { $number: 'NaN' }
      if (!Number.isFinite(value)) return { $number: String(value) }
      return Object.is(value, -0) ? 0 : value
    case 'string':
    case 'boolean':
      return value
    case 'object': {
      if (value === null) return null
      if (Array.isArray(value)) return value.map(normalize)
      if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString() }
      if (value instanceof Uint8Array) return { $bytes: Array.from(value) }
      if (isDecimal(value)) return { $decimal: value.toString() }
      const out: { [key: string]: Normal } = {}
      for (const key of Object.keys(value).sort()) {
        const field = (value as Record<string, unknown>)[key]
        if (field !== undefined) out[key] = normalize(field)
      }
      return out
    }
    default:
      return { $unexpected: `${typeof value}` }
  }
}

export function errorSignature(error: unknown): { class: string; code: string | null } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { class: error.constructor?.name || error.name, code: typeof code === 'string' ? code : null }
  }
  return { class: `non-Error ${typeof error}`, code: null }
}

/** Runs `call` and captures what it produced, value or error, normalized. */
export async function capture(call: () => PromiseLike<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: normalize(await call()) }
  } catch (error) {
    const message = String((error as Error)?.message ?? error)
      .split('\n')
      .filter((line) => line.trim())
      .slice(-2)
      .join(' | ')
    return { ok: false, error: errorSignature(error), message }
  }
}

/** The canonical text of an outcome: equal texts, equal answers. */
export function outcomeText(outcome: Outcome): string {
  return JSON.stringify(outcome.ok ? outcome : { ok: false, error: outcome.error })
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  return outcomeText(a) === outcomeText(b)
}

/** Where two normalized values first differ, as a path (`[2].posts[0].title`), for the failure message. */
export function firstDifference(a: Normal | undefined, b: Normal | undefined, path = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`)
      if (d) return d
    }
    return `${path} (length ${a.length} vs ${b.length})`
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[key], b[key], `${path}.${key}`)
      if (d) return d
    }
  }
  return `${path || '(root)'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`
}
