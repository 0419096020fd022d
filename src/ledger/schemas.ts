import { z } from 'zod'
import { decodeCursor, encodeCursor } from '../http/cursor.js'
import { ValidationProblem } from '../plugins/errors.js'

const Hex = z.string().regex(/^[0-9a-f]*$/)

export const Checkpoint = z
  .object({
    treeSize: z.number().int(),
    rootHash: Hex.describe('SHA-256 root of the RFC 9162 tree over the first treeSize leaves, hex'),
    issuedAt: z.iso.datetime(),
    keyName: z.string(),
    keyId: Hex.describe('signed-note key id (first 4 bytes of the key hash), hex'),
    signedNote: z.string().describe('The C2SP tlog-checkpoint signed note, exactly as signed (docs/ledger.md)'),
  })
  .meta({ id: 'Checkpoint' })

const TreeSize = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER)
export const TreeSizeParams = z.object({ treeSize: TreeSize })

export const CheckpointListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
})

export const CheckpointList = z
  .object({
    items: z.array(Checkpoint).describe('Newest first: by tree size, then time (a size is signed again, same root, when the log is quiet)'),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'CheckpointList' })

/** The checkpoints list's cursor: the position of the last checkpoint returned (the shared keyset cursor). */
export function encodeCheckpointCursor(at: { treeSize: number; issuedAt: Date }): string {
  return encodeCursor({ treeSize: String(at.treeSize), issuedAt: at.issuedAt.toISOString() })
}

export function decodeCheckpointCursor(cursor: string): { treeSize: number; issuedAt: Date } {
  const at = decodeCursor(cursor, { treeSize: 'seq', issuedAt: 'time' })
  const treeSize = Number(at.treeSize)
  if (!Number.isSafeInteger(treeSize)) throw new ValidationProblem('The cursor is not one this list returned.', [{ path: 'querystring:$.cursor', message: 'invalid cursor' }])
  return { treeSize, issuedAt: new Date(at.issuedAt) }
}

export const InclusionQuery = z
  .object({
    entryId: z.uuid().optional(),
    leafIndex: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    treeSize: TreeSize.optional().describe('Prove inclusion in this checkpoint instead of the latest'),
  })
  .refine((q) => (q.entryId === undefined) !== (q.leafIndex === undefined), { message: 'give entryId or leafIndex (one of them)', path: ['entryId'] })

export const InclusionProof = z
  .object({
    leafIndex: z.number().int(),
    leafHash: Hex.describe('SHA-256(0x00 || envelope): the leaf, not the envelope (docs/ledger.md, "What is public")'),
    treeSize: z.number().int(),
    checkpoint: Checkpoint,
    proof: z.array(Hex).describe('RFC 9162 §2.1.3 audit path, leaf to root'),
  })
  .meta({ id: 'LedgerInclusionProof' })

export const SigningKeys = z
  .object({
    currentKeyId: Hex,
    keys: z.array(
      z.object({
        keyName: z.string(),
        keyId: Hex,
        verifierKey: z.string(),
        publicKeyPem: z.string(),
        current: z.boolean(),
        firstUsed: z.iso.datetime().describe('Its first checkpoint'),
        lastUsed: z.iso.datetime().nullable().describe('Its latest checkpoint: the end of its validity once another key took over'),
        firstCheckpoint: z.object({ treeSize: z.number().int(), issuedAt: z.iso.datetime() }).nullable(),
        endorsedBy: Hex.nullable().describe('The key that co-signed its first checkpoint (a rotation endorsed); null for the first key, or a key that took over without endorsement'),
      }),
    ),
  })
  .meta({ id: 'LedgerSigningKeys' })

export const PublicKey = z
  .object({
    algorithm: z.literal('Ed25519'),
    keyName: z.string(),
    keyId: Hex,
    publicKeyPem: z.string(),
    verifierKey: z.string().describe('signed-note verifier key: <name>+<hex key id>+<base64(0x01 || key)>'),
    previousKeys: z
      .array(z.object({ keyName: z.string(), keyId: Hex, publicKeyPem: z.string(), firstUsed: z.iso.datetime() }))
      .describe('The keys that signed checkpoints before the current one (never the current key), so old checkpoints stay verifiable after rotation; GET /v1/ledger/keys lists them all with their validity'),
  })
  .meta({ id: 'LedgerPublicKey' })

export const EntryParams = z.object({ id: z.uuid() })
export const EntryQuery = z.object({
  treeSize: TreeSize.optional().describe('Prove inclusion in this checkpoint instead of the latest'),
})

export const LedgerEntry = z
  .object({
    id: z.uuid(),
    kind: z.string(),
    subject: z.string(),
    actor: z.string(),
    recordedAt: z.iso.datetime(),
    payload: z.unknown().describe('The payload. Null once disposed: a `disposal` entry lists this entry with its payloadSha256 or payloadCommitment (docs/retention.md)'),
    format: z.union([z.literal(1), z.literal(2)]).describe('1: committed by payloadSha256 (entries written before format 2); 2: by payloadCommitment (docs/ledger.md, "Format 2")'),
    payloadSha256: Hex.optional().describe('Format 1: SHA-256 of the canonical JSON of the payload'),
    payloadCommitment: Hex.optional().describe('Format 2: the salted commitment to the payload'),
    payloadSalt: Hex.nullable().optional().describe('Format 2: the salt that opens payloadCommitment with the payload; null once disposed'),
  })
  .meta({ id: 'LedgerEntry' })

export const EntryWithProof = z
  .object({
    entry: LedgerEntry,
    leafIndex: z.number().int().nullable().describe('Null until the sealer has reached the entry'),
    sealedAt: z.iso.datetime().nullable(),
    leafHash: Hex.nullable(),
    inclusion: z
      .object({ checkpoint: Checkpoint, proof: z.array(Hex).describe('RFC 9162 §2.1.3 audit path, leaf to root') })
      .nullable()
      .describe('Null until a checkpoint covers the entry'),
  })
  .meta({ id: 'LedgerEntryWithProof' })

export const ConsistencyQuery = z.object({
  from: TreeSize,
  to: TreeSize,
})

export const ConsistencyProof = z
  .object({
    from: Checkpoint,
    to: Checkpoint,
    proof: z.array(Hex).describe('RFC 9162 §2.1.4 consistency proof'),
  })
  .meta({ id: 'ConsistencyProof' })

export const VerificationReport = z
  .object({
    ok: z.boolean(),
    treeSize: z.number().int().describe('Leaves checked in order (up to the divergence when not ok)'),
    checkpointsChecked: z.number().int(),
    unsealedEntries: z.number().int(),
    disposedEntries: z.number().int().describe('Entries whose payload a disposal destroyed, each covered by the `disposal` entry that lists its hash (docs/retention.md)'),
    divergence: z
      .object({
        kind: z.enum(['leaf_missing', 'entry_missing', 'payload_hash', 'payload_missing', 'leaf_hash', 'tree_node', 'checkpoint_root', 'checkpoint_signature', 'checkpoint_beyond_tree', 'checkpoint_key_not_endorsed']),
        leafIndex: z.number().int().optional(),
        entryId: z.string().optional(),
        treeSize: z.number().int().optional(),
        expected: z.string(),
        found: z.string(),
        detail: z.string(),
      })
      .nullable(),
  })
  .meta({ id: 'LedgerVerificationReport' })
