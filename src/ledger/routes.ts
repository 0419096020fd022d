import rateLimit from '@fastify/rate-limit'
import { createPublicKey } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { accessFrom, loggedPgRead } from '../audit/access-log.js'
import type { Role } from '../plugins/auth.js'
import { Problem, ProblemError } from '../plugins/errors.js'
import { publicKeyVerifierString } from './checkpoint.js'
import { entryLeafHash } from './entry.js'
import {
  CheckpointNotFoundError,
  checkpointAt,
  consistencyBetween,
  entryBody,
  entryWithProof,
  latestCheckpoint,
  leafProof,
  listCheckpoints,
  NoCheckpointYetError,
  signingKeys,
  type EntryWithProof,
  type StoredCheckpoint,
} from './proofs.js'
import * as S from './schemas.js'
import type { LedgerSigningKey } from './signing-key.js'
import { parseTilePath, readTile } from './tiles.js'
import { verifyLedger } from './verify.js'

// Entries carry what the public posted and what the city did: auditors and records clerks read
// them; nobody writes through the API (appendEntries is the only way in).
const READERS: readonly Role[] = ['auditor', 'records_clerk']

// Proofs are public, content is not (DESIGN.md, principle 8): checkpoints, consistency and
// inclusion proofs, keys and tiles need no token and reveal no entry's content (docs/ledger.md,
// "What is public"). Rate limited per client address, like the other public routes.
const PUBLIC_PROOFS = { access: 'public' as const, rateLimit: { max: 600, timeWindow: '1 minute' } }
// An auditor reads every tile of the log once: a million entries are about 4,000 tiles.
const PUBLIC_TILES = { access: 'public' as const, rateLimit: { max: 3000, timeWindow: '1 minute' } }
const IMMUTABLE = 'public, max-age=31536000, immutable'
const NOT_CACHED = 'no-cache'

const hex = (b: Buffer) => b.toString('hex')
const publicKeyVerifier = (name: string, pem: string) => publicKeyVerifierString(name, createPublicKey(pem))
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
  const publicErrors = { 400: Problem, 404: Problem, 429: Problem }
  await app.register(rateLimit, { global: false })

  app.get(
    '/ledger/public-key',
    {
      // A verification key is meant to be published: anyone may check a checkpoint with it.
      config: PUBLIC_PROOFS,
      schema: { tags: ['ledger'], summary: 'The Ed25519 key that signs checkpoints, and the keys that did before it', description: 'Public, rate limited. The key a verifier needs to check checkpoint signatures without trusting the server, with the keys used before a rotation (docs/ledger.md, "Key rotation").', response: { 200: S.PublicKey, 429: Problem } },
    },
    async () => {
      const keys = await signingKeys(db)
      return {
        algorithm: 'Ed25519' as const,
        keyName: signingKey.name,
        keyId: signingKey.keyId,
        publicKeyPem: signingKey.publicKeyPem,
        verifierKey: signingKey.verifierKey,
        // The keys that signed before this one; never the current key (GET /v1/ledger/keys lists all).
        previousKeys: keys
          .filter((k) => k.keyId !== signingKey.keyId)
          .map((k) => ({ keyName: k.keyName, keyId: k.keyId, publicKeyPem: k.publicKeyPem, firstUsed: k.firstUsed.toISOString() })),
      }
    },
  )

  app.get(
    '/ledger/keys',
    {
      config: PUBLIC_PROOFS,
      schema: { tags: ['ledger'], summary: 'Every key that ever signed a checkpoint: its validity period and the key that endorsed it', description: 'Public, rate limited. The whole key history: each key\'s first and last checkpoint and the previous key\'s endorsement, so a verifier can follow a rotation.', response: { 200: S.SigningKeys, 429: Problem } },
    },
    async () => {
      const keys = await signingKeys(db)
      return {
        currentKeyId: signingKey.keyId,
        keys: keys.map((k) => ({
          keyName: k.keyName,
          keyId: k.keyId,
          verifierKey: publicKeyVerifier(k.keyName, k.publicKeyPem),
          publicKeyPem: k.publicKeyPem,
          current: k.keyId === signingKey.keyId,
          firstUsed: k.firstUsed.toISOString(),
          lastUsed: k.lastUsed?.toISOString() ?? null,
          firstCheckpoint: k.firstCheckpoint && { treeSize: k.firstCheckpoint.treeSize, issuedAt: k.firstCheckpoint.issuedAt.toISOString() },
          endorsedBy: k.endorsedBy,
        })),
      }
    },
  )

  app.get(
    '/ledger/checkpoints',
    {
      config: PUBLIC_PROOFS,
      schema: { tags: ['ledger'], summary: 'Signed checkpoints, newest first', description: 'Public, rate limited. Signed checkpoints (tree size, root hash, time, signature), newest first, in pages (nextCursor).', querystring: S.CheckpointListQuery, response: { 200: S.CheckpointList, ...publicErrors } },
    },
    async (request) => {
      const cursor = request.query.cursor === undefined ? undefined : S.decodeCheckpointCursor(request.query.cursor)
      const page = await listCheckpoints(db, { limit: request.query.limit, ...(cursor ? { cursor } : {}) })
      return { items: page.checkpoints.map(checkpointBody), nextCursor: page.next && S.encodeCheckpointCursor(page.next) }
    },
  )

  app.get(
    '/ledger/proofs/inclusion',
    {
      config: PUBLIC_PROOFS,
      schema: {
        tags: ['ledger'],
        summary: 'An inclusion proof of one leaf, by entry id or leaf index, to the latest (or a given) checkpoint; no entry content',
        description: 'Public, rate limited. RFC 9162 audit path proving that a leaf is in the tree of the checkpoint; it carries hashes only, never the entry\'s payload.',
        querystring: S.InclusionQuery,
        response: { 200: S.InclusionProof, 409: Problem, ...publicErrors },
      },
    },
    async (request) => {
      const { entryId, leafIndex, treeSize } = request.query
      const found = await leafProof(db, entryId !== undefined ? { entryId } : { leafIndex: leafIndex! }, treeSize)
      return {
        leafIndex: found.leafIndex,
        leafHash: hex(found.leafHash),
        treeSize: found.checkpoint.treeSize,
        checkpoint: checkpointBody(found.checkpoint),
        proof: found.proof.map(hex),
      }
    },
  )

  app.get(
    '/ledger/tlog/checkpoint',
    {
      config: PUBLIC_TILES,
      schema: {
        tags: ['ledger'],
        summary: 'tlog-tiles: the latest checkpoint, as a signed note (text/plain)',
        description: 'Public, rate limited. The latest checkpoint in the C2SP signed-note format, for tlog-tiles clients and witnesses.',
        response: { 200: z.string().describe('The C2SP signed note'), ...publicErrors },
      },
    },
    async (_request, reply) => {
      const cp = await latestCheckpoint(db)
      if (!cp) throw new NoCheckpointYetError()
      return reply.header('cache-control', NOT_CACHED).type('text/plain; charset=utf-8').send(cp.signedNote)
    },
  )

  app.get(
    '/ledger/tlog/tile/*',
    {
      config: PUBLIC_TILES,
      schema: {
        tags: ['ledger'],
        summary: 'tlog-tiles: tile/<L>/<N>[.p/<W>], the hashes of a tile (height 8), from the latest checkpoint\'s tree',
        description: 'Public, rate limited. C2SP tlog-tiles: full or partial tiles of hashes, immutable once full, so clients and caches can mirror the tree.',
        params: z.object({ '*': z.string().describe('<L>/<N>[.p/<W>], N in 3-digit groups prefixed with x but the last (c2sp.org/tlog-tiles)') }),
        response: { 200: z.any().describe('32-byte hashes, concatenated (application/octet-stream)'), ...publicErrors },
      },
    },
    async (request, reply) => {
      const ref = parseTilePath(request.params['*'])
      const cp = await latestCheckpoint(db)
      const tile = await readTile(db, ref, cp?.treeSize ?? 0)
      return reply
        .header('cache-control', ref.width === null ? IMMUTABLE : NOT_CACHED)
        .type('application/octet-stream')
        .send(tile)
    },
  )

  app.get(
    '/ledger/checkpoints/latest',
    {
      config: PUBLIC_PROOFS,
      schema: { tags: ['ledger'], summary: 'The latest signed checkpoint', description: 'Public, rate limited. The newest checkpoint; the sealer signs one at least every LEDGER_MAX_CHECKPOINT_AGE even when nothing was appended, so a stale time shows a frozen log.', response: { 200: S.Checkpoint, ...publicErrors } },
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
      config: PUBLIC_PROOFS,
      schema: { tags: ['ledger'], summary: 'The checkpoint issued at a tree size (the latest of that size)', description: 'Public, rate limited. 404 when no checkpoint was issued at that size.', params: S.TreeSizeParams, response: { 200: S.Checkpoint, ...publicErrors } },
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
        description: 'The entry (kind, subject, actor, time, payload) with its leaf index and RFC 9162 audit path, to check it against a signed checkpoint. Reading an entry about a comment is recorded in the access log.',
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
      config: PUBLIC_PROOFS,
      schema: {
        tags: ['ledger'],
        summary: 'A consistency proof between two checkpoints: the later tree extends the earlier one',
        description: 'Public, rate limited. RFC 9162 consistency proof between two tree sizes: proves that the later tree only appended to the earlier one.',
        querystring: S.ConsistencyQuery,
        response: { 200: S.ConsistencyProof, ...publicErrors },
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
        description: 'Recomputes the whole ledger from the stored entries and compares it with the stored tree and signed checkpoints; reports the first divergence. Takes time on a large ledger.',
        response: { 200: S.VerificationReport, ...errors },
      },
    },
    // Trusts the configured key and follows the rotation endorsements from it.
    async () => verifyLedger(db, { trustedKeyIds: [signingKey.keyId] }),
  )
}
