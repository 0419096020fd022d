import { z } from 'zod'

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

export const TreeSizeParams = z.object({ treeSize: z.coerce.number().int().min(1) })

export const PublicKey = z
  .object({
    algorithm: z.literal('Ed25519'),
    keyName: z.string(),
    keyId: Hex,
    publicKeyPem: z.string(),
    verifierKey: z.string().describe('signed-note verifier key: <name>+<hex key id>+<base64(0x01 || key)>'),
    previousKeys: z
      .array(z.object({ keyName: z.string(), keyId: Hex, publicKeyPem: z.string(), firstUsed: z.iso.datetime() }))
      .describe('Every key that signed a checkpoint, so old checkpoints stay verifiable after rotation'),
  })
  .meta({ id: 'LedgerPublicKey' })

export const EntryParams = z.object({ id: z.uuid() })
export const EntryQuery = z.object({
  treeSize: z.coerce.number().int().min(1).optional().describe('Prove inclusion in this checkpoint instead of the latest'),
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
  from: z.coerce.number().int().min(1),
  to: z.coerce.number().int().min(1),
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
        kind: z.enum(['leaf_missing', 'entry_missing', 'payload_hash', 'payload_missing', 'leaf_hash', 'tree_node', 'checkpoint_root', 'checkpoint_signature', 'checkpoint_beyond_tree']),
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
