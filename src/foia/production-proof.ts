/**
 * A production's proof of its own completeness (docs/foia.md, "A production proves itself").
 *
 * A production is finalized in two steps. First the archive's files and its manifest are written
 * and the production is recorded in the ledger: a `foia.production` entry whose payload holds the
 * manifest's SHA-256, the archive's SHA-256 and the counts. That entry cannot be inside the
 * manifest it commits to, and its inclusion proof exists only once a signed checkpoint covers it.
 * So, second, once the ledger is sealed past the entry, the archive is completed with one more
 * member, `production-proof.json`: the entry's envelope and payload, its inclusion proof to the
 * first checkpoint that covers it, that signed checkpoint, and a consistency proof from the
 * checkpoint the records are proven against (checkpoint.txt) to that one. Until then the archive
 * is not served (the API answers 409 with Retry-After).
 *
 * With it, the city's published key alone anchors everything: the key verifies the checkpoint, the
 * proof puts the entry in the signed tree, the entry commits to manifest.json (and to every byte of
 * the archive before the proof), and the manifest to every file and count.
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'
import type { BundleEntryLine } from '../ledger/bundle.js'
import { disclose, type Disclosure } from '../ledger/commitment.js'
import { envelopeOf } from '../ledger/entry.js'
import { consistencyBetween, entryWithProof } from '../ledger/proofs.js'
import type { Queryable } from '../ledger/tree-store.js'
import { tarHeader } from './tar.js'

export const PRODUCTION_PROOF_FILE = 'production-proof.json'
export const PRODUCTION_PROOF_FORMAT = 'townsquare-foia-production-proof/1'

/** The payload of a production's `foia.production` ledger entry. */
export interface ProductionEntryPayload {
  productionId: string
  requestId: string
  format: 'tar'
  manifestSha256: string
  /** SHA-256 of the archive before its proof: every member but production-proof.json, then the two end blocks. */
  archiveSha256: string
  archiveBytes: number
  treeSize: number
  records: number
  entries: number
  redactions: number
  /** Attached records not produced: destroyed by a disposal, or withheld in full (not-produced.jsonl). */
  disposed?: number
  withheld?: number
}

/** production-proof.json. */
export interface ProductionProof {
  format: typeof PRODUCTION_PROOF_FORMAT
  /** The production's foia.production entry, as bundles carry entries. */
  leafIndex: number
  entry: BundleEntryLine['entry']
  payload: ProductionEntryPayload
  /** Format 2: the payload's field keys, which open the entry's commitment (never the salt). */
  disclosure?: Disclosure
  /** RFC 9162 inclusion proof of the entry's leaf in the tree of `checkpoint`. */
  inclusionProof: string[]
  /** The first signed checkpoint (C2SP signed note) whose tree holds the entry. */
  checkpoint: string
  /** RFC 9162 consistency proof from the tree of checkpoint.txt (the records' proofs) to that one. */
  consistencyProof: string[]
}

/**
 * The proof of a production's entry, or null while no checkpoint covers it yet. Always against
 * the first checkpoint that covers the entry, so a production's completed archive is the same at
 * every download.
 */
export async function productionProof(db: Queryable, production: { ledgerEntryId: string; treeSize: bigint | number }): Promise<ProductionProof | null> {
  const { rows } = await db.query<{ leaf_index: string; tree_size: string | null }>(
    `SELECT l.leaf_index::text,
            (SELECT min(c.tree_size) FROM ledger_checkpoint c WHERE c.tree_size > l.leaf_index)::text AS tree_size
       FROM ledger_leaf l WHERE l.entry_id = $1`,
    [production.ledgerEntryId],
  )
  const row = rows[0]
  if (!row || row.tree_size === null) return null
  const size = Number(row.tree_size)
  const { entry, leafIndex, inclusion } = await entryWithProof(db, production.ledgerEntryId, size, 'first')
  if (!inclusion || leafIndex === null) return null
  const consistency = await consistencyBetween(db, Number(production.treeSize), size)
  if (entry.payload === null) throw new Error(`the foia.production entry ${entry.id} has no payload`)
  const payload = JSON.parse(entry.payload) as ProductionEntryPayload
  const envelope = envelopeOf(entry)
  return {
    format: PRODUCTION_PROOF_FORMAT,
    leafIndex,
    entry: envelope,
    payload,
    // Its payload holds ids, hashes and counts; disclosed by field keys as every format 2 entry in a production is.
    ...(envelope.v === 2 ? { disclosure: disclose(payload, entry.payloadSalt!).disclosure } : {}),
    inclusionProof: inclusion.proof.map((h) => h.toString('hex')),
    checkpoint: inclusion.checkpoint.signedNote,
    consistencyProof: consistency.proof.map((h) => h.toString('hex')),
  }
}

/** The completed archive's file name in the productions directory. */
export const completedArchiveName = (productionId: string) => `${productionId}.complete.tar`

/**
 * Writes (once) the completed archive: the recorded archive without its two end blocks, then
 * production-proof.json (same header time as the other members), its padding and two end blocks.
 * Returns its path and size.
 */
export async function completeArchive(
  dir: string,
  production: { id: string; fileName: string; archiveBytes: bigint | number; createdAt: Date },
  proof: ProductionProof,
): Promise<{ path: string; bytes: number }> {
  const path = join(dir, completedArchiveName(production.id))
  if (existsSync(path)) return { path, bytes: (await stat(path)).size }
  const body = join(dir, production.fileName)
  const bodyBytes = Number(production.archiveBytes)
  const proofBytes = Buffer.from(JSON.stringify(proof, null, 2) + '\n', 'utf8')
  const partial = join(dir, `.${production.id}.complete-${process.pid}-${Date.now()}.tar`)
  const out = createWriteStream(partial, { flags: 'wx' })
  try {
    const write = async (chunk: Buffer) => {
      if (!out.write(chunk)) await once(out, 'drain')
    }
    for await (const chunk of createReadStream(body, { start: 0, end: bodyBytes - 1024 - 1 })) await write(chunk as Buffer)
    await write(tarHeader(PRODUCTION_PROOF_FILE, proofBytes.length, production.createdAt))
    await write(proofBytes)
    await write(Buffer.alloc((512 - (proofBytes.length % 512)) % 512))
    await write(Buffer.alloc(1024))
    out.end()
    await once(out, 'finish')
    await rename(partial, path)
  } catch (error) {
    out.destroy()
    await rm(partial, { force: true })
    throw error
  }
  return { path, bytes: (await stat(path)).size }
}

/** For each production's entry, the tree size of the first checkpoint that covers it (null: not yet). */
export async function proofTreeSizes(db: Queryable, entryIds: string[]): Promise<Map<string, number | null>> {
  if (entryIds.length === 0) return new Map()
  const { rows } = await db.query<{ id: string; tree_size: string | null }>(
    `SELECT x.id::text, (SELECT min(c.tree_size) FROM ledger_checkpoint c WHERE c.tree_size > l.leaf_index)::text AS tree_size
       FROM unnest($1::uuid[]) AS x(id) LEFT JOIN ledger_leaf l ON l.entry_id = x.id`,
    [entryIds],
  )
  return new Map(rows.map((r) => [r.id, r.tree_size === null ? null : Number(r.tree_size)]))
}
