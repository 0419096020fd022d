// JSON Canonicalization Scheme (RFC 8785) and SHA-256 helpers for the ledger.
//
// One pass writes the canonical text and rejects, with a TypeError, anything JCS cannot represent
// instead of silently dropping or mangling it. Strings and numbers are written by JSON.stringify,
// which is what RFC 8785 specifies (§3.2.2.2 strings, §3.2.2.3 numbers: ECMAScript's
// Number.prototype.toString); keys are sorted by UTF-16 code units, which is what Array.prototype.sort
// compares. It replaced a copy into a plain tree followed by the `canonicalize` package, which took a
// tenth of ingestion's CPU; test/ledger/canonical-json.test.ts checks it against that package.
import { createHash } from 'node:crypto'

/**
 * RFC 8785 canonical JSON text of `value`.
 *
 * Follows JSON.stringify's data model (RFC 8785 §3.1 relies on ECMAScript's JSON): `toJSON()`
 * is honoured (so a Date becomes its ISO string), boxed primitives are unboxed, object
 * properties whose value is `undefined` are omitted and `undefined` array elements become
 * `null`. Throws TypeError for: `undefined` at top level, NaN/±Infinity (§3.2.2.3 allows only
 * finite IEEE-754 doubles), BigInt, functions, symbols, strings with lone surrogates
 * (§3.2.2.2 requires valid Unicode), circular references, Map and Set.
 */
export function canonicalJson(value: unknown): string {
  const path: Array<string | number> = []
  const text = write(value, path, new Set(), '')
  if (text === undefined) throw new TypeError('canonicalJson: undefined cannot be represented in JSON')
  return text
}

/** Lowercase hex SHA-256 of `bytes` (strings are hashed as UTF-8). */
export function sha256Hex(bytes: string | Uint8Array): string {
  return createHash('sha256').update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).digest('hex')
}

const LONE_SURROGATE = /\p{Surrogate}/u // with the u flag only unpaired surrogates match

// Where the walk is, for error messages only: `$.a[1]`.
const at = (path: ReadonlyArray<string | number>) => '$' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')

function quote(s: string, path: ReadonlyArray<string | number>): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError(`canonicalJson: lone surrogate in string at ${at(path)} (RFC 8785 §3.2.2.2)`)
  return JSON.stringify(s)
}

// The canonical text of `value`, or `undefined` for values JSON.stringify omits from objects
// (undefined), which the caller handles.
function write(value: unknown, path: Array<string | number>, seen: Set<object>, key: string): string | undefined {
  switch (typeof value) {
    case 'undefined':
      return undefined
    case 'boolean':
      return value ? 'true' : 'false'
    case 'string':
      return quote(value, path)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} at ${at(path)} is not a finite number (RFC 8785 §3.2.2.3)`)
      return JSON.stringify(value)
    case 'bigint':
      throw new TypeError(`canonicalJson: BigInt at ${at(path)} cannot be represented (convert it to a string or number first)`)
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalJson: ${typeof value} at ${at(path)} cannot be represented in JSON`)
  }
  if (value === null) return 'null'
  const obj = value as object
  if (seen.has(obj)) throw new TypeError(`canonicalJson: circular reference at ${at(path)}`)
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    seen.add(obj)
    const out = write((obj as { toJSON: (k: string) => unknown }).toJSON(key), path, seen, key)
    seen.delete(obj)
    return out
  }
  // Boxed primitives, as JSON.stringify does.
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) return write(obj.valueOf(), path, seen, key)
  if (obj instanceof Map || obj instanceof Set) {
    throw new TypeError(`canonicalJson: ${obj.constructor.name} at ${at(path)} cannot be represented (convert it to an object or array first)`)
  }
  seen.add(obj)
  let out: string
  if (Array.isArray(obj)) {
    out = '['
    for (let i = 0; i < obj.length; i++) {
      path.push(i)
      const item = write(obj[i], path, seen, String(i))
      path.pop()
      out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : item)
    }
    out += ']'
  } else {
    out = '{'
    let first = true
    for (const k of Object.keys(obj).sort()) {
      path.push(k)
      const name = quote(k, path)
      const item = write((obj as Record<string, unknown>)[k], path, seen, k)
      path.pop()
      if (item === undefined) continue
      out += (first ? '' : ',') + name + ':' + item
      first = false
    }
    out += '}'
  }
  seen.delete(obj)
  return out
}
