// JSON Canonicalization Scheme (RFC 8785) and SHA-256 helpers for the ledger.
//
// Serialization (key order, number and string formatting) is done by the `canonicalize`
// package; this module first turns the input into a plain JSON value and rejects, with a
// TypeError, anything JCS cannot represent instead of silently dropping or mangling it.
import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

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
  if (value === undefined) throw new TypeError('canonicalJson: undefined cannot be represented in JSON')
  const json = toJson(value, '$', new Set())
  const text = canonicalize(json)
  if (text === undefined) throw new TypeError('canonicalJson: value cannot be represented in JSON')
  return text
}

/** Lowercase hex SHA-256 of `bytes` (strings are hashed as UTF-8). */
export function sha256Hex(bytes: string | Uint8Array): string {
  return createHash('sha256').update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).digest('hex')
}

const LONE_SURROGATE = /\p{Surrogate}/u // with the u flag only unpaired surrogates match

function checkString(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError(`canonicalJson: lone surrogate in string at ${path} (RFC 8785 §3.2.2.2)`)
  return s
}

// Converts to a plain JSON tree; `undefined` is returned only for values JSON.stringify omits
// from objects (undefined), which the caller handles.
function toJson(value: unknown, path: string, seen: Set<object>, key = ''): Json | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    if (seen.has(value)) throw new TypeError(`canonicalJson: circular reference at ${path}`)
    seen.add(value)
    const out = toJson((value as { toJSON: (k: string) => unknown }).toJSON(key), path, seen, key)
    seen.delete(value)
    return out
  }
  switch (typeof value) {
    case 'undefined':
      return undefined
    case 'boolean':
      return value
    case 'string':
      return checkString(value, path)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} at ${path} is not a finite number (RFC 8785 §3.2.2.3)`)
      return value
    case 'bigint':
      throw new TypeError(`canonicalJson: BigInt at ${path} cannot be represented (convert it to a string or number first)`)
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalJson: ${typeof value} at ${path} cannot be represented in JSON`)
  }
  if (value === null) return null
  const obj = value as object
  // Boxed primitives, as JSON.stringify does.
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) {
    return toJson(obj.valueOf(), path, seen, key)
  }
  if (obj instanceof Map || obj instanceof Set) {
    throw new TypeError(`canonicalJson: ${obj.constructor.name} at ${path} cannot be represented (convert it to an object or array first)`)
  }
  if (seen.has(obj)) throw new TypeError(`canonicalJson: circular reference at ${path}`)
  seen.add(obj)
  let out: Json
  if (Array.isArray(obj)) {
    out = []
    for (let i = 0; i < obj.length; i++) {
      const item = toJson(obj[i], `${path}[${i}]`, seen, String(i))
      out.push(item === undefined ? null : item)
    }
  } else {
    // Null prototype so that a "__proto__" key is stored as an ordinary property.
    const o = Object.create(null) as { [key: string]: Json }
    for (const k of Object.keys(obj)) {
      const p = `${path}.${k}`
      checkString(k, p)
      const item = toJson((obj as Record<string, unknown>)[k], p, seen, k)
      if (item !== undefined) o[k] = item
    }
    out = o
  }
  seen.delete(obj)
  return out
}
