// A tampered pagination cursor is a 400 on every list, never a 500 (an invalid date or id reaching
// a query). The lists are taken from the OpenAPI document, so a new list is covered when it comes.
import t from 'tap'
import { decodeCursor, encodeCursor } from '../../src/http/cursor.js'
import { ROLES } from '../../src/plugins/auth.js'
import { testApp } from '../helpers/app.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Cursors no list ever returned: right keys with wrong kinds, wrong shapes, not base64url JSON. */
const TAMPERED = [
  'not a cursor!',
  b64('just a string'),
  b64(null),
  b64([1, 2]),
  b64({}),
  b64({ seq: '1e99', createdAt: 'yesterday', placedAt: '2026-13-45T99:00:00.000Z', receivedAt: 'not a date', dueOn: '2026-02-31x', id: 'not-a-uuid', commentId: "1' OR '1'='1" }),
  b64({ seq: -1, createdAt: 0, placedAt: {}, receivedAt: [], dueOn: true, id: 12, commentId: null }),
  b64({ seq: '99999999999999999999', createdAt: '+275760-09-13T00:00:00.000Z', placedAt: '2026-12-07', receivedAt: '2026-12-07T00:00:00Z', dueOn: '07/12/2026', id: '00000000-0000-0000-0000-00000000000g', commentId: '' }),
]

t.test('decodeCursor returns what encodeCursor wrote, and refuses anything else', async (t) => {
  const at = new Date('2026-12-07T10:11:12.131Z')
  const fields = { createdAt: 'time', id: 'uuid', seq: 'seq', dueOn: 'day' } as const
  const position = { createdAt: at.toISOString(), id: '0b6f4a5e-2f4e-4b8e-9d53-7f1c2a3b4c5d', seq: '123', dueOn: '2026-12-14' }
  t.same(decodeCursor(encodeCursor(position), fields), position)
  for (const cursor of TAMPERED) t.throws(() => decodeCursor(cursor, fields), /not one this list returned/, cursor)
})

t.test('every list answers a tampered cursor with 400 problem+json', async (t) => {
  const { app, token } = await testApp(t)
  const auth = { authorization: `Bearer ${token([...ROLES])}` }
  const created = await app.inject({
    method: 'POST',
    url: '/v1/foia/requests',
    headers: auth,
    payload: { requester: { name: 'A resident' }, receivedOn: '2026-12-07', description: 'Comments the city removed', commercial: false },
  })
  t.equal(created.statusCode, 201)
  const requestId = created.json().id as string

  const paths = Object.entries((app.swagger() as { paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string }> } }> }).paths)
    .filter(([, item]) => item.get?.parameters?.some((p) => p.name === 'cursor' && p.in === 'query'))
    .map(([path]) => path.replace('{id}', requestId))
  t.ok(paths.length >= 11, `lists with a cursor: ${paths.join(', ')}`)
  for (const path of paths) {
    for (const cursor of TAMPERED) {
      const res = await app.inject({ url: `${path}?cursor=${encodeURIComponent(cursor)}`, headers: auth })
      t.equal(res.statusCode, 400, `${path} ${cursor}`)
      t.match(res.json(), { status: 400, errors: [{ path: 'querystring:$.cursor' }] })
    }
  }
})
