// Every response says `X-Content-Type-Options: nosniff`, so a browser never sniffs a body into
// something its type does not declare (Meta's handshake echoes caller-chosen text as text/plain).
import t from 'tap'
import { testApp } from '../helpers/app.js'

t.test('every response carries nosniff and its request id', async (t) => {
  const { app } = await testApp(t)
  const responses = {
    'a health check': await app.inject('/healthz'),
    "Meta's handshake echo (text/plain)": await app.inject('/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E'),
    'a refused handshake': await app.inject('/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1'),
    'the OpenAPI document': await app.inject('/openapi.json'),
    'the API reference page': await app.inject('/docs/'),
    'a 401 problem': await app.inject('/v1/comments'),
    'a 404 problem': await app.inject('/v1/no-such-route'),
  }
  t.equal(responses["Meta's handshake echo (text/plain)"].body, '<script>alert(1)</script>', 'the echo is the challenge, as Meta requires')
  t.match(responses["Meta's handshake echo (text/plain)"].headers['content-type'], /^text\/plain/)
  for (const [what, res] of Object.entries(responses)) {
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${what} (${res.statusCode})`)
    t.ok(res.headers['x-request-id'], `${what}: request id`)
  }
})
