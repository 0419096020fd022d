import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { testApp } from '../helpers/app.js'

let created = 0
let failNext = false
// Holds a request inside the handler until the test releases it, so "in progress" does not depend on timing.
let hold: { entered: () => void; release: Promise<void> } | null = null
const extend = (app: FastifyInstance) => {
  app.post('/test/things', { config: { access: ['tst_admin'], idempotent: true } }, async (request, reply) => {
    if (failNext) {
      failNext = false
      throw new Error('transient failure')
    }
    if (hold) {
      const h = hold
      hold = null
      h.entered()
      await h.release
    }
    created++
    return reply.status(201).send({ id: randomUUID(), n: created, body: request.body })
  })
}

t.test('Idempotency-Key: a repeat replays the first outcome and creates nothing', async (t) => {
  const { app, token } = await testApp(t, { extend })
  const post = (key: string | undefined, body: object, sub = 'jdoe') =>
    app.inject({
      method: 'POST',
      url: '/test/things',
      headers: { authorization: `Bearer ${token('tst_admin', sub)}`, ...(key ? { 'idempotency-key': key } : {}) },
      payload: body,
    })

  const first = await post('key-1', { name: 'a' })
  t.equal(first.statusCode, 201)
  const again = await post('key-1', { name: 'a' })
  t.equal(again.statusCode, 201)
  t.same(again.json(), first.json(), 'the same response')
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal(created, 1, 'created once')

  const reused = await post('key-1', { name: 'b' })
  t.equal(reused.statusCode, 422)
  t.match(reused.json(), { type: '/problems/idempotency-key-reused' })

  t.equal((await post('key-1', { name: 'a' }, 'someone-else')).statusCode, 201, 'keys are scoped to the caller')
  t.equal(created, 2)

  await post(undefined, { name: 'c' })
  await post(undefined, { name: 'c' })
  t.equal(created, 4, 'without a key every request creates')

  let release!: () => void
  const entered = new Promise<void>((resolve) => {
    hold = { entered: resolve, release: new Promise<void>((r) => (release = r)) }
  })
  const inProgress = post('key-2', { name: 'd' })
  await entered
  const repeat = await post('key-2', { name: 'd' })
  t.equal(repeat.statusCode, 409, 'a repeat while the first is in progress is told so')
  t.match(repeat.json(), { type: '/problems/idempotency-in-progress' })
  release()
  t.equal((await inProgress).statusCode, 201)
  t.equal((await post('key-2', { name: 'd' })).headers['idempotent-replayed'], 'true', 'once done, a repeat is replayed')
  t.equal(created, 5)

  failNext = true
  t.equal((await post('key-3', { name: 'e' })).statusCode, 500)
  t.equal((await post('key-3', { name: 'e' })).statusCode, 201, 'a server error is not recorded: the retry runs')
  t.equal((await post('bad key with spaces', { name: 'f' })).statusCode, 400)
})
