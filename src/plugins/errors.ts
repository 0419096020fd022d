import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import { z } from 'zod'

/** The problem+json body every error response carries (RFC 9457). */
export const Problem = z
  .object({
    type: z.string().describe('URI reference identifying the problem type; see docs/errors.md'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('For validation problems: each failing field, its JSON path and what is wrong'),
  })
  .meta({ id: 'Problem' })
export type Problem = z.infer<typeof Problem>

const PROBLEM_BASE = '/problems/'

/**
 * A domain error that knows its HTTP meaning. Domain modules throw subclasses
 * (e.g. `PolicyVersionPublishedError`); this plugin renders them.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail)
    this.name = 'ProblemError'
  }
}

export class NotFoundError extends ProblemError {
  constructor(detail: string) {
    super(404, 'not-found', 'Not Found', detail)
  }
}

export class ConflictError extends ProblemError {
  constructor(detail: string, slug = 'conflict') {
    super(409, slug, 'Conflict', detail)
  }
}

export class ValidationProblem extends ProblemError {
  constructor(detail: string, errors: Array<{ path: string; message: string }>) {
    super(400, 'validation', 'Invalid request', detail, { errors })
  }
}

function send(reply: FastifyReply, problem: Problem & Record<string, unknown>) {
  return reply.status(problem.status).type('application/problem+json').send(problem)
}

// `/items/0/count` (JSON Pointer, as Fastify reports it) becomes `$.items[0].count`.
const jsonPath = (pointer: string) =>
  '$' +
  pointer
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')

// PostgreSQL error classes a client can act on; everything else is a 500 whose text stays in the log.
// The database unreachable, shutting down or starting, refusing the connection (class 08), the login
// (28000, 28P01) or the database name (3D000), and class 53 (insufficient resources: disk full, out
// of memory, too many connections): nothing was stored, and a retry later can succeed, so 503.
const DATABASE_UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE',
  '57P01', '57P02', '57P03',
  '08000', '08001', '08003', '08004', '08006',
  '28000', '28P01', '3D000',
  '53000', '53100', '53200', '53300',
])

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    // pg errors carry `code`; Prisma's adapter errors carry PostgreSQL's as `originalCode`.
    const { code: own, originalCode } = e as { code?: unknown; originalCode?: unknown }
    const code = own ?? originalCode
    if (typeof code === 'string' && DATABASE_UNAVAILABLE.has(code)) return true
    const message = (e as { message?: unknown }).message
    if (typeof message === 'string' && /connection terminated|timeout exceeded when trying to connect|Can't reach database|is not queryable/i.test(message)) {
      return true
    }
  }
  return false
}

function uniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown; originalCode?: unknown } }
  return e.code === '23505' || e.code === 'P2002' || e.cause?.originalCode === '23505'
}

export function problemFromError(error: FastifyError | Error, request: FastifyRequest): Problem & Record<string, unknown> {
  if (error instanceof ProblemError) {
    return {
      type: PROBLEM_BASE + error.slug,
      title: error.title,
      status: error.status,
      detail: error.message,
      ...error.extensions,
    }
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.map((issue) => {
      const location = error.validationContext ?? 'body'
      return {
        path: `${location}:${jsonPath(issue.instancePath)}`,
        message: issue.message ?? 'is invalid',
      }
    })
    return {
      type: PROBLEM_BASE + 'validation',
      title: 'Invalid request',
      status: 400,
      detail: `The request ${error.validationContext ?? 'body'} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      errors,
    }
  }
  const fastifyError = error as FastifyError
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { type: PROBLEM_BASE + 'body-too-large', title: 'Content Too Large', status: 413, detail: `The request body exceeds the limit for ${request.url}.` }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        type: PROBLEM_BASE + 'unsupported-media-type',
        title: 'Unsupported Media Type',
        status: 415,
        detail: `Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted here; send application/json.`,
      }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { type: PROBLEM_BASE + 'malformed-body', title: 'Bad Request', status: 400, detail: fastifyError.message }
  }
  if (uniqueViolation(error)) {
    return { type: PROBLEM_BASE + 'conflict', title: 'Conflict', status: 409, detail: 'The request conflicts with a record that already exists.' }
  }
  if (isDatabaseUnavailable(error)) {
    return {
      type: PROBLEM_BASE + 'database-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The database is unavailable; nothing was stored. Retry later.',
    }
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (e.g. malformed URL, too many parameters) carry safe messages.
    return { type: 'about:blank', title: fastifyError.name || 'Bad Request', status, detail: fastifyError.message }
  }
  // Never leak the message of a server error: it may contain SQL, a stack or a secret.
  return {
    type: PROBLEM_BASE + 'internal',
    title: 'Internal Server Error',
    status: 500,
    detail: `An unexpected error occurred. Quote request id ${request.id} when reporting it.`,
  }
}

async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemFromError(error, request)
    if (problem.status >= 500 || isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ status: problem.status, problem: problem.type, detail: problem.detail }, 'request refused')
    }
    if (problem.status === 503) reply.header('retry-after', '5')
    // The path only: query strings can carry tokens (e.g. a webhook handshake's verify token).
    return send(reply, { ...problem, instance: request.url.split('?')[0] })
  })

  app.setNotFoundHandler((request, reply) =>
    send(reply, {
      type: PROBLEM_BASE + 'not-found',
      title: 'Not Found',
      status: 404,
      detail: `No route ${request.method} ${request.url.split('?')[0]}.`,
      instance: request.url.split('?')[0],
    }),
  )
}

export default fp(errorsPlugin, { name: 'errors' })
