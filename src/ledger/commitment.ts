// Format 2 payload commitments (docs/ledger.md, "Format 2"): salted, per-field and per-word digests,
// so that a production can show some of a payload and prove it, while what it withholds (a span of
// text, a whole field) or what a disposal destroyed cannot be confirmed by guessing, however small
// the space of candidates. Pure: the offline verifier uses it.
import { createHash, hash, randomBytes } from 'node:crypto'
import { canonicalJson } from './canonical-json.js'
import { sha256BlockState, sha256Into } from './sha256.js'

export const SALT_BYTES = 32

const LABEL_KEY = Buffer.from('townsquare/ledger/v2/key\0', 'utf8')
const LABEL_SCALAR = Buffer.from('townsquare/ledger/v2/scalar\0', 'utf8')
const LABEL_SEGMENT = Buffer.from('townsquare/ledger/v2/segment\0', 'utf8')
const LABEL_STRING = Buffer.from('townsquare/ledger/v2/string\0', 'utf8')

/** 32 fresh random bytes: one entry's salt, kept beside its payload and destroyed with it. */
export function newSalt(): Buffer {
  return randomBytes(SALT_BYTES)
}

// ASCII whitespace only (TAB, LF, VT, FF, CR, SPACE): simple to implement anywhere, and a coarser
// segment (e.g. words joined by a no-break space) only withholds more.
const SEGMENT = /^[\t\n\v\f\r ]+|[^\t\n\v\f\r ]+[\t\n\v\f\r ]*/g

/**
 * A string's segments: an optional leading whitespace run, then each maximal run of
 * non-whitespace with the whitespace after it; their concatenation is the string. The empty
 * string has one empty segment, so that its digest too has a secret key in it.
 */
export function segments(text: string): string[] {
  if (text === '') return ['']
  return text.match(SEGMENT) ?? []
}

/** RFC 6901 JSON Pointer of a path of keys and indexes. */
export function pointerOf(path: ReadonlyArray<string | number>): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('')
}

/** K(p) = HMAC-SHA256(salt, "townsquare/ledger/v2/key\0" || p). */
export function fieldKey(salt: Buffer, pointer: string): Buffer {
  return new HmacKey(salt).fieldKey(pointer)
}

// SHAKE256 in one call where this Node has crypto.hash's outputLength (24.4 and later): no Hash
// object per string. Checked once against createHash.
const shakeOneShot = (() => {
  try {
    const probe = Buffer.from('townsquare')
    const out = (hash as unknown as (a: string, d: Buffer, o: { outputLength: number; outputEncoding: 'buffer' }) => Buffer)('shake256', probe, { outputLength: 64, outputEncoding: 'buffer' })
    return Buffer.isBuffer(out) && out.equals(createHash('shake256', { outputLength: 64 }).update(probe).digest())
  } catch {
    return false
  }
})()

/** SHAKE256(data) of `length` bytes. */
function shake256(data: Buffer, length: number): Buffer {
  if (shakeOneShot) return (hash as unknown as (a: string, d: Buffer, o: { outputLength: number; outputEncoding: 'buffer' }) => Buffer)('shake256', data, { outputLength: length, outputEncoding: 'buffer' })
  return createHash('shake256', { outputLength: length }).update(data).digest()
}

/** The SHAKE256 output that slices into a string's segment keys: 32 bytes a segment. */
function segmentKeyStream(key: Buffer, count: number): Buffer {
  const input = scratch(KEY_INPUT, 32 + LABEL_SEGMENT.length)
  key.copy(input, 0, 0, 32)
  LABEL_SEGMENT.copy(input, 32)
  return shake256(key.length === 32 ? input.subarray(0, 32 + LABEL_SEGMENT.length) : Buffer.concat([key, LABEL_SEGMENT]), 32 * count)
}

/**
 * The segment keys of a string: k(p, i) is bytes [32i, 32i + 32) of
 * SHAKE256(K(p) || "townsquare/ledger/v2/segment\0") (FIPS 202), one call for all of a string's
 * segments. A keyed sponge is a PRF: a shown segment's key reveals nothing of the others.
 */
export function segmentKeys(key: Buffer, count: number): Buffer[] {
  if (count === 0) return []
  const stream = segmentKeyStream(key, count)
  return Array.from({ length: count }, (_, i) => stream.subarray(32 * i, 32 * i + 32))
}

/** k(p, i): segment i's key (segmentKeys). */
export function segmentKey(key: Buffer, index: number): Buffer {
  return segmentKeys(key, index + 1)[index]!
}

// Reused buffers: a commitment hashes many short messages, and allocating one per message cost
// more than hashing it. Each holder keeps the largest buffer asked of it.
interface Scratch {
  buffer: Buffer
}
const KEY_INPUT: Scratch = { buffer: Buffer.alloc(64) }
const MESSAGE: Scratch = { buffer: Buffer.alloc(256) }
const DIGESTS: Scratch = { buffer: Buffer.alloc(32 * 64) }
const TEXT: Scratch = { buffer: Buffer.alloc(1024) }
function scratch(holder: Scratch, bytes: number): Buffer {
  if (holder.buffer.length < bytes) holder.buffer = Buffer.alloc(Math.max(bytes, holder.buffer.length * 2))
  return holder.buffer
}

// Messages up to this length are hashed in TypeScript (two blocks at most: no call into OpenSSL),
// longer ones by node:crypto.
const SHORT_MESSAGE = 119

/** SHA-256 of `data[start, end)` into `out[outOff, outOff + 32)`. */
function sha256To(data: Buffer, start: number, end: number, out: Buffer, outOff: number): void {
  if (end - start <= SHORT_MESSAGE) sha256Into(data, start, end, out, outOff)
  else (hash('sha256', data.subarray(start, end), 'buffer') as unknown as Buffer).copy(out, outOff)
}

/**
 * HMAC-SHA256 under one key, many messages: the padded key's inner and outer hash states are
 * computed once (RFC 2104; one SHA-256 block each) and each message costs two more blocks: K(p) of
 * every field of a payload under its salt.
 */
export class HmacKey {
  private readonly inner: Int32Array
  private readonly outer: Int32Array
  constructor(key: Buffer) {
    const ipad = Buffer.alloc(64, 0x36)
    const opad = Buffer.alloc(64, 0x5c)
    const k = key.length > 64 ? createHash('sha256').update(key).digest() : key
    for (let i = 0; i < k.length; i++) {
      ipad[i]! ^= k[i]!
      opad[i]! ^= k[i]!
    }
    this.inner = sha256BlockState(ipad)
    this.outer = sha256BlockState(opad)
  }
  /** HMAC(key, label || UTF-8 of text). */
  mac(label: Buffer, text: string): Buffer {
    const max = label.length + 3 * text.length
    const message = scratch(MESSAGE, Math.max(max, 32))
    label.copy(message, 0)
    const end = label.length + message.write(text, label.length, 'utf8')
    const out = Buffer.allocUnsafe(32)
    sha256Into(message, 0, end, message, 0, this.inner, 64)
    sha256Into(message, 0, 32, out, 0, this.outer, 64)
    return out
  }
  /** K(p) under this salt. */
  fieldKey(pointer: string): Buffer {
    return this.mac(LABEL_KEY, pointer)
  }
}

const sha256 = (...parts: Buffer[]): Buffer => hash('sha256', Buffer.concat(parts), 'buffer') as unknown as Buffer

/** SHA-256("townsquare/ledger/v2/scalar\0" || K(p) || canonical JSON of the value), for non-strings. */
export function scalarDigest(key: Buffer, value: unknown): Buffer {
  return sha256(LABEL_SCALAR, key, Buffer.from(canonicalJson(value), 'utf8'))
}

/** d_i = SHA-256("townsquare/ledger/v2/segment\0" || k(p, i) || UTF-8 of the segment). */
export function segmentDigest(key: Buffer, segment: string): Buffer {
  return sha256(LABEL_SEGMENT, key, Buffer.from(segment, 'utf8'))
}

/** SHA-256("townsquare/ledger/v2/string\0" || d_0 || d_1 || …). */
export function stringDigest(digests: readonly Buffer[]): Buffer {
  // Not sha256(...digests): a megabyte comment has some 10^5 segments, more than a call's arguments.
  return hash('sha256', Buffer.concat([LABEL_STRING, ...digests]), 'buffer') as unknown as Buffer
}

// ASCII whitespace bytes (TAB, LF, VT, FF, CR, SPACE): in UTF-8 no other byte of a character takes
// these values, so segmenting a string's UTF-8 bytes gives the UTF-8 of its segments.
const isSpace = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d)

/**
 * The digest of a string under its field key: the same bytes as stringDigest of the segmentDigest
 * of each of segments(text) under segmentKeys, computed on the string's UTF-8 bytes at once, in
 * reused buffers. (A lone surrogate is encoded as U+FFFD either way: a segment other than the last
 * ends in whitespace, so no surrogate pair straddles two segments.)
 */
function stringValueDigest(key: Buffer, text: string): Buffer {
  const textBuffer = scratch(TEXT, 3 * text.length)
  const n = textBuffer.write(text, 0, 'utf8')
  const bytes = TEXT.buffer
  // Segment ends: an optional leading whitespace run, then each non-whitespace run with the
  // whitespace after it; the empty string is one empty segment.
  const ends: number[] = []
  let i = 0
  if (n === 0) ends.push(0)
  else if (isSpace(bytes[0]!)) {
    while (i < n && isSpace(bytes[i]!)) i++
    ends.push(i)
  }
  while (i < n) {
    while (i < n && !isSpace(bytes[i]!)) i++
    while (i < n && isSpace(bytes[i]!)) i++
    ends.push(i)
  }
  const count = ends.length
  const keys = segmentKeyStream(key, count)
  const head = LABEL_SEGMENT.length + 32
  let longest = 0
  for (let s = 0, from = 0; s < count; from = ends[s]!, s++) longest = Math.max(longest, ends[s]! - from)
  const message = scratch(MESSAGE, head + longest)
  LABEL_SEGMENT.copy(message, 0)
  const digests = scratch(DIGESTS, LABEL_STRING.length + 32 * count)
  LABEL_STRING.copy(digests, 0)
  for (let s = 0, from = 0; s < count; from = ends[s]!, s++) {
    keys.copy(message, LABEL_SEGMENT.length, 32 * s, 32 * s + 32)
    bytes.copy(message, head, from, ends[s]!)
    sha256To(message, 0, head + ends[s]! - from, digests, LABEL_STRING.length + 32 * s)
  }
  const out = Buffer.allocUnsafe(32)
  sha256To(digests, 0, LABEL_STRING.length + 32 * count, out, 0)
  return out
}

/** The digest of a scalar at a pointer, from its field key K(p). */
export function valueDigest(key: Buffer, value: unknown): Buffer {
  if (typeof value !== 'string') return scalarDigest(key, value)
  if (key.length !== 32) {
    const segs = segments(value)
    const keys = segmentKeys(key, segs.length)
    return stringDigest(segs.map((s, i) => segmentDigest(keys[i]!, s)))
  }
  return stringValueDigest(key, value)
}

/**
 * Replaces every scalar of `value` (a JSON value: what JSON.parse returns) by the result of
 * `leaf(pointer, scalar)`; objects and arrays keep their shape.
 */
export function mapScalars(value: unknown, leaf: (pointer: string, scalar: unknown) => unknown, pointer = ''): unknown {
  if (Array.isArray(value)) return value.map((v, i) => mapScalars(v, leaf, `${pointer}/${i}`))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue
      out[k] = mapScalars(v, leaf, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    }
    return out
  }
  return leaf(pointer, value)
}

/** The payload with every scalar replaced by its lowercase hex digest. */
export function skeleton(payload: unknown, salt: Buffer): unknown {
  const keyed = new HmacKey(salt)
  return mapScalars(payload, (p, v) => valueDigest(keyed.fieldKey(p), v).toString('hex'))
}

/** payloadCommitment = SHA-256(RFC 8785 canonical JSON of the skeleton), lowercase hex. */
export function commitmentOfSkeleton(skel: unknown): string {
  return createHash('sha256').update(canonicalJson(skel), 'utf8').digest('hex')
}

const LONE_SURROGATE = /\p{Surrogate}/u

/**
 * The RFC 8785 canonical JSON of mapScalars(value, leaf), written in one walk without building the
 * skeleton, for leaves that are lowercase hex (or empty) strings: the same text as
 * canonicalJson(mapScalars(value, leaf)) for any JSON value (what JSON.parse returns), keys sorted
 * by UTF-16 code units, a key with a lone surrogate refused alike.
 */
function canonicalSkeleton(value: unknown, leaf: (pointer: string, scalar: unknown) => string, pointer = ''): string {
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalSkeleton(value[i], leaf, `${pointer}/${i}`)
    return out + ']'
  }
  if (value !== null && typeof value === 'object') {
    let out = '{'
    let first = true
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k]
      if (v === undefined) continue
      if (LONE_SURROGATE.test(k)) throw new TypeError(`canonicalJson: lone surrogate in a key at ${pointer || '(root)'} (RFC 8785 §3.2.2.2)`)
      out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonicalSkeleton(v, leaf, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)
      first = false
    }
    return out + '}'
  }
  return '"' + leaf(pointer, value) + '"'
}

const sha256Hex = (text: string): string => hash('sha256', text, 'hex') as unknown as string

/** A payload's format 2 commitment under its salt. */
export function payloadCommitment(payload: unknown, salt: Buffer): string {
  const keyed = new HmacKey(salt)
  return sha256Hex(canonicalSkeleton(payload, (p, v) => valueDigest(keyed.fieldKey(p), v).toString('hex')))
}

/**
 * A payload's commitment and, by pointer in payload order, the field key K(p) of each scalar: what
 * payloadCommitment computes, kept for a disclosure of the same payload (disclose's `keys`), so that
 * a production derives each key once.
 */
export function openPayload(payload: unknown, salt: Buffer): { commitment: string; keys: Map<string, Buffer> } {
  const keyed = new HmacKey(salt)
  const keys = new Map<string, Buffer>()
  const text = canonicalSkeleton(payload, (p, v) => {
    const key = keyed.fieldKey(p)
    keys.set(p, key)
    return valueDigest(key, v).toString('hex')
  })
  return { commitment: sha256Hex(text), keys }
}

// ---------------------------------------------------------------------------------------------
// Disclosures: what a production shows of a format 2 payload, without the salt.

/**
 * How one scalar of a payload is disclosed, by its JSON Pointer:
 * - `{key}`: shown in full; the displayed value is the value and K(p) derives every key it needs.
 * - `{parts}`: a string with withheld segments: each visible segment with its own key k(p, i), each
 *   withheld run of segments as their digests d_i, shown as `marker` (followed by one space when
 *   more segments follow, since a segment that is not the last ends in whitespace).
 * - `{digest, marker}`: withheld whole; the displayed value is the marker.
 * K(p) is never given for a string with withheld segments: it would derive their keys.
 */
export type DisclosureNode =
  | { key: string }
  | { parts: Array<{ text: string; key: string } | { withheld: string[]; marker: string; redaction: string }> }
  | { digest: string; marker: string; redaction: string }

export type Disclosure = Record<string, DisclosureNode>

/** Spans of one string to withhold, in UTF-16 code units; each grows to whole segments. */
export interface WithheldSpan {
  id: string
  start: number
  end: number
  marker: string
}

export interface DisclosedSpan {
  id: string
  path: string
  /** Where the marker starts in the displayed string. */
  displayedStart: number
  marker: string
}

/** How a withheld run shows: its marker, and one space when segments follow it. */
function renderParts(parts: Extract<DisclosureNode, { parts: unknown }>['parts']): string {
  let out = ''
  parts.forEach((part, i) => {
    out += 'text' in part ? part.text : part.marker + (i < parts.length - 1 ? ' ' : '')
  })
  return out
}

/**
 * Discloses a payload without its salt: every scalar shown with its field key, except the spans and
 * fields withheld. Spans of a string are widened to the segments they touch; a segment touched by
 * two spans belongs to the first. Returns what to display, the disclosure, and where each span's
 * marker is.
 */
export function disclose(
  payload: unknown,
  salt: Buffer,
  withheld: { spans?: ReadonlyMap<string, readonly WithheldSpan[]>; whole?: ReadonlyMap<string, { id: string; marker: string }> } = {},
  /** The field keys of this payload under this salt (openPayload), when already derived. */
  fieldKeys?: ReadonlyMap<string, Buffer>,
): { displayed: unknown; disclosure: Disclosure; spans: DisclosedSpan[] } {
  const disclosure: Disclosure = {}
  const spans: DisclosedSpan[] = []
  let keyed: HmacKey | undefined
  const displayed = mapScalars(payload, (p, value) => {
    const key = fieldKeys?.get(p) ?? (keyed ??= new HmacKey(salt)).fieldKey(p)
    const whole = withheld.whole?.get(p)
    if (whole) {
      disclosure[p] = { digest: valueDigest(key, value).toString('hex'), marker: whole.marker, redaction: whole.id }
      spans.push({ id: whole.id, path: p, displayedStart: 0, marker: whole.marker })
      return whole.marker
    }
    const list = withheld.spans?.get(p)
    if (!list || list.length === 0 || typeof value !== 'string') {
      disclosure[p] = { key: key.toString('hex') }
      return value
    }
    const segs = segments(value)
    const owner: Array<WithheldSpan | undefined> = new Array(segs.length)
    const sorted = [...list].sort((a, b) => a.start - b.start || a.end - b.end)
    let offset = 0
    segs.forEach((s, i) => {
      const from = offset
      const to = offset + s.length
      offset = to
      // A segment is withheld when a span overlaps it (an empty span at its start counts).
      owner[i] = sorted.find((span) => span.start < to && span.end > from)
    })
    const parts: Extract<DisclosureNode, { parts: unknown }>['parts'] = []
    const keys = segmentKeys(key, segs.length)
    segs.forEach((s, i) => {
      const k = keys[i]!
      const by = owner[i]
      if (!by) {
        parts.push({ text: s, key: k.toString('hex') })
        return
      }
      const last = parts[parts.length - 1]
      const d = segmentDigest(k, s).toString('hex')
      if (last && 'withheld' in last && last.redaction === by.id) last.withheld.push(d)
      else parts.push({ withheld: [d], marker: by.marker, redaction: by.id })
    })
    let at = 0
    parts.forEach((part, i) => {
      if ('withheld' in part) {
        spans.push({ id: part.redaction, path: p, displayedStart: at, marker: part.marker })
        at += part.marker.length + (i < parts.length - 1 ? 1 : 0)
      } else at += part.text.length
    })
    disclosure[p] = { parts }
    return renderParts(parts)
  })
  return { displayed, disclosure, spans }
}

const HEX64 = /^[0-9a-f]{64}$/
const hex = (s: unknown): Buffer | null => (typeof s === 'string' && HEX64.test(s) ? Buffer.from(s, 'hex') : null)

/**
 * Checks a disclosure against a commitment: every scalar of `displayed` has a disclosure node, the
 * node opens to a digest, the digests make the skeleton, the skeleton hashes to `commitment`, and
 * every displayed character is the one disclosed (markers where spans are withheld). Returns the
 * problem, or null. Also returns the redaction ids of the withheld parts.
 */
export function checkDisclosure(displayed: unknown, disclosure: unknown, commitment: string): { problem: string | null; withheld: Set<string> } {
  const withheld = new Set<string>()
  if (disclosure === null || typeof disclosure !== 'object' || Array.isArray(disclosure)) return { problem: 'no disclosure', withheld }
  const nodes = disclosure as Record<string, unknown>
  let problem: string | null = null
  const seen = new Set<string>()
  const skel = canonicalSkeleton(displayed, (p, value) => {
    if (problem) return ''
    seen.add(p)
    const node = Object.hasOwn(nodes, p) ? (nodes[p] as Record<string, unknown>) : undefined
    if (!node || typeof node !== 'object') {
      problem = `${p || '(root)'}: no disclosure`
      return ''
    }
    if ('key' in node) {
      const key = hex(node.key)
      if (!key) problem = `${p}: the key is not 32 bytes of hex`
      return key ? valueDigest(key, value).toString('hex') : ''
    }
    if ('digest' in node) {
      const digest = hex(node.digest)
      if (!digest || typeof node.marker !== 'string' || typeof node.redaction !== 'string') problem = `${p}: a withheld field needs a digest, a marker and a redaction`
      else if (value !== node.marker) problem = `${p}: the displayed value is not the marker ${JSON.stringify(node.marker)}`
      else withheld.add(node.redaction)
      return digest ? digest.toString('hex') : ''
    }
    if (!Array.isArray(node.parts) || typeof value !== 'string') {
      problem = `${p}: unknown disclosure`
      return ''
    }
    const parts = node.parts as Array<Record<string, unknown>>
    const digests: Buffer[] = []
    for (const part of parts) {
      if (part && typeof part.text === 'string') {
        const key = hex(part.key)
        if (!key) {
          problem = `${p}: segment ${digests.length} has no key`
          return ''
        }
        digests.push(segmentDigest(key, part.text))
      } else if (part && Array.isArray(part.withheld) && typeof part.marker === 'string' && typeof part.redaction === 'string' && part.withheld.length > 0) {
        for (const d of part.withheld) {
          const digest = hex(d)
          if (!digest) {
            problem = `${p}: a withheld segment's digest is not 32 bytes of hex`
            return ''
          }
          digests.push(digest)
        }
        withheld.add(part.redaction)
      } else {
        problem = `${p}: unknown part of a disclosed string`
        return ''
      }
    }
    if (renderParts(parts as Extract<DisclosureNode, { parts: unknown }>['parts']) !== value) {
      problem = `${p}: the displayed text is not the disclosed segments and markers`
      return ''
    }
    return stringDigest(digests).toString('hex')
  })
  if (problem) return { problem, withheld }
  for (const p of Object.keys(nodes)) if (!seen.has(p)) return { problem: `${p}: disclosed but not in the payload`, withheld }
  const found = sha256Hex(skel)
  if (found !== commitment) return { problem: `the disclosed payload commits to ${found}, the entry to ${commitment}`, withheld }
  return { problem: null, withheld }
}

/**
 * The redaction ids a disclosure withholds text under, read from its nodes without hashing: for a
 * disclosure that checkDisclosure has accepted (every node is a scalar of the payload), the same set
 * as its `withheld`.
 */
export function withheldIds(disclosure: unknown): Set<string> {
  const withheld = new Set<string>()
  if (disclosure === null || typeof disclosure !== 'object' || Array.isArray(disclosure)) return withheld
  for (const node of Object.values(disclosure as Record<string, unknown>)) {
    if (node === null || typeof node !== 'object') continue
    const n = node as Record<string, unknown>
    if ('key' in n) continue
    if ('digest' in n) {
      if (typeof n.redaction === 'string') withheld.add(n.redaction)
      continue
    }
    if (!Array.isArray(n.parts)) continue
    for (const part of n.parts as Array<Record<string, unknown> | null>) {
      if (part && typeof part.text !== 'string' && Array.isArray(part.withheld) && typeof part.redaction === 'string') withheld.add(part.redaction)
    }
  }
  return withheld
}
