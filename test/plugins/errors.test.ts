import t from 'tap'
import { z } from 'zod'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { testApp } from '../helpers/app.js'

// Test-only routes exercise the error handler the same way domain routes will.
const extend = (app: FastifyInstance) => {
  const typed = app.withTypeProvider<ZodTypeProvider>()
  typed.post(
    '/test/echo',
    {
      config: { access: 'public' },
      schema: {
        body: z.object({ name: z.string().min(1), items: z.array(z.object({ count: z.number().int() })) }),
      },
    },
    (request) => request.body,
  )
  typed.get('/test/boom', { config: { access: 'public' } }, async () => {
    throw new Error('SELECT secret_column FROM users WHERE password = \'hunter2\'')
  })
}

t.test('problem+json for every error', async (t) => {
  const { app } = await testApp(t, { extend })

  t.test('400 lists each failing field with its path', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: '', items: [{ count: 1.5 }] } })
    t.equal(res.statusCode, 400)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    const body = res.json()
    t.match(body, { type: '/problems/validation', title: 'Invalid request', status: 400 })
    t.same(body.errors.map((e: { path: string }) => e.path).sort(), ['body:$.items[0].count', 'body:$.name'])
  })

  t.test('400 for malformed JSON', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"name":' })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { type: '/problems/malformed-body', status: 400 })
  })

  t.test('404 for an unknown route', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing-here?token=abc' })
    t.equal(res.statusCode, 404)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.same(res.json(), { type: '/problems/not-found', title: 'Not Found', status: 404, detail: 'No route GET /v1/nothing-here.', instance: '/v1/nothing-here' })
  })

  t.test('413 for a body over the limit', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(app.config.bodyLimitBytes), items: [] }),
    })
    t.equal(res.statusCode, 413)
    t.match(res.json(), { type: '/problems/body-too-large', status: 413 })
  })

  t.test('415 for a content type the route does not take', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'text/xml' }, payload: '<a/>' })
    t.equal(res.statusCode, 415)
    t.match(res.json(), { type: '/problems/unsupported-media-type', status: 415 })
  })

  t.test('500 hides the message, the SQL and the stack', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/test/boom' })
    t.equal(res.statusCode, 500)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    const body = res.json()
    t.match(body, { type: '/problems/internal', status: 500 })
    t.notMatch(res.body, /SELECT|secret_column|hunter2|at .*\.ts/)
    t.match(body.detail, res.headers['x-request-id'] as string, 'tells which request id to quote')
  })
})
