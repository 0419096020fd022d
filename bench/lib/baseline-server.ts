// The ingestion benchmark's baseline (bench/ingest.ts starts it as a child process): the least a
// Meta webhook receiver can do and still be correct. A bare Fastify server whose one route takes
// the raw body as a Buffer, verifies X-Hub-Signature-256 (HMAC-SHA256, crypto.timingSafeEqual),
// parses the JSON and inserts one row per comment with a single multi-row INSERT through a pg.Pool
// (autocommit: one statement, one commit). No raw archive, no ledger, no deduplication, no
// projection: the distance to it is what the service's guarantees cost.
//
// Environment: BASELINE_DATABASE_URL, BASELINE_PORT, META_APP_SECRET, BASELINE_POOL_SIZE (10).
// Rows go into the table baseline_comment (created here). Not a module to import: it runs a server.
import { createHmac, timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'
import { BASELINE_TABLE_DDL, baselineInsert, type ParsedMetaDelivery } from './baseline-table.js'

const databaseUrl = process.env.BASELINE_DATABASE_URL
const secret = process.env.META_APP_SECRET
const port = Number(process.env.BASELINE_PORT ?? 0)
if (!databaseUrl || !secret || !port) {
  console.error('BASELINE_DATABASE_URL, BASELINE_PORT and META_APP_SECRET are required')
  process.exit(2)
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.BASELINE_POOL_SIZE ?? 10), application_name: 'townsquare-bench-baseline' })
pool.on('error', () => {})
await pool.query(BASELINE_TABLE_DDL)

const app = Fastify({ logger: false, bodyLimit: 4 * 1_048_576 })
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

function verified(body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false
  const provided = Buffer.from(header.slice(7), 'hex')
  const expected = createHmac('sha256', secret!).update(body).digest()
  return provided.length === expected.length && timingSafeEqual(provided, expected)
}

app.post('/v1/webhooks/meta', async (request, reply) => {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
  if (!verified(body, request.headers['x-hub-signature-256'])) return reply.status(401).send({ error: 'invalid signature' })
  let parsed: ParsedMetaDelivery
  try {
    parsed = JSON.parse(body.toString('utf8')) as ParsedMetaDelivery
  } catch {
    return reply.status(400).send({ error: 'not JSON' })
  }
  const insert = baselineInsert(parsed)
  if (insert) await pool.query(insert.text, insert.values)
  return { accepted: insert?.comments ?? 0 }
})

app.get('/readyz', async () => {
  await pool.query('SELECT 1')
  return { status: 'ready' }
})

async function shutdown() {
  await app.close()
  await pool.end()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown())
process.on('SIGINT', () => void shutdown())

await app.listen({ host: '127.0.0.1', port })
