import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'
import type pg from 'pg'
import { recordAccess, type AccessEntry } from '../audit/access-log.js'
import { pgSql } from '../db/sql.js'
import { inTransaction } from '../db/tx.js'
import { Prisma, type FoiaProduction, type PrismaClient } from '../generated/prisma/client.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { FOIA_PRODUCTION_FORMAT, fileDigest, proveLeaves, publicKeysText, type BundleEntryLine } from '../ledger/bundle.js'
import { disclose } from '../ledger/commitment.js'
import { ENTRY_COLUMNS, entryOfRow, envelopeOf, type EntryRow } from '../ledger/entry.js'
import { latestCheckpoint } from '../ledger/proofs.js'
import type { Queryable } from '../ledger/tree-store.js'
import { reconcileComments, type CommentCheck, type PayloadOpenings } from '../records/reconcile.js'
import { ConflictError, NotFoundError } from '../plugins/errors.js'
import {
  CSV_COLUMNS,
  csvLine,
  csvValues,
  HTML_FOOTER,
  HTML_NOT_PRODUCED_CLOSE,
  HTML_NOT_PRODUCED_OPEN,
  htmlHeader,
  htmlNotProducedRow,
  htmlRecord,
  PRODUCTION_FILES,
  type NotProducedLine,
  type ProductionManifest,
  type RecordEntry,
  type RecordLine,
  type RedactionLine,
} from './production-files.js'
import type { ProductionEntryPayload } from './production-proof.js'
import { applyRedactions, discloseRedacted, type AppliedRedaction, type RedactedSpan } from './redaction.js'
import { writeTar } from './tar.js'

export interface ProductionDeps {
  pool: pg.Pool
  prisma: PrismaClient
  clock: Clock
  productionsDir: string
  /** Rows fetched from the cursor at a time. */
  batchSize?: number
}

export class ProductionNotSealedError extends ConflictError {
  constructor(unsealed: number) {
    super(
      `${unsealed} ledger entr${unsealed === 1 ? 'y' : 'ies'} of the attached records ${unsealed === 1 ? 'is' : 'are'} not sealed under a signed checkpoint yet; retry in a few seconds.`,
      'foia-production-not-sealed',
    )
  }
}

/** Entries of the request's records that the latest checkpoint does not cover yet. */
export async function unsealedEntries(db: Queryable, requestId: string): Promise<number> {
  // The records' own entries, and the entries of the disposals that destroyed any of them (a
  // production proves those for each disposed record).
  const { rows } = await db.query<{ n: string }>(
    `WITH covered AS (SELECT coalesce((SELECT max(tree_size) FROM ledger_checkpoint), 0) AS size)
     SELECT ((SELECT count(*)
                FROM foia_request_record r JOIN ledger_entry e ON e.subject = r.comment_id::text
                LEFT JOIN ledger_leaf l ON l.entry_id = e.id
               WHERE r.request_id = $1 AND r.detached_at IS NULL AND (l.leaf_index IS NULL OR l.leaf_index >= (SELECT size FROM covered)))
           + (SELECT count(*)
                FROM ledger_entry e LEFT JOIN ledger_leaf l ON l.entry_id = e.id
               WHERE e.subject IN (SELECT DISTINCT c.disposal_id::text FROM foia_request_record r JOIN comment c ON c.id = r.comment_id
                                    WHERE r.request_id = $1 AND r.detached_at IS NULL AND c.disposal_id IS NOT NULL)
                 AND (l.leaf_index IS NULL OR l.leaf_index >= (SELECT size FROM covered))))::text AS n`,
    [requestId],
  )
  return Number(rows[0]!.n)
}

/**
 * Waits (a bounded time) until every entry of the request's records is covered by a signed
 * checkpoint, asking this instance's sealer for a pass when it has one. Returns how many are still
 * not covered (0 when ready).
 */
export async function waitUntilSealed(db: Queryable, requestId: string, options: { timeoutMs: number; sealNow?: (() => Promise<unknown>) | undefined; pollMs?: number }): Promise<number> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const unsealed = await unsealedEntries(db, requestId)
    if (unsealed === 0 || Date.now() >= deadline) return unsealed
    await options.sealNow?.()
    if ((await unsealedEntries(db, requestId)) === 0) return 0
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250))
  }
}

/** A file written line by line with backpressure, hashed as it is written. */
class Spool {
  private readonly out: WriteStream
  private readonly hash = createHash('sha256')
  bytes = 0
  lines = 0

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: 'wx' })
  }

  async write(text: string): Promise<void> {
    const chunk = Buffer.from(text, 'utf8')
    this.hash.update(chunk)
    this.bytes += chunk.length
    if (!this.out.write(chunk)) await once(this.out, 'drain')
  }

  async close(): Promise<{ sha256: string; bytes: number }> {
    this.out.end()
    await once(this.out, 'finish')
    return { sha256: this.hash.digest('hex'), bytes: this.bytes }
  }

  destroy(): void {
    this.out.destroy()
  }
}

interface CursorRow {
  comment_id: string
  platform: string
  account: string
  external_id: string
  post_id: string | null
  status: string
  moderation_status: string
  first_platform_at: Date
  last_platform_at: Date
  entry_id: string
  kind: string
  actor: string
  recorded_at: Date
  payload: string
  format: number
  payload_sha256: string | null
  payload_commitment: string | null
  payload_salt: Buffer | null
  leaf_index: string
}

const README = (requestId: string, productionId: string, treeSize: number) => `Townsquare FOIA production ${productionId}
for request ${requestId}

records.jsonl     every record (a comment and every ledger entry about it), one JSON object a line
records.csv       the same, one row per ledger entry (RFC 4180; cells a spreadsheet would run as a
                  formula start with an apostrophe)
records.html      the same, to read in a browser
redactions.jsonl  each redaction: where its marker is, the exemption cited (5 ILCS 140/7) and a
                  SHA-256 commitment to the withheld text
not-produced.jsonl  each attached record this production does not give, and why: disposed under the
                  Local Records Act (with its disposal's ledger entries, proven in entries.jsonl)
                  or withheld in full (with the exemption cited, 5 ILCS 140/7)
entries.jsonl     each ledger entry's envelope, leaf index and inclusion proof to the checkpoint
checkpoint.txt    the signed checkpoint (tree size ${treeSize}) every proof targets
public-keys.txt   the ledger's Ed25519 verification key(s), signed-note format
manifest.json     the SHA-256 of every file; its own SHA-256 is recorded in the city's ledger
production-proof.json  (the archive's last file, added once the ledger sealed this production)
                  the production's own ledger entry, which commits to manifest.json and to every
                  byte of the archive before this file, with its inclusion proof to a checkpoint
                  signed with the city's key: with the key alone, it proves nothing is missing

Verify offline (Townsquare's verifier, or your own from its docs/ledger.md and docs/foia.md):
  npm run verify -- <this archive> --key '<the city's published verifier key>'
`

/**
 * Produces the attached records of a request as a tar archive in the productions directory,
 * records the production in the ledger (kind foia.production, payload with the manifest's SHA-256)
 * and returns it. Everything is read in one snapshot through a cursor and written to spool files
 * as it streams, so memory does not grow with the number of records.
 */
export async function createProduction(
  deps: ProductionDeps,
  requestId: string,
  actor: string,
  access?: Omit<AccessEntry, 'recordIds'>,
): Promise<FoiaProduction> {
  const request = await deps.prisma.foiaRequest.findUnique({ where: { id: requestId }, select: { id: true } })
  if (!request) throw new NotFoundError(`No FOIA request ${requestId}.`)
  // Suggestions on a record detached since do not hold the production up: it is not produced.
  const [{ pending } = { pending: 0 }] = await deps.prisma.$queryRaw<Array<{ pending: number }>>`
    SELECT count(*)::int AS pending FROM foia_redaction d
      JOIN foia_request_record r ON r.request_id = d.request_id AND r.comment_id = d.comment_id AND r.detached_at IS NULL
     WHERE d.request_id = ${requestId}::uuid AND d.status = 'suggested'`
  if (pending > 0) {
    throw new ConflictError(`${pending} suggested redaction(s) are not reviewed yet: accept or reject each before producing.`, 'foia-redactions-pending')
  }
  if ((await deps.prisma.foiaRequestRecord.count({ where: { requestId, detachedAt: null } })) === 0) {
    throw new ConflictError('No records are attached to this request: attach records before producing.', 'foia-no-records')
  }

  const productionId = randomUUID()
  const createdAt = deps.clock()
  await mkdir(deps.productionsDir, { recursive: true })
  const work = await mkdtemp(join(deps.productionsDir, `.${productionId}-`))
  const archivePath = join(deps.productionsDir, `${productionId}.tar`)
  let archiveWritten = false
  try {
    const streamed = await streamRecords(deps, requestId, productionId, work)
    await writeFile(join(work, PRODUCTION_FILES.keys), streamed.publicKeys)
    await writeFile(join(work, PRODUCTION_FILES.checkpoint), streamed.signedNote)
    await writeFile(join(work, PRODUCTION_FILES.readme), README(requestId, productionId, streamed.treeSize))
    const files = []
    for (const name of [PRODUCTION_FILES.readme, PRODUCTION_FILES.keys, PRODUCTION_FILES.checkpoint] as const) {
      files.push({ path: name, ...(await fileDigest(join(work, name))) })
    }
    files.push(...streamed.files)
    const manifest: ProductionManifest = {
      format: FOIA_PRODUCTION_FORMAT,
      createdAt: createdAt.toISOString(),
      origin: streamed.origin,
      treeSize: streamed.treeSize,
      entries: streamed.entries,
      requestId,
      productionId,
      records: streamed.records,
      redactions: streamed.redactions,
      disposed: streamed.disposed,
      withheld: streamed.withheld,
      files,
    }
    const manifestText = JSON.stringify(manifest, null, 2) + '\n'
    await writeFile(join(work, PRODUCTION_FILES.manifest), manifestText)
    const manifestSha256 = createHash('sha256').update(manifestText).digest('hex')

    const archiveHash = createHash('sha256')
    const members = [{ path: PRODUCTION_FILES.manifest, bytes: Buffer.byteLength(manifestText) }, ...files]
    const partial = join(work, 'archive.tar')
    const archiveBytes = await writeTar(createWriteStream(partial, { flags: 'wx' }), members.map((f) => ({ name: f.path, path: join(work, f.path), size: f.bytes })), createdAt, archiveHash)
    const archive = { sha256: archiveHash.digest('hex'), bytes: archiveBytes }
    await rename(partial, archivePath)
    archiveWritten = true

    return await inTransaction(deps.prisma, async (tx) => {
      const [entry] = await appendEntries(
        tx,
        [
          {
            kind: 'foia.production',
            subject: requestId,
            actor,
            payload: {
              productionId,
              requestId,
              format: 'tar',
              manifestSha256,
              archiveSha256: archive.sha256,
              archiveBytes: archive.bytes,
              treeSize: streamed.treeSize,
              records: streamed.records,
              entries: streamed.entries,
              redactions: streamed.redactions,
              disposed: streamed.disposed,
              withheld: streamed.withheld,
            } satisfies ProductionEntryPayload,
          },
        ],
      )
      // The records leave the city's hands with this archive: logged with the production, exactly.
      if (access) await recordAccess(tx, { ...access, query: { ...(access.query as object), productionId }, recordIds: streamed.producedIds.asQuery() })
      return tx.foiaProduction.create({
        data: {
          id: productionId,
          requestId,
          format: 'tar',
          fileName: `${productionId}.tar`,
          archiveBytes: BigInt(archive.bytes),
          archiveSha256: archive.sha256,
          manifestSha256,
          treeSize: BigInt(streamed.treeSize),
          records: streamed.records,
          entries: streamed.entries,
          redactions: streamed.redactions,
          ledgerEntryId: entry!.id,
          createdAt,
          createdBy: actor,
        },
      })
    })
  } catch (error) {
    // Nothing was recorded: the archive must not outlive its failed production.
    if (archiveWritten) await rm(archivePath, { force: true })
    throw error
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

interface Streamed {
  treeSize: number
  origin: string
  signedNote: string
  publicKeys: string
  records: number
  entries: number
  redactions: number
  disposed: number
  withheld: number
  files: Array<{ path: string; sha256: string; bytes: number }>
  /** The ids of the records produced, 16 bytes each, in production order (for the access log). */
  producedIds: PackedUuids
}

/**
 * Uuids packed 16 bytes apiece: the access log needs every record a production gives out, and a
 * list of strings would make memory grow with the record count many times faster.
 */
class PackedUuids {
  private buffer = Buffer.alloc(16 * 1024)
  count = 0

  push(uuid: string): void {
    if ((this.count + 1) * 16 > this.buffer.length) {
      const bigger = Buffer.alloc(this.buffer.length * 2)
      this.buffer.copy(bigger)
      this.buffer = bigger
    }
    this.buffer.write(uuid.replace(/-/g, ''), this.count * 16, 'hex')
    this.count++
  }

  /** A query yielding the ids in order, for recordAccess. */
  asQuery(): Prisma.Sql {
    const bytes = this.buffer.subarray(0, this.count * 16)
    return Prisma.sql`SELECT encode(substring(${bytes}::bytea FROM i * 16 + 1 FOR 16), 'hex')::uuid FROM generate_series(0, ${this.count}::int - 1) AS i ORDER BY i`
  }
}

/**
 * One pass over a cursor, in a REPEATABLE READ snapshot: the records attached to the request, each
 * with its ledger entries in leaf order up to the latest checkpoint, written to the five streamed
 * files at once. Proofs and redactions are fetched a batch at a time.
 */
async function streamRecords(deps: ProductionDeps, requestId: string, productionId: string, dir: string): Promise<Streamed> {
  const batchSize = deps.batchSize ?? 2000
  const client = await deps.pool.connect()
  const spools = {
    entries: new Spool(join(dir, PRODUCTION_FILES.entries)),
    records: new Spool(join(dir, PRODUCTION_FILES.records)),
    csv: new Spool(join(dir, PRODUCTION_FILES.csv)),
    html: new Spool(join(dir, PRODUCTION_FILES.html)),
    redactions: new Spool(join(dir, PRODUCTION_FILES.redactions)),
    notProduced: new Spool(join(dir, PRODUCTION_FILES.notProduced)),
  }
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const checkpoint = await latestCheckpoint(client)
    const unsealed = await unsealedEntries(client, requestId)
    if (!checkpoint || unsealed > 0) throw new ProductionNotSealedError(Math.max(unsealed, 1))
    const publicKeys = await publicKeysText(client)
    const treeSize = checkpoint.treeSize

    await spools.csv.write(csvLine(CSV_COLUMNS))
    await spools.html.write(
      htmlHeader(`FOIA production ${productionId}`, `Request ${requestId}. Records proven against the signed ledger checkpoint of tree size ${treeSize}. Redacted text is replaced by [REDACTED <exemption>].`),
    )
    await client.query(
      `DECLARE production NO SCROLL CURSOR FOR
       SELECT c.id::text AS comment_id, c.platform, c.account, c.external_id, c.post_id, c.status, c.moderation_status,
              c.first_platform_at, c.last_platform_at, e.id::text AS entry_id, e.kind, e.actor, e.recorded_at, e.payload,
              e.format, e.payload_sha256, e.payload_commitment, e.payload_salt, l.leaf_index::text
         FROM foia_request_record r
         JOIN comment c ON c.id = r.comment_id
         JOIN ledger_entry e ON e.subject = r.comment_id::text
         JOIN ledger_leaf l ON l.entry_id = e.id
        WHERE r.request_id = $1 AND r.detached_at IS NULL AND l.leaf_index < $2
          -- A record disposed of under the Local Records Act has no content left to produce, and
          -- one withheld in full is not produced: both are listed in not-produced.jsonl instead.
          AND c.disposed_at IS NULL AND NOT ${WITHHELD_SQL}
        ORDER BY r.comment_id, l.leaf_index`,
      [requestId, treeSize],
    )

    let current = null as RecordLine | null
    const producedIds = new PackedUuids()
    let records = 0
    let entries = 0
    let redactions = 0
    const checks = new Map<string, CommentCheck>()
    const flush = async () => {
      if (!current) return
      checks.delete(current.commentId)
      await spools.records.write(JSON.stringify(current) + '\n')
      producedIds.push(current.commentId)
      await spools.html.write(htmlRecord(current))
      records++
      current = null
    }
    for (;;) {
      const { rows } = await client.query<CursorRow>(`FETCH ${batchSize} FROM production`)
      if (rows.length === 0) break
      const indexes = rows.map((r) => Number(r.leaf_index))
      const proofs = await proveLeaves(client, indexes, treeSize)
      const applied = await acceptedRedactions(client, requestId, rows.map((r) => r.entry_id))
      // Each record's current state checked against the ledger, in the production's snapshot.
      const unchecked = [...new Set(rows.map((r) => r.comment_id))].filter((id) => !checks.has(id))
      // The reconciliation opens each format 2 payload against its commitment; the disclosures below
      // reuse the parsed payload and field keys it derived (same snapshot, same stored text and salt).
      const openings: PayloadOpenings = new Map()
      for (const [id, check] of await reconcileComments(pgSql(client), unchecked, openings)) checks.set(id, check)
      for (const [i, row] of rows.entries()) {
        if (current?.commentId !== row.comment_id) {
          await flush()
          const check = checks.get(row.comment_id)
          const divergentFields = check ? [...new Set(check.divergences.map((d) => d.field))] : ['comment']
          current = {
            commentId: row.comment_id,
            platform: row.platform,
            account: row.account,
            externalId: row.external_id,
            postId: row.post_id,
            status: row.status,
            moderationStatus: row.moderation_status,
            firstPlatformAt: row.first_platform_at.toISOString(),
            lastPlatformAt: row.last_platform_at.toISOString(),
            ledgerVerified: divergentFields.length === 0,
            divergentFields,
            entries: [],
          }
        }
        const opened = row.format === 2 ? openings.get(row.entry_id) : undefined
        const reuse = opened !== undefined && opened.payload === row.payload
        const original = reuse ? opened.parsed : (JSON.parse(row.payload) as unknown)
        const mine = applied.get(row.entry_id) ?? []
        const envelope = envelopeOf({ id: row.entry_id, kind: row.kind, subject: row.comment_id, actor: row.actor, recordedAt: row.recorded_at, format: row.format, payloadSha256: row.payload_sha256, payloadCommitment: row.payload_commitment })
        let line: BundleEntryLine & { redacted: boolean }
        let payload: unknown
        let spans: RedactedSpan[]
        if (row.format === 2) {
          // Format 2: the shown payload with its disclosure (field and segment keys, digests of what
          // is withheld), never the salt: every shown character is proven, nothing withheld can be
          // confirmed by guessing (docs/foia.md, "What a redacted record proves").
          const disclosed = discloseRedacted(original, row.payload_salt!, mine, reuse ? opened.keys : undefined)
          payload = disclosed.payload
          spans = disclosed.spans
          line = { leafIndex: indexes[i]!, entry: envelope, payload, disclosure: disclosed.disclosure, redacted: mine.length > 0, inclusionProof: proofs[i]! }
        } else {
          ;({ payload, spans } = mine.length > 0 ? applyRedactions(original, mine) : { payload: original, spans: [] })
          // A redacted format 1 entry's original payload never leaves; its hash in the envelope binds it
          // (and, unsalted, could confirm a guess of the withheld text: docs/ledger.md, "Format 1").
          line = { leafIndex: indexes[i]!, entry: envelope, payload: spans.length > 0 ? null : original, redacted: spans.length > 0, inclusionProof: proofs[i]! }
        }
        const redacted = line.redacted
        const entry: RecordEntry = { id: row.entry_id, kind: row.kind, actor: row.actor, recordedAt: row.recorded_at.toISOString(), leafIndex: indexes[i]!, redacted, payload }
        await spools.entries.write(JSON.stringify(line) + '\n')
        await spools.csv.write(csvLine(csvValues(current!, entry)))
        for (const span of spans) {
          const out: RedactionLine = { id: span.id, commentId: row.comment_id, entryId: row.entry_id, path: span.path, category: span.category, citation: span.citation, redactedStart: span.redactedStart, replacement: span.replacement, commitment: span.commitment }
          await spools.redactions.write(JSON.stringify(out) + '\n')
          redactions++
        }
        current!.entries.push(entry)
        entries++
      }
    }
    await flush()
    await client.query('CLOSE production')
    const absent = await writeNotProduced(client, requestId, treeSize, spools, batchSize)
    entries += absent.entries
    await spools.html.write(HTML_FOOTER)
    await client.query('COMMIT')

    const files = []
    for (const [key, spool] of Object.entries(spools) as Array<[keyof typeof spools, Spool]>) {
      files.push({ path: PRODUCTION_FILES[key], ...(await spool.close()) })
    }
    return { treeSize, origin: checkpoint.keyName, signedNote: checkpoint.signedNote, publicKeys, records, entries, redactions, disposed: absent.disposed, withheld: absent.withheld, files, producedIds }
  } catch (error) {
    for (const spool of Object.values(spools)) spool.destroy()
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/** The latest withholding decision of attached record `r` (alias) withholds it. */
const WITHHELD_SQL = `coalesce((SELECT w.withheld FROM foia_withholding w WHERE w.request_id = r.request_id AND w.comment_id = r.comment_id ORDER BY w.seq DESC LIMIT 1), false)`

/**
 * not-produced.jsonl: every attached record the production does not give, by comment id, a batch
 * at a time. A disposed record names its disposal's listing, approval and execution entries; each
 * of those entries is proven once in entries.jsonl, after the records' entries, in leaf order. A
 * withheld record gives its exemption and note, nothing of its content.
 */
async function writeNotProduced(
  client: pg.PoolClient,
  requestId: string,
  treeSize: number,
  spools: { entries: Spool; notProduced: Spool; html: Spool },
  batchSize: number,
): Promise<{ disposed: number; withheld: number; entries: number }> {
  let disposed = 0
  let withheld = 0
  const disposalEntries = new Set<string>()
  let opened = false
  for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
    const { rows } = await client.query<{
      comment_id: string; disposed_at: Date | null; disposal_id: string | null; listed_entry_id: string | null; approval_entry_id: string | null
      execution_entry_id: string | null; approval: string | null; withheld: boolean; citation: string | null; note: string | null
    }>(
      `SELECT r.comment_id::text, c.disposed_at, c.disposal_id::text, d.listed_entry_id::text, d.approval_entry_id::text, d.execution_entry_id::text,
              (SELECT a.payload FROM ledger_entry a WHERE a.id = d.approval_entry_id) AS approval,
              ${WITHHELD_SQL} AS withheld, w.citation, w.note
         FROM foia_request_record r JOIN comment c ON c.id = r.comment_id
         LEFT JOIN disposal d ON d.id = c.disposal_id
         LEFT JOIN LATERAL (SELECT citation, note FROM foia_withholding w WHERE w.request_id = r.request_id AND w.comment_id = r.comment_id ORDER BY w.seq DESC LIMIT 1) w ON true
        WHERE r.request_id = $1 AND r.detached_at IS NULL AND r.comment_id > $2::uuid AND (c.disposed_at IS NOT NULL OR ${WITHHELD_SQL})
        ORDER BY r.comment_id LIMIT $3`,
      [requestId, after, batchSize],
    )
    if (rows.length === 0) break
    if (!opened) {
      await spools.html.write(HTML_NOT_PRODUCED_OPEN)
      opened = true
    }
    for (const row of rows) {
      let line: NotProducedLine
      if (row.disposed_at) {
        if (!row.disposal_id || !row.listed_entry_id || !row.approval_entry_id || !row.execution_entry_id || !row.approval) {
          throw new Error(`comment ${row.comment_id} is disposed but its disposal's ledger entries are not all recorded`)
        }
        const approval = JSON.parse(row.approval) as { approvalReference: string; approvedOn: string }
        line = {
          commentId: row.comment_id,
          status: 'disposed',
          disposalId: row.disposal_id,
          disposedAt: row.disposed_at.toISOString(),
          listedEntryId: row.listed_entry_id,
          approvalEntryId: row.approval_entry_id,
          disposalEntryId: row.execution_entry_id,
          approvalReference: approval.approvalReference,
          approvedOn: approval.approvedOn,
        }
        for (const id of [row.listed_entry_id, row.approval_entry_id, row.execution_entry_id]) disposalEntries.add(id)
        disposed++
      } else {
        line = { commentId: row.comment_id, status: 'withheld', citation: row.citation!, note: row.note }
        withheld++
      }
      await spools.notProduced.write(JSON.stringify(line) + '\n')
      await spools.html.write(htmlNotProducedRow(line))
    }
    after = rows[rows.length - 1]!.comment_id
    if (rows.length < batchSize) break
  }
  if (opened) await spools.html.write(HTML_NOT_PRODUCED_CLOSE)

  // The disposals' entries, proven against the same checkpoint as the records.
  const ids = [...disposalEntries]
  const { rows } = await client.query<EntryRow & { leaf_index: string | null }>(
    `SELECT ${ENTRY_COLUMNS}, l.leaf_index::text
       FROM ledger_entry e LEFT JOIN ledger_leaf l ON l.entry_id = e.id WHERE e.id = ANY($1::uuid[]) ORDER BY l.leaf_index`,
    [ids],
  )
  const unsealed = rows.filter((r) => r.leaf_index === null || Number(r.leaf_index) >= treeSize).length
  if (unsealed > 0 || rows.length !== ids.length) throw new ProductionNotSealedError(Math.max(unsealed, 1))
  const indexes = rows.map((r) => Number(r.leaf_index))
  const proofs = await proveLeaves(client, indexes, treeSize)
  for (const [i, row] of rows.entries()) {
    const entry = envelopeOf(entryOfRow(row))
    const payload = row.payload === null ? null : (JSON.parse(row.payload) as unknown)
    // A disposal's entries hold ids, dates and references; a format 2 one is disclosed by field keys, never its salt.
    const disclosure = entry.v === 2 && payload !== null ? disclose(payload, row.payload_salt!).disclosure : undefined
    const line: BundleEntryLine & { redacted: boolean } = {
      leafIndex: indexes[i]!,
      entry,
      payload,
      ...(disclosure ? { disclosure } : {}),
      redacted: false,
      inclusionProof: proofs[i]!,
    }
    await spools.entries.write(JSON.stringify(line) + '\n')
  }
  return { disposed, withheld, entries: rows.length }
}

/** The accepted redactions of the given entries, by entry. */
async function acceptedRedactions(db: Queryable, requestId: string, entryIds: string[]): Promise<Map<string, AppliedRedaction[]>> {
  const { rows } = await db.query<{ id: string; entry_id: string; path: string; start: number; end: number; citation: string; category: string; nonce: Buffer }>(
    `SELECT id::text, entry_id::text, path, start, "end", citation, category, nonce FROM foia_redaction
      WHERE request_id = $1 AND status = 'accepted' AND entry_id = ANY($2::uuid[])`,
    [requestId, entryIds],
  )
  const byEntry = new Map<string, AppliedRedaction[]>()
  for (const r of rows) byEntry.set(r.entry_id, [...(byEntry.get(r.entry_id) ?? []), { id: r.id, path: r.path, start: r.start, end: r.end, citation: r.citation, category: r.category, nonce: r.nonce }])
  return byEntry
}

/**
 * A production as the API shows it. `proofTreeSize` is the first checkpoint covering its
 * foia.production entry (null while none does): until then the production is `sealing` and its
 * archive is not served, since it could not prove its own completeness (docs/foia.md).
 */
export function productionBody(p: FoiaProduction, proofTreeSize: number | null) {
  return {
    id: p.id,
    requestId: p.requestId,
    format: 'tar' as const,
    status: proofTreeSize === null ? ('sealing' as const) : ('complete' as const),
    fileName: p.fileName,
    archiveBytes: Number(p.archiveBytes),
    archiveSha256: p.archiveSha256,
    manifestSha256: p.manifestSha256,
    treeSize: Number(p.treeSize),
    proofTreeSize,
    records: p.records,
    entries: p.entries,
    redactions: p.redactions,
    ledgerEntryId: p.ledgerEntryId,
    createdAt: p.createdAt.toISOString(),
    createdBy: p.createdBy,
    downloadUrl: `/v1/foia/requests/${p.requestId}/productions/${p.id}/download`,
  }
}
