// The public ledger read by an independent implementation: Go's golang.org/x/mod/sumdb/tlog and
// sumdb/note (Debian's golang-go and golang-golang-x-mod-dev) fetch the C2SP tlog-tiles and the
// public checkpoints over HTTP from the running app and check inclusion and consistency. The Go
// program (tlog-interop/main.go) contains no Townsquare code; the leaf preimages it is given are
// built by the database (ledger_leaf_bytes), not by the TypeScript.
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { appendEntries } from '../../src/ledger/append.js'
import { testApp } from '../helpers/app.js'
import { entryInput, sealNow } from '../factories/ledger.js'

const run = promisify(execFile)
const GO_ENV = {
  ...process.env,
  GO111MODULE: 'off',
  GOPATH: '/usr/share/gocode',
  GOCACHE: join(tmpdir(), 'townsquare-gocache'),
  GOFLAGS: '',
}
const PROGRAM = join(import.meta.dirname, 'tlog-interop')

async function goAvailable(): Promise<string | null> {
  try {
    await run('go', ['version'], { env: GO_ENV })
  } catch {
    return 'the go command is missing (apt-get install golang-go golang-golang-x-mod-dev)'
  }
  try {
    await run('go', ['list', 'golang.org/x/mod/sumdb/tlog', 'golang.org/x/mod/sumdb/note'], { env: GO_ENV })
  } catch {
    return 'golang.org/x/mod is missing under /usr/share/gocode (apt-get install golang-golang-x-mod-dev)'
  }
  return null
}

t.test('Go sumdb/tlog and sumdb/note verify the tiles, checkpoints and proofs over HTTP', async (t) => {
  const missing = await goAvailable()
  if (missing) {
    // CI installs Go from Debian (.ci/run); there a missing Go is a failure, never a skip.
    if (process.env.CI === 'true') t.fail(`Go interoperability check cannot run in CI: ${missing}`)
    else t.comment(`skipped: ${missing}`)
    return
  }
  const binary = join(mkdtempSync(join(tmpdir(), 'tlog-interop-')), 'tlog-interop')
  await run('go', ['build', '-o', binary, '.'], { cwd: PROGRAM, env: GO_ENV })

  const { app, ownerPool } = await testApp(t)
  const append = (n: number) => inTransaction(app.db.prisma, (tx) => appendEntries(tx, Array.from({ length: n }, () => entryInput())))
  await append(300)
  await sealNow(app) // checkpoint 300: level-0 tile 0 full, tile 1 partial (44), level-1 tile 0 partial (1)
  await append(317)
  await sealNow(app) // checkpoint 617: level-0 tiles 0-1 full, tile 2 partial (105), level-1 tile 0 partial (2)

  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/ledger`
  const key = (await (await fetch(`${base}/public-key`)).json()) as { verifierKey: string; keyName: string }

  const { rows } = await ownerPool().query<{ leaf_index: string; bytes: Buffer }>(
    `SELECT l.leaf_index::text, ledger_leaf_bytes(e.format, e.id, e.kind, e.subject, e.actor, e.recorded_at, coalesce(e.payload_commitment, e.payload_sha256::text)) AS bytes
       FROM ledger_leaf l JOIN ledger_entry e ON e.id = l.entry_id
      WHERE l.leaf_index IN (0, 1, 255, 256, 299, 300, 511, 512, 600, 616) ORDER BY l.leaf_index`,
  )
  t.equal(rows.length, 10)
  const records = join(tmpdir(), `tlog-interop-records-${process.pid}.txt`)
  writeFileSync(records, rows.map((r) => `${r.leaf_index} ${r.bytes.toString('base64')}\n`).join(''))

  const args = (overrides: { key?: string; records?: string } = {}) => [`${base}/tlog/`, `${base}/checkpoints`, overrides.key ?? key.verifierKey, key.keyName, '300', overrides.records ?? records]
  const ok = await run(binary, args())
  t.match(ok.stdout, /checkpoint size 617 verified; tree hash recomputed from tiles/)
  t.match(ok.stdout, /inclusion of 10 record\(s\) verified/)
  t.match(ok.stdout, /consistency 300 -> 617 verified/)
  t.match(ok.stdout, /^OK \d+ tiles fetched$/m)

  // The same program refuses what it must refuse: another key, a record that is not in the tree.
  const otherKey = key.verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')
  await t.rejects(run(binary, args({ key: otherKey })), 'a checkpoint is not accepted under another key')
  const forged = join(tmpdir(), `tlog-interop-forged-${process.pid}.txt`)
  writeFileSync(forged, `5 ${Buffer.from('{"forged":true}').toString('base64')}\n`)
  const refused = await run(binary, args({ records: forged })).then(
    () => null,
    (error: { stderr: string }) => error.stderr,
  )
  t.match(refused, /FAIL CheckRecord\(5\)/, 'a leaf that is not in the tree fails CheckRecord')
})
