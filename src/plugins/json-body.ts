// JSON request bodies of the API (not the webhooks, which keep their own raw-bytes parser): the
// default parser, then a refusal of what PostgreSQL cannot keep as text or jsonb (U+0000, a lone
// UTF-16 surrogate, nesting beyond 64 levels), so such a value is a 400 naming where it is, never a
// 500 from the database or a silent U+FFFD in a stored statement.
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { unrepresentable } from '../webhooks/platforms/parse.js'
import { ValidationProblem } from './errors.js'

const jsonBodyPlugin: FastifyPluginAsync = async (app) => {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(error, undefined)
      const problem = unrepresentable(value)
      if (problem) return done(new ValidationProblem('The body holds text that cannot be kept.', [{ path: `body:${problem.path}`, message: problem.message }]), undefined)
      done(null, value)
    })
  })
}

export default fp(jsonBodyPlugin, { name: 'json-body' })
