// Signed checkpoints (tree heads) in the C2SP formats used across the transparency-dev
// ecosystem, so outside verifiers and witnesses can read them:
//   - c2sp.org/tlog-checkpoint: note text = origin, tree size, base64 root hash, extension lines;
//   - c2sp.org/signed-note: text + blank line + "— <key name> base64(key ID || signature)" lines,
//     Ed25519 (signature type 0x01) over the exact note text.
// Townsquare checkpoints always carry exactly one extension line, "time <ISO-8601 UTC, ms>".
import { createHash, createPublicKey, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

export type Checkpoint = { origin: string; treeSize: number; rootHash: Buffer; time: Date }
export type NoteSignature = { keyName: string; keyId: Buffer; signature: Buffer }
export type ParsedCheckpoint = {
  checkpoint: Checkpoint
  /** Every signature line, including ones from keys the caller does not know. */
  signatures: NoteSignature[]
  /** The exact signed note text (the checkpoint body). */
  body: string
}
export type SignerKey = { name: string; privateKey: KeyObject }
export type VerifierKey = { name: string; publicKey: KeyObject }
export type VerifyResult = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string }

export class CheckpointFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CheckpointFormatError'
  }
}

const ALG_ED25519 = 0x01 // signed-note signature type for Ed25519
const SIG_LINE_PREFIX = '\u2014 ' // em dash, space
const ROOT_HASH_SIZE = 32
const ED25519_SIG_SIZE = 64
const MAX_SIGNATURES = 100 // signed-note: verifiers SHOULD limit, MUST accept at least 16
const TIME_PREFIX = 'time '

const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const DECIMAL = /^(?:0|[1-9]\d*)$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const LONE_SURROGATE = /\p{Surrogate}/u // with the u flag only unpaired surrogates match
// signed-note: key names are non-empty and contain neither Unicode spaces nor '+'.
const BAD_NAME_CHAR = /[\s\u0085+]|\p{Cc}|\p{Surrogate}/u

// signed-note: no ASCII control characters (below U+0020) other than newline; valid UTF-8.
function hasBadNoteChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 && c !== 0x0a) return true
  }
  return LONE_SURROGATE.test(s)
}

function fail(message: string): never {
  throw new CheckpointFormatError(message)
}

/** Throws TypeError unless `name` is a valid signed-note key name. */
export function assertValidKeyName(name: string): void {
  if (typeof name !== 'string' || name === '' || BAD_NAME_CHAR.test(name)) {
    throw new TypeError(`invalid key name ${JSON.stringify(name)}: must be non-empty without spaces, '+' or control characters`)
  }
}

function decodeBase64(s: string, what: string): Buffer {
  if (!BASE64.test(s)) fail(`${what} is not valid base64`)
  const bytes = Buffer.from(s, 'base64')
  if (bytes.toString('base64') !== s) fail(`${what} is not canonical base64`)
  return bytes
}

/** The 32-byte RFC 8032 encoding of an Ed25519 public key (a private key is accepted too). */
function rawEd25519PublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  if (pub.type !== 'public' || pub.asymmetricKeyType !== 'ed25519') throw new TypeError('expected an Ed25519 key')
  const { x } = pub.export({ format: 'jwk' })
  const raw = Buffer.from(x ?? '', 'base64url')
  if (raw.length !== 32) throw new TypeError('malformed Ed25519 public key')
  return raw
}

/** signed-note key ID: SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4]. */
export function keyId(name: string, publicKey: KeyObject): Buffer {
  assertValidKeyName(name)
  return createHash('sha256')
    .update(Buffer.from(`${name}\n`, 'utf8'))
    .update(Buffer.from([ALG_ED25519]))
    .update(rawEd25519PublicKey(publicKey))
    .digest()
    .subarray(0, 4)
}

/** The signed-note verifier key string `<name>+<hex key ID>+<base64(0x01 || public key)>`. */
export function publicKeyVerifierString(name: string, publicKey: KeyObject): string {
  const id = keyId(name, publicKey)
  const encoded = Buffer.concat([Buffer.from([ALG_ED25519]), rawEd25519PublicKey(publicKey)]).toString('base64')
  return `${name}+${id.toString('hex')}+${encoded}`
}

/** Parses a verifier key string (Ed25519 only); throws on malformed input or a wrong key ID. */
export function parseVerifierKey(str: string): VerifierKey & { keyId: Buffer } {
  if (typeof str !== 'string') throw new TypeError('verifier key must be a string')
  // The name cannot contain '+', but the base64 key can.
  const first = str.indexOf('+')
  const second = first < 0 ? -1 : str.indexOf('+', first + 1)
  if (second < 0) fail('verifier key must have the form <name>+<hex key ID>+<base64 key>')
  const name = str.slice(0, first)
  const idHex = str.slice(first + 1, second)
  assertValidKeyName(name)
  if (!/^[0-9a-f]{8}$/i.test(idHex)) fail('verifier key ID must be 8 hex digits')
  const keyBytes = decodeBase64(str.slice(second + 1), 'verifier key')
  if (keyBytes[0] !== ALG_ED25519) fail('verifier key is not an Ed25519 (type 0x01) key')
  if (keyBytes.length !== 33) fail('Ed25519 verifier key must be 32 bytes')
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: keyBytes.subarray(1).toString('base64url') },
    format: 'jwk',
  })
  const id = keyId(name, publicKey)
  if (!id.equals(Buffer.from(idHex, 'hex'))) fail('verifier key ID does not match the key name and public key')
  return { name, keyId: id, publicKey }
}

/** tlog-checkpoint note text: origin, tree size, base64 root hash, "time …" extension line. */
export function checkpointBody(cp: Checkpoint): string {
  const { origin, treeSize, rootHash, time } = cp
  if (typeof origin !== 'string' || origin === '' || hasBadNoteChar(origin) || origin.includes('\n')) {
    throw new TypeError('checkpoint origin must be a non-empty single line without control characters')
  }
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) throw new TypeError('checkpoint treeSize must be a non-negative safe integer')
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== ROOT_HASH_SIZE) {
    throw new TypeError(`checkpoint rootHash must be ${ROOT_HASH_SIZE} bytes`)
  }
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw new TypeError('checkpoint time must be a valid Date')
  const iso = time.toISOString()
  if (!ISO_MS_UTC.test(iso)) throw new TypeError('checkpoint time must be within years 0000-9999')
  return `${origin}\n${treeSize}\n${Buffer.from(rootHash).toString('base64')}\n${TIME_PREFIX}${iso}\n`
}

/** The full signed note: body, blank line, one signature line per signer (signed-note §Format). */
export function signCheckpoint(cp: Checkpoint, key: SignerKey | readonly SignerKey[]): string {
  const body = checkpointBody(cp)
  const keys = Array.isArray(key) ? (key as readonly SignerKey[]) : [key as SignerKey]
  if (keys.length === 0) throw new TypeError('at least one signing key is required')
  const data = Buffer.from(body, 'utf8')
  const lines = keys.map(({ name, privateKey }) => {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new TypeError(`signing key ${name} must be an Ed25519 private key`)
    }
    const id = keyId(name, privateKey)
    const signature = sign(null, data, privateKey)
    return `${SIG_LINE_PREFIX}${name} ${Buffer.concat([id, signature]).toString('base64')}\n`
  })
  return `${body}\n${lines.join('')}`
}

function parseBody(body: string): Checkpoint {
  const lines = body.slice(0, -1).split('\n')
  if (lines.length < 4) fail('checkpoint must have origin, tree size, root hash and time lines')
  if (lines.length > 4) fail('checkpoint has unexpected extension lines')
  const [origin, size, root, timeLine] = lines as [string, string, string, string]
  if (origin === '') fail('checkpoint origin is empty')
  if (!DECIMAL.test(size)) fail('checkpoint tree size is not a decimal number without leading zeros')
  const treeSize = Number(size)
  if (!Number.isSafeInteger(treeSize)) fail('checkpoint tree size is too large')
  const rootHash = decodeBase64(root, 'checkpoint root hash')
  if (rootHash.length !== ROOT_HASH_SIZE) fail(`checkpoint root hash must be ${ROOT_HASH_SIZE} bytes`)
  if (!timeLine.startsWith(TIME_PREFIX)) fail('checkpoint extension line must be "time <ISO-8601>"')
  const iso = timeLine.slice(TIME_PREFIX.length)
  const time = new Date(iso)
  if (!ISO_MS_UTC.test(iso) || Number.isNaN(time.getTime()) || time.toISOString() !== iso) {
    fail('checkpoint time must be ISO-8601 UTC with milliseconds, e.g. 2024-01-31T12:00:00.000Z')
  }
  return { origin, treeSize, rootHash, time }
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIG_LINE_PREFIX)) fail('signature line must start with an em dash and a space')
  const parts = line.slice(SIG_LINE_PREFIX.length).split(' ')
  if (parts.length !== 2) fail('signature line must be "— <key name> <base64 signature>"')
  const [keyName, encoded] = parts as [string, string]
  try {
    assertValidKeyName(keyName)
  } catch (e) {
    fail((e as Error).message)
  }
  const bytes = decodeBase64(encoded, `signature by ${keyName}`)
  if (bytes.length < 5) fail(`signature by ${keyName} is too short`)
  return { keyName, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) }
}

/**
 * Splits a signed checkpoint into its checkpoint and signature lines (signed-note §Format: the
 * text ends at the last blank line). Throws CheckpointFormatError on malformed text; does NOT
 * verify signatures.
 */
export function parseSignedCheckpoint(text: string): ParsedCheckpoint {
  if (typeof text !== 'string') fail('signed checkpoint must be a string')
  if (hasBadNoteChar(text)) fail('signed note contains control characters or invalid Unicode')
  const split = text.lastIndexOf('\n\n')
  if (split < 0) fail('signed note has no blank line before its signatures')
  const body = text.slice(0, split + 1)
  const block = text.slice(split + 2)
  if (block === '') fail('signed note has no signatures')
  if (!block.endsWith('\n')) fail('signed note must end with a newline')
  const sigLines = block.slice(0, -1).split('\n')
  if (sigLines.length > MAX_SIGNATURES) fail(`signed note has more than ${MAX_SIGNATURES} signatures`)
  const signatures = sigLines.map(parseSignatureLine)
  return { checkpoint: parseBody(body), signatures, body }
}

/**
 * Verifies a signed checkpoint against one trusted Ed25519 key (signed-note §Signatures):
 * signatures from other keys are ignored, at least one signature line must carry this key's name
 * and key ID, and every such line must verify. Never throws.
 */
export function verifySignedCheckpoint(text: string, key: VerifierKey): VerifyResult {
  try {
    return verifyParsed(text, key)
  } catch (e) {
    return { ok: false, reason: `verification error: ${(e as Error).message}` }
  }
}

function verifyParsed(text: string, key: VerifierKey): VerifyResult {
  let parsed: ParsedCheckpoint
  try {
    parsed = parseSignedCheckpoint(text)
  } catch (e) {
    return { ok: false, reason: `malformed checkpoint: ${(e as Error).message}` }
  }
  let id: Buffer
  try {
    id = keyId(key.name, key.publicKey)
  } catch (e) {
    return { ok: false, reason: `unusable verifier key: ${(e as Error).message}` }
  }
  const mine = parsed.signatures.filter((s) => s.keyName === key.name && s.keyId.equals(id))
  if (mine.length === 0) {
    return { ok: false, reason: `no signature from key ${key.name} (key ID ${id.toString('hex')})` }
  }
  const data = Buffer.from(parsed.body, 'utf8')
  for (const s of mine) {
    if (s.signature.length !== ED25519_SIG_SIZE || !verify(null, data, key.publicKey, s.signature)) {
      return { ok: false, reason: `signature from key ${key.name} does not verify` }
    }
  }
  return { ok: true, checkpoint: parsed.checkpoint }
}
