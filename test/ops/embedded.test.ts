// The zero-setup start: no DATABASE_URL runs on an embedded PostgreSQL server (src/db/embedded.ts),
// which must do everything a server does, stop with the service, and survive its kill -9.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import t from 'tap'
import { startEmbedded } from '../../src/db/embedded.js'
import { PROJECT_ROOT } from '../../src/paths.js'
import { signatureHeaders } from '../factories/webhooks.js'
import { TEST_JWT_SECRET } from '../helpers/app.js'
import { startFakePlatform } from '../helpers/fake-platform.js'
import { freePort, startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

const sign = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', iss: 'townsquare-dev', aud: 'townsquare', expiresIn: '1h' })
const token = (role: string) => sign({ sub: `${role}-1`, roles: [role] })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const made: string[] = []
t.teardown(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })))
/** A temporary directory, removed when this file's tests end (an embedded cluster is about 40 MB). */
const tempDir = (prefix: string) => {
  made.push(mkdtempSync(join(tmpdir(), prefix)))
  return made.at(-1)!
}

/** The postgres processes serving `dataDir`, whoever started them. */
function postgresProcesses(dataDir: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,command='], { encoding: 'utf8' }).stdout
  return ps
    .split('\n')
    .filter((line) => line.includes('/bin/postgres') && line.includes(join(dataDir, 'pgdata')) && !line.includes('/bin/sh'))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
}

async function until(check: () => boolean | Promise<boolean>, seconds = 30): Promise<boolean> {
  for (let i = 0; i < seconds * 10; i++, await sleep(100)) if (await check()) return true
  return false
}

async function listening(port: number): Promise<boolean> {
  const socket = new pg.Client({ host: '127.0.0.1', port, connectionTimeoutMillis: 1000 })
  socket.on('error', () => {})
  try {
    await socket.connect()
    return true
  } catch (error) {
    return !/ECONNREFUSED/.test((error as Error).message)
  } finally {
    await socket.end().catch(() => {})
  }
}

t.test('the embedded server does what a server does: many connections, named statements, LISTEN/NOTIFY, roles', async (t) => {
  const dataDir = tempDir('townsquare-embedded-')
  const embedded = await startEmbedded({ dataDir })
  t.teardown(() => embedded.stop())
  const owner = new pg.Pool({ connectionString: embedded.url, max: 8 })

  const version = await owner.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`)
  t.ok(version.rows[0]!.v >= 180000, `real PostgreSQL ${version.rows[0]!.v}`)
  const settings = await owner.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'unix_socket_directories', 'fsync') ORDER BY name`)
  t.same(settings.rows, [{ name: 'fsync', setting: 'on' }, { name: 'listen_addresses', setting: '127.0.0.1' }, { name: 'unix_socket_directories', setting: '' }], 'durable, loopback TCP only')

  // Eight connections prepare a statement of the same name at once, each inside its own transaction.
  await owner.query('CREATE TABLE probe (id int PRIMARY KEY, body text)')
  const clients = await Promise.all(Array.from({ length: 8 }, () => owner.connect()))
  await Promise.all(clients.map((c) => c.query('BEGIN')))
  await Promise.all(clients.map((c, i) => c.query({ name: 'same_name', text: 'INSERT INTO probe VALUES ($1, $2)', values: [i, 'x'] })))
  await Promise.all(clients.map((c, i) => c.query(i % 2 ? 'ROLLBACK' : 'COMMIT')))
  clients.forEach((c) => c.release())
  t.equal((await owner.query('SELECT count(*)::int AS n FROM probe')).rows[0].n, 4, 'named statements on eight connections, each transaction its own')

  const listener = await owner.connect()
  await listener.query('LISTEN townsquare_probe')
  const notified = once(listener, 'notification')
  await owner.query(`SELECT pg_notify('townsquare_probe', 'hello')`)
  t.match((await notified)[0], { channel: 'townsquare_probe', payload: 'hello' }, 'LISTEN/NOTIFY across connections')

  listener.release()
  const runtime = new pg.Client({ connectionString: embedded.runtimeUrl })
  await runtime.connect()
  const who = await runtime.query<{ user: string; superuser: string; member: boolean }>(
    `SELECT current_user AS user, current_setting('is_superuser') AS superuser, pg_has_role('townsquare_runtime', 'MEMBER') AS member`,
  )
  t.same(who.rows[0], { user: 'townsquare_app', superuser: 'off', member: true }, 'the service logs in as a runtime login role')
  await t.rejects(runtime.query('CREATE DATABASE not_allowed'), /permission denied/)
  await runtime.end()
  await owner.end()

  const second = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import('./src/db/embedded.ts').then((m) => m.startEmbedded({ dataDir: ${JSON.stringify(dataDir)} })).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3) })`], { cwd: PROJECT_ROOT, encoding: 'utf8' })
  t.equal(second.status, 3)
  t.match(second.stderr, new RegExp(`in use by process ${process.pid}.*EMBEDDED_DATA_DIR`), 'a second process on the directory is refused, naming the variable')

  await embedded.stop()
  t.same(postgresProcesses(dataDir), [], 'stop() leaves no server running')
  const again = await startEmbedded({ dataDir })
  t.teardown(() => again.stop())
  const kept = new pg.Client({ connectionString: again.url })
  await kept.connect()
  t.equal((await kept.query('SELECT count(*)::int AS n FROM probe')).rows[0].n, 4, 'the data is kept across restarts')
  await kept.end()
})

/** A website delivery of comments `texts`, signed. */
function websiteDelivery(texts: string[], prefix: string): string {
  const occurredAt = new Date().toISOString()
  return JSON.stringify({
    events: texts.map((text, i) => ({
      id: `evt-${prefix}-${i}`,
      type: 'comment.created',
      commentId: `${prefix}-${i}`,
      pageUrl: 'https://www.citykankakee-il.gov/news/road-work',
      author: { id: `u-${prefix}-${i}`, name: `Resident ${i}` },
      text,
      occurredAt,
    })),
  })
}

async function deliver(service: ServiceProcess, body: string): Promise<number> {
  const res = await fetch(`${service.base}/v1/webhooks/website`, { method: 'POST', headers: { 'content-type': 'application/json', ...signatureHeaders('website', Buffer.from(body)) }, body })
  await res.arrayBuffer()
  return res.status
}

async function api<T>(service: ServiceProcess, path: string, role: string): Promise<T> {
  const res = await fetch(`${service.base}${path}`, { headers: { authorization: `Bearer ${token(role)}` } })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

t.test('without DATABASE_URL: the policy removes and flags, the worker carries out removals, checkpoints seal', async (t) => {
  const fake = await startFakePlatform()
  t.teardown(() => fake.close())
  const dataDir = tempDir('townsquare-data-')
  const env = { DATA_DIR: dataDir, LEDGER_CHECKPOINT_INTERVAL_MS: '200', JOBS: 'on', WEBSITE_API_URL: fake.baseUrl, WEBSITE_API_TOKEN: 'web-token' }
  const service = await startServiceProcess(t, env)
  await service.waitReady()
  t.match(service.output().split('\n')[0], /embedded PostgreSQL.*for evaluation only/, 'the first log line says it runs embedded, for evaluation')

  // `npm run db:seed` beside the running service uses its database (the lock file names it).
  const seed = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/seed.ts'], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir } })
  t.equal(seed.status, 0, seed.stderr)
  t.match(seed.stdout, /published version 1 of the default policy/)
  await sleep(1100) // in force from its publication time

  const texts = ['Thanks for fixing the road on Court Street', 'This is complete bullshit', 'Work from home and earn $5000 a week!!! Click here']
  t.equal(await deliver(service, websiteDelivery(texts, 'embedded')), 200, 'the delivery is acknowledged')

  type Comment = { externalId: string; moderationStatus: string }
  const comments = (await api<{ items: Comment[] }>(service, '/v1/comments?limit=10', 'records_clerk')).items
  const status = Object.fromEntries(comments.map((c) => [c.externalId, c.moderationStatus]))
  t.same(status, { 'embedded-0': 'allowed', 'embedded-1': 'removed', 'embedded-2': 'flagged' }, 'allowed, removed and flagged by the published policy')
  const queue = await api<{ items: Array<{ comment: { externalId: string } }> }>(service, '/v1/moderation/queue', 'tst_moderator')
  t.ok(queue.items.some((i) => i.comment.externalId === 'embedded-2'), 'the flagged comment waits in the review queue')

  // The test reads the outcome as the owner, through the URL the service published for commands beside it.
  const lock = JSON.parse(readFileSync(join(dataDir, 'embedded', 'townsquare-embedded.json'), 'utf8')) as { url: string }
  const owner = new pg.Client({ connectionString: lock.url })
  await owner.connect()
  const carriedOut = await until(async () => {
    const { rows } = await owner.query<{ n: number; done: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'succeeded')::int AS done FROM platform_action`)
    return rows[0]!.n > 0 && rows[0]!.done === rows[0]!.n
  })
  t.ok(carriedOut, 'the job worker carried the removal and its notice out on the platform')
  t.ok(fake.requests.length >= 1, `the platform API was called (${fake.requests.map((r) => `${r.method} ${r.path}`).join(', ')})`)
  const outcomes = await owner.query<{ kind: string }>(`SELECT kind FROM ledger_entry WHERE kind IN ('platform.action', 'notice.delivery')`)
  t.ok(outcomes.rowCount! >= 1, 'its outcome is recorded in the ledger')

  const entries = (await owner.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_entry')).rows[0]!.n
  await owner.end()
  let treeSize = 0
  const entriesSealed = await until(async () => {
    const res = await fetch(`${service.base}/v1/ledger/checkpoints/latest`, { headers: { authorization: `Bearer ${token('auditor')}` } })
    treeSize = res.status === 200 ? ((await res.json()) as { treeSize: number }).treeSize : 0
    return treeSize === entries
  })
  t.ok(entriesSealed, `a signed checkpoint seals the policy, the comments, the decision and the actions (tree size ${treeSize} of ${entries})`)
  const verify = await fetch(`${service.base}/v1/ledger/verify`, { method: 'POST', headers: { authorization: `Bearer ${token('auditor')}` } })
  t.match(await verify.json(), { ok: true }, 'the ledger verifies')

  await service.kill('SIGTERM')
  t.equal(service.child.exitCode, 0, 'SIGTERM: clean exit')
  t.same(postgresProcesses(join(dataDir, 'embedded')), [], 'and the embedded server stopped with it')
})

t.test('kill -9 of the service: its server stops, and the next start works on the same data', async (t) => {
  const dataDir = tempDir('townsquare-data-')
  const first = await startServiceProcess(t, { DATA_DIR: dataDir })
  await first.waitReady()
  t.equal(await deliver(first, websiteDelivery(['Before the crash'], 'kill9')), 200)
  const serving = postgresProcesses(join(dataDir, 'embedded'))
  t.equal(serving.length, 1, 'one postmaster serves the directory')
  await first.kill('SIGKILL')
  t.ok(await until(() => postgresProcesses(join(dataDir, 'embedded')).length === 0), 'the server shuts down when its service dies')

  const second = await startServiceProcess(t, { DATA_DIR: dataDir })
  await second.waitReady()
  const comments = (await api<{ items: Array<{ externalId: string }> }>(second, '/v1/comments?limit=10', 'records_clerk')).items
  t.same(comments.map((c) => c.externalId), ['kill9-0'], 'what was acknowledged before the kill is there')
  await second.kill('SIGTERM')
  t.equal(second.child.exitCode, 0)
})

t.test('faults at start: one clear line naming the variable, a non-zero exit, nothing changed', async (t) => {
  const taken = createServer()
  taken.listen(0, '127.0.0.1')
  await once(taken, 'listening')
  t.teardown(() => taken.close())
  const port = (taken.address() as { port: number }).port

  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['the port is taken', { EMBEDDED_PORT: String(port) }, new RegExp(`127\\.0\\.0\\.1:${port}: the port is in use; set EMBEDDED_PORT`)],
    ['the data directory cannot be made', { EMBEDDED_DATA_DIR: join(tempFile(), 'embedded') }, /EMBEDDED_DATA_DIR .* cannot be used: ENOTDIR.*set EMBEDDED_DATA_DIR/],
  ]
  for (const [name, env, message] of cases) {
    const service = await startServiceProcess(t, env)
    const [code] = await once(service.child, 'exit')
    t.not(code, 0, `${name}: non-zero exit`)
    t.match(service.output(), message, `${name}: says what and which variable`)
  }

  // A second service on a directory in use: refused, and the first one goes on serving.
  const dataDir = tempDir('townsquare-data-')
  const first = await startServiceProcess(t, { DATA_DIR: dataDir })
  await first.waitReady()
  const second = await startServiceProcess(t, { DATA_DIR: dataDir })
  const [code] = await once(second.child, 'exit')
  t.not(code, 0)
  t.match(second.output(), new RegExp(`in use by process ${first.child.pid}; stop that process, or set EMBEDDED_DATA_DIR`))
  t.equal((await fetch(`${first.base}/readyz`)).status, 200, 'the first service is untouched')
  await first.kill('SIGTERM')
})

t.test('two services started at once on one new directory: one serves, the other is refused', async (t) => {
  const dataDir = tempDir('townsquare-data-')
  const [a, b] = await Promise.all([startServiceProcess(t, { DATA_DIR: dataDir }), startServiceProcess(t, { DATA_DIR: dataDir })])
  const outcome = async (s: ServiceProcess) => s.waitReady(120).then(() => 'ready', () => 'refused')
  const results = await Promise.all([outcome(a), outcome(b)])
  t.same([...results].sort(), ['ready', 'refused'], 'exactly one of them serves')
  const [serving, refused] = results[0] === 'ready' ? [a, b] : [b, a]
  t.match(refused.output(), /is in use by (process \d+|another process); stop that process, or set EMBEDDED_DATA_DIR/)
  t.equal(await deliver(serving, websiteDelivery(['After the race'], 'race')), 200, 'the cluster the other one made is sound')
  await serving.kill('SIGTERM')
  t.equal(serving.child.exitCode, 0)
})

function tempFile(): string {
  const path = join(tempDir('townsquare-file-'), 'not-a-directory')
  writeFileSync(path, '')
  return path
}

/** `npm start` as a person runs it, in its own process group like a terminal's job. */
function npmStart(env: Record<string, string>) {
  const child = spawn('npm', ['start'], { cwd: PROJECT_ROOT, env: { ...process.env, NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  return { child, exited, output: () => output }
}

t.test('npm start: kill -TERM of its pid and Ctrl-C stop the server and its database, exit 0; a restart does not recompile', async (t) => {
  const dataDir = tempDir('townsquare-data-')
  for (const [how, stop] of [
    ['kill -TERM <pid of npm start>', (pid: number) => process.kill(pid, 'SIGTERM')],
    ['Ctrl-C (SIGINT to the foreground process group)', (pid: number) => process.kill(-pid, 'SIGINT')],
  ] as const) {
    const port = await freePort()
    const run = npmStart({ DATA_DIR: dataDir, PORT: String(port) })
    t.teardown(() => {
      if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGKILL')
    })
    const ready = await until(async () => run.child.exitCode !== null || (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 240)
    t.ok(ready, `${how}: ready\n${ready ? '' : run.output()}`)
    stop(run.child.pid!)
    const [code] = await run.exited
    t.equal(code, 0, `${how}: exit 0`)
    t.notOk(await listening(port), `${how}: nothing listens on the port`)
    t.same(postgresProcesses(join(dataDir, 'embedded')), [], `${how}: the embedded PostgreSQL stopped`)
    if (how.startsWith('Ctrl-C')) t.notMatch(run.output(), /compiling src\//, 'the second start on an unchanged checkout did not recompile')
  }
})

t.test('npm run demo on the embedded default: fixtures replayed, removals and flags, sealed', async (t) => {
  const port = await freePort()
  const env = { ...process.env, NODE_ENV: 'development', DATA_DIR: tempDir('townsquare-demo-'), PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: '' }
  const demo = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--exit'], { cwd: PROJECT_ROOT, encoding: 'utf8', env, timeout: 120_000 })
  t.equal(demo.status, 0, demo.stderr)
  const summary = demo.stdout.match(/(\d+) comments, (\d+) automatic decision\(s\), (\d+) item\(s\) in the review queue, (\d+) ledger entries sealed/)
  t.ok(summary, demo.stdout)
  t.ok(Number(summary?.[2]) >= 2, `the policy removed the demo's abusive comment and private information (${summary?.[2]} automatic decisions)`)
  t.ok(Number(summary?.[3]) >= 1, `and flagged for review (${summary?.[3]} items in the queue)`)
  const dated = demo.stdout.match(/latest replayed comment is dated (\S+) \(now (\S+)\)/)
  t.ok(dated && Date.parse(dated[1]!) <= Date.parse(dated[2]!), `no replayed comment is dated in the future (${dated?.[1]} vs ${dated?.[2]})`)
  t.match(demo.stdout, /export MODERATOR=\S+ TST_ADMIN=\S+ CLERK=\S+ AUDITOR=\S+ ADMIN=\S+/, "the export line has the TST admin's token (and the admin's)")
  t.match(demo.stdout, /The console: http:\/\/\S+\/console \(development sign-in: pick a name and a role\)/, 'the demo prints the console and its development sign-in')
  t.same(postgresProcesses(join(env.DATA_DIR, 'embedded')), [], 'its embedded server stopped when it exited')
})
