import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { accessFrom, loggedPgRead } from '../audit/access-log.js'
import type { Role } from '../plugins/auth.js'
import { Problem, ProblemError } from '../plugins/errors.js'
import { entryLeafHash } from './entry.js'
import { CheckpointNotFoundError, checkpointAt, consistencyBetween, entryBody, entryWithProof, latestCheckpoint, NoCheckpointYetError, type EntryWithProof, type StoredCheckpoint } from './proofs.js'
import * as S from './schemas.js'
import type { LedgerSigningKey } from './signing-key.js'
import { verifyLedger } from './verify.js'

// Entries carry what the public posted and what the city did: auditors and records clerks read
// them; nobody writes through the API (appendEntries is the only way in).
const READERS: readonly Role[] = ['auditor', 'records_clerk']

const hex = (b: Buffer) => b.toString('hex')
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const checkpointBody = (cp: StoredCheckpoint) => ({
  treeSize: cp.treeSize,
  rootHash: hex(cp.rootHash),
  issuedAt: cp.issuedAt.toISOString(),
  keyName: cp.keyName,
  keyId: cp.keyId,
  signedNote: cp.signedNote,
})

export const ledgerRoutes: FastifyPluginAsyncZod<{ signingKey: LedgerSigningKey }> = async (app, { signingKey }) => {
  const db = app.db.pool
  const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem }

  app.get(
    '/ledger/public-key',
    {
      // A verification key is meant to be published: anyone may check a checkpoint with it.
      config: { access: 'public' },
      schema: { tags: ['ledger'], summary: 'The Ed25519 key that signs checkpoints, and every key that ever did', response: { 200: S.PublicKey } },
    },
    async () => {
      const { rows } = await db.query<{ key_id: string; key_name: string; public_key: string; first_used: Date }>(
        'SELECT key_id, key_name, public_key, first_used FROM ledger_signing_key ORDER BY first_used',
      )
      return {
        algorithm: 'Ed25519' as const,
        keyName: signingKey.name,
        keyId: signingKey.keyId,
        publicKeyPem: signingKey.publicKeyPem,
        verifierKey: signingKey.verifierKey,
        previousKeys: rows.map((r) => ({ keyName: r.key_name, keyId: r.key_id, publicKeyPem: r.public_key, firstUsed: r.first_used.toISOString() })),
      }
    },
  )

  app.get(
    '/ledger/checkpoints/latest',
    {
      config: { access: READERS },
      schema: { tags: ['ledger'], summary: 'The latest signed checkpoint', response: { 200: S.Checkpoint, ...errors } },
    },
    async () => {
      const cp = await latestCheckpoint(db)
      if (!cp) throw new NoCheckpointYetError()
      return checkpointBody(cp)
    },
  )

  app.get(
    '/ledger/checkpoints/:treeSize',
    {
      config: { access: READERS },
      schema: { tags: ['ledger'], summary: 'The checkpoint issued at a tree size', params: S.TreeSizeParams, response: { 200: S.Checkpoint, ...errors } },
    },
    async (request) => {
      const cp = await checkpointAt(db, request.params.treeSize)
      if (!cp) throw new CheckpointNotFoundError(request.params.treeSize)
      return checkpointBody(cp)
    },
  )

  app.get(
    '/ledger/entries/:id',
    {
      config: { access: READERS },
      schema: {
        tags: ['ledger'],
        summary: 'An entry, its leaf index and an inclusion proof to the latest (or a given) checkpoint',
        params: S.EntryParams,
        querystring: S.EntryQuery,
        response: { 200: S.EntryWithProof, 409: Problem, ...errors },
      },
    },
    async (request) => {
      // An entry's payload is what the public posted: a read of the comment it is about (its subject,
      // when that is a comment), logged in the read's transaction; the entry id is in the query.
      // A miss (404) or an entry outside the asked tree (409) is logged too, with no ids.
      const access = accessFrom(request, 'ledger.entry', { ...request.params, ...request.query }, app.clock())
      const outcome = await loggedPgRead<EntryWithProof | ProblemError>(db, access, async (client) => {
        let found: EntryWithProof
        try {
          found = await entryWithProof(client, request.params.id, request.query.treeSize)
        } catch (error) {
          if (error instanceof ProblemError && (error.status === 404 || error.status === 409)) return { value: error, recordIds: [] }
          throw error
        }
        const subject = found.entry.subject
        const comment = UUID.test(subject) ? (await client.query<{ id: string }>('SELECT id::text AS id FROM comment WHERE id = $1::uuid', [subject])).rows : []
        return { value: found, recordIds: comment.map((c) => c.id) }
      })
      if (outcome instanceof ProblemError) throw outcome
      const found = outcome
      const { entry } = found
      return {
        entry: entryBody(entry),
        leafIndex: found.leafIndex,
        sealedAt: found.sealedAt?.toISOString() ?? null,
        leafHash: found.leafIndex === null ? null : hex(entryLeafHash(entry)),
        inclusion: found.inclusion && { checkpoint: checkpointBody(found.inclusion.checkpoint), proof: found.inclusion.proof.map(hex) },
      }
    },
  )

  app.get(
    '/ledger/consistency',
    {
      config: { access: READERS },
      schema: {
        tags: ['ledger'],
        summary: 'A consistency proof between two checkpoints: the later tree extends the earlier one',
        querystring: S.ConsistencyQuery,
        response: { 200: S.ConsistencyProof, ...errors },
      },
    },
    async (request) => {
      const result = await consistencyBetween(db, request.query.from, request.query.to)
      return { from: checkpointBody(result.from), to: checkpointBody(result.to), proof: result.proof.map(hex) }
    },
  )

  app.post(
    '/ledger/verify',
    {
      config: { access: READERS },
      schema: {
        tags: ['ledger'],
        summary: 'Recompute every hash, node and checkpoint from the stored entries; report the first divergence',
        response: { 200: S.VerificationReport, ...errors },
      },
    },
    async () => verifyLedger(db),
  )
}
