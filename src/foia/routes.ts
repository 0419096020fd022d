import { createReadStream, existsSync } from 'node:fs'
import type { FoiaProduction } from '../generated/prisma/client.js'
import { join } from 'node:path'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { accessFrom, recordAccess } from '../audit/access-log.js'
import { inTransaction } from '../db/tx.js'
import { Prisma } from '../generated/prisma/client.js'
import { decodeCursor, encodeCursor } from '../http/cursor.js'
import { actorOf, type Role } from '../plugins/auth.js'
import { NotFoundError, Problem } from '../plugins/errors.js'
import type { HolidayCalendar } from './business-days.js'
import { deliverLetter } from './letter-mail.js'
import { createLetter, type LetterDeps } from './letters.js'
import { completeArchive, productionProof, proofTreeSizes } from './production-proof.js'
import { createProduction, productionBody, ProductionNotSealedError, waitUntilSealed } from './productions.js'
import { attachRecords, detachRecord, listAttached, listSearches, rerunSearch, setWithholding, type KeptSearch, type Withholding } from './records.js'
import { addRedaction, decideRedaction, getRedaction, listRedactions, suggestRedactions, type RedactionView } from './redaction.js'
import { changeStatus, createRequest, extendRequest, getRequest, listRequests, resolveRequestId, setRecurrent, toDay, type RequestView } from './requests.js'
import * as S from './schemas.js'
import { withResolvedQuery } from '../http/dates.js'

// Records clerks run requests; auditors read how each was answered.
const CLERKS: readonly Role[] = ['records_clerk']
const READERS: readonly Role[] = ['records_clerk', 'auditor']
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem }

function requestBody(v: RequestView): z.infer<typeof S.FoiaRequest> {
  const { row } = v
  const reason = row.extensionReason as S.ExtensionReason | null
  return {
    id: row.id,
    trackingNumber: row.trackingNumber,
    requester: { name: row.requesterName, contact: row.requesterContact },
    description: row.description,
    commercial: row.commercial,
    receivedOn: toDay(row.receivedOn),
    businessDays: row.commercial || row.recurrent ? 21 : 5,
    originalDueOn: toDay(row.originalDueOn),
    dueOn: toDay(row.dueOn),
    calendar: row.dueCalendar,
    recurrent: row.recurrent,
    source: row.source as 'clerk' | 'public',
    status: row.status as S.FoiaStatus,
    extension:
      reason && row.extendedAt && row.extendedBy
        ? { reason, citation: S.EXTENSION_REASONS[reason].citation, reasonText: S.EXTENSION_REASONS[reason].text, note: row.extensionNote, at: row.extendedAt.toISOString(), by: row.extendedBy }
        : null,
    history: v.history.map((h) => ({ status: h.status as S.FoiaStatus, at: h.at.toISOString(), by: h.by, note: h.note })),
    records: v.records,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
  }
}

const searchBody = (s: KeptSearch) => ({ id: s.id, query: s.query, matched: s.matched, runAt: s.runAt.toISOString(), runBy: s.runBy, rerunOf: s.rerunOf })

function redactionBody({ row, text }: RedactionView): z.infer<typeof S.Redaction> {
  return {
    id: row.id,
    commentId: row.commentId,
    entryId: row.entryId,
    path: row.path,
    start: row.start,
    end: row.end,
    text,
    category: row.category as z.infer<typeof S.RedactionCategory>,
    citation: row.citation,
    status: row.status as z.infer<typeof S.RedactionStatus>,
    source: row.source as 'suggested' | 'clerk',
    note: row.note,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    decidedAt: row.decidedAt?.toISOString() ?? null,
    decidedBy: row.decidedBy,
  }
}

export const foiaRoutes: FastifyPluginAsyncZod<{ calendar: HolidayCalendar; letterDeps: Omit<LetterDeps, 'clock'> }> = async (app, { calendar, letterDeps }) => {
  const prisma = app.db.prisma
  const actor = (request: FastifyRequest) => `user:${actorOf(request).sub}`
  const deps = { clock: app.clock, calendar }
  const read = (id: string) => inTransaction(prisma, (tx) => getRequest(tx, id)).then(requestBody)

  app.post(
    '/foia/requests',
    {
      config: { access: CLERKS, idempotent: true },
      schema: {
        tags: ['foia'],
        summary: 'Log a FOIA request: the deadline is 5 business days after receipt (21 when commercial), weekends and holidays skipped',
        description: 'Starts the 5 ILCS 140/3 clock: the due date counts business days from receipt, skipping weekends and the configured holidays.',
        body: S.CreateFoiaRequest,
        response: { 201: S.FoiaRequest, 422: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const id = await inTransaction(prisma, (tx) => createRequest(tx, request.body, actor(request), deps))
      return reply.status(201).send(await read(id))
    },
  )

  app.get(
    '/foia/requests',
    {
      config: { access: READERS },
      schema: {
        tags: ['foia'],
        summary: 'Requests by due date; with due_before, the open ones coming due',
        description: 'Ordered by due date, in pages (nextCursor); due_before lists the open requests coming due.',
        querystring: S.ListQuery,
        response: { 200: S.FoiaRequestList, ...errors },
      },
    },
    async (request) => {
      const { limit, cursor, due_before: dueBefore, status } = request.query
      const after = cursor ? decodeCursor(cursor, { dueOn: 'day', seq: 'seq' }) : null
      const page = await inTransaction(prisma, (tx) => listRequests(tx, { dueBefore, status }, { limit, ...(after ? { after: { dueOn: after.dueOn, seq: BigInt(after.seq) } } : {}) }))
      const last = page.items[page.items.length - 1]
      return { items: page.items.map(requestBody), nextCursor: page.more && last ? encodeCursor({ dueOn: toDay(last.row.dueOn), seq: last.row.seq.toString() }) : null }
    },
  )

  app.get(
    '/foia/requests/:id',
    {
      config: { access: READERS },
      schema: {
        tags: ['foia'],
        summary: 'A request with its deadline and status history, by its id or its tracking number (2026-0042)',
        description: 'The request, its statutory deadline (extended when an extension was taken), the calendar it was computed with, and every status change with its date and author.',
        params: S.RequestLookupParams,
        response: { 200: S.FoiaRequest, ...errors },
      },
    },
    async (request) => read(await inTransaction(prisma, (tx) => resolveRequestId(tx, request.params.id))),
  )

  app.post(
    '/foia/requests/:id/status',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'Change the status (in_progress, fulfilled, partially_denied, denied); kept in the history with its date',
        description: 'Each change is kept in the request\'s history with who made it and when.',
        params: S.RequestParams,
        body: S.StatusChange,
        response: { 200: S.FoiaRequest, 409: Problem, ...errors },
      },
    },
    async (request) => {
      await inTransaction(prisma, (tx) => changeStatus(tx, request.params.id, request.body, actor(request), app.clock))
      return read(request.params.id)
    },
  )

  app.post(
    '/foia/requests/:id/recurrent',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: "Decide the recurrent-requester flag (5 ILCS 140/2(g)) against the count, with the reason: the deadline is computed again (5 or 21 business days)",
        description: 'The count cannot see the exclusions of 2(g) (news media, non-profit, scientific or academic organizations): the clerk can. Refused once the request is extended or closed.',
        params: S.RequestParams,
        body: S.RecurrentDecision,
        response: { 200: S.FoiaRequest, 409: Problem, ...errors },
      },
    },
    async (request) => {
      await inTransaction(prisma, (tx) => setRecurrent(tx, request.params.id, request.body, actor(request), deps))
      return read(request.params.id)
    },
  )

  app.post(
    '/foia/requests/:id/extension',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'The one extension of 5 business days (5 ILCS 140/3(e)), with its statutory reason; the written notice (3(f)) is rendered, recorded and e-mailed with it',
        description: 'Refused (409) once the original deadline has passed, for a commercial (3.1) or recurrent (3.2) request, and a second time. The notice is in GET .../letters.',
        params: S.RequestParams,
        body: S.Extension,
        response: { 200: S.FoiaRequest, 409: Problem, 422: Problem, ...errors },
      },
    },
    async (request) => {
      // The extension and its written notice (3(f)) in one transaction: no extension without its letter.
      const letter = await inTransaction(prisma, async (tx) => {
        await extendRequest(tx, request.params.id, request.body, actor(request), deps)
        return createLetter(tx, request.params.id, { kind: 'extension', note: request.body.note }, actor(request), { clock: app.clock, ...letterDeps })
      })
      await deliverLetter(prisma, app.config.smtp, letter, app.clock)
      return read(request.params.id)
    },
  )

  app.post(
    '/foia/requests/:id/records',
    {
      config: { access: CLERKS, idempotent: true },
      schema: {
        tags: ['foia'],
        summary: 'Attach records: from a search (kept with the request, resolved now to a fixed list) and/or by comment id',
        description: 'A search is kept with the request and resolved now to a fixed list (from/to: a plain date is a day in CITY_TIME_ZONE); comment ids are attached as given. Attaching a record twice changes nothing.',
        params: S.RequestParams,
        body: S.AttachRecords,
        response: { 200: S.AttachResult, 409: Problem, ...errors },
      },
    },
    async (request) => {
      const result = await inTransaction(prisma, (tx) => attachRecords(tx, request.params.id, withResolvedQuery(request.body, app.config.cityTimeZone), actor(request), app.clock))
      return { ...result, search: result.search ? searchBody(result.search) : null }
    },
  )

  app.get(
    '/foia/requests/:id/records',
    {
      config: { access: READERS },
      schema: { tags: ['foia'], summary: 'The records (comments) attached, by comment id', description: 'The attached comments in pages (nextCursor), with the search that attached each, if any.', params: S.RequestParams, querystring: S.RecordsQuery, response: { 200: S.AttachedRecordList, ...errors } },
    },
    async (request) => {
      const after = request.query.cursor ? decodeCursor(request.query.cursor, { commentId: 'uuid' }).commentId : undefined
      const page = await inTransaction(prisma, async (tx) => {
        const page = await listAttached(tx, request.params.id, { limit: request.query.limit, ...(after ? { after } : {}) })
        // Each record is shown with its author and the start of its text.
        await recordAccess(tx, { ...accessFrom(request, 'foia.records.read', { ...request.params, ...request.query }, app.clock()), recordIds: page.items.map((r) => r.commentId) })
        return page
      })
      const last = page.items[page.items.length - 1]
      return {
        items: page.items.map((r) => ({
          commentId: r.commentId,
          searchId: r.searchId,
          platform: r.comment.platform,
          externalId: r.comment.externalId,
          authorName: r.comment.disposedAt ? null : r.comment.authorName,
          excerpt: r.comment.disposedAt || r.comment.currentText === null ? null : r.comment.currentText.slice(0, 200),
          status: r.comment.status,
          byCity: r.comment.byCity,
          firstPlatformAt: r.comment.firstPlatformAt.toISOString(),
          lastPlatformAt: r.comment.lastPlatformAt.toISOString(),
          versions: r.comment.versionCount,
          attachedAt: r.attachedAt.toISOString(),
          attachedBy: r.attachedBy,
          disposedAt: r.comment.disposedAt?.toISOString() ?? null,
          withheld: r.withholding
            ? { citation: r.withholding.citation!, note: r.withholding.note, decidedAt: r.withholding.decidedAt.toISOString(), decidedBy: r.withholding.decidedBy }
            : null,
        })),
        nextCursor: page.more && last ? encodeCursor({ commentId: last.commentId }) : null,
      }
    },
  )

  const withholdingBody = (w: Withholding) => ({ ...w, decidedAt: w.decidedAt.toISOString() })

  app.put(
    '/foia/requests/:id/records/:commentId/withholding',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'Withhold an attached record in full, citing the exemption: productions list it as withheld with the citation and give none of its content',
        description: 'A denial in full of one record (5 ILCS 140/9(a)): productions then list it with the citation instead of its content. Kept in the history.',
        params: S.RecordParams,
        body: S.WithholdRecord,
        response: { 200: S.WithholdingResult, 409: Problem, ...errors },
      },
    },
    async (request) =>
      withholdingBody(
        await inTransaction(prisma, (tx) => setWithholding(tx, request.params.id, request.params.commentId, { withheld: true, ...request.body }, actor(request), app.clock)),
      ),
  )

  app.delete(
    '/foia/requests/:id/records/:commentId/withholding',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'Release a withheld record: later productions produce it again (the withholding stays in the history)',
        description: 'The withholding is not erased: a release is added to the history, and later productions include the record.',
        params: S.RecordParams,
        response: { 200: S.WithholdingResult, 409: Problem, ...errors },
      },
    },
    async (request) =>
      withholdingBody(await inTransaction(prisma, (tx) => setWithholding(tx, request.params.id, request.params.commentId, { withheld: false }, actor(request), app.clock))),
  )

  app.delete(
    '/foia/requests/:id/records/:commentId',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'Detach a record from an open request, with the reason: recorded in the ledger (foia.record_detached); later productions leave it out',
        description:
          'The record stays in the request\'s history, marked detached with who, when and why; attaching it again (by id or search) brings it back, and the ledger keeps the detachment.',
        params: S.RecordParams,
        body: S.DetachRecord,
        response: { 200: S.DetachResult, 409: Problem, ...errors },
      },
    },
    async (request) => {
      const { id, commentId } = request.params
      const result = await inTransaction(prisma, (tx) => detachRecord(tx, id, commentId, request.body.reason, actor(request), app.clock))
      return { commentId, ...result }
    },
  )

  app.get(
    '/foia/requests/:id/searches',
    {
      config: { access: READERS },
      schema: { tags: ['foia'], summary: 'The searches kept with the request', description: 'Each search kept with the request, with its query and what it matched when it ran.', params: S.RequestParams, response: { 200: S.SearchList, ...errors } },
    },
    async (request) => ({ items: (await inTransaction(prisma, (tx) => listSearches(tx, request.params.id))).map(searchBody), nextCursor: null }),
  )

  app.post(
    '/foia/requests/:id/searches/:searchId/rerun',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'Run a kept search again and compare with what it matched then; optionally attach the new matches',
        description: 'Counts what the search matches now that it did not then, and what it no longer matches; attach: true keeps the new run and attaches its new matches.',
        params: S.SearchParams,
        body: S.Rerun,
        response: { 200: S.RerunResult, 409: Problem, ...errors },
      },
    },
    async (request) => {
      const result = await inTransaction(prisma, (tx) => rerunSearch(tx, request.params.id, request.params.searchId, request.body.attach, actor(request), app.clock))
      return { ...result, search: result.search ? searchBody(result.search) : null }
    },
  )

  app.post(
    '/foia/requests/:id/redactions/suggestions',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'Scan the attached records for private information (e-mail, phone, SSN, street address) and add suggestions to review',
        description: 'Suggestions are proposals only: each must be accepted before it applies to a production.',
        params: S.RequestParams,
        response: { 200: S.SuggestResult, ...errors },
      },
    },
    async (request) =>
      inTransaction(prisma, async (tx) => {
        const result = await suggestRedactions(tx, request.params.id, actor(request), app.clock)
        // The scan reads every attached record's text for this clerk.
        await recordAccess(tx, {
          ...accessFrom(request, 'foia.redactions.suggest', request.params, app.clock()),
          recordIds: Prisma.sql`SELECT comment_id FROM foia_request_record WHERE request_id = ${request.params.id}::uuid AND detached_at IS NULL ORDER BY comment_id`,
        })
        return result
      }),
  )

  app.get(
    '/foia/requests/:id/redactions',
    {
      config: { access: READERS },
      schema: {
        tags: ['foia'],
        summary: 'Redactions of the request with the original text of each span, for review',
        description: 'For the clerk\'s review: each redaction with its span, category, exemption and the original text it hides. The read is logged.',
        params: S.RequestParams,
        querystring: S.RedactionsQuery,
        response: { 200: S.RedactionList, ...errors },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query
      const after = cursor ? decodeCursor(cursor, { id: 'uuid' }).id : undefined
      const page = await inTransaction(prisma, async (tx) => {
        const page = await listRedactions(tx, request.params.id, { status }, { limit, ...(after ? { after } : {}) })
        // Each redaction shows the original text of its span.
        await recordAccess(tx, { ...accessFrom(request, 'foia.redactions.read', { ...request.params, ...request.query }, app.clock()), recordIds: page.items.map((r) => r.row.commentId) })
        return page
      })
      const last = page.items[page.items.length - 1]
      return { items: page.items.map(redactionBody), nextCursor: page.more && last ? encodeCursor({ id: last.row.id }) : null }
    },
  )

  const oneRedaction = async (request: FastifyRequest, requestId: string, redactionId: string) =>
    redactionBody(
      await inTransaction(prisma, async (tx) => {
        const view = await getRedaction(tx, requestId, redactionId)
        await recordAccess(tx, { ...accessFrom(request, 'foia.redactions.read', { requestId, redactionId }, app.clock()), recordIds: [view.row.commentId] })
        return view
      }),
    )

  app.post(
    '/foia/requests/:id/redactions',
    {
      config: { access: CLERKS, idempotent: true },
      schema: {
        tags: ['foia'],
        summary: 'Add a redaction of the produced copy (accepted at once), citing its exemption',
        description: 'A span of one string of a record\'s ledger entry, with its category and exemption; the original is never altered, only the produced copy.',
        params: S.RequestParams,
        body: S.AddRedaction,
        response: { 201: S.Redaction, 409: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const id = await inTransaction(prisma, (tx) => addRedaction(tx, request.params.id, request.body, actor(request), app.clock))
      return reply.status(201).send(await oneRedaction(request, request.params.id, id))
    },
  )

  app.patch(
    '/foia/requests/:id/redactions/:redactionId',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['foia'],
        summary: 'Accept or reject a redaction, optionally citing another exemption',
        description: 'Only accepted redactions apply to productions.',
        params: S.RedactionParams,
        body: S.DecideRedaction,
        response: { 200: S.Redaction, 409: Problem, ...errors },
      },
    },
    async (request) => {
      await inTransaction(prisma, (tx) => decideRedaction(tx, request.params.id, request.params.redactionId, request.body, actor(request), app.clock))
      return oneRedaction(request, request.params.id, request.params.redactionId)
    },
  )

  app.post(
    '/foia/requests/:id/productions',
    {
      config: { access: CLERKS, idempotent: true },
      schema: {
        tags: ['foia'],
        summary: 'Produce the attached records as a verifiable tar bundle, redactions applied to the copy; recorded in the ledger',
        description: 'Waits up to FOIA_SEAL_WAIT_MS for the records to be sealed into the ledger (409 otherwise). The archive holds the records\' ledger entries, redacted copies, the not-produced list and proofs, verifiable offline (npm run verify).',
        params: S.RequestParams,
        response: { 201: S.Production, 409: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const unsealed = await waitUntilSealed(app.db.pool, request.params.id, {
        timeoutMs: app.config.foia.sealWaitMs,
        sealNow: app.ledger.sealer ? () => app.ledger.sealer!.sealNow() : undefined,
      })
      if (unsealed > 0) throw new ProductionNotSealedError(unsealed)
      const production = await createProduction(
        { pool: app.db.pool, prisma, clock: app.clock, productionsDir: app.config.foia.productionsDir },
        request.params.id,
        actor(request),
        accessFrom(request, 'foia.production', request.params, app.clock()),
      )
      // Sealing is asked for at once, so a production is usually complete when it is answered.
      await app.ledger.sealer?.sealNow()
      return reply.status(201).send(await bodies([production]).then((b) => b[0]!))
    },
  )

  app.get(
    '/foia/requests/:id/productions',
    {
      config: { access: READERS },
      schema: { tags: ['foia'], summary: 'The productions of a request', description: 'Each production of the request with its hashes and counts.', params: S.RequestParams, response: { 200: S.ProductionList, ...errors } },
    },
    async (request) => {
      await read(request.params.id)
      const rows = await prisma.foiaProduction.findMany({ where: { requestId: request.params.id }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
      return { items: await bodies(rows), nextCursor: null }
    },
  )

  const bodies = async (rows: FoiaProduction[]) => {
    const sizes = await proofTreeSizes(app.db.pool, rows.map((r) => r.ledgerEntryId))
    return rows.map((r) => productionBody(r, sizes.get(r.ledgerEntryId) ?? null))
  }

  const production = async (requestId: string, productionId: string) => {
    const row = await prisma.foiaProduction.findFirst({ where: { id: productionId, requestId } })
    if (!row) throw new NotFoundError(`No production ${productionId} of FOIA request ${requestId}.`)
    return row
  }

  app.get(
    '/foia/requests/:id/productions/:productionId',
    {
      config: { access: READERS },
      schema: { tags: ['foia'], summary: 'A production: its hashes, counts, checkpoint and ledger entry', description: 'Enough to check a copy of the archive: its hashes, the record counts, the checkpoint it is proved against and its ledger entry.', params: S.ProductionParams, response: { 200: S.Production, ...errors } },
    },
    async (request) => (await bodies([await production(request.params.id, request.params.productionId)]))[0]!,
  )

  app.get(
    '/foia/requests/:id/productions/:productionId/download',
    {
      config: { access: READERS },
      schema: {
        tags: ['foia'],
        summary: "The production archive (application/x-tar) with the proof of its own ledger entry, streamed; 409 with Retry-After while that entry is not sealed",
        description: 'The archive exactly as recorded, ending with a proof that its own ledger entry is in the log; 409 with Retry-After until that entry is sealed.',
        params: S.ProductionParams,
        produces: ['application/x-tar'],
        response: { 200: S.Archive, 409: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const row = await production(request.params.id, request.params.productionId)
      const dir = app.config.foia.productionsDir
      if (!existsSync(join(dir, row.fileName))) throw new NotFoundError(`The archive of production ${row.id} is missing from the productions directory.`)
      // Never served as complete before the proof of its own entry exists: ask for a sealing pass once.
      let proof = await productionProof(app.db.pool, row)
      if (!proof && app.ledger.sealer) {
        await app.ledger.sealer.sealNow()
        proof = await productionProof(app.db.pool, row)
      }
      if (!proof) {
        const retryAfter = Math.max(1, Math.ceil(app.config.ledger.checkpointIntervalMs / 1000))
        return reply
          .status(409)
          .header('retry-after', String(retryAfter))
          .type('application/problem+json')
          .send({
            type: '/problems/foia-production-sealing',
            title: 'Production not sealed yet',
            status: 409,
            detail: `The ledger entry of production ${row.id} is not covered by a signed checkpoint yet, so the archive cannot carry the proof of its completeness; retry in ${retryAfter} s.`,
          })
      }
      const archive = await completeArchive(dir, row, proof)
      // Each download hands the production's records out again: logged with the same ids.
      await recordAccess(prisma, {
        ...accessFrom(request, 'foia.production.download', request.params, app.clock()),
        recordIds: Prisma.sql`SELECT unnest(record_ids) FROM (SELECT record_ids FROM access_log
                               WHERE action = 'foia.production' AND query ->> 'productionId' = ${row.id} ORDER BY seq LIMIT 1) AS produced`,
      })
      return reply
        .type('application/x-tar')
        .header('content-length', String(archive.bytes))
        .header('content-disposition', `attachment; filename="foia-${(await read(row.requestId)).trackingNumber}-${row.id}.tar"`)
        .header('x-manifest-sha256', row.manifestSha256)
        .send(createReadStream(archive.path))
    },
  )
}
