import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { accessFrom, loggedRead } from '../audit/access-log.js'
import { inPgTransaction } from '../db/sql.js'
import type { Role } from '../plugins/auth.js'
import { isDatabaseUnavailable, NotFoundError, Problem, ProblemError, ValidationProblem } from '../plugins/errors.js'
import { decodeCursor, encodeCursor } from '../http/cursor.js'
import { DeliveryWriter } from './delivery-writer.js'
import { EventKeySecret } from './event-keys.js'
import { ingestDeliveries, recordMalformedDelivery, type IngestResult } from './ingest.js'
import { MalformedDeliveryError, platformAdapters, type HandshakeResult, type Platform, type WebhookSource } from './platforms/index.js'
import * as S from './schemas.js'
import { WebhookStats } from './stats.js'
import { recordPlatformHealth } from '../connections/connections.js'

export class InvalidSignatureError extends ProblemError {
  constructor(source: WebhookSource, reason: string) {
    const why = reason === 'handshake' ? 'not accepted: its body is a handshake token, which the service signs for anyone' : `signature is ${reason}`
    super(401, 'invalid-signature', 'Invalid signature', `The ${source} delivery's ${why}; nothing was stored.`)
  }
}

class WebhookNotConfiguredError extends NotFoundError {
  constructor(source: WebhookSource) {
    super(`The ${source} webhook is not configured on this service.`)
  }
}

const TST: readonly Role[] = ['tst_moderator', 'tst_admin', 'auditor']

/** Headers kept with each raw delivery: what verifies it and what traces it, never credentials. */
const KEPT_HEADERS = ['content-type', 'content-length', 'user-agent', 'x-request-id', 'x-hub-signature', 'x-li-format', 'x-li-signature', 'x-twitter-webhooks-signature', 'x-hub-signature-256', 'townsquare-signature']

function keptHeaders(request: FastifyRequest): Record<string, string> {
  const kept: Record<string, string> = {}
  for (const name of KEPT_HEADERS) {
    const value = request.headers[name]
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return kept
}

function sendHandshake(reply: FastifyReply, result: HandshakeResult) {
  if (result.status !== 200) {
    throw new ProblemError(result.status, 'handshake-refused', 'Handshake refused', `The verification request was refused: ${result.body}`)
  }
  return reply.status(200).type(result.contentType).send(result.body)
}

export const webhookRoutes: FastifyPluginAsyncZod = async (app) => {
  const { webhooks } = app.config
  const stats = new WebhookStats(app.clock())
  const secrets: Record<WebhookSource, string | null> = {
    meta: webhooks.meta?.appSecret ?? null,
    x: webhooks.xConsumerSecret,
    linkedin: webhooks.linkedinClientSecret,
    website: webhooks.websiteSecret,
  }

  // Ingestion is the hot path (docs/performance.md): plain pg transactions rather than Prisma's, and
  // deliveries that arrive together share one (group commit).
  const deps = { clock: app.clock, resolver: app.policy.resolver, maxAttempts: app.config.jobs.maxAttempts, eventKeys: new EventKeySecret(), noticeChannels: app.config.moderation.noticeChannels }
  const writer = new DeliveryWriter(
    (group) => inPgTransaction(app.db.pool, (sql) => ingestDeliveries(sql, group, deps)),
    { writers: webhooks.writers, maxGroupEvents: webhooks.maxGroupEvents },
    isDatabaseUnavailable,
  )
  app.addHook('onClose', () => writer.idle())

  // Signatures are over the exact bytes received, so these routes take the body as a Buffer and
  // never as parsed JSON (a re-serialized body would not verify). This scope only.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: webhooks.bodyLimitBytes }, (_request, body, done) => done(null, body))

  // The connections' health (GET /v1/admin/connections): the last accepted delivery per platform,
  // written at most once a minute per platform and instance, after the delivery committed and
  // outside its transaction, so a flood does not queue on one row and a failure costs no delivery.
  const lastNoted = new Map<Platform, number>()
  function noteWebhookHealth(source: WebhookSource, platforms: Platform[], now: Date, request: FastifyRequest) {
    const all = new Set<Platform>(platforms.length > 0 ? platforms : source === 'meta' ? [] : [source as Platform])
    for (const platform of all) {
      if (now.getTime() - (lastNoted.get(platform) ?? 0) < 60_000) continue
      lastNoted.set(platform, now.getTime())
      recordPlatformHealth(app.db.prisma, platform, { kind: 'webhook' }, now).catch((error: unknown) => request.log.warn({ err: error, platform }, 'webhook health not recorded'))
    }
  }

  async function receive(source: WebhookSource, request: FastifyRequest): Promise<IngestResult> {
    const secret = secrets[source]
    if (!secret) throw new WebhookNotConfiguredError(source)
    const adapter = platformAdapters[source]
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const now = app.clock()
    const check = adapter.verifySignature(body, request.headers, secret, now)
    if (!check.ok) {
      stats.rejected(source, check.reason, now)
      request.log.warn({ source, reason: check.reason }, 'webhook delivery refused: signature')
      throw new InvalidSignatureError(source, check.reason)
    }
    const delivery = { source, body, headers: keptHeaders(request), signatureVariant: check.variant ?? 'standard' }
    let normalized
    try {
      normalized = adapter.normalize(body)
    } catch (error) {
      if (!(error instanceof MalformedDeliveryError)) throw error
      const id = await inPgTransaction(app.db.pool, (sql) => recordMalformedDelivery(sql, delivery, error.issues, app.clock))
      stats.malformed(source)
      throw new ValidationProblem(
        `The ${source} delivery is signed but not in the platform's format; it was kept as delivery ${id} for the TST to inspect.`,
        error.issues.map((i) => ({ path: `body:${i.path}`, message: i.message })),
      )
    }
    // Resolves after the transaction holding it committed.
    const result = await writer.submit({ delivery, normalized })
    stats.accepted(source, result.duplicateDelivery, now)
    noteWebhookHealth(source, normalized.events.map((e) => e.platform), now, request)
    request.log.info({ source, deliveryId: result.deliveryId, accepted: result.accepted, duplicates: result.duplicates }, 'webhook delivery stored')
    return result
  }

  const receipt = (r: IngestResult) => ({
    deliveryId: r.deliveryId,
    duplicateDelivery: r.duplicateDelivery,
    accepted: r.accepted,
    duplicates: r.duplicates,
    skipped: r.skipped,
  })

  // Deliveries are parsed and checked by the adapters after the signature, never by the route
  // schema, which is here to document them.
  const documentOnly = () => (data: unknown) => ({ value: data })
  const postRoute = (source: WebhookSource, summary: string, body: z.ZodType, signatureHeader: string) =>
    app.post(
      `/webhooks/${source}`,
      {
        config: { access: 'public' },
        validatorCompiler: documentOnly,
        bodyLimit: webhooks.bodyLimitBytes,
        schema: {
          tags: ['webhooks'],
          summary,
          description: `Authenticated by the ${signatureHeader} header over the raw body, not by a token. 200 only after the delivery is committed; 503 when the database is unavailable (retry).`,
          headers: z.object({ [signatureHeader]: z.string() }),
          body,
          response: { 200: S.DeliveryReceipt, 400: Problem, 401: Problem, 404: Problem, 413: Problem, 503: Problem },
        },
      },
      async (request) => receipt(await receive(source, request)),
    )

  app.get(
    '/webhooks/meta',
    {
      config: { access: 'public' },
      schema: {
        tags: ['webhooks'],
        summary: 'Meta subscription handshake: echoes hub.challenge as plain text when hub.verify_token matches',
        description: 'Called by Meta when the webhook is subscribed: 200 with hub.challenge as text/plain when hub.mode is subscribe and hub.verify_token matches META_VERIFY_TOKEN, 403 otherwise; 404 when Meta is not configured.',
        querystring: S.MetaHandshakeQuery,
        response: { 200: z.string().describe('hub.challenge, as text/plain'), 400: Problem, 403: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      if (!webhooks.meta) throw new WebhookNotConfiguredError('meta')
      return sendHandshake(reply, platformAdapters.meta.handshake!(request.query, webhooks.meta.verifyToken))
    },
  )
  postRoute('meta', 'Facebook Page feed and Instagram comment changes', S.MetaDelivery, 'x-hub-signature-256')

  app.get(
    '/webhooks/x',
    {
      config: { access: 'public' },
      schema: {
        tags: ['webhooks'],
        summary: 'X CRC check: {"response_token":"sha256=<base64 HMAC of crc_token>"}',
        description: 'Called by X at registration and about hourly: the CRC response is the base64 HMAC-SHA256 of crc_token under X_CONSUMER_SECRET. 404 when X is not configured.',
        querystring: S.XCrcQuery,
        response: { 200: z.object({ response_token: z.string() }), 400: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      if (!webhooks.xConsumerSecret) throw new WebhookNotConfiguredError('x')
      return sendHandshake(reply, platformAdapters.x.handshake!(request.query, webhooks.xConsumerSecret))
    },
  )
  postRoute('x', 'X Account Activity events (replies to the city, deletions)', S.XDelivery, 'x-twitter-webhooks-signature')

  app.get(
    '/webhooks/linkedin',
    {
      config: { access: 'public' },
      schema: {
        tags: ['webhooks'],
        summary: 'LinkedIn validation: {"challengeCode","challengeResponse":"<hex HMAC of challengeCode>"}',
        description: 'Called by LinkedIn at registration and every 2 hours: the hex HMAC-SHA256 of challengeCode under LINKEDIN_CLIENT_SECRET. 404 when LinkedIn is not configured.',
        querystring: S.LinkedInChallengeQuery,
        response: { 200: z.object({ challengeCode: z.string(), challengeResponse: z.string() }), 400: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      if (!webhooks.linkedinClientSecret) throw new WebhookNotConfiguredError('linkedin')
      return sendHandshake(reply, platformAdapters.linkedin.handshake!(request.query, webhooks.linkedinClientSecret))
    },
  )
  postRoute('linkedin', 'LinkedIn organization social action notifications', S.LinkedInDelivery, 'x-li-signature')
  postRoute('website', 'Comments from the city website', S.WebsiteDelivery, 'townsquare-signature')

  app.get(
    '/webhooks/status',
    {
      config: { access: TST },
      schema: { tags: ['webhooks'], summary: 'Deliveries accepted, duplicated, malformed and refused, per source', description: 'Counters per source and outcome since this instance started, and the group-commit writer\'s figures: to see whether a platform stopped delivering or is being refused.', response: { 200: S.WebhookStatus, 401: Problem, 403: Problem } },
    },
    async () => {
      const since = new Date(app.clock().getTime() - 24 * 3600_000)
      const last24h = await app.db.prisma.$queryRaw<Array<{ source: string; outcome: string; deliveries: number; events: number }>>`
        SELECT source, outcome, count(*)::int AS deliveries, COALESCE(sum(event_count), 0)::int AS events
          FROM webhook_delivery WHERE received_at >= ${since} GROUP BY source, outcome ORDER BY source, outcome`
      const iso = (d: Date | null) => d?.toISOString() ?? null
      const sources = Object.fromEntries(
        (Object.keys(stats.bySource) as WebhookSource[]).map((s) => {
          const c = stats.bySource[s]
          return [s, { ...c, configured: secrets[s] !== null, lastAcceptedAt: iso(c.lastAcceptedAt), lastRejectedAt: iso(c.lastRejectedAt) }]
        }),
      ) as z.infer<typeof S.WebhookStatus>['sources']
      return { instanceStartedAt: stats.startedAt.toISOString(), sources, writer: writer.stats(), last24h }
    },
  )

  app.get(
    '/webhooks/deliveries',
    {
      config: { access: TST },
      schema: { tags: ['webhooks'], summary: 'The raw delivery archive, newest first', description: 'Every delivery as received (source, outcome, event count, digest of the bytes), newest first, in pages (nextCursor).', querystring: S.DeliveryListQuery, response: { 200: S.DeliveryList, 400: Problem, 401: Problem, 403: Problem } },
    },
    async (request) => {
      const { source, outcome, limit } = request.query
      const cursor = request.query.cursor ? decodeCursor(request.query.cursor, { receivedAt: 'time', id: 'uuid' }) : null
      const rows = await app.db.prisma.webhookDelivery.findMany({
        where: {
          ...(source ? { source } : {}),
          ...(outcome ? { outcome } : {}),
          ...(cursor
            ? { OR: [{ receivedAt: { lt: new Date(cursor.receivedAt) } }, { receivedAt: new Date(cursor.receivedAt), id: { lt: cursor.id } }] }
            : {}),
        },
        orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
        omit: { body: true, headers: true, skipped: true },
      })
      const page = rows.slice(0, limit)
      const sizes = await app.db.prisma.$queryRaw<Array<{ id: string; bytes: number }>>`
        SELECT id::text, octet_length(body) AS bytes FROM webhook_delivery WHERE id = ANY(${page.map((r) => r.id)}::uuid[])`
      const bytes = new Map(sizes.map((s) => [s.id, s.bytes]))
      const last = page[page.length - 1]
      return {
        items: page.map((r) => ({
          id: r.id,
          source: r.source,
          receivedAt: r.receivedAt.toISOString(),
          outcome: r.outcome,
          bodySha256: r.bodySha256,
          bytes: bytes.get(r.id) ?? 0,
          eventCount: r.eventCount,
          signatureVariant: r.signatureVariant,
          problems: (r.problems as Array<{ path: string; message: string }> | null) ?? null,
        })),
        nextCursor: rows.length > limit && last ? encodeCursor({ receivedAt: last.receivedAt.toISOString(), id: last.id }) : null,
      }
    },
  )

  app.get(
    '/webhooks/deliveries/:id',
    {
      config: { access: TST },
      schema: { tags: ['webhooks'], summary: 'One raw delivery, its exact bytes and headers', description: 'The delivery\'s exact bytes (base64) and headers as received, so a signature and a parse can be checked again.', params: S.DeliveryParams, response: { 200: S.DeliveryDetail, 400: Problem, 401: Problem, 403: Problem, 404: Problem } },
    },
    async (request) => {
      // The raw bytes are the comments it carried: logged with their ids (by arrival), found or not.
      const r = await loggedRead(app.db.prisma, accessFrom(request, 'webhooks.delivery', request.params, app.clock()), async (tx) => {
        const found = await tx.webhookDelivery.findUnique({ where: { id: request.params.id } })
        if (!found) return { value: null, recordIds: [] }
        const carried = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT c.id::text AS id FROM comment c
           WHERE c.id IN (SELECT comment_id FROM comment_event WHERE delivery_id = ${found.id}::uuid)
           ORDER BY c.seq`
        return { value: found, recordIds: carried.map((c) => c.id) }
      })
      if (!r) throw new NotFoundError(`No webhook delivery ${request.params.id}.`)
      // Null once every comment it carried was disposed (docs/retention.md).
      const body = r.body === null ? null : Buffer.from(r.body)
      let bodyText: string | null
      try {
        bodyText = body === null ? null : new TextDecoder('utf-8', { fatal: true }).decode(body)
      } catch {
        bodyText = null
      }
      return {
        id: r.id,
        source: r.source,
        receivedAt: r.receivedAt.toISOString(),
        outcome: r.outcome,
        bodySha256: r.bodySha256,
        bytes: body?.length ?? 0,
        eventCount: r.eventCount,
        signatureVariant: r.signatureVariant,
        problems: (r.problems as Array<{ path: string; message: string }> | null) ?? null,
        headers: r.headers as Record<string, string>,
        body: body?.toString('base64') ?? null,
        bodyText,
        skipped: r.skipped as Array<{ reason: string; raw: unknown }> | null,
      }
    },
  )
}
