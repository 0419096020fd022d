import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp, loggerOptions } from '../src/app.js'
import { PROJECT_ROOT } from '../src/paths.js'
import { testConfig } from './helpers/app.js'
import { createTestDatabase, serviceDatabaseEnv } from './helpers/db.js'

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

t.test('npm start path: migrates, listens, and on SIGTERM finishes in-flight requests and exits 0', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...serviceDatabaseEnv(database), PORT: String(port), LOG_LEVEL: 'info', DATA_DIR: mkdtempSync(join(tmpdir(), 'townsquare-data-')), LEDGER_CHECKPOINT_INTERVAL_MS: '60000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  t.teardown(() => void child.kill('SIGKILL'))
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    const ready = await fetch(`${base}/readyz`).catch(() => null)
    if (ready?.status === 200) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.equal((await fetch(`${base}/readyz`)).status, 200, 'ready after migrating')

  // A request in flight when SIGTERM arrives still gets its answer: its headers are sent and half
  // its body, so the server holds it open when the signal lands; the rest follows after.
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let answer = ''
  socket.on('data', (chunk) => (answer += chunk))
  const body = '{"padding":"' + 'x'.repeat(64) + '"}'
  socket.write(`POST /v1/ledger/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer not-a-token\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
  await new Promise((resolve) => setTimeout(resolve, 300))
  child.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 300))
  socket.end(body.slice(10))
  await once(socket, 'close')
  t.match(answer, /^HTTP\/1\.1 401 /, 'the in-flight request was answered')
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 0, 'exit 0')
  t.match(output, /shutting down/)
  t.notMatch(output, /not-a-token/, 'the token never reaches the log')
})

t.test('logs redact authorization headers and webhook signatures', async (t) => {
  let logged = ''
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logged += chunk
      done()
    },
  })
  const config = testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none', LEDGER_SEALER: 'off' })
  const app = await buildApp(config, { logger: { ...(loggerOptions({ logLevel: 'info' }) as object), stream } })
  t.teardown(() => app.close())
  await app.inject({ url: '/healthz', headers: { authorization: 'Bearer secret-token-value', 'x-request-id': 'req-123' } })
  await app.inject({ method: 'POST', url: '/v1/webhooks/meta', headers: { 'x-hub-signature-256': 'sha256=deadbeefsignature', 'content-type': 'application/json' }, payload: '{}' })
  t.match(logged, /"reqId":"req-123"/, 'the request id is logged')
  t.match(logged, /\[redacted\]/)
  t.notMatch(logged, /secret-token-value/)
  t.notMatch(logged, /deadbeefsignature/)
})
