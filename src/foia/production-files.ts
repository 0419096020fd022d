/**
 * The layout of a FOIA production and the pure functions that render one record, shared by the
 * writer (src/foia/productions.ts) and the offline verifier (src/foia/verify-production.ts), so
 * that what one writes the other recomputes the same way.
 */
import type { Manifest } from '../ledger/bundle.js'
import type { RedactedSpan } from './redaction.js'

export const PRODUCTION_FILES = {
  manifest: 'manifest.json',
  readme: 'README.txt',
  keys: 'public-keys.txt',
  checkpoint: 'checkpoint.txt',
  entries: 'entries.jsonl',
  records: 'records.jsonl',
  csv: 'records.csv',
  html: 'records.html',
  redactions: 'redactions.jsonl',
  notProduced: 'not-produced.jsonl',
} as const

export interface ProductionManifest extends Manifest {
  requestId: string
  productionId: string
  records: number
  redactions: number
  /** Attached records not produced (not-produced.jsonl): destroyed by a disposal before the production, or withheld in full. */
  disposed?: number
  withheld?: number
}

/** One entry of a record as produced: the payload is the original, or its redacted copy. */
export interface RecordEntry {
  id: string
  kind: string
  actor: string
  recordedAt: string
  leafIndex: number
  redacted: boolean
  payload: unknown
}

/**
 * One line of records.jsonl: a comment and every ledger entry about it, in leaf order. The entries
 * (what was said and done) are the ledger's own payloads, proven by entries.jsonl; the fields before
 * them are the comment's current state as the city's tables hold it, and `ledgerVerified` says
 * whether that state agreed with the ledger when the production was made (src/records/reconcile.ts).
 */
export interface RecordLine {
  commentId: string
  platform: string
  account: string
  externalId: string
  postId: string | null
  status: string
  moderationStatus: string
  firstPlatformAt: string
  lastPlatformAt: string
  /** The fields above, and each of the comment's events, agree with its ledger entries. */
  ledgerVerified: boolean
  /** Where they do not (field names as docs/ledger.md "Reconciliation" gives them); empty when verified. */
  divergentFields: string[]
  entries: RecordEntry[]
}

/** One line of redactions.jsonl: where a marker replaced text, why, and a commitment to the text. */
export interface RedactionLine extends RedactedSpan {
  commentId: string
  entryId: string
}

/**
 * One line of not-produced.jsonl: an attached record the production does not give, and why. A
 * disposed record names the three ledger entries of its disposal (listing, approval, execution),
 * which entries.jsonl proves after the records' entries; a withheld one cites its exemption.
 */
export type NotProducedLine =
  | {
      commentId: string
      status: 'disposed'
      disposalId: string
      disposedAt: string
      listedEntryId: string
      approvalEntryId: string
      disposalEntryId: string
      approvalReference: string
      approvedOn: string
    }
  | { commentId: string; status: 'withheld'; citation: string; note: string | null }

/** The records not produced, in records.html after the produced ones: an opening, a row each, a closing. */
export const HTML_NOT_PRODUCED_OPEN = '<section class="not-produced">\n<h2>Records not produced</h2>\n<table>\n<tr><th>Comment</th><th>Why</th><th>Authority</th></tr>\n'
export const HTML_NOT_PRODUCED_CLOSE = '</table>\n</section>\n'
export function htmlNotProducedRow(l: NotProducedLine): string {
  return (
    (l.status === 'disposed'
      ? `<tr><td>${escapeHtml(l.commentId)}</td><td>disposed ${escapeHtml(l.disposedAt)}</td><td>Local Records Act disposal ${escapeHtml(l.disposalId)}, approval ${escapeHtml(l.approvalReference)} of ${escapeHtml(l.approvedOn)}; ledger entry ${escapeHtml(l.disposalEntryId)}</td></tr>`
      : `<tr><td>${escapeHtml(l.commentId)}</td><td>withheld in full</td><td>${escapeHtml(l.citation)}${l.note ? `: ${escapeHtml(l.note)}` : ''}</td></tr>`) + '\n'
  )
}

export const CSV_COLUMNS = [
  'comment_id',
  'entry_id',
  'leaf_index',
  'kind',
  'recorded_at',
  'actor',
  'platform',
  'author_name',
  'platform_time',
  'text',
  'action',
  'rule_codes',
  'notice_text',
  'redacted',
] as const

const str = (v: unknown): string => (typeof v === 'string' ? v : '')

/** The CSV row of one entry (before cell escaping). */
export function csvValues(record: Pick<RecordLine, 'commentId' | 'platform'>, entry: RecordEntry): string[] {
  const p = (entry.payload ?? {}) as Record<string, unknown>
  const author = (p.author ?? {}) as Record<string, unknown>
  return [
    record.commentId,
    entry.id,
    String(entry.leafIndex),
    entry.kind,
    entry.recordedAt,
    entry.actor,
    record.platform,
    str(author.name),
    str(p.platformTime),
    str(p.text),
    str(p.action),
    Array.isArray(p.ruleCodes) ? p.ruleCodes.filter((c) => typeof c === 'string').join(' ') : '',
    str(p.noticeText),
    entry.redacted ? 'yes' : 'no',
  ]
}

/**
 * RFC 4180 quoting. A cell a spreadsheet would run as a formula (starting with = + - @ or a tab or
 * carriage return) gets a leading apostrophe (OWASP "CSV injection"): these are public comments.
 */
export function csvText(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
}

/** A cell as written: csvText, quoted when it holds a quote, comma or line break. */
export function csvCell(value: string): string {
  const safe = csvText(value)
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

export function csvLine(values: readonly string[]): string {
  return values.map(csvCell).join(',') + '\r\n'
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!)
}

/** The line that opens a record in records.html (the verifier finds records by it). */
export function htmlRecordOpening(commentId: string): string {
  return `<article class="record" id="comment-${escapeHtml(commentId)}">`
}

function htmlValue(value: unknown): string {
  return escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))
}

export function htmlRecord(record: RecordLine): string {
  const lines = [
    htmlRecordOpening(record.commentId),
    `<h2>Comment ${escapeHtml(record.commentId)}</h2>`,
    '<dl>',
    ...(
      [
        ['Platform', record.platform],
        ['Account', record.account],
        ['Platform id', record.externalId],
        ['Post', record.postId ?? ''],
        ['Status', record.status],
        ['Moderation', record.moderationStatus],
        ['First seen on the platform', record.firstPlatformAt],
        ['Last seen on the platform', record.lastPlatformAt],
        ['Checked against the ledger', record.ledgerVerified ? 'agrees' : `DOES NOT AGREE: ${record.divergentFields.join(', ')}`],
      ] as const
    ).map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(v)}</dd>`),
    '</dl>',
  ]
  for (const entry of record.entries) {
    lines.push(
      `<section class="entry" id="entry-${escapeHtml(entry.id)}">`,
      `<h3>${escapeHtml(entry.kind)} · ${escapeHtml(entry.recordedAt)} · ${escapeHtml(entry.actor)}${entry.redacted ? ' · <strong>redacted</strong>' : ''}</h3>`,
      '<table>',
      ...Object.entries((entry.payload ?? {}) as Record<string, unknown>).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${htmlValue(v)}</td></tr>`),
      '</table>',
      '</section>',
    )
  }
  lines.push('</article>')
  return lines.join('\n') + '\n'
}

export function htmlHeader(title: string, summary: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;max-width:60em;margin:auto}article{border-top:2px solid #444;margin-top:2em}th{text-align:left;vertical-align:top;padding-right:1em}td{white-space:pre-wrap}</style>',
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(summary)}</p>`,
  ].join('\n') + '\n'
}

export const HTML_FOOTER = '</body>\n</html>\n'

/** An exemption of 5 ILCS 140/7 or 7.5, as redactions must cite. */
export const CITATION_PATTERN = /^5 ILCS 140\/7(\.5)?(\([0-9a-z.-]+\))+$/
