// Behind the documented reverse proxy, rate limits and logs key on the client's real address: the
// one the proxy added to X-Forwarded-For, never an entry the client wrote itself.
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { testApp } from '../helpers/app.js'

const secret = 'x'.repeat(32)

t.test('TRUST_PROXY: none, a number of proxies (true is one), or their addresses; never every hop', async (t) => {
  t.equal(loadConfig({ JWT_SECRET: secret }).trustProxy, false)
  t.equal(loadConfig({ JWT_SECRET: secret, TRUST_PROXY: 'false' }).trustProxy, false)
  const one = loadConfig({ JWT_SECRET: secret, TRUST_PROXY: 'true' }).trustProxy as (address: string, hop: number) => boolean
  t.same([one('127.0.0.1', 0), one('198.51.100.1', 1)], [true, false], 'true trusts the nearest proxy only')
  const two = loadConfig({ JWT_SECRET: secret, TRUST_PROXY: '2' }).trustProxy as (address: string, hop: number) => boolean
  t.same([two('x', 0), two('x', 1), two('x', 2)], [true, true, false])
  t.same(loadConfig({ JWT_SECRET: secret, TRUST_PROXY: '127.0.0.1,10.0.0.0/8' }).trustProxy, ['127.0.0.1', '10.0.0.0/8'])
  t.throws(() => loadConfig({ JWT_SECRET: secret, TRUST_PROXY: 'everyone' }), ConfigError)
})

t.test('behind one proxy (TRUST_PROXY=true), a client cannot escape the appeal rate limit by writing X-Forwarded-For', async (t) => {
  const { app } = await testApp(t, { env: { TRUST_PROXY: 'true' } })
  // What nginx's $proxy_add_x_forwarded_for sends: whatever the client wrote, then the address it saw.
  const appeal = (spoofed: string, real: string) =>
    app.inject({ method: 'POST', url: '/v1/appeals', headers: { 'x-forwarded-for': `${spoofed}, ${real}` }, payload: {} })
  const statuses: number[] = []
  for (let i = 0; i < 11; i++) statuses.push((await appeal(`198.51.100.${i}`, '203.0.113.7')).statusCode)
  t.same(statuses.slice(0, 10), Array(10).fill(400), 'ten requests are heard (and refused as invalid)')
  t.equal(statuses[10], 429, 'the eleventh from the same client is rate limited, whatever it claims to be')
  t.equal((await appeal('198.51.100.1', '203.0.113.8')).statusCode, 400, 'another client keeps its own budget')
})
