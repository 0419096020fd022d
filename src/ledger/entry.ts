import { canonicalJson, sha256Hex } from './canonical-json.js'
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
  'appeal.filed',
  'appeal.decided',
  'retention.schedule_set',
  'hold.placed',
  'hold.released',
  'disposal.listed',
  'disposal.approved',
  'disposal',
  'foia.production',
] as const
export type LedgerKind = (typeof LEDGER_KINDS)[number]

/** Version of the leaf format; a verifier refuses versions it does not know. */
export const ENTRY_FORMAT_VERSION = 1

/** A stored entry, as read back for sealing, proofs and verification. */
export interface LedgerEntryData {
  id: string
  kind: string
  subject: string
  actor: string
  recordedAt: Date
  /** The payload's RFC 8785 canonical JSON text. */
  payload: string
  payloadSha256: string
}

/**
 * The bytes the Merkle tree seals for an entry: the canonical JSON of its envelope. The payload is
 * committed through its SHA-256, so a disposed payload leaves the tree verifiable.
 */
export function entryLeafBytes(entry: Omit<LedgerEntryData, 'payload'>): Buffer {
  return Buffer.from(
    canonicalJson({
      v: ENTRY_FORMAT_VERSION,
      id: entry.id,
      kind: entry.kind,
      subject: entry.subject,
      actor: entry.actor,
      recordedAt: entry.recordedAt.toISOString(),
      payloadSha256: entry.payloadSha256,
    }),
    'utf8',
  )
}

export function entryLeafHash(entry: Omit<LedgerEntryData, 'payload'>): Buffer {
  return hashLeaf(entryLeafBytes(entry))
}

export function payloadDigest(payload: unknown): { payload: string; payloadSha256: string } {
  const text = canonicalJson(payload)
  return { payload: text, payloadSha256: sha256Hex(text) }
}
