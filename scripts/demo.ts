// `npm run demo [-- --exit]`: a running Townsquare with something in it. Starts the service (the
// embedded PostgreSQL unless DATABASE_URL is set), publishes the default policy, replays the
// platform fixtures (../shared/platforms/fixtures) through the signed webhook routes with their
// times moved to now, waits for the checkpoint that seals them, and prints a token for each role
// and curl commands to try. It keeps serving until Ctrl-C; `--exit` stops once it has printed.
import { createHmac } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import { loadConfigOrExit } from '../src/cli.js'
import { inTransaction } from '../src/db/tx.js'
import { illinoisDate } from '../src/foia/business-days.js'
import { systemClock } from '../src/ledger/append.js'
import { PROJECT_ROOT } from '../src/paths.js'
import { ROLES } from '../src/plugins/auth.js'
import { seedDefaultPolicy } from '../src/policy/seed.js'
import { startService } from '../src/service.js'
import type { WebhookSource } from '../src/webhooks/platforms/index.js'
import { cliArgs } from '../src/cli-args.js'

const { values } = cliArgs(
  'usage: npm run demo [-- --exit]\n\nStarts Townsquare with demonstration data (the embedded PostgreSQL unless DATABASE_URL is set), prints a token for each role and commands to try, and serves until Ctrl-C; --exit stops once it has printed. Not in production.',
  { options: { exit: { type: 'boolean', default: false } } },
)

if (process.env.NODE_ENV === 'production') {
  console.error('npm run demo adds demonstration data and secrets; it does not run in production.')
  process.exit(2)
}

// Webhook secrets the demo signs with, when the environment has none (the routes answer 404 without).
const DEMO_SECRETS = {
  META_APP_SECRET: 'demo-meta-app-secret',
  META_VERIFY_TOKEN: 'demo-meta-verify-token',
  X_CONSUMER_SECRET: 'demo-x-consumer-secret',
  LINKEDIN_CLIENT_SECRET: 'demo-linkedin-client-secret',
  WEBSITE_WEBHOOK_SECRET: 'demo-website-secret',
}
for (const [name, value] of Object.entries(DEMO_SECRETS)) process.env[name] ||= value

const FIXTURES_DIR = join(PROJECT_ROOT, '..', 'shared', 'platforms', 'fixtures')
// In the order a thread unfolds: comments, an edit, a batch, then an author's deletions.
const FIXTURES: Array<[string, WebhookSource]> = [
  ['meta-facebook-comment-add.json', 'meta'],
  ['meta-facebook-comment-edited.json', 'meta'],
  ['meta-facebook-batch.json', 'meta'],
  ['meta-instagram-comment.json', 'meta'],
  ['x-reply.json', 'x'],
  ['linkedin-comment.json', 'linkedin'],
  ['website-comments.json', 'website'],
  ['meta-facebook-comment-remove.json', 'meta'],
  ['x-delete.json', 'x'],
]
if (!existsSync(FIXTURES_DIR)) {
  console.error(`The platform fixtures are not at ${FIXTURES_DIR} (the shared folder beside the repository).`)
  process.exit(1)
}

// The fixtures were posted on 2026-01-01; a policy cannot be backdated, so their times are moved
// to just after the policy's publication, keeping their order and spacing.
const FIXTURE_EPOCH_MS = Date.UTC(2026, 0, 1)
const MONTH_MS = 31 * 86_400_000
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad = (n: number) => String(n).padStart(2, '0')
const xDate = (d: Date) =>
  `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`

/** Rewrites every fixture time (seconds, milliseconds, ISO and X's format) through `move` (ms to ms). */
function shiftTimes(value: unknown, move: (ms: number) => number): unknown {
  const inFixtureMonth = (ms: number) => ms >= FIXTURE_EPOCH_MS && ms < FIXTURE_EPOCH_MS + MONTH_MS
  if (typeof value === 'number') {
    if (inFixtureMonth(value * 1000)) return Math.floor(move(value * 1000) / 1000)
    if (inFixtureMonth(value)) return Math.floor(move(value))
    return value
  }
  if (typeof value === 'string') {
    if (/^\d{13}$/.test(value) && inFixtureMonth(Number(value))) return String(Math.floor(move(Number(value))))
    if (/^2026-01-\d\dT/.test(value)) {
      const shifted = new Date(Math.floor(move(Date.parse(value)) / 1000) * 1000).toISOString().replace('.000Z', 'Z')
      return value.endsWith('+0000') ? shifted.replace('Z', '+0000') : shifted
    }
    if (/^\w{3} Jan \d\d \d\d:\d\d:\d\d \+0000 2026$/.test(value)) return xDate(new Date(move(Date.parse(value))))
    return value
  }
  if (Array.isArray(value)) return value.map((v) => shiftTimes(v, move))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shiftTimes(v, move)]))
  return value
}

/** The fixtures' times span the first 25 minutes of 2026-01-01; the demo's own comments come a minute later. */
const FIXTURE_SPAN_MS = 26 * 60_000
/** The shortest window the replayed thread is squeezed into, so its times keep their order to the second. */
const MIN_WINDOW_MS = 30_000

/**
 * Where the fixture times go: between the policy's taking effect (a policy cannot be backdated, and
 * a comment posted before it would be judged by no rule) and now (a comment is never dated in the
 * future). As they were, shifted, when that window is long enough; else squeezed into it, in order.
 */
function fixtureClock(policyEffectiveMs: number, nowMs: number): { move: (ms: number) => number; end: number } {
  const end = nowMs - 1000
  const start = Math.max(policyEffectiveMs + 1000, end - FIXTURE_SPAN_MS)
  const scale = Math.min(1, (end - start) / FIXTURE_SPAN_MS)
  return { move: (ms) => start + (ms - FIXTURE_EPOCH_MS) * scale, end }
}

const mac = (secret: string, ...parts: Array<string | Buffer>) => {
  const h = createHmac('sha256', secret)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** The signature headers each platform sends (docs/webhooks.md). */
function signed(source: WebhookSource, body: Buffer): Record<string, string> {
  const env = process.env as Record<keyof typeof DEMO_SECRETS, string>
  switch (source) {
    case 'meta':
      return { 'x-hub-signature-256': 'sha256=' + mac(env.META_APP_SECRET, body).toString('hex') }
    case 'x':
      return { 'x-twitter-webhooks-signature': 'sha256=' + mac(env.X_CONSUMER_SECRET, body).toString('base64') }
    case 'linkedin':
      return { 'x-li-signature': mac(env.LINKEDIN_CLIENT_SECRET, 'hmacsha256=', body).toString('hex') }
    case 'website': {
      const t = String(Math.floor(Date.now() / 1000))
      return { 'townsquare-signature': `t=${t},v1=` + mac(env.WEBSITE_WEBHOOK_SECRET, t, '.', body).toString('hex') }
    }
  }
}

const service = await startService(loadConfigOrExit()).catch((error: Error) => {
  console.error(error.message)
  process.exit(1)
})
const { app, config } = service
const stop = async (code: number) => {
  await service.close().catch(() => {})
  process.exit(code)
}
process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))

try {
  const prisma = app.db.prisma
  const seeded = await inTransaction(prisma, (tx) => seedDefaultPolicy(tx, systemClock))
  const policy = await prisma.policyVersion.findFirstOrThrow({ where: { policyId: seeded.policyId, status: 'published' }, orderBy: { version: 'desc' } })
  // A policy published just now leaves no room before now: wait until the window is long enough.
  const wait = policy.effectiveFrom!.getTime() + MIN_WINDOW_MS + 2000 - Date.now()
  if (wait > 0) {
    console.log(`\nWaiting ${Math.ceil(wait / 1000)} s: the replayed comments must come after the policy took effect and never in the future.`)
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
  const clock = fixtureClock(policy.effectiveFrom!.getTime(), Date.now())
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : config.port}`

  const deliveries: Array<[string, WebhookSource, unknown]> = FIXTURES.map(([name, source]) => [
    name,
    source,
    shiftTimes(JSON.parse(readFileSync(join(FIXTURES_DIR, name), 'utf8')), clock.move),
  ])
  // The fixtures are civil; three more website comments show a removal, a second one and a flag.
  const at = new Date(Math.floor(clock.end / 1000) * 1000).toISOString()
  const demoComment = (n: number, text: string) => ({
    id: `demo-evt-${n}`,
    type: 'comment.created',
    commentId: `demo-c-${n}`,
    pageUrl: 'https://www.citykankakee-il.gov/news/road-work',
    author: { id: `demo-u-${n}`, name: `Demo Resident ${n}` },
    text,
    occurredAt: at,
  })
  deliveries.push([
    'demo comments that break the policy',
    'website',
    { events: [demoComment(1, 'This is complete bullshit'), demoComment(2, 'My SSN is 123-45-6789'), demoComment(3, 'Work from home and earn $5000 a week!!! Click here')] },
  ])

  console.log(`\nReplaying ${deliveries.length} platform deliveries through the signed webhook routes:`)
  for (const [name, source, payload] of deliveries) {
    const body = Buffer.from(JSON.stringify(payload))
    const res = await fetch(`${base}/v1/webhooks/${source}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signed(source, body) }, body })
    console.log(`  ${res.status} ${source.padEnd(8)} ${name}`)
    if (res.status >= 300) throw new Error(`${name}: ${res.status} ${await res.text()}`)
  }

  // Every entry appended so far is sealed once a checkpoint covers the whole ledger.
  const entries = await prisma.ledgerEntry.count()
  let checkpoint = null
  for (let i = 0; i < 600 && !(checkpoint && Number(checkpoint.treeSize) >= entries); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    checkpoint = await prisma.ledgerCheckpoint.findFirst({ orderBy: { treeSize: 'desc' } })
  }
  if (!checkpoint || Number(checkpoint.treeSize) < entries) throw new Error(`no checkpoint sealed the ${entries} ledger entries`)

  const comments = await prisma.comment.count()
  const latest = await prisma.comment.aggregate({ _max: { lastPlatformAt: true } })
  console.log(`\nThe latest replayed comment is dated ${latest._max.lastPlatformAt?.toISOString() ?? 'never'} (now ${new Date().toISOString()}): none in the future.`)
  const removals = await prisma.moderationDecision.count({ where: { automatic: true } })
  const queued = await prisma.reviewItem.count({ where: { status: 'open' } })
  console.log(
    `\n${comments} comments, ${removals} automatic decision(s), ${queued} item(s) in the review queue, ` +
      `${entries} ledger entries sealed under signed checkpoint ${checkpoint.treeSize}.`,
  )

  if (config.jwt.verification.mode === 'hs256') {
    const sign = createSigner({ key: config.jwt.verification.secret, algorithm: 'HS256', iss: config.jwt.issuer, aud: config.jwt.audience, expiresIn: '8h' })
    console.log('\nDevelopment tokens (8 hours):')
    const tokens = Object.fromEntries(ROLES.map((role) => [role, sign({ sub: `demo-${role}`, roles: [role] })]))
    for (const role of ROLES) console.log(`  ${role.padEnd(14)} ${tokens[role]}`)
    console.log(`
Try (in another terminal):
  export MODERATOR=${tokens.tst_moderator} TST_ADMIN=${tokens.tst_admin} CLERK=${tokens.records_clerk} AUDITOR=${tokens.auditor} ADMIN=${tokens.admin}
  curl -s ${base}/readyz
  curl -s ${base}/v1/policies/current
  curl -s -H "Authorization: Bearer $MODERATOR" ${base}/v1/moderation/queue
  curl -s -H "Authorization: Bearer $CLERK" '${base}/v1/comments?limit=5'
  curl -s -H "Authorization: Bearer $CLERK" '${base}/v1/records/search?removed=true'
  curl -s -X POST -H "Authorization: Bearer $CLERK" -H 'content-type: application/json' ${base}/v1/foia/requests \\
       -d '{"requester":{"name":"A resident"},"receivedOn":"${illinoisDate(new Date())}","description":"Comments the city removed","commercial":false}'
  curl -s -H "Authorization: Bearer $AUDITOR" ${base}/v1/audit/access
  curl -s -H "Authorization: Bearer $TST_ADMIN" ${base}/v1/appeals
  curl -s -X POST -H "Authorization: Bearer $TST_ADMIN" -H 'content-type: application/json' ${base}/v1/blocks \\
       -d '{"platform":"x","authorId":"demo-1","account":"CityOfKankakee","method":"manual","ruleCodes":["4.a"],"reason":"Blocked in the X app after repeated threats"}'
  curl -s -H "Authorization: Bearer $CLERK" '${base}/v1/blocks?format=csv'
  curl -s -H "Authorization: Bearer $ADMIN" ${base}/v1/admin/connections
  curl -s -H "Authorization: Bearer $AUDITOR" ${base}/v1/ledger/checkpoints/latest
  curl -s -X POST -H "Authorization: Bearer $AUDITOR" ${base}/v1/ledger/verify
  curl -s ${base}/v1/transparency/stats
The API reference: ${base}/docs`)
  }
  if (config.console.enabled) {
    console.log(`
The console: ${base}/console (${config.console.devSignIn ? 'development sign-in: pick a name and a role' : 'sign in through the identity provider'}); the review queue has ${queued} item(s).
The public pages: ${base}/policy and ${base}/transparency`)
  }
  if (values.exit) await stop(0)
  console.log('\nServing until Ctrl-C.')
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`)
  await stop(1)
}
