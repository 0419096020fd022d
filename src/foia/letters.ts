import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import type { FoiaLetter, FoiaRequest } from '../generated/prisma/client.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError, ValidationProblem } from '../plugins/errors.js'
import { describeCalendar, illinoisDate, type CityCalendarOptions } from './business-days.js'
import { checkTemplate, DEFAULT_TEMPLATES, fill, render, REVIEW_RIGHTS, withoutPersonalData, type LetterData, type LetterKind, type Template } from './letter-render.js'
import { EXTENSION_REASONS, type ExtensionReason } from './schemas.js'

export interface LetterConfig {
  publicBody: string
  officeAddress: string[]
  officials: Array<{ name: string; title: string }>
  calendar: CityCalendarOptions
}

export interface LetterDeps {
  clock: Clock
  letters: LetterConfig
}

/** What the clerk gives for each kind of letter (all optional but the denial's basis and the 3(g) texts). */
export interface LetterInput {
  kind: LetterKind
  note?: string | undefined
  /** denial: partial (some records or parts released) or full. */
  partial?: boolean | undefined
  factualBasis?: string | undefined
  /** denial: exemptions covering what is not an attached record (the attached ones are found). */
  exemptions?: Array<{ citation: string; covers: string }> | undefined
  burden?: string | undefined
  narrowing?: string | undefined
}

// ---------------------------------------------------------------------------------------------
// Templates

/** The template in force for a kind: the city's latest version, else the built-in one (version 0). */
export async function currentTemplate(tx: Tx, kind: LetterKind): Promise<Template> {
  const row = await tx.foiaLetterTemplate.findFirst({ where: { kind }, orderBy: { version: 'desc' } })
  return row ? { kind, version: row.version, subject: row.subject, body: row.body } : { ...DEFAULT_TEMPLATES[kind], version: 0 }
}

export async function templateVersions(tx: Tx, kind: LetterKind) {
  const rows = await tx.foiaLetterTemplate.findMany({ where: { kind }, orderBy: { version: 'asc' } })
  return [{ ...DEFAULT_TEMPLATES[kind], version: 0, createdAt: null, createdBy: null }, ...rows.map((r) => ({ kind, version: r.version, subject: r.subject, body: r.body, createdAt: r.createdAt, createdBy: r.createdBy }))]
}

/**
 * Saves a new version of a kind's template. It must use only known placeholders and keep those the
 * Act requires for the kind (a denial's exemptions, factual basis, officials and review rights).
 */
export async function saveTemplate(tx: Tx, kind: LetterKind, input: { subject: string; body: string }, actor: string, clock: Clock): Promise<Template> {
  const problems = checkTemplate(kind, input.subject, input.body)
  if (problems.length) throw new ValidationProblem(`The ${kind} template was not saved: ${problems.join('; ')}.`, problems.map((message) => ({ path: 'body:$.body', message })))
  await tx.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtext('foia_letter_template'), hashtext(${kind}))) AS l`
  const last = await tx.foiaLetterTemplate.findFirst({ where: { kind }, orderBy: { version: 'desc' }, select: { version: true } })
  const version = (last?.version ?? 0) + 1
  await tx.foiaLetterTemplate.create({ data: { id: randomUUID(), kind, version, subject: input.subject, body: input.body, createdAt: clock(), createdBy: actor } })
  return { kind, version, subject: input.subject, body: input.body }
}

// ---------------------------------------------------------------------------------------------
// Letters

const day = (d: Date) => d.toISOString().slice(0, 10)

/**
 * Each exemption the request's denial cites, with the records and spans it covers: records withheld
 * in full (foia_withholding, latest decision), accepted redactions (grouped by record and field),
 * and the clerk's own entries for what is not an attached record.
 */
export async function denialExemptions(tx: Tx, requestId: string, extra: Array<{ citation: string; covers: string }> = []): Promise<Map<string, string[]>> {
  const byCitation = new Map<string, string[]>()
  const add = (citation: string, line: string) => byCitation.set(citation, [...(byCitation.get(citation) ?? []), line])
  const withheld = await tx.$queryRaw<Array<{ citation: string; platform: string; external_id: string; note: string | null }>>`
    SELECT w.citation, c.platform, c.external_id, w.note
      FROM foia_request_record r JOIN comment c ON c.id = r.comment_id
      JOIN LATERAL (SELECT withheld, citation, note FROM foia_withholding w WHERE w.request_id = r.request_id AND w.comment_id = r.comment_id ORDER BY w.seq DESC LIMIT 1) w ON true
     WHERE r.request_id = ${requestId}::uuid AND r.detached_at IS NULL AND w.withheld
     ORDER BY c.platform, c.external_id`
  for (const w of withheld) add(w.citation, `${w.platform} comment ${w.external_id}: withheld in full${w.note ? ` (${w.note})` : ''}`)
  const redacted = await tx.$queryRaw<Array<{ citation: string; platform: string; external_id: string; path: string; category: string; spans: number }>>`
    SELECT d.citation, c.platform, c.external_id, d.path, d.category, count(*)::int AS spans
      FROM foia_redaction d JOIN comment c ON c.id = d.comment_id
      JOIN foia_request_record r ON r.request_id = d.request_id AND r.comment_id = d.comment_id AND r.detached_at IS NULL
     WHERE d.request_id = ${requestId}::uuid AND d.status = 'accepted'
     GROUP BY d.citation, c.platform, c.external_id, d.path, d.category
     ORDER BY c.platform, c.external_id, d.path`
  for (const r of redacted) add(r.citation, `${r.platform} comment ${r.external_id}: ${r.spans} span${r.spans === 1 ? '' : 's'} of ${r.path} redacted (${r.category})`)
  for (const e of extra) add(e.citation, e.covers)
  return new Map([...byCitation].sort(([a], [b]) => a.localeCompare(b)))
}

function exemptionsBlock(exemptions: Map<string, string[]>): string {
  return [...exemptions].map(([citation, lines]) => `${citation}:\n${lines.map((l) => `- ${l}`).join('\n')}`).join('\n\n')
}

function baseData(row: FoiaRequest, deps: LetterDeps, now: Date): LetterData {
  return {
    date: illinoisDate(now),
    publicBody: deps.letters.publicBody,
    officeAddress: deps.letters.officeAddress.join('\n'),
    trackingNumber: row.trackingNumber,
    requesterName: row.requesterName,
    receivedOn: day(row.receivedOn),
    description: row.description,
    dueOn: day(row.dueOn),
    originalDueOn: day(row.originalDueOn),
    businessDays: String(row.commercial || row.recurrent ? 21 : 5),
    calendar: describeCalendar(deps.letters.calendar),
  }
}

export interface CreatedLetter {
  letter: FoiaLetter
  /** Where to e-mail it (the requester's address), or null. */
  email: string | null
  trackingNumber: string
}

/**
 * Renders a letter for a request from the template in force, keeps it (text, PDF, their SHA-256)
 * and records it in the ledger (`foia.letter`, with both hashes), in the caller's transaction. A
 * denial is also filed in the central index by each exemption it cites (9(b)), with a copy without
 * the requester's personal data. Sending is the caller's, after the commit (deliverLetter).
 */
export async function createLetter(tx: Tx, requestId: string, input: LetterInput, actor: string, deps: LetterDeps): Promise<CreatedLetter> {
  const row = await tx.foiaRequest.findUnique({ where: { id: requestId } })
  if (!row) throw new NotFoundError(`No FOIA request ${requestId}.`)
  const now = deps.clock()
  const data: LetterData = { ...baseData(row, deps, now), note: input.note ?? '' }
  const details: Record<string, unknown> = {}
  let exemptions: Map<string, string[]> | null = null

  switch (input.kind) {
    case 'extension': {
      const reason = row.extensionReason as ExtensionReason | null
      if (!reason || !row.extendedAt) throw new ConflictError(`FOIA request ${row.trackingNumber} has not been extended: extend it first (POST .../extension), which sends this letter.`, 'foia-letter-not-applicable')
      data.extensionCitation = EXTENSION_REASONS[reason].citation
      data.extensionReason = EXTENSION_REASONS[reason].text
      Object.assign(details, { reason, originalDueOn: data.originalDueOn, dueOn: data.dueOn })
      break
    }
    case 'denial': {
      if (!input.factualBasis) throw new ValidationProblem('A denial needs its factual basis (5 ILCS 140/9(a)).', [{ path: 'body:$.factualBasis', message: 'required for a denial' }])
      exemptions = await denialExemptions(tx, requestId, input.exemptions)
      if (exemptions.size === 0) {
        throw new ConflictError('A denial cites at least one exemption: withhold or redact attached records, or give exemptions for what else is withheld.', 'foia-denial-without-exemption')
      }
      data.denialKind = input.partial === false ? 'denial' : 'partial denial'
      data.exemptions = exemptionsBlock(exemptions)
      data.factualBasis = input.factualBasis
      data.officials = deps.letters.officials.map((o) => `${o.name}, ${o.title}`).join('\n')
      data.reviewRights = REVIEW_RIGHTS
      Object.assign(details, { partial: input.partial !== false, citations: [...exemptions.keys()] })
      break
    }
    case 'recurrent':
      if (!row.recurrent) throw new ConflictError(`FOIA request ${row.trackingNumber} is not from a recurrent requester (5 ILCS 140/2(g)).`, 'foia-letter-not-applicable')
      break
    case 'burdensome': {
      const missing = (['burden', 'narrowing'] as const).filter((k) => !input[k])
      if (missing.length) throw new ValidationProblem('An unduly burdensome notice says why and how to narrow (3(g)).', missing.map((k) => ({ path: `body:$.${k}`, message: 'required for this letter' })))
      data.burden = input.burden!
      data.narrowing = input.narrowing!
      break
    }
    case 'response': {
      const fee = await tx.foiaFee.findFirst({ where: { requestId }, orderBy: { seq: 'desc' } })
      if (fee) {
        data.fee = fee.waived
          ? `Fees are waived: ${fee.waiverReason}.`
          : fee.amountCents === 0
            ? 'There is no fee for this response.'
            : `The fee is $${(fee.amountCents / 100).toFixed(2)} (5 ILCS 140/6).`
      }
      break
    }
    case 'acknowledgement':
      break
  }

  const template = await currentTemplate(tx, input.kind)
  const rendered = await render(template, data, now, deps.letters.publicBody)
  let publicText: string | null = null
  if (input.kind === 'denial') {
    // The index copy: the same template, the requester's name and any contact details in the
    // clerk's and requester's texts withheld.
    const scrub = (s: string | undefined) => (s === undefined ? undefined : withoutPersonalData(s.split(row.requesterName).join('[requester]')))
    publicText =
      fill(template.body, {
        ...data,
        requesterName: '[requester]',
        description: scrub(data.description),
        factualBasis: scrub(data.factualBasis),
        note: scrub(data.note),
        exemptions: scrub(data.exemptions),
      }).trim() + '\n'
  }
  const id = randomUUID()
  const [entry] = await appendEntries(tx, [
    {
      kind: 'foia.letter',
      subject: requestId,
      actor,
      payload: {
        requestId,
        trackingNumber: row.trackingNumber,
        letterId: id,
        letterKind: input.kind,
        templateVersion: template.version,
        textSha256: rendered.textSha256,
        pdfSha256: rendered.pdfSha256,
        ...(exemptions ? { citations: [...exemptions.keys()] } : {}),
      },
    },
  ])
  const letter = await tx.foiaLetter.create({
    data: {
      id,
      requestId,
      kind: input.kind,
      templateVersion: template.version,
      subject: rendered.subject,
      text: rendered.text,
      textSha256: rendered.textSha256,
      pdf: new Uint8Array(rendered.pdf),
      pdfSha256: rendered.pdfSha256,
      publicText,
      details: details as object,
      email: row.requesterEmail,
      ledgerEntryId: entry!.id,
      createdAt: now,
      createdBy: actor,
    },
  })
  if (exemptions) await tx.foiaDenialExemption.createMany({ data: [...exemptions.keys()].map((citation) => ({ letterId: id, citation })) })
  return { letter, email: row.requesterEmail, trackingNumber: row.trackingNumber }
}

export async function listLetters(tx: Tx, requestId: string) {
  if (!(await tx.foiaRequest.findUnique({ where: { id: requestId }, select: { id: true } }))) throw new NotFoundError(`No FOIA request ${requestId}.`)
  return tx.foiaLetter.findMany({
    where: { requestId },
    orderBy: { seq: 'asc' },
    omit: { pdf: true },
    include: { deliveries: { orderBy: { seq: 'asc' } } },
  })
}

export async function getLetterPdf(tx: Tx, requestId: string, letterId: string): Promise<{ pdf: Buffer; kind: string; trackingNumber: string }> {
  const row = await tx.foiaLetter.findFirst({ where: { id: letterId, requestId }, select: { pdf: true, kind: true, request: { select: { trackingNumber: true } } } })
  if (!row) throw new NotFoundError(`No letter ${letterId} of FOIA request ${requestId}.`)
  return { pdf: Buffer.from(row.pdf), kind: row.kind, trackingNumber: row.request.trackingNumber }
}

export type DeliveryStatus = 'sent' | 'failed' | 'no_address' | 'no_mail_server' | 'suppressed'

/** Records how a letter's sending ended (foia_letter_delivery and a `foia.letter_delivery` ledger entry). */
export async function recordDelivery(tx: Tx, letterId: string, outcome: { status: DeliveryStatus; error?: string | undefined; messageId?: string | undefined }, clock: Clock): Promise<void> {
  const letter = await tx.foiaLetter.findUniqueOrThrow({ where: { id: letterId }, select: { requestId: true } })
  const at = clock()
  await tx.foiaLetterDelivery.create({ data: { letterId, status: outcome.status, error: outcome.error ?? null, at } })
  await appendEntries(tx, [
    {
      kind: 'foia.letter_delivery',
      subject: letter.requestId,
      actor: 'system',
      payload: { letterId, status: outcome.status, ...(outcome.messageId ? { messageId: outcome.messageId } : {}), ...(outcome.error ? { error: outcome.error.slice(0, 500) } : {}) },
    },
  ])
}
