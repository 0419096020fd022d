// The disk under the embedded PostgreSQL fills while the service runs: webhooks get 503 (so the
// platform retries), never a 2xx for what was not stored, and the retry after space is freed is
// stored once. A real full disk: a small tmpfs holds EMBEDDED_DATA_DIR, filled with a ballast file.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import t from 'tap'
import { signatureHeaders } from '../factories/webhooks.js'
import { TEST_JWT_SECRET } from '../helpers/app.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

const clerk = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', iss: 'townsquare-dev', aud: 'townsquare', expiresIn: '1h' })({ sub: 'clerk-1', roles: ['records_clerk'] })

const mountPoint = mkdtempSync(join(tmpdir(), 'townsquare-small-disk-'))
const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', mountPoint]).status === 0

function delivery(id: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      events: [{ id: `evt-${id}`, type: 'comment.created', commentId: id, pageUrl: 'https://www.citykankakee-il.gov/', author: { id: `u-${id}`, name: 'Pat' }, text: `Comment ${id} ${'about the budget '.repeat(50)}`, occurredAt: new Date().toISOString() }],
    }),
  )
}

async function deliver(service: ServiceProcess, id: string): Promise<Response> {
  const body = delivery(id)
  return fetch(`${service.base}/v1/webhooks/website`, { method: 'POST', headers: { 'content-type': 'application/json', ...signatureHeaders('website', body) }, body })
}

async function storedIds(service: ServiceProcess): Promise<string[]> {
  const res = await fetch(`${service.base}/v1/comments?limit=100`, { headers: { authorization: `Bearer ${clerk}` } })
  return ((await res.json()) as { items: Array<{ externalId: string }> }).items.map((c) => c.externalId).sort()
}

/** Writes zeros until the filesystem refuses: the disk is full. */
function fill(path: string): number {
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(1 << 20)
  let written = 0
  try {
    for (;;) written += writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
  return written
}

t.test('a full disk under the embedded database: 503 and nothing stored, then the retry is stored once', { skip: mounted ? false : 'needs root to mount a small tmpfs' }, async (t) => {
  t.teardown(() => {
    spawnSync('umount', ['-l', mountPoint])
    rmSync(mountPoint, { recursive: true, force: true })
  })
  const service = await startServiceProcess(t, { EMBEDDED_DATA_DIR: join(mountPoint, 'embedded'), JOBS: 'off', LEDGER_CHECKPOINT_INTERVAL_MS: '200' })
  await service.waitReady()
  t.equal((await deliver(service, 'before')).status, 200, 'stored while there is space')

  const ballast = join(mountPoint, 'ballast')
  t.ok(fill(ballast) > 0, 'the disk is full')
  // PostgreSQL first fills space its files already have; once it needs more, it refuses.
  const accepted: string[] = []
  const refused: string[] = []
  for (let i = 0; i < 40 && refused.length < 5; i++) {
    const id = `during-${i}`
    const res = await deliver(service, id)
    if (res.status === 200) accepted.push(id)
    else {
      t.equal(res.status, 503, `${id}: refused with 503, so the platform retries`)
      t.equal(res.headers.get('retry-after'), '5', 'a 503 says when to retry')
      t.match(await res.json(), { status: 503, detail: /nothing was stored/ })
      refused.push(id)
    }
    await res.arrayBuffer().catch(() => {})
  }
  t.ok(refused.length >= 5, `the full disk refused deliveries (${accepted.length} fitted in space already allocated, then ${refused.length} refused)`)

  rmSync(ballast)
  // The platform retries; PostgreSQL may first have to recover from a failed WAL write.
  const retry = refused[0]!
  let retried = 0
  for (let i = 0; i < 150 && retried !== 200; i++, await new Promise((r) => setTimeout(r, 200))) retried = (await deliver(service, retry)).status
  t.equal(retried, 200, 'the retry is stored once space is freed')
  t.equal((await deliver(service, retry)).status, 200, 'and a second retry is a duplicate, not a second record')
  t.same(await storedIds(service), ['before', ...accepted, retry].sort(), 'every acknowledged comment is stored, no refused one but its retry, each once')
  await service.kill('SIGTERM')
})
