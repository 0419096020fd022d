import { z } from 'zod'
import { LETTER_KINDS, PLACEHOLDERS } from './letter-render.js'
import { Citation, IsoDate, TrackingNumber } from './schemas.js'

export const LetterKind = z.enum(LETTER_KINDS).describe('acknowledgement (tracking number, due date), extension (3(e)), response (cover letter), denial (9(a)), recurrent (3.2), burdensome (3(g))')

export const LetterCreate = z
  .object({
    kind: LetterKind.exclude(['extension']).describe('The extension notice is sent by the extension route itself'),
    note: z.string().trim().min(1).max(5000).optional().describe('A paragraph of the clerk\'s for this letter'),
    partial: z.boolean().optional().describe('denial: true (default) for a partial denial, false for a denial in full'),
    factualBasis: z.string().trim().min(1).max(20_000).optional().describe('denial: the detailed factual basis (5 ILCS 140/9(a)); required'),
    exemptions: z
      .array(z.object({ citation: Citation, covers: z.string().trim().min(1).max(2000).describe('What this exemption withholds') }).strict())
      .max(50)
      .optional()
      .describe('denial: exemptions for what is not an attached record; the withheld and redacted attached records are listed by themselves'),
    burden: z.string().trim().min(1).max(10_000).optional().describe('burdensome: why compliance would be unduly burdensome (3(g)); required'),
    narrowing: z.string().trim().min(1).max(10_000).optional().describe('burdensome: how the requester may narrow the request; required'),
  })
  .strict()
  .meta({ id: 'FoiaLetterCreate' })

export const Delivery = z.object({
  status: z.enum(['sent', 'failed', 'no_address', 'no_mail_server', 'suppressed']).describe('no_address: the requester gave no e-mail address (send the PDF by post); no_mail_server: SMTP_URL is not set; suppressed: a publicly filed request\'s letter not e-mailed, the address having received 3 such letters in 24 hours (the public form is not a way to send mail to anyone)'),
  error: z.string().nullable(),
  at: z.iso.datetime(),
})

export const Letter = z
  .object({
    id: z.uuid(),
    requestId: z.uuid(),
    trackingNumber: TrackingNumber,
    kind: LetterKind,
    templateVersion: z.number().int().describe('The template version rendered; 0 is the built-in template'),
    subject: z.string(),
    text: z.string().describe('The letter as plain text: what the e-mail carries; its SHA-256 is textSha256'),
    textSha256: z.string(),
    pdfSha256: z.string().describe('SHA-256 of the PDF (GET .../pdf)'),
    ledgerEntryId: z.uuid().describe('The foia.letter ledger entry, which records both hashes'),
    deliveries: z.array(Delivery).describe('Each attempt to e-mail it, oldest first'),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
    pdfUrl: z.string(),
  })
  .meta({ id: 'FoiaLetter' })
export const LetterList = z.object({ items: z.array(Letter), nextCursor: z.null() }).meta({ id: 'FoiaLetterList' })
export const LetterParams = z.object({ id: z.uuid(), letterId: z.uuid() })

export const TemplateKindParams = z.object({ kind: LetterKind })
export const TemplateInput = z
  .object({
    subject: z.string().trim().min(1).max(300),
    body: z.string().min(1).max(50_000).describe(`The letter with {{placeholders}}: ${Object.keys(PLACEHOLDERS).join(', ')}`),
  })
  .strict()
  .meta({ id: 'FoiaLetterTemplateSave' })
export const Template = z
  .object({
    kind: LetterKind,
    version: z.number().int(),
    subject: z.string(),
    body: z.string(),
    required: z.array(z.string()).describe('Placeholders this kind must keep (the contents the Act requires)'),
    createdAt: z.iso.datetime().nullable(),
    createdBy: z.string().nullable(),
  })
  .meta({ id: 'FoiaLetterTemplate' })
export const TemplateList = z.object({ items: z.array(Template), nextCursor: z.null() }).meta({ id: 'FoiaLetterTemplateList' })

export const Message = z
  .object({ id: z.uuid(), author: z.enum(['requester', 'clerk']), body: z.string(), at: z.iso.datetime() })
  .meta({ id: 'FoiaMessage' })
export const MessageList = z.object({ items: z.array(Message), nextCursor: z.null() }).meta({ id: 'FoiaMessageList' })
export const MessageInput = z.object({ body: z.string().trim().min(1).max(10_000) }).strict().meta({ id: 'FoiaMessageCreate' })

export const FeeInput = z
  .object({
    pages: z.number().int().min(0).max(10_000_000).describe('Pages on paper; 0 for an electronic production'),
    electronic: z.boolean().describe('An electronic production: the cost of the medium only (6(a))'),
    waived: z.boolean().default(false),
    waiverReason: z.string().trim().min(1).max(2000).optional().describe('Required when waived (6(c): e.g. in the public interest)'),
  })
  .strict()
  .refine((f) => !f.waived || f.waiverReason, { message: 'a waiver needs its reason', path: ['waiverReason'] })
  .meta({ id: 'FoiaFeeEstimate' })
export const Fee = z
  .object({
    pages: z.number().int(),
    electronic: z.boolean(),
    amountCents: z.number().int().describe('The fee by the schedule, before any waiver'),
    dueCents: z.number().int().describe('What the requester owes: 0 when waived'),
    waived: z.boolean(),
    waiverReason: z.string().nullable(),
    schedule: z.object({ perPageCents: z.number().int(), mediumCents: z.number().int(), freePages: z.number().int(), maxPerPageCents: z.number().int() }),
    at: z.iso.datetime(),
    by: z.string(),
  })
  .meta({ id: 'FoiaFee' })

export const ReviewInput = z
  .object({
    kind: z.enum(['requested', 'document', 'outcome']).describe('requested: the requester asked the PAC for review; document: a letter exchanged with the PAC; outcome: the PAC\'s determination'),
    onDate: IsoDate.describe('The date of the step (not after today)'),
    pacReference: z.string().trim().min(1).max(100).optional().describe("The PAC's file number, e.g. 2026 PAC 12345"),
    note: z.string().trim().min(1).max(10_000).optional(),
    outcome: z.string().trim().min(1).max(2000).optional().describe('For an outcome: e.g. no further action, violation found, binding opinion'),
    document: z
      .object({ name: z.string().trim().min(1).max(200), contentBase64: z.base64().max(14_000_000).describe('The document, base64 (at most about 10 MB)') })
      .strict()
      .optional(),
  })
  .strict()
  .refine((r) => r.kind !== 'outcome' || r.outcome, { message: 'an outcome needs its outcome', path: ['outcome'] })
  .refine((r) => r.kind !== 'document' || r.document, { message: 'a document step needs the document', path: ['document'] })
  .meta({ id: 'FoiaReviewStep' })
export const ReviewEvent = z
  .object({
    id: z.uuid(),
    kind: z.enum(['requested', 'document', 'outcome']),
    onDate: IsoDate,
    pacReference: z.string().nullable(),
    note: z.string().nullable(),
    outcome: z.string().nullable(),
    documentName: z.string().nullable(),
    documentSha256: z.string().nullable(),
    ledgerEntryId: z.uuid(),
    at: z.iso.datetime(),
    by: z.string(),
  })
  .meta({ id: 'FoiaReviewEvent' })
export const ReviewList = z.object({ items: z.array(ReviewEvent), nextCursor: z.null() }).meta({ id: 'FoiaReviewList' })

// ---------------------------------------------------------------------------------------------
// Public routes

export const PublicFiling = z
  .object({
    name: z.string().trim().min(1).max(200),
    contact: z.string().trim().min(3).max(500).describe('An e-mail address (letters are e-mailed to it) or a postal address; with the tracking number, it is what finds the request again'),
    description: z.string().trim().min(1).max(10_000).describe('The records asked for'),
    commercial: z.boolean().describe('For a commercial purpose (5 ILCS 140/3.1): 21 business days; a false statement is a violation of the Act'),
    website: z.string().max(0, 'leave this field empty').optional().describe('Leave empty: a field people do not see and some robots fill in (anti-spam)'),
  })
  .strict()
  .meta({ id: 'FoiaPublicFiling' })
export const PublicReceipt = z
  .object({
    trackingNumber: TrackingNumber,
    receivedOn: IsoDate,
    dueOn: IsoDate,
    businessDays: z.number().int(),
    calendar: z.string(),
    acknowledgement: z.enum(['sent', 'failed', 'no_address', 'no_mail_server', 'suppressed']).describe('Whether the acknowledgement letter was e-mailed'),
  })
  .meta({ id: 'FoiaPublicReceipt' })
export const PublicLookup = z
  .object({ trackingNumber: TrackingNumber, contact: z.string().trim().min(3).max(500).describe('The contact given when filing, exactly (case and spaces aside)') })
  .strict()
  .meta({ id: 'FoiaPublicLookup' })
export const PublicMessage = PublicLookup.extend({ body: z.string().trim().min(1).max(10_000) }).strict().meta({ id: 'FoiaPublicMessage' })
export const PublicStatus = z
  .object({
    trackingNumber: TrackingNumber,
    receivedOn: IsoDate,
    dueOn: IsoDate,
    calendar: z.string(),
    status: z.string(),
    history: z.array(z.object({ status: z.string(), at: z.iso.datetime() })),
    letters: z.array(z.object({ kind: LetterKind, subject: z.string(), text: z.string(), textSha256: z.string(), pdfSha256: z.string(), at: z.iso.datetime() })),
    messages: z.array(Message),
  })
  .meta({ id: 'FoiaPublicStatus' })

export const DenialQuery = z
  .object({
    citation: z.string().max(100).optional().describe('Only the notices citing this exemption, e.g. 5 ILCS 140/7(1)(c)'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().regex(/^\d{1,18}$/).optional(),
  })
  .strict()
export const Denial = z
  .object({
    letterId: z.uuid(),
    trackingNumber: TrackingNumber,
    date: IsoDate,
    partial: z.boolean(),
    citations: z.array(z.string()),
    text: z.string().describe("The notice as sent, without the requester's name and contact details"),
    textSha256: z.string().describe('SHA-256 of the notice as sent (with the personal data), as recorded in the ledger'),
    ledgerEntryId: z.uuid(),
  })
  .meta({ id: 'FoiaDenial' })
export const DenialList = z
  .object({
    exemptions: z.array(z.object({ citation: z.string(), notices: z.number().int() })).describe('The index: every exemption claimed, with the number of notices citing it'),
    items: z.array(Denial),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'FoiaDenialList' })

export const Binary = z.unknown()
