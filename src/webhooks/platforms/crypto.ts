// The one place webhook MACs are computed and compared. Every adapter verifies through here.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { WebhookHeaders } from './types.js'

/** SHA-256 output length: a provided MAC of any other length is malformed, never compared. */
export const SHA256_BYTES = 32

/**
 * X's crc_token and LinkedIn's challengeCode are signed with the same secret as their deliveries,
 * so a handshake answer must never be a signature a delivery could carry. The two sets are kept
 * apart: a handshake signs only tokens of this form (the platforms send a UUID: X's and LinkedIn's
 * examples, base64 allowed), and a delivery body of this form is refused before its signature is
 * checked. A delivery is a JSON object, which never is one, so nothing real is refused; and since
 * the signed text of every accepted signature form is the body, or a fixed prefix and the body,
 * a body signed by a handshake is itself of this form.
 */
const HANDSHAKE_TOKEN = /^[A-Za-z0-9._~+/=-]{1,256}$/

export function isHandshakeToken(text: string): boolean {
  return HANDSHAKE_TOKEN.test(text)
}

/** A body a handshake could have signed (see HANDSHAKE_TOKEN). */
export function isHandshakeBody(rawBody: Buffer): boolean {
  return rawBody.length <= 256 && HANDSHAKE_TOKEN.test(rawBody.toString('latin1'))
}

/** An empty secret would make every MAC forgeable: a configuration error, thrown rather than answered. */
export function assertSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('webhook secret is not configured (empty)')
}

/**
 * HMAC-SHA256 over the concatenation of `parts`, fed in order (no copy of the body is made).
 * Signatures must be computed over the exact bytes received, so a body must be a Buffer/Uint8Array:
 * passing parsed-and-reserialized JSON is the classic bug this refuses to make easy.
 */
export function hmacSha256(key: string, ...parts: Array<string | Uint8Array>): Buffer {
  assertSecret(key)
  const mac = createHmac('sha256', key)
  for (const part of parts) mac.update(part)
  return mac.digest()
}

/** Constant-time equality: lengths first (timingSafeEqual throws on a mismatch), then the bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Constant-time equality of two strings' UTF-8 bytes (leaks only the length), e.g. a verify token. */
export function stringsEqual(a: string, b: string): boolean {
  return bytesEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/

/** A 64-digit hex SHA-256 MAC as bytes, or null when it is not exactly that. */
export function decodeHexMac(text: string): Buffer | null {
  return HEX_SHA256.test(text) ? Buffer.from(text, 'hex') : null
}

/** A standard (padded) base64 SHA-256 MAC as bytes, or null when it is not exactly that. */
export function decodeBase64Mac(text: string): Buffer | null {
  if (!BASE64_SHA256.test(text)) return null
  const bytes = Buffer.from(text, 'base64')
  return bytes.length === SHA256_BYTES ? bytes : null
}

export type HeaderLookup = { status: 'missing' } | { status: 'malformed' } | { status: 'present'; value: string }

/**
 * One header's single value, whatever the case of its name. Absent or blank is `missing`; a header
 * sent several times (an array, or two spellings of the name) is `malformed`: a signature is one value.
 */
export function readHeader(headers: WebhookHeaders, name: string): HeaderLookup {
  const wanted = name.toLowerCase()
  const values: string[] = []
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue
    if (Array.isArray(value)) values.push(...value)
    else values.push(value)
  }
  if (values.length > 1) return { status: 'malformed' }
  const value = values[0]?.trim()
  if (!value) return { status: 'missing' }
  return { status: 'present', value }
}

/** A short, stable digest of a text (not a MAC): used to tell two changes apart inside a delivery key. */
export function shortDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16)
}
