import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { canonicalJson } from '../ledger/canonical-json.js'
import { ProblemError, ValidationProblem } from './errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route creates something and honours an Idempotency-Key header. */
    idempotent?: boolean
  }
  interface FastifyRequest {
    idempotency?: { actor: string; key: string }
  }
}

/** How long a first request may run before a repeat is allowed to take over (it crashed). */
const IN_PROGRESS_TIMEOUT_MS = 60_000
/** How long outcomes are kept for replay. */
const RETENTION_HOURS = 24

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

function requestDigest(request: FastifyRequest): string {
  const body = request.body === undefined || Buffer.isBuffer(request.body) ? null : request.body
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n${canonicalJson(body ?? null)}`)
    .digest('hex')
}

/**
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): a repeated request with the same key
 * from the same caller gets the first outcome again instead of creating twice. A key reused with a
 * different request is refused (422); a repeat while the first is still running gets 409.
 * Server errors are not recorded, so a retry after one runs again.
 */
async function idempotencyPlugin(app: FastifyInstance) {
  const prisma = app.db.prisma

  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.idempotent) return
    const header = request.headers['idempotency-key']
    if (header === undefined) return
    const key = Array.isArray(header) ? header[0]! : header
    if (!KEY_PATTERN.test(key)) {
      throw new ValidationProblem('The Idempotency-Key header must be 1 to 255 visible ASCII characters.', [{ path: 'headers:$.idempotency-key', message: 'invalid key' }])
    }
    const actor = request.user?.sub ? `user:${request.user.sub}` : `ip:${request.ip}`
    const digest = requestDigest(request)
    const route = request.routeOptions.url ?? request.url
    if (Math.random() < 0.01) {
      await prisma.$executeRaw`DELETE FROM idempotency_record WHERE created_at < now() - make_interval(hours => ${RETENTION_HOURS})`
    }
    const inserted = await prisma.$executeRaw`
      INSERT INTO idempotency_record (actor, key, method, route, request_sha256) VALUES (${actor}, ${key}, ${request.method}, ${route}, ${digest})
      ON CONFLICT (actor, key) DO NOTHING`
    if (inserted === 1) {
      request.idempotency = { actor, key }
      return
    }
    const record = await prisma.idempotencyRecord.findUnique({ where: { actor_key: { actor, key } } })
    if (!record) throw new ProblemError(409, 'idempotency-conflict', 'Conflict', 'The Idempotency-Key was released while this request arrived; retry.')
    if (record.requestSha256 !== digest) {
      throw new ProblemError(422, 'idempotency-key-reused', 'Idempotency-Key reused', `The Idempotency-Key ${key} was used for a different request (${record.method} ${record.route}).`)
    }
    if (record.statusCode === null) {
      const stale = Date.now() - record.createdAt.getTime() > IN_PROGRESS_TIMEOUT_MS
      const taken = stale
        ? await prisma.$executeRaw`UPDATE idempotency_record SET created_at = now() WHERE actor = ${actor} AND key = ${key} AND status_code IS NULL AND created_at = ${record.createdAt}`
        : 0
      if (taken !== 1) throw new ProblemError(409, 'idempotency-in-progress', 'Conflict', `A request with Idempotency-Key ${key} is still being processed; retry shortly.`)
      request.idempotency = { actor, key }
      return
    }
    return reply
      .status(record.statusCode)
      .type(record.statusCode >= 400 ? 'application/problem+json' : 'application/json')
      .header('idempotent-replayed', 'true')
      .send(record.responseBody)
  })

  app.addHook('onSend', async (request, reply, payload) => {
    const held = request.idempotency
    if (!held || reply.getHeader('idempotent-replayed')) return payload
    request.idempotency = undefined
    if (reply.statusCode >= 500) {
      await prisma.idempotencyRecord.deleteMany({ where: { actor: held.actor, key: held.key, statusCode: null } })
      return payload
    }
    let body: unknown = null
    try {
      body = typeof payload === 'string' ? JSON.parse(payload) : null
    } catch {
      body = payload
    }
    await prisma.$executeRaw`
      UPDATE idempotency_record SET status_code = ${reply.statusCode}, response_body = ${JSON.stringify(body)}::jsonb
       WHERE actor = ${held.actor} AND key = ${held.key}`
    return payload
  })
}

export default fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['auth'] })
