import { createHash, type KeyObject } from 'node:crypto'
import { createReadStream, existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { BUNDLE_FILES, FOIA_PRODUCTION_FORMAT, FOIA_PRODUCTION_FORMAT_1, verifyLedgerBundle, type BundleEntryLine, type BundleProblem } from '../ledger/bundle.js'
import { canonicalJson, sha256Hex } from '../ledger/canonical-json.js'
import { parseVerifierKey, verifySignedCheckpoint, type Checkpoint } from '../ledger/checkpoint.js'
import { envelopeBytes } from '../ledger/entry.js'
import { hashLeaf, verifyConsistency, verifyInclusion } from '../ledger/merkle.js'
import { checkDisclosure, withheldIds } from '../ledger/commitment.js'
import {
  CITATION_PATTERN,
  CSV_COLUMNS,
  type NotProducedLine,
  csvText,
  csvValues,
  htmlRecordOpening,
  PRODUCTION_FILES,
  type ProductionManifest,
  type RecordLine,
  type RedactionLine,
} from './production-files.js'
import { PRODUCTION_PROOF_FILE, PRODUCTION_PROOF_FORMAT, type ProductionProof } from './production-proof.js'
import { resolvePointer } from './redaction.js'
import { extractCanonicalTar } from './tar.js'

/**
 * Offline verification of a FOIA production (docs/foia.md, "Verifying a production"): the ledger
 * part with the ledger's own bundle verifier (manifest hashes, checkpoint signature, every entry's
 * inclusion proof and, for unredacted entries, payload hash), then what only a production has:
 * records.jsonl, records.csv, records.html and redactions.jsonl agree with the proven entries.
 */

export interface ProductionReport {
  ok: boolean
  treeSize: number | null
  records: number
  entriesVerified: number
  redactedEntries: number
  redactions: number
  manifestSha256: string | null
  /** The production's own foia.production entry, proven in a signed tree: its leaf and that tree's size. */
  proven: { leafIndex: number; treeSize: number } | null
  problems: BundleProblem[]
}

export interface ProductionVerifyOptions {
  trustedKeys?: string[]
  manifestSha256?: string
  /**
   * The SHA-256 and size of the archive without its proof (every byte before production-proof.json's
   * header, then two zero blocks), computed by verifyProductionArchive: checked against the entry.
   */
  archive?: { sha256: string; bytes: number }
}

/** Lines of a file with one line of look-ahead and their numbers. */
class Lines {
  private readonly it: AsyncIterator<string>
  private peeked: { line: string; n: number } | null | undefined
  private n = 0
  constructor(path: string) {
    this.it = createInterface({ input: createReadStream(path), crlfDelay: Infinity })[Symbol.asyncIterator]()
  }
  async peek(): Promise<{ line: string; n: number } | null> {
    if (this.peeked === undefined) {
      let next = await this.it.next()
      while (!next.done && next.value === '') {
        this.n++
        next = await this.it.next()
      }
      this.peeked = next.done ? null : { line: next.value, n: ++this.n }
    }
    return this.peeked
  }
  async next(): Promise<{ line: string; n: number } | null> {
    const line = await this.peek()
    this.peeked = undefined
    return line
  }
}

/** RFC 4180 rows of a CSV file, streamed. */
async function* csvRows(path: string): AsyncGenerator<{ row: string[]; line: number }> {
  let field = ''
  let row: string[] = []
  let quoted = false
  let afterQuote = false
  let line = 1
  let rowLine = 1
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    for (const ch of chunk as string) {
      if (quoted) {
        if (ch === '"') {
          quoted = false
          afterQuote = true
        } else {
          if (ch === '\n') line++
          field += ch
        }
      } else if (ch === '"') {
        if (afterQuote) field += '"'
        quoted = true
        afterQuote = false
      } else if (ch === ',') {
        row.push(field)
        field = ''
        afterQuote = false
      } else if (ch === '\n') {
        row.push(field)
        yield { row, line: rowLine }
        row = []
        field = ''
        afterQuote = false
        rowLine = ++line
      } else if (ch !== '\r') {
        field += ch
        afterQuote = false
      }
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field)
    yield { row, line: rowLine }
  }
}

const HEX64 = /^[0-9a-f]{64}$/

export async function verifyProduction(dir: string, options: ProductionVerifyOptions = {}): Promise<ProductionReport> {
  const ledger = await verifyLedgerBundle(dir, { allowRedacted: true, extraFiles: [PRODUCTION_PROOF_FILE], ...(options.trustedKeys ? { trustedKeys: options.trustedKeys } : {}) })
  const problems = [...ledger.problems]
  const report: ProductionReport = {
    ok: false,
    treeSize: ledger.treeSize,
    records: 0,
    entriesVerified: ledger.entriesVerified,
    redactedEntries: 0,
    redactions: 0,
    manifestSha256: null,
    proven: null,
    problems,
  }
  const fail = (item: string, problem: string) => problems.push({ item, problem })
  const done = () => ({ ...report, ok: problems.length === 0 })

  let manifest: ProductionManifest
  try {
    const text = readFileSync(join(dir, PRODUCTION_FILES.manifest))
    report.manifestSha256 = sha256Hex(text)
    manifest = JSON.parse(text.toString('utf8')) as ProductionManifest
  } catch {
    return done() // the ledger verifier has named the problem
  }
  if (options.manifestSha256 && options.manifestSha256 !== report.manifestSha256) {
    fail(PRODUCTION_FILES.manifest, `SHA-256 is ${report.manifestSha256}, the production's ledger entry says ${options.manifestSha256}`)
  }
  if (manifest.format === FOIA_PRODUCTION_FORMAT_1) {
    // Made before productions carried the proof of their own entry: only the entry's hash, given by
    // the person verifying, anchors the manifest.
    if (!options.manifestSha256) fail(PRODUCTION_FILES.manifest, `format ${FOIA_PRODUCTION_FORMAT_1} carries no proof of its own ledger entry: give --manifest-sha256 from its foia.production entry`)
  } else if (manifest.format !== FOIA_PRODUCTION_FORMAT) {
    fail(PRODUCTION_FILES.manifest, `format ${JSON.stringify(manifest.format)} is not a FOIA production (${FOIA_PRODUCTION_FORMAT})`)
    return done()
  } else {
    checkOwnEntry(dir, manifest, report.manifestSha256, options, report, fail)
  }
  const listed = new Set((manifest.files ?? []).map((f) => f.path))
  for (const name of Object.values(PRODUCTION_FILES)) {
    const legacy = manifest.format === FOIA_PRODUCTION_FORMAT_1 && name === PRODUCTION_FILES.notProduced
    if (name !== PRODUCTION_FILES.manifest && !legacy && !listed.has(name)) fail(PRODUCTION_FILES.manifest, `does not list ${name}`)
  }
  // Files the manifest does not list are refused by the bundle verifier, by name.
  for (const name of [PRODUCTION_FILES.records, PRODUCTION_FILES.entries, PRODUCTION_FILES.redactions, PRODUCTION_FILES.csv, PRODUCTION_FILES.html]) {
    if (!existsSync(join(dir, name))) return done()
  }

  const entries = new Lines(join(dir, PRODUCTION_FILES.entries))
  const redactionLines = new Lines(join(dir, PRODUCTION_FILES.redactions))
  const csv = csvRows(join(dir, PRODUCTION_FILES.csv))
  const html = htmlOpenings(join(dir, PRODUCTION_FILES.html))
  const header = await csv.next()
  if (header.done || header.value.row.join(',') !== CSV_COLUMNS.join(',')) fail(`${PRODUCTION_FILES.csv}:1`, `the header is not ${CSV_COLUMNS.join(',')}`)

  const produced = new Set<string>()
  let recordLineNo = 0
  for await (const text of createInterface({ input: createReadStream(join(dir, PRODUCTION_FILES.records)), crlfDelay: Infinity })) {
    recordLineNo++
    if (!text.trim()) continue
    const item = `${PRODUCTION_FILES.records}:${recordLineNo}`
    let record: RecordLine
    try {
      record = JSON.parse(text) as RecordLine
      if (typeof record.commentId !== 'string' || !Array.isArray(record.entries)) throw new Error('not a record')
    } catch (error) {
      fail(item, `unreadable: ${(error as Error).message}`)
      continue
    }
    report.records++
    if (produced.has(record.commentId)) fail(item, `comment ${record.commentId} is produced twice`)
    produced.add(record.commentId)
    const opening = await html.next()
    if (opening.done || opening.value.text !== htmlRecordOpening(record.commentId)) {
      fail(opening.done ? PRODUCTION_FILES.html : `${PRODUCTION_FILES.html}:${opening.value.line}`, `record ${report.records} should be comment ${record.commentId}`)
    }
    for (const entry of record.entries) {
      const proven = await entries.next()
      let line: BundleEntryLine & { redacted?: boolean }
      try {
        if (!proven) throw new Error('no line left')
        line = JSON.parse(proven.line) as BundleEntryLine & { redacted?: boolean }
      } catch (error) {
        fail(PRODUCTION_FILES.entries, `no proven entry for ${entry.id} of ${item}: ${(error as Error).message}`)
        return done()
      }
      const where = `${PRODUCTION_FILES.entries}:${proven.n}`
      const e = line.entry
      if (e.id !== entry.id || e.subject !== record.commentId || e.kind !== entry.kind || e.actor !== entry.actor || e.recordedAt !== entry.recordedAt) {
        fail(item, `entry ${entry.id} differs from the proven envelope at ${where} (id, subject, kind, actor or time)`)
      }
      if (line.redacted === true !== (entry.redacted === true)) fail(where, `entry ${entry.id}: records.jsonl and ${PRODUCTION_FILES.entries} disagree on whether it is redacted`)
      let disclosed: Set<string> | null = null
      if (e.v === 2) {
        // Format 2: the bundle verifier has opened the disclosure of entries.jsonl against the
        // commitment; the record shows exactly that payload, and the production holds no salt.
        const l = line as BundleEntryLine
        if (l.salt !== undefined) fail(where, `entry ${entry.id}: a production must not carry a salt`)
        if (l.disclosure === undefined) fail(where, `entry ${entry.id}: no disclosure of its payload`)
        // With a payload, verifyLedgerBundle (above, on this file) has opened this disclosure against
        // the commitment and named any problem: its redaction ids are read, not hashed a second time.
        else disclosed = l.payload !== null && l.payload !== undefined && l.salt === undefined ? withheldIds(l.disclosure) : checkDisclosure(l.payload, l.disclosure, e.payloadCommitment).withheld
        if (canonicalJson(entry.payload) !== canonicalJson(l.payload ?? null)) fail(item, `entry ${entry.id}: the payload differs from the one proven at ${where}`)
        if (!entry.redacted && disclosed && disclosed.size > 0) fail(where, `entry ${entry.id} withholds text but is not marked redacted`)
      }
      if (!entry.redacted) {
        if (e.v === 1) {
          // The record's copy is the ledger's: its canonical JSON hashes to what the proven leaf commits to.
          const digest = sha256Hex(canonicalJson(entry.payload))
          if (digest !== e.payloadSha256) fail(item, `entry ${entry.id}: payload hashes to ${digest}, the ledger entry commits to ${e.payloadSha256}`)
        }
      } else {
        report.redactedEntries++
        if (e.v === 1 && line.payload !== null && line.payload !== undefined) fail(where, `entry ${entry.id} is redacted but its original payload is in the production`)
        let spans = 0
        const ids = new Set<string>()
        for (let next = await redactionLines.peek(); next; next = await redactionLines.peek()) {
          let r: RedactionLine
          try {
            r = JSON.parse(next.line) as RedactionLine
          } catch (error) {
            await redactionLines.next()
            fail(`${PRODUCTION_FILES.redactions}:${next.n}`, `unreadable: ${(error as Error).message}`)
            continue
          }
          if (r.entryId !== entry.id) break
          await redactionLines.next()
          spans++
          ids.add(r.id)
          report.redactions++
          const problem = redactionProblem(r, record.commentId, entry.payload)
          if (problem) fail(`${PRODUCTION_FILES.redactions}:${next.n}`, problem)
        }
        if (spans === 0) fail(item, `entry ${entry.id} is marked redacted but redactions.jsonl has no redaction for it here`)
        if (disclosed) {
          for (const id of disclosed) if (!ids.has(id)) fail(where, `entry ${entry.id}: text withheld under redaction ${id}, which redactions.jsonl does not list for it`)
          for (const id of ids) if (!disclosed.has(id)) fail(where, `entry ${entry.id}: redaction ${id} withholds nothing in the disclosure`)
        }
      }
      const row = await csv.next()
      const expected = csvValues(record, entry).map(csvText)
      if (row.done) fail(PRODUCTION_FILES.csv, `no row for entry ${entry.id}`)
      else if (row.value.row.length !== expected.length || row.value.row.some((v, i) => v !== expected[i])) {
        fail(`${PRODUCTION_FILES.csv}:${row.value.line}`, `the row of entry ${entry.id} differs from records.jsonl`)
      }
    }
  }
  await checkNotProduced(dir, manifest, entries, produced, fail)
  const extra = await redactionLines.next()
  if (extra) fail(`${PRODUCTION_FILES.redactions}:${extra.n}`, 'a redaction of no redacted entry, or out of order')
  const extraRow = await csv.next()
  if (!extraRow.done) fail(`${PRODUCTION_FILES.csv}:${extraRow.value.line}`, 'a row that belongs to no record')
  const extraHtml = await html.next()
  if (!extraHtml.done) fail(`${PRODUCTION_FILES.html}:${extraHtml.value.line}`, 'a record that is not in records.jsonl')
  if (manifest.records !== report.records) fail(PRODUCTION_FILES.manifest, `lists ${manifest.records} records, records.jsonl has ${report.records}`)
  if (manifest.redactions !== report.redactions) fail(PRODUCTION_FILES.manifest, `lists ${manifest.redactions} redactions, redactions.jsonl has ${report.redactions}`)
  return done()
}

const asHashList = (value: unknown): Buffer[] | null =>
  Array.isArray(value) && value.every((h) => typeof h === 'string' && HEX64.test(h)) ? value.map((h: string) => Buffer.from(h, 'hex')) : null

/**
 * production-proof.json: the production's own foia.production entry, proven in a checkpoint signed
 * with the trusted key, committing to this manifest (and, for an archive, to every byte before the
 * proof), its tree consistent with the tree the records are proven in.
 */
function checkOwnEntry(
  dir: string,
  manifest: ProductionManifest,
  manifestSha256: string | null,
  options: ProductionVerifyOptions,
  report: ProductionReport,
  fail: (item: string, problem: string) => void,
): void {
  const item = PRODUCTION_PROOF_FILE
  let proof: ProductionProof
  try {
    proof = JSON.parse(readFileSync(join(dir, PRODUCTION_PROOF_FILE), 'utf8')) as ProductionProof
  } catch (error) {
    fail(item, `missing or unreadable (${(error as Error).message}): nothing proves this production is the one the city recorded, nor that it is complete`)
    return
  }
  if (proof.format !== PRODUCTION_PROOF_FORMAT) return fail(item, `format ${JSON.stringify(proof.format)} is not ${PRODUCTION_PROOF_FORMAT}`)
  let keys: ReturnType<typeof parseVerifierKey>[]
  try {
    const lines = options.trustedKeys ?? readFileSync(join(dir, BUNDLE_FILES.keys), 'utf8').split('\n')
    keys = lines.map((l) => l.trim()).filter(Boolean).map((l) => parseVerifierKey(l))
  } catch {
    return // the bundle verifier names the key problem
  }
  const verifyNote = (note: unknown): Checkpoint | null => {
    if (typeof note !== 'string') return null
    for (const key of keys) {
      const result = verifySignedCheckpoint(note, { name: key.name, publicKey: key.publicKey as KeyObject })
      if (result.ok) return result.checkpoint
    }
    return null
  }
  let records: Checkpoint | null
  try {
    records = verifyNote(readFileSync(join(dir, BUNDLE_FILES.checkpoint), 'utf8'))
  } catch {
    records = null
  }
  if (!records) return // the bundle verifier names it
  const signed = verifyNote(proof.checkpoint)
  if (!signed) return fail(item, 'its checkpoint is not signed by the trusted key')
  const { entry, payload } = proof
  if (!entry || entry.kind !== 'foia.production' || !payload || typeof payload !== 'object') return fail(item, 'does not hold a foia.production ledger entry')
  if (entry.v === 2) {
    const { problem } = checkDisclosure(payload, proof.disclosure, entry.payloadCommitment)
    if (problem) return fail(item, `the entry's payload does not open its commitment: ${problem}`)
  } else if (entry.v === 1) {
    const digest = sha256Hex(canonicalJson(payload))
    if (digest !== entry.payloadSha256) return fail(item, `the entry's payload hashes to ${digest}, the entry commits to ${entry.payloadSha256}`)
  } else return fail(item, 'the entry has an unknown format')
  const inclusion = asHashList(proof.inclusionProof)
  const leafHash = hashLeaf(envelopeBytes(entry))
  if (!inclusion || !Number.isSafeInteger(proof.leafIndex) || !verifyInclusion(leafHash, proof.leafIndex, signed.treeSize, inclusion, signed.rootHash)) {
    return fail(item, `entry ${entry.id} is not proven to be leaf ${proof.leafIndex} of the signed tree of size ${signed.treeSize}`)
  }
  const consistency = asHashList(proof.consistencyProof)
  if (!consistency || records.treeSize > signed.treeSize || !verifyConsistency(records.treeSize, signed.treeSize, consistency, records.rootHash, signed.rootHash)) {
    return fail(item, `the tree of size ${signed.treeSize} is not proven to extend the tree of size ${records.treeSize} in ${BUNDLE_FILES.checkpoint}`)
  }
  if (proof.leafIndex < records.treeSize) fail(item, `the production's entry (leaf ${proof.leafIndex}) precedes the records it proves (tree size ${records.treeSize})`)
  // The entry commits to this manifest, this production and these counts.
  if (payload.manifestSha256 !== manifestSha256) {
    fail(PRODUCTION_FILES.manifest, `SHA-256 is ${manifestSha256}, the production's proven ledger entry commits to ${payload.manifestSha256}`)
  }
  const same: Array<[string, unknown, unknown]> = [
    ['productionId', payload.productionId, manifest.productionId],
    ['requestId', payload.requestId, manifest.requestId],
    ['subject', entry.subject, manifest.requestId],
    ['treeSize', payload.treeSize, manifest.treeSize],
    ['records', payload.records, manifest.records],
    ['entries', payload.entries, manifest.entries],
    ['redactions', payload.redactions, manifest.redactions],
    ['disposed', payload.disposed ?? 0, manifest.disposed ?? 0],
    ['withheld', payload.withheld ?? 0, manifest.withheld ?? 0],
  ]
  for (const [name, proven, claimed] of same) {
    if (proven !== claimed) fail(PRODUCTION_FILES.manifest, `${name} is ${JSON.stringify(claimed)}, the production's proven ledger entry says ${JSON.stringify(proven)}`)
  }
  if (options.archive && (options.archive.sha256 !== payload.archiveSha256 || options.archive.bytes !== payload.archiveBytes)) {
    fail('archive', `the ${options.archive.bytes} bytes before ${PRODUCTION_PROOF_FILE} hash to ${options.archive.sha256}; the production's proven ledger entry commits to ${payload.archiveBytes} bytes hashing to ${payload.archiveSha256}`)
  }
  report.proven = { leafIndex: proof.leafIndex, treeSize: signed.treeSize }
}

/**
 * not-produced.jsonl against the entries left in entries.jsonl after the records' entries: a
 * disposed record must be named in its disposal's proven `disposal` entry (which cites the
 * approval) and in its proven listing, with the approval proven too; a withheld one must cite an
 * exemption. No record may be both produced and not produced, and every leftover entry must be a
 * disposal entry some line names.
 */
async function checkNotProduced(dir: string, manifest: ProductionManifest, entries: Lines, produced: Set<string>, fail: (item: string, problem: string) => void): Promise<void> {
  const proven = new Map<string, { line: BundleEntryLine & { redacted?: boolean }; n: number; used: boolean }>()
  for (let next = await entries.next(); next; next = await entries.next()) {
    try {
      const line = JSON.parse(next.line) as BundleEntryLine & { redacted?: boolean }
      proven.set(line.entry.id, { line, n: next.n, used: false })
    } catch {
      fail(`${PRODUCTION_FILES.entries}:${next.n}`, 'unreadable')
    }
  }
  let disposed = 0
  let withheld = 0
  const path = join(dir, PRODUCTION_FILES.notProduced)
  if (existsSync(path)) {
    let n = 0
    const seen = new Set<string>()
    for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
      n++
      if (!text.trim()) continue
      const item = `${PRODUCTION_FILES.notProduced}:${n}`
      let line: NotProducedLine
      try {
        line = JSON.parse(text) as NotProducedLine
      } catch (error) {
        fail(item, `unreadable: ${(error as Error).message}`)
        continue
      }
      if (produced.has(line.commentId)) fail(item, `comment ${line.commentId} is listed as not produced, but records.jsonl produces it`)
      if (seen.has(line.commentId)) fail(item, `comment ${line.commentId} is listed twice`)
      seen.add(line.commentId)
      if (line.status === 'withheld') {
        withheld++
        if (typeof line.citation !== 'string' || !CITATION_PATTERN.test(line.citation)) fail(item, `comment ${line.commentId} is withheld without an exemption of 5 ILCS 140/7: ${JSON.stringify(line.citation)}`)
        continue
      }
      if (line.status !== 'disposed') {
        fail(item, `comment ${(line as { commentId: string }).commentId}: unknown status ${JSON.stringify((line as { status: unknown }).status)}`)
        continue
      }
      disposed++
      const entry = (id: string, kind: string) => {
        const found = proven.get(id)
        if (!found || found.line.entry.kind !== kind || found.line.entry.subject !== line.disposalId || found.line.payload === null || typeof found.line.payload !== 'object') return null
        found.used = true
        return { envelope: found.line.entry, payload: found.line.payload as Record<string, unknown> }
      }
      const execution = entry(line.disposalEntryId, 'disposal')
      const listing = entry(line.listedEntryId, 'disposal.listed')
      const approval = entry(line.approvalEntryId, 'disposal.approved')
      if (!execution || !listing || !approval) {
        fail(item, `comment ${line.commentId}: ${PRODUCTION_FILES.entries} does not prove the listing, approval and disposal entries of disposal ${line.disposalId}`)
        continue
      }
      const p = execution.payload
      if (!Array.isArray(p.disposed) || !p.disposed.includes(line.commentId)) fail(item, `comment ${line.commentId}: the proven disposal entry ${line.disposalEntryId} does not list it as disposed`)
      if (p.listedEntryId !== line.listedEntryId || p.approvalEntryId !== line.approvalEntryId || p.approvalReference !== line.approvalReference) {
        fail(item, `comment ${line.commentId}: the proven disposal entry names another listing, approval or approval reference`)
      }
      if (execution.envelope.recordedAt !== line.disposedAt) fail(item, `comment ${line.commentId}: disposed at ${line.disposedAt}, the proven disposal entry was recorded at ${execution.envelope.recordedAt}`)
      const listed = Array.isArray(listing.payload.records) ? (listing.payload.records as Array<{ recordId?: unknown }>) : []
      if (!listed.some((r) => r.recordId === line.commentId)) fail(item, `comment ${line.commentId}: the proven certificate listing ${line.listedEntryId} does not list it`)
      if (approval.payload.approvalReference !== line.approvalReference || approval.payload.approvedOn !== line.approvedOn) {
        fail(item, `comment ${line.commentId}: the proven approval entry records ${JSON.stringify(approval.payload.approvalReference)} of ${JSON.stringify(approval.payload.approvedOn)}`)
      }
    }
  }
  for (const [id, p] of proven) if (!p.used) fail(`${PRODUCTION_FILES.entries}:${p.n}`, `entry ${id} belongs to no record, produced or not`)
  if ((manifest.disposed ?? 0) !== disposed) fail(PRODUCTION_FILES.manifest, `lists ${manifest.disposed ?? 0} disposed records, ${PRODUCTION_FILES.notProduced} has ${disposed}`)
  if ((manifest.withheld ?? 0) !== withheld) fail(PRODUCTION_FILES.manifest, `lists ${manifest.withheld ?? 0} withheld records, ${PRODUCTION_FILES.notProduced} has ${withheld}`)
}

function redactionProblem(r: RedactionLine, commentId: string, payload: unknown): string | null {
  if (r.commentId !== commentId) return `redaction ${r.id} names comment ${r.commentId}, not ${commentId}`
  if (typeof r.citation !== 'string' || !CITATION_PATTERN.test(r.citation)) return `redaction ${r.id} cites no exemption of 5 ILCS 140/7: ${JSON.stringify(r.citation)}`
  if (typeof r.commitment !== 'string' || !HEX64.test(r.commitment)) return `redaction ${r.id} has no SHA-256 commitment`
  const value = resolvePointer(payload, r.path)
  if (typeof value !== 'string' || value.slice(r.redactedStart, r.redactedStart + r.replacement.length) !== r.replacement || !r.replacement.includes(r.citation)) {
    return `redaction ${r.id}: the redacted copy has no marker ${JSON.stringify(r.replacement)} at ${r.path}[${r.redactedStart}]`
  }
  return null
}

async function* htmlOpenings(path: string): AsyncGenerator<{ text: string; line: number }> {
  let line = 0
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    line++
    if (text.startsWith('<article class="record"')) yield { text, line }
  }
}

/**
 * Verifies a production archive (.tar) by extracting it to a temporary directory first. The archive
 * must be exactly what Townsquare writes (extractCanonicalTar: headers, padding, end blocks), its
 * last member production-proof.json, and every byte before that member is hashed against the
 * production's proven entry: no byte of the archive goes unchecked.
 */
export async function verifyProductionArchive(archive: string, options: Omit<ProductionVerifyOptions, 'archive'> = {}): Promise<ProductionReport> {
  const dir = await mkdtemp(join(tmpdir(), 'townsquare-verify-'))
  const unreadable = (problem: string): ProductionReport => ({
    ok: false,
    treeSize: null,
    records: 0,
    entriesVerified: 0,
    redactedEntries: 0,
    redactions: 0,
    manifestSha256: null,
    proven: null,
    problems: [{ item: basename(archive), problem }],
  })
  try {
    let layout: Awaited<ReturnType<typeof extractCanonicalTar>>
    try {
      layout = await extractCanonicalTar(archive, dir)
    } catch (error) {
      return unreadable(`not a readable production archive: ${(error as Error).message}`)
    }
    const proofAt = layout.members.findIndex((m) => m.name === PRODUCTION_PROOF_FILE)
    if (proofAt !== -1 && proofAt !== layout.members.length - 1) return unreadable(`${PRODUCTION_PROOF_FILE} must be the archive's last member`)
    const before = proofAt === -1 ? layout.end : layout.members[proofAt]!.header
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(archive, { start: 0, end: before - 1 })) hash.update(chunk as Buffer)
    hash.update(Buffer.alloc(1024))
    return await verifyProduction(dir, { ...options, archive: { sha256: hash.digest('hex'), bytes: before + 1024 } })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
