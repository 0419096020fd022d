import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { inTransaction } from '../db/tx.js'
import type { FoiaLetter, FoiaLetterDelivery } from '../generated/prisma/client.js'
import { actorOf, type Role } from '../plugins/auth.js'
import { Problem, ValidationProblem } from '../plugins/errors.js'
import { illinoisDate, type HolidayCalendar } from './business-days.js'
import * as I from './illinois-schemas.js'
import { addMessage, csvCell, denialCitations, findByTrackingAndContact, latestFee, listDenials, listMessages, listReviews, recordFee, recordReview } from './intake.js'
import { deliverLetter } from './letter-mail.js'
import { REQUIRED, type LetterKind } from './letter-render.js'
import { createLetter, getLetterPdf, listLetters, saveTemplate, templateVersions, type LetterDeps } from './letters.js'
import { createRequest, getRequest, toDay } from './requests.js'
import { RequestParams } from './schemas.js'

const CLERKS: readonly Role[] = ['records_clerk']
const READERS: readonly Role[] = ['records_clerk', 'auditor']
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem }
const PUBLIC_FILE = { access: 'public' as const, rateLimit: { max: 5, timeWindow: '1 hour' } }
const PUBLIC_READ = { access: 'public' as const, rateLimit: { max: 30, timeWindow: '1 hour' } }
const PUBLIC_INDEX = { access: 'public' as const, rateLimit: { max: 120, timeWindow: '1 minute' } }

type LetterRow = Omit<FoiaLetter, 'pdf'> & { deliveries: FoiaLetterDelivery[] }

function letterBody(l: LetterRow, trackingNumber: string): z.infer<typeof I.Letter> {
  return {
    id: l.id,
    requestId: l.requestId,
    trackingNumber,
    kind: l.kind as LetterKind,
    templateVersion: l.templateVersion,
    subject: l.subject,
    text: l.text,
    textSha256: l.textSha256,
    pdfSha256: l.pdfSha256,
    ledgerEntryId: l.ledgerEntryId,
    deliveries: l.deliveries.map((d) => ({ status: d.status as 'sent', error: d.error, at: d.at.toISOString() })),
    createdAt: l.createdAt.toISOString(),
    createdBy: l.createdBy,
    pdfUrl: `/v1/foia/requests/${l.requestId}/letters/${l.id}/pdf`,
  }
}

/** Letters, templates, messages, fees, reviews, and the public intake, status and denial index. */
export const foiaIllinoisRoutes: FastifyPluginAsyncZod<{ calendar: HolidayCalendar; letterDeps: Omit<LetterDeps, 'clock'> }> = async (app, options) => {
  const prisma = app.db.prisma
  const actor = (request: FastifyRequest) => `user:${actorOf(request).sub}`
  const letterDeps: LetterDeps = { clock: app.clock, ...options.letterDeps }
  const mail = app.config.smtp
  await app.register(rateLimit, { global: false })

  const oneLetter = async (requestId: string, letterId: string) => {
    const rows = await inTransaction(prisma, (tx) => listLetters(tx, requestId))
    const { row } = await inTransaction(prisma, (tx) => getRequest(tx, requestId))
    return letterBody(rows.find((l) => l.id === letterId)!, row.trackingNumber)
  }

  app.post(
    '/foia/requests/:id/letters',
    {
      config: { access: CLERKS, idempotent: true },
      schema: {
        tags: ['foia'],
        summary: 'Write a letter to the requester: rendered from the template in force as text and PDF, recorded in the ledger with both SHA-256, e-mailed where the requester gave an address',
        description:
          'A denial lists each exemption with the records and spans it covers (the withheld and redacted attached records, and the exemptions given), the factual basis, the officials of FOIA_OFFICIALS and the review rights, ' +
          'and is filed in the public denial index by exemption without the requester\'s personal data. The extension notice is sent by the extension route.',
        params: RequestParams,
        body: I.LetterCreate,
        response: { 201: I.Letter, 409: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const created = await inTransaction(prisma, (tx) => createLetter(tx, request.params.id, request.body, actor(request), letterDeps))
      await deliverLetter(prisma, mail, created, app.clock)
      return reply.status(201).send(await oneLetter(request.params.id, created.letter.id))
    },
  )

  app.get(
    '/foia/requests/:id/letters',
    {
      config: { access: READERS },
      schema: { tags: ['foia'], summary: 'Every letter sent about the request, with its text, hashes and deliveries', description: 'Each letter with its kind, the template version it was rendered from, its text, the SHA-256 of its text and PDF (as in its foia.letter ledger entry) and every attempt to e-mail it.', params: RequestParams, response: { 200: I.LetterList, ...errors } },
    },
    async (request) => {
      const [rows, view] = await inTransaction(prisma, async (tx) => [await listLetters(tx, request.params.id), await getRequest(tx, request.params.id)] as const)
      return { items: rows.map((l) => letterBody(l, view.row.trackingNumber)), nextCursor: null }
    },
  )

  app.get(
    '/foia/requests/:id/letters/:letterId/pdf',
    {
      config: { access: READERS },
      schema: {
        tags: ['foia'],
        summary: 'A letter as the PDF that was recorded (its SHA-256 is the ledger entry\'s pdfSha256): tagged, with title and language, for printing and mailing', description: 'application/pdf, byte for byte what was recorded and e-mailed; 404 for a letter of another request.',
        params: I.LetterParams,
        produces: ['application/pdf'],
        response: { 200: I.Binary.describe('The PDF (application/pdf)'), ...errors },
      },
    },
    async (request, reply) => {
      const { pdf, kind, trackingNumber } = await inTransaction(prisma, (tx) => getLetterPdf(tx, request.params.id, request.params.letterId))
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="foia-${trackingNumber}-${kind}-${request.params.letterId}.pdf"`)
        .serializer((x: unknown) => x as string)
        .send(pdf as never)
    },
  )

  const templateBody = (t: { kind: LetterKind; version: number; subject: string; body: string; createdAt?: Date | null; createdBy?: string | null }) => ({
    kind: t.kind,
    version: t.version,
    subject: t.subject,
    body: t.body,
    required: [...REQUIRED[t.kind]],
    createdAt: t.createdAt?.toISOString() ?? null,
    createdBy: t.createdBy ?? null,
  })

  app.get(
    '/foia/letter-templates',
    { config: { access: READERS }, schema: { tags: ['foia'], summary: 'The letter template in force for each kind (version 0 is the built-in one)', description: 'One template per letter kind: the city\'s latest saved version, else the built-in one (version 0).', response: { 200: I.TemplateList, ...errors } } },
    async () => {
      const items = await inTransaction(prisma, async (tx) => {
        const all = await Promise.all(I.LetterKind.options.map(async (kind) => (await templateVersions(tx, kind)).at(-1)!))
        return all
      })
      return { items: items.map(templateBody), nextCursor: null }
    },
  )

  app.get(
    '/foia/letter-templates/:kind',
    {
      config: { access: READERS },
      schema: { tags: ['foia'], summary: "Every version of a kind's template, oldest first (what each letter was rendered from)", description: 'Templates are append-only: every version the city saved, so any letter can be traced to the words it was rendered from.', params: I.TemplateKindParams, response: { 200: I.TemplateList, ...errors } },
    },
    async (request) => ({ items: (await inTransaction(prisma, (tx) => templateVersions(tx, request.params.kind))).map(templateBody), nextCursor: null }),
  )

  app.put(
    '/foia/letter-templates/:kind',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: "Save a new version of a kind's template (earlier versions are kept; letters name the version they were rendered from)",
        description: 'Refused (400) when it uses an unknown placeholder or drops one the kind requires (a denial keeps its exemptions, factual basis, officials and review rights).',
        params: I.TemplateKindParams,
        body: I.TemplateInput,
        response: { 201: I.Template, ...errors },
      },
    },
    async (request, reply) => {
      const saved = await inTransaction(prisma, async (tx) => {
        await saveTemplate(tx, request.params.kind, request.body, actor(request), app.clock)
        return (await templateVersions(tx, request.params.kind)).at(-1)!
      })
      return reply.status(201).send(templateBody(saved))
    },
  )

  const messageBody = (m: { id: string; author: string; body: string; at: Date }) => ({ id: m.id, author: m.author as 'clerk', body: m.body, at: m.at.toISOString() })

  app.get(
    '/foia/requests/:id/messages',
    { config: { access: READERS }, schema: { tags: ['foia'], summary: 'Messages between the requester and the clerk, oldest first', description: 'Both directions: what the requester wrote through the public route and what clerks wrote; kept with the request.', params: RequestParams, response: { 200: I.MessageList, ...errors } } },
    async (request) => {
      const rows = await inTransaction(prisma, async (tx) => {
        await getRequest(tx, request.params.id)
        return listMessages(tx, request.params.id)
      })
      return { items: rows.map(messageBody), nextCursor: null }
    },
  )

  app.post(
    '/foia/requests/:id/messages',
    {
      config: { access: CLERKS, idempotent: true },
      schema: { tags: ['foia'], summary: 'Write to the requester: kept with the request, shown on its public status', description: 'The message is kept with the request and shown on the requester\'s status page (tracking number and contact); it is not e-mailed.', params: RequestParams, body: I.MessageInput, response: { 201: I.Message, ...errors } },
    },
    async (request, reply) => {
      const row = await inTransaction(prisma, async (tx) => {
        await getRequest(tx, request.params.id)
        return addMessage(tx, request.params.id, 'clerk', request.body.body, actor(request), app.clock)
      })
      return reply.status(201).send(messageBody(row))
    },
  )

  const feeBody = (f: NonNullable<Awaited<ReturnType<typeof latestFee>>>) => ({
    pages: f.pages,
    electronic: f.electronic,
    amountCents: f.amountCents,
    dueCents: f.waived ? 0 : f.amountCents,
    waived: f.waived,
    waiverReason: f.waiverReason,
    schedule: f.schedule as z.infer<typeof I.Fee>['schedule'],
    at: f.at.toISOString(),
    by: f.by,
  })

  app.post(
    '/foia/requests/:id/fee',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'Estimate the fee by the schedule (5 ILCS 140/6: electronic copies at the cost of the medium, the first 50 pages free) and record it, or its waiver with the reason', description: 'Each estimate is kept; the latest is in force. The schedule used (FOIA_FEE_PER_PAGE_CENTS, FOIA_FEE_MEDIUM_CENTS) is recorded with it.',
        params: RequestParams,
        body: I.FeeInput,
        response: { 201: I.Fee, 409: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const row = await inTransaction(prisma, (tx) => recordFee(tx, request.params.id, request.body, app.config.foia.fees, actor(request), app.clock))
      return reply.status(201).send(feeBody(row))
    },
  )

  app.get(
    '/foia/requests/:id/fee',
    { config: { access: READERS }, schema: { tags: ['foia'], summary: 'The fee estimate in force (the latest), with its waiver', description: '404 when no fee was estimated for the request.', params: RequestParams, response: { 200: I.Fee, ...errors } } },
    async (request) => {
      const fee = await inTransaction(prisma, (tx) => latestFee(tx, request.params.id))
      if (!fee) throw new ValidationProblem('No fee was estimated for this request.', [{ path: 'params:$.id', message: 'no fee estimate' }])
      return feeBody(fee)
    },
  )

  const reviewBody = (r: Awaited<ReturnType<typeof listReviews>>[number]) => ({
    id: r.id,
    kind: r.kind as 'requested',
    onDate: toDay(r.onDate),
    pacReference: r.pacReference,
    note: r.note,
    outcome: r.outcome,
    documentName: r.documentName,
    documentSha256: r.documentSha256,
    ledgerEntryId: r.ledgerEntryId,
    at: r.at.toISOString(),
    by: r.by,
  })

  app.post(
    '/foia/requests/:id/reviews',
    {
      config: { access: CLERKS, idempotent: true },
      schema: {
        tags: ['foia'],
        summary: 'Record a step of a review by the Public Access Counselor (5 ILCS 140/9.5): the request for review, a document, or the outcome; each a foia.review ledger entry', description: 'A document is stored with its SHA-256, which the ledger entry carries.',
        params: RequestParams,
        body: I.ReviewInput,
        response: { 201: I.ReviewEvent, 422: Problem, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(reviewBody(await inTransaction(prisma, (tx) => recordReview(tx, request.params.id, request.body, actor(request), app.clock)))),
  )

  app.get(
    '/foia/requests/:id/reviews',
    { config: { access: READERS }, schema: { tags: ['foia'], summary: 'The Public Access Counselor review of the request, step by step', description: 'Every recorded step, oldest first, with its ledger entry id; documents by their SHA-256.', params: RequestParams, response: { 200: I.ReviewList, ...errors } } },
    async (request) => {
      const rows = await inTransaction(prisma, async (tx) => {
        await getRequest(tx, request.params.id)
        return listReviews(tx, request.params.id)
      })
      return { items: rows.map(reviewBody), nextCursor: null }
    },
  )

  // -------------------------------------------------------------------------------------------
  // Public: file, follow, write; the denial index.

  app.post(
    '/foia/public/requests',
    {
      config: PUBLIC_FILE,
      schema: {
        tags: ['foia-public'],
        summary: 'File a FOIA request (public): answered with its tracking number and due date; an acknowledgement letter is e-mailed when the contact is an e-mail address',
        description:
          'Received today (Illinois time). Rate limited per client (5 an hour). Anti-spam without tracking: a honeypot field (`website`, which must be empty) and the rate limit; no cookie, no third-party check. ' +
          'Keep the tracking number and the contact: both are needed to see the status.',
        body: I.PublicFiling,
        response: { 201: I.PublicReceipt, 429: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const { name, contact, description, commercial } = request.body
      const receivedOn = illinoisDate(app.clock())
      const { id, created } = await inTransaction(prisma, async (tx) => {
        const id = await createRequest(tx, { requester: { name, contact }, receivedOn, description, commercial }, 'public', { clock: app.clock, calendar: options.calendar }, 'public')
        const created = await createLetter(tx, id, { kind: 'acknowledgement' }, 'system', letterDeps)
        return { id, created }
      })
      const acknowledgement = await deliverLetter(prisma, mail, created, app.clock, { publicFiling: true })
      const { row } = await inTransaction(prisma, (tx) => getRequest(tx, id))
      if (row.recurrent) {
        const notice = await inTransaction(prisma, (tx) => createLetter(tx, id, { kind: 'recurrent' }, 'system', letterDeps))
        await deliverLetter(prisma, mail, notice, app.clock, { publicFiling: true })
      }
      return reply.status(201).send({
        trackingNumber: row.trackingNumber,
        receivedOn: toDay(row.receivedOn),
        dueOn: toDay(row.dueOn),
        businessDays: row.commercial || row.recurrent ? 21 : 5,
        calendar: row.dueCalendar,
        acknowledgement,
      })
    },
  )

  app.post(
    '/foia/public/requests/status',
    {
      config: PUBLIC_READ,
      schema: {
        tags: ['foia-public'],
        summary: 'The status of a request, its letters and messages, by tracking number and the contact given when filing (public)',
        description:
          'POST so that the contact stays out of URLs and logs. A wrong contact and an unknown number get the same 404. Rate limited per client (30 an hour): tracking numbers are sequential, the contact is the secret.',
        body: I.PublicLookup,
        response: { 200: I.PublicStatus, 429: Problem, ...errors },
      },
    },
    async (request) =>
      inTransaction(prisma, async (tx) => {
        const row = await findByTrackingAndContact(tx, request.body.trackingNumber, request.body.contact)
        const { history } = await getRequest(tx, row.id)
        const letters = await listLetters(tx, row.id)
        const messages = await listMessages(tx, row.id)
        return {
          trackingNumber: row.trackingNumber,
          receivedOn: toDay(row.receivedOn),
          dueOn: toDay(row.dueOn),
          calendar: row.dueCalendar,
          status: row.status,
          history: history.map((h) => ({ status: h.status, at: h.at.toISOString() })),
          letters: letters.map((l) => ({ kind: l.kind as LetterKind, subject: l.subject, text: l.text, textSha256: l.textSha256, pdfSha256: l.pdfSha256, at: l.createdAt.toISOString() })),
          messages: messages.map(messageBody),
        }
      }),
  )

  app.post(
    '/foia/public/requests/messages',
    {
      config: PUBLIC_READ,
      schema: {
        tags: ['foia-public'],
        summary: 'Write to the clerk about a request, by tracking number and contact (public): kept with the request', description: 'Rate limited per client (30 an hour, shared with the status route); an unknown tracking number and a wrong contact get the same 404.',
        body: I.PublicMessage,
        response: { 201: I.Message, 429: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const message = await inTransaction(prisma, async (tx) => {
        const row = await findByTrackingAndContact(tx, request.body.trackingNumber, request.body.contact)
        return addMessage(tx, row.id, 'requester', request.body.body, 'requester', app.clock)
      })
      return reply.status(201).send(messageBody(message))
    },
  )

  const denialPage = (q: z.infer<typeof I.DenialQuery>) =>
    inTransaction(prisma, async (tx) => {
      const page = await listDenials(tx, { citation: q.citation }, { limit: q.limit, after: q.cursor ? BigInt(q.cursor) : undefined })
      return { page, exemptions: await denialCitations(tx) }
    })
  const denialBody = (d: Awaited<ReturnType<typeof listDenials>>['items'][number]) => ({
    letterId: d.id,
    trackingNumber: d.request.trackingNumber,
    date: illinoisDate(d.createdAt),
    partial: (d.details as { partial?: boolean }).partial !== false,
    citations: d.exemptions.map((e) => e.citation).sort(),
    text: d.publicText ?? '',
    textSha256: d.textSha256,
    ledgerEntryId: d.ledgerEntryId,
  })

  app.get(
    '/foia/public/denials',
    {
      config: PUBLIC_INDEX,
      schema: {
        tags: ['foia-public'],
        summary: 'The central index of denial notices (5 ILCS 140/9(b)), by exemption claimed (public): each notice without the requester\'s personal data', description: 'Every exemption claimed with the notices that cite it (filter with citation=). The requester\'s name is replaced and e-mail addresses and phone numbers are removed from the free text.',
        querystring: I.DenialQuery,
        response: { 200: I.DenialList, 429: Problem, ...errors },
      },
    },
    async (request) => {
      const { page, exemptions } = await denialPage(request.query)
      const last = page.items.at(-1)
      return { exemptions, items: page.items.map(denialBody), nextCursor: page.more && last ? last.seq.toString() : null }
    },
  )

  app.get(
    '/foia/public/denials.csv',
    {
      config: PUBLIC_INDEX,
      schema: {
        tags: ['foia-public'],
        summary: 'The denial index as CSV (RFC 4180), one row per notice and exemption (public)', description: 'Cells a spreadsheet would run as formulas are prefixed with an apostrophe.',
        querystring: I.DenialQuery.omit({ limit: true, cursor: true }),
        produces: ['text/csv'],
        response: { 200: I.Binary.describe('text/csv: citation, tracking_number, date, partial, letter_id, text_sha256, ledger_entry_id, notice'), 429: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const lines = ['citation,tracking_number,date,partial,letter_id,text_sha256,ledger_entry_id,notice']
      for (let cursor: string | undefined; ; ) {
        const { page } = await denialPage({ citation: request.query.citation, limit: 200, cursor })
        for (const d of page.items.map(denialBody)) {
          for (const citation of d.citations) {
            if (request.query.citation && citation !== request.query.citation) continue
            lines.push([citation, d.trackingNumber, d.date, String(d.partial), d.letterId, d.textSha256, d.ledgerEntryId, d.text].map(csvCell).join(','))
          }
        }
        if (!page.more) break
        cursor = page.items.at(-1)!.seq.toString()
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="foia-denials.csv"')
        .serializer((x: unknown) => x as string)
        .send((lines.join('\r\n') + '\r\n') as never)
    },
  )

}
