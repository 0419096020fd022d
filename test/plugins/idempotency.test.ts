import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { testApp } from '../helpers/app.js'

let created = 0
let failNext = false
const extend = (app: FastifyInstance) => {
  app.post('/test/things', { config: { access: ['tst_admin'], idempotent: true } }, async (request, reply) => {
    if (failNext) {
      failNext = false
      throw new Error('transient failure')
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
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

  const [one, two] = await Promise.all([post('key-2', { name: 'd' }), post('key-2', { name: 'd' })])
  t.same([one.statusCode, two.statusCode].sort(), [201, 409], 'a concurrent repeat is told the first is in progress')
  t.equal(created, 5)

  failNext = true
  t.equal((await post('key-3', { name: 'e' })).statusCode, 500)
  t.equal((await post('key-3', { name: 'e' })).statusCode, 201, 'a server error is not recorded: the retry runs')
  t.equal((await post('bad key with spaces', { name: 'f' })).statusCode, 400)
})
