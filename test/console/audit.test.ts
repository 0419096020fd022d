// The auditor's pages through HTTP: the ledger's state and a verification run, the access log and
// its CSV, each read itself logged, bad filters answered with the form kept.
import t from 'tap'
import { deliver, metaChanges } from '../factories/webhooks.js'
import { testApp } from '../helpers/app.js'
import { Jar, csrfOf, get, post, signIn } from '../helpers/console.js'

t.test('the ledger page shows the latest checkpoint and runs a verification', async (t) => {
  const { app, ownerPool } = await testApp(t)
  const jar = new Jar()
  await signIn(app, jar, 'Alex', 'auditor')
  t.match((await get(app, jar, '/console/ledger')).body, 'No checkpoint has been signed yet.')
  await deliver(app, 'meta', metaChanges([{ id: '1_1' }, { id: '1_2' }]))
  await app.ledger.sealer!.sealNow()
  const page = await get(app, jar, '/console/ledger')
  t.equal(page.statusCode, 200)
  t.match(page.body, /tree size \d+, signed/)
  t.match(page.body, 'townsquare.invalid/ledger', 'the signed note as published')
  const ok = await post(app, jar, '/console/ledger/verify', { _csrf: csrfOf(page.body) })
  t.equal(ok.statusCode, 200)
  t.match(ok.body, 'The ledger verifies')

  // Tampering as the owner, past the triggers: the page says it does not verify, and where.
  await ownerPool().query('ALTER TABLE ledger_tree_node DISABLE TRIGGER USER')
  await ownerPool().query("UPDATE ledger_tree_node SET hash = '\\x00'::bytea || substring(hash from 2) WHERE level = 1")
  await ownerPool().query('ALTER TABLE ledger_tree_node ENABLE TRIGGER USER')
  const bad = await post(app, jar, '/console/ledger/verify', { _csrf: csrfOf(page.body) })
  t.match(bad.body, 'The ledger does not verify')
  t.match(bad.body, 'tree_node')
})

t.test('the access log: filtered, paged, exported as CSV, and its reads logged', async (t) => {
  const { app, ownerPool } = await testApp(t)
  const clerk = new Jar()
  await signIn(app, clerk, 'Robin', 'tst_moderator')
  await get(app, clerk, '/console/queue')
  const jar = new Jar()
  await signIn(app, jar, 'Alex', 'auditor')
  const page = await get(app, jar, '/console/access-log?action=moderation.queue')
  t.equal(page.statusCode, 200)
  t.match(page.body, 'user:dev:robin (tst_moderator)')
  const bad = await get(app, jar, '/console/access-log?from=2026-02-30&to=yesterday&actor=%22%3E%3Cscript%3E')
  t.equal(bad.statusCode, 400)
  t.match(bad.body, 'Enter the first day as YYYY-MM-DD')
  t.match(bad.body, 'Enter the last day as YYYY-MM-DD')
  t.match(bad.body, 'value="&#34;><script>"', 'what was typed is kept, its quote escaped so it stays inside the attribute')
  const csv = await app.inject({ method: 'GET', url: '/console/access-log.csv?action=moderation.queue', headers: { cookie: jar.header() } })
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], 'text/csv')
  const lines = csv.body.trim().split('\r\n')
  t.equal(lines[0], 'id,at,actor,roles,action,route,count,record_ids,request_id')
  t.equal(lines.length, 2, 'one read of the queue')
  t.match(lines[1], 'user:dev:robin,tst_moderator,moderation.queue,GET /console/queue')
  const logged = await ownerPool().query("SELECT count(*)::int AS n FROM access_log WHERE action = 'audit.access' AND actor = 'user:dev:alex'")
  t.equal(logged.rows[0].n, 2, 'reading the log (page and CSV) is logged; the refused filter read nothing')
  const moderator = await get(app, clerk, '/console/access-log')
  t.equal(moderator.statusCode, 403, 'only auditors')
})
