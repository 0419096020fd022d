import { canonicalJson, sha256Hex } from './canonical-json.js'
import { newSalt, payloadCommitment } from './commitment.js'
import { hashLeaf } from './merkle.js'

/** The kinds of fact the ledger records; each domain appends its own (docs/ledger.md). */
export const LEDGER_KINDS = [
  'comment.version',
  'comment.author_deleted',
  'comment.platform_hidden',
  'comment.platform_unhidden',
  'policy.published',
  'moderation.decision',
  'platform.action',
  'notice.delivery',
  'platform.action.retried',
  'platform.action.resolved',
  'appeal.filed',
  'appeal.decided',
  'retention.schedule_set',
  'hold.placed',
  'hold.released',
  'disposal.listed',
  'disposal.approved',
  'disposal',
  'foia.production',
  'account.block',
  'account.unblock',
  'platform.connection',
  'foia.record_detached',
  'foia.letter',
  'foia.letter_delivery',
  'foia.review',
] as const
export type LedgerKind = (typeof LEDGER_KINDS)[number]

/**
 * Versions of the leaf format; a verifier refuses versions it does not know. Format 1 commits to a
 * payload by its unsalted SHA-256 (entries written before format 2); format 2 by a salted
 * commitment (docs/ledger.md, "Format 2"). New entries are format 2.
 */
export const ENTRY_FORMAT_VERSION = 2
export const ENTRY_FORMATS = [1, 2] as const

/** A stored entry, as read back for sealing, proofs and verification. */
export interface LedgerEntryData {
  id: string
  kind: string
  subject: string
  actor: string
  recordedAt: Date
  /** The payload's RFC 8785 canonical JSON text. */
  payload: string | null
  /** 1 or 2 (absent: 1). */
  format?: number
  /** Format 1: SHA-256 of the payload. Null for format 2. */
  payloadSha256: string | null
  /** Format 2: the salted commitment (docs/ledger.md, "Format 2"). */
  payloadCommitment?: string | null
  /** Format 2: the 32-byte salt; null once disposed. Never in a production. */
  payloadSalt?: Buffer | null
}

/** A `ledger_entry` row as ENTRY_COLUMNS selects it (`pg`'s types). */
export interface EntryRow {
  id: string
  kind: string
  subject: string
  actor: string
  recorded_at: Date
  payload: string | null
  format: number
  payload_sha256: string | null
  payload_commitment: string | null
  payload_salt: Buffer | null
}

/** The columns of EntryRow, from `ledger_entry` aliased `e`. */
export const ENTRY_COLUMNS = 'e.id::text AS id, e.kind, e.subject, e.actor, e.recorded_at, e.payload, e.format, e.payload_sha256, e.payload_commitment, e.payload_salt'

export function entryOfRow(row: EntryRow): LedgerEntryData {
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    actor: row.actor,
    recordedAt: row.recorded_at,
    payload: row.payload,
    format: row.format,
    payloadSha256: row.payload_sha256,
    payloadCommitment: row.payload_commitment,
    payloadSalt: row.payload_salt,
  }
}

export type Envelope =
  | { v: 1; id: string; kind: string; subject: string; actor: string; recordedAt: string; payloadSha256: string }
  | { v: 2; id: string; kind: string; subject: string; actor: string; recordedAt: string; payloadCommitment: string }

/** The envelope of a stored entry: the object whose canonical JSON is the leaf. */
export function envelopeOf(entry: Omit<LedgerEntryData, 'payload'>): Envelope {
  const common = { id: entry.id, kind: entry.kind, subject: entry.subject, actor: entry.actor, recordedAt: entry.recordedAt.toISOString() }
  if ((entry.format ?? 1) === 2) {
    if (typeof entry.payloadCommitment !== 'string') throw new Error(`entry ${entry.id}: format 2 without a payload commitment`)
    return { v: 2, ...common, payloadCommitment: entry.payloadCommitment }
  }
  if (typeof entry.payloadSha256 !== 'string') throw new Error(`entry ${entry.id}: format 1 without a payload SHA-256`)
  return { v: 1, ...common, payloadSha256: entry.payloadSha256 }
}

/** The bytes the Merkle tree seals for an envelope: its RFC 8785 canonical JSON. */
export function envelopeBytes(envelope: Envelope): Buffer {
  return Buffer.from(canonicalJson(envelope), 'utf8')
}

/**
 * The bytes the Merkle tree seals for an entry: the canonical JSON of its envelope. The payload is
 * committed through its digest, so a disposed payload leaves the tree verifiable.
 */
export function entryLeafBytes(entry: Omit<LedgerEntryData, 'payload'>): Buffer {
  return envelopeBytes(envelopeOf(entry))
}

export function entryLeafHash(entry: Omit<LedgerEntryData, 'payload'>): Buffer {
  return hashLeaf(entryLeafBytes(entry))
}

/** Format 1: the payload's canonical JSON and its unsalted SHA-256 (only for entries written before format 2). */
export function payloadDigest(payload: unknown): { payload: string; payloadSha256: string } {
  const text = canonicalJson(payload)
  return { payload: text, payloadSha256: sha256Hex(text) }
}

/** Format 2: the payload's canonical JSON, a fresh salt and the salted commitment. */
export function payloadCommit(payload: unknown, salt: Buffer = newSalt()): { payload: string; payloadSalt: Buffer; payloadCommitment: string } {
  const text = canonicalJson(payload)
  return { payload: text, payloadSalt: salt, payloadCommitment: payloadCommitment(JSON.parse(text) as unknown, salt) }
}

/**
 * Whether a stored payload is the one its envelope commits to: format 1 by SHA-256, format 2 by
 * recomputing the commitment from the payload and the salt. Returns the digest found.
 */
export function storedPayloadDigest(entry: Pick<LedgerEntryData, 'format' | 'payload' | 'payloadSalt'>): string | null {
  if (entry.payload === null) return null
  if ((entry.format ?? 1) === 2) {
    if (!entry.payloadSalt) return null
    return payloadCommitment(JSON.parse(entry.payload) as unknown, entry.payloadSalt)
  }
  return sha256Hex(entry.payload)
}

/** The digest an entry's envelope commits its payload by (payloadSha256 or payloadCommitment). */
export function committedDigest(entry: Pick<LedgerEntryData, 'format' | 'payloadSha256' | 'payloadCommitment'>): string | null {
  return (entry.format ?? 1) === 2 ? (entry.payloadCommitment ?? null) : entry.payloadSha256
}
