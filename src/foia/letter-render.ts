import { createHash } from 'node:crypto'
import PDFDocument from 'pdfkit'

/**
 * FOIA letters: templates with {{placeholders}}, rendered to plain text and to a tagged PDF.
 * Pure functions: no database, no clock (the letter's date is given).
 */

export const LETTER_KINDS = ['acknowledgement', 'extension', 'response', 'denial', 'recurrent', 'burdensome'] as const
export type LetterKind = (typeof LETTER_KINDS)[number]

/** Every placeholder a template may use, with what it holds. */
export const PLACEHOLDERS = {
  date: 'The date of the letter',
  publicBody: 'FOIA_PUBLIC_BODY',
  officeAddress: 'FOIA_OFFICE_ADDRESS, one line each',
  trackingNumber: 'The request\'s tracking number (2026-0042)',
  requesterName: 'The requester\'s name',
  receivedOn: 'The day the request was received',
  description: 'The records asked for',
  dueOn: 'The deadline in force',
  businessDays: 'Business days allowed (5, or 21 for a commercial or recurrent request)',
  calendar: 'The business-day calendar, in words',
  originalDueOn: 'The deadline before the extension',
  extensionCitation: 'The 3(e) paragraph cited, e.g. 5 ILCS 140/3(e)(v)',
  extensionReason: 'The statutory reason, in the words of 3(e)',
  note: 'What the clerk wrote for this letter (may be empty)',
  denialKind: '"partial denial" or "denial"',
  exemptions: 'Each exemption with the records and spans it covers',
  factualBasis: 'The detailed factual basis of the denial, written by the clerk',
  officials: 'FOIA_OFFICIALS: the names and titles of those responsible for the denial',
  reviewRights: 'The requester\'s rights to review by the Public Access Counselor (within 60 days) and to judicial review',
  fee: 'The fee estimate or its waiver (may be empty)',
  burden: 'Why compliance is unduly burdensome (3(g))',
  narrowing: 'How the requester may narrow the request',
} as const
export type Placeholder = keyof typeof PLACEHOLDERS

/** What each kind's template must keep, whatever the city edits: the contents the Act requires. */
export const REQUIRED: Record<LetterKind, readonly Placeholder[]> = {
  acknowledgement: ['trackingNumber', 'dueOn'],
  extension: ['trackingNumber', 'extensionCitation', 'extensionReason', 'dueOn'],
  response: ['trackingNumber'],
  denial: ['trackingNumber', 'exemptions', 'factualBasis', 'officials', 'reviewRights'],
  recurrent: ['trackingNumber', 'dueOn'],
  burdensome: ['trackingNumber', 'burden', 'narrowing'],
}

export interface Template {
  kind: LetterKind
  /** 0: the built-in template; 1, 2, ...: the city's versions. */
  version: number
  subject: string
  body: string
}

const HEADER = '{{publicBody}}\n{{officeAddress}}\n\n{{date}}\n\n{{requesterName}}\n\nRe: Freedom of Information Act request {{trackingNumber}}, received {{receivedOn}}\n\n'

/** The built-in templates (version 0), used until the city saves its own. */
export const DEFAULT_TEMPLATES: Record<LetterKind, Omit<Template, 'version'>> = {
  acknowledgement: {
    kind: 'acknowledgement',
    subject: 'FOIA request {{trackingNumber}} received',
    body:
      HEADER +
      'Dear {{requesterName}},\n\n' +
      'We received your request under the Illinois Freedom of Information Act (5 ILCS 140) on {{receivedOn}} for:\n\n{{description}}\n\n' +
      'Your tracking number is {{trackingNumber}}. Please quote it in any correspondence about this request.\n\n' +
      'We will respond within {{businessDays}} business days after receipt, by {{dueOn}}. Business days are counted on this calendar: {{calendar}}.\n\n' +
      '{{note}}\n\nSincerely,\n{{publicBody}}\n',
  },
  extension: {
    kind: 'extension',
    subject: 'FOIA request {{trackingNumber}}: time to respond extended to {{dueOn}}',
    body:
      HEADER +
      'Dear {{requesterName}},\n\n' +
      'Under Section 3(e) of the Illinois Freedom of Information Act, we are extending the time to respond to your request by 5 business days, from {{originalDueOn}} to {{dueOn}}.\n\n' +
      'The reason, as stated in {{extensionCitation}}: {{extensionReason}}.\n\n' +
      '{{note}}\n\nSincerely,\n{{publicBody}}\n',
  },
  response: {
    kind: 'response',
    subject: 'FOIA request {{trackingNumber}}: our response',
    body:
      HEADER +
      'Dear {{requesterName}},\n\n' +
      'This letter responds to your Freedom of Information Act request {{trackingNumber}}. The responsive records are provided with this letter.\n\n' +
      '{{fee}}\n\n{{note}}\n\nSincerely,\n{{publicBody}}\n',
  },
  denial: {
    kind: 'denial',
    subject: 'FOIA request {{trackingNumber}}: notice of {{denialKind}}',
    body:
      HEADER +
      'Dear {{requesterName}},\n\n' +
      'This is a notice of {{denialKind}} of your Freedom of Information Act request {{trackingNumber}} (5 ILCS 140/9(a)).\n\n' +
      'The records or parts of records withheld, and the exemption and legal authority for each:\n\n{{exemptions}}\n\n' +
      'The factual basis for the denial:\n\n{{factualBasis}}\n\n' +
      'Responsible for this denial:\n\n{{officials}}\n\n' +
      'Your rights:\n\n{{reviewRights}}\n\n{{note}}\n\nSincerely,\n{{publicBody}}\n',
  },
  recurrent: {
    kind: 'recurrent',
    subject: 'FOIA request {{trackingNumber}}: treated as a recurrent request',
    body:
      HEADER +
      'Dear {{requesterName}},\n\n' +
      'Under Sections 2(g) and 3.2 of the Illinois Freedom of Information Act, your request {{trackingNumber}} is treated as a request from a recurrent requester: in the 12 months before it, this public body received from you at least 50 requests, or 15 within a 30-day period, or 7 within a 7-day period.\n\n' +
      'We will respond within 21 business days after receipt, by {{dueOn}}. You may narrow your request; please tell us if you wish to.\n\n' +
      '{{note}}\n\nSincerely,\n{{publicBody}}\n',
  },
  burdensome: {
    kind: 'burdensome',
    subject: 'FOIA request {{trackingNumber}}: unduly burdensome as written',
    body:
      HEADER +
      'Dear {{requesterName}},\n\n' +
      'Complying with your request {{trackingNumber}} as written would be unduly burdensome for this public body, and the burden outweighs the public interest in the information (5 ILCS 140/3(g)):\n\n{{burden}}\n\n' +
      'You may narrow your request to manageable proportions. We suggest:\n\n{{narrowing}}\n\n' +
      'Please reply to confer with us about narrowing the request. If we cannot agree, this letter is a denial under Section 3(g), and you may ask the Public Access Counselor of the Office of the Attorney General to review it within 60 days, or seek judicial review (5 ILCS 140/9.5, 11).\n\n' +
      '{{note}}\n\nSincerely,\n{{publicBody}}\n',
  },
}

/** The statutory review rights every denial carries (5 ILCS 140/9(a), 9.5(a), 11). */
export const REVIEW_RIGHTS =
  'You have a right to have this denial reviewed by the Public Access Counselor of the Office of the Illinois Attorney General, ' +
  '500 South Second Street, Springfield, Illinois 62701, telephone 1-877-299-3642, e-mail public.access@ilag.gov. ' +
  'A request for review must be filed within 60 days after the date of this denial (5 ILCS 140/9.5(a)), with a copy of your request and of this notice. ' +
  'You also have the right to judicial review of this denial by filing suit in the circuit court (5 ILCS 140/11).'

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g

/** The placeholders a template uses; unknown ones and missing required ones are problems. */
export function checkTemplate(kind: LetterKind, subject: string, body: string): string[] {
  const problems: string[] = []
  const used = new Set<string>()
  for (const text of [subject, body]) for (const m of text.matchAll(PLACEHOLDER)) used.add(m[1]!)
  for (const name of used) if (!(name in PLACEHOLDERS)) problems.push(`unknown placeholder {{${name}}}`)
  for (const name of REQUIRED[kind]) if (!used.has(name)) problems.push(`the ${kind} letter must contain {{${name}}}`)
  return problems
}

export type LetterData = Partial<Record<Placeholder, string>>

/** The template with its placeholders filled; runs of blank lines left by empty ones collapse. */
export function fill(text: string, data: LetterData): string {
  return text
    .replace(PLACEHOLDER, (_, name: string) => data[name as Placeholder] ?? '')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
}

export interface Rendered {
  subject: string
  text: string
  pdf: Buffer
  textSha256: string
  pdfSha256: string
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

/**
 * A PDF of the letter laid out for printing (US Letter, one-inch margins) and tagged for assistive
 * technology: a structure tree with a Document of paragraphs (P) in reading order, the title shown
 * as the window title, the language set. The standard Helvetica font covers Windows-1252 (Latin
 * letters, §, quotes, dashes); a character outside it is written as "?" in the PDF (the text
 * version keeps it), since embedding a font for every script is not done yet.
 */
export function renderPdf(title: string, text: string, at: Date, author: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: 'LETTER',
      margins: { top: 72, bottom: 72, left: 72, right: 72 },
      pdfVersion: '1.7',
      tagged: true,
      lang: 'en-US',
      displayTitle: true,
      info: { Title: title, Author: author, Subject: title, CreationDate: at, ModDate: at },
    })
    const chunks: Buffer[] = []
    doc.on('data', (c: Buffer) => chunks.push(c))
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
    const root = doc.struct('Document')
    doc.addStructure(root)
    doc.font('Helvetica').fontSize(11)
    for (const paragraph of text.split(/\n{2,}/)) {
      const clean = paragraph.replace(/[^\n\x20-\x7e\u00a0-\u00ff\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u20ac]/g, '?')
      root.add(doc.struct('P', {}, () => doc.text(clean, { align: 'left', lineGap: 2, paragraphGap: 8 })))
    }
    root.end()
    doc.end()
  })
}

export async function render(template: Template, data: LetterData, at: Date, author: string): Promise<Rendered> {
  const subject = fill(template.subject, data).replace(/\s+/g, ' ').trim()
  const text = fill(template.body, data).trim() + '\n'
  const pdf = await renderPdf(subject, text, at, author)
  return { subject, text, pdf, textSha256: sha256(text), pdfSha256: sha256(pdf) }
}

/** The requester's personal data out of a text published in the denial index (9(b)). */
export function withoutPersonalData(text: string): string {
  return text
    .replace(/[^\s@<>(),;:"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/g, '[e-mail address withheld]')
    .replace(/(\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b/g, '[telephone number withheld]')
}
