import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { FOIA_PRODUCTION_FORMAT, verifyLedgerBundle, type BundleEntryLine, type BundleProblem } from '../ledger/bundle.js'
import { canonicalJson, sha256Hex } from '../ledger/canonical-json.js'
import { checkDisclosure } from '../ledger/commitment.js'
import {
  CITATION_PATTERN,
  CSV_COLUMNS,
  csvText,
  csvValues,
  htmlRecordOpening,
  PRODUCTION_FILES,
  type ProductionManifest,
  type RecordLine,
  type RedactionLine,
} from './production-files.js'
import { resolvePointer } from './redaction.js'
import { extractTar } from './tar.js'

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
  problems: BundleProblem[]
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

export async function verifyProduction(dir: string, options: { trustedKeys?: string[]; manifestSha256?: string } = {}): Promise<ProductionReport> {
  const ledger = await verifyLedgerBundle(dir, { allowRedacted: true, ...(options.trustedKeys ? { trustedKeys: options.trustedKeys } : {}) })
  const problems = [...ledger.problems]
  const report: ProductionReport = {
    ok: false,
    treeSize: ledger.treeSize,
    records: 0,
    entriesVerified: ledger.entriesVerified,
    redactedEntries: 0,
    redactions: 0,
    manifestSha256: null,
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
  if (manifest.format !== FOIA_PRODUCTION_FORMAT) {
    fail(PRODUCTION_FILES.manifest, `format ${JSON.stringify(manifest.format)} is not a FOIA production (${FOIA_PRODUCTION_FORMAT})`)
    return done()
  }
  const listed = new Set((manifest.files ?? []).map((f) => f.path))
  for (const name of Object.values(PRODUCTION_FILES)) {
    if (name !== PRODUCTION_FILES.manifest && !listed.has(name)) fail(PRODUCTION_FILES.manifest, `does not list ${name}`)
  }
  for (const name of readdirSync(dir)) {
    if (name !== PRODUCTION_FILES.manifest && !listed.has(name)) fail(name, 'is in the production but not in the manifest')
  }
  for (const name of [PRODUCTION_FILES.records, PRODUCTION_FILES.entries, PRODUCTION_FILES.redactions, PRODUCTION_FILES.csv, PRODUCTION_FILES.html]) {
    if (!existsSync(join(dir, name))) return done()
  }

  const entries = new Lines(join(dir, PRODUCTION_FILES.entries))
  const redactionLines = new Lines(join(dir, PRODUCTION_FILES.redactions))
  const csv = csvRows(join(dir, PRODUCTION_FILES.csv))
  const html = htmlOpenings(join(dir, PRODUCTION_FILES.html))
  const header = await csv.next()
  if (header.done || header.value.row.join(',') !== CSV_COLUMNS.join(',')) fail(`${PRODUCTION_FILES.csv}:1`, `the header is not ${CSV_COLUMNS.join(',')}`)

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
        else disclosed = checkDisclosure(l.payload, l.disclosure, e.payloadCommitment).withheld
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
  if ((await entries.next()) !== null) fail(PRODUCTION_FILES.entries, 'has entries that belong to no record')
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

/** Verifies a production archive (.tar) by extracting it to a temporary directory first. */
export async function verifyProductionArchive(archive: string, options: { trustedKeys?: string[]; manifestSha256?: string } = {}): Promise<ProductionReport> {
  const dir = await mkdtemp(join(tmpdir(), 'townsquare-verify-'))
  try {
    try {
      await extractTar(archive, dir)
    } catch (error) {
      return { ok: false, treeSize: null, records: 0, entriesVerified: 0, redactedEntries: 0, redactions: 0, manifestSha256: null, problems: [{ item: basename(archive), problem: `not a readable production archive: ${(error as Error).message}` }] }
    }
    return await verifyProduction(dir, options)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
