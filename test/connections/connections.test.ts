import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { effectivePlatformConfig } from '../../src/connections/connections.js'
import { credentialFingerprint, openCredentials, sealCredentials } from '../../src/connections/credentials.js'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'
import { startFakePlatform } from '../helpers/fake-platform.js'
import { deliver, fixture } from '../factories/webhooks.js'

const KEY = randomBytes(32)

async function connectionsApp(t: Test, env: Record<string, string> = { CONNECTION_CREDENTIALS_KEY: KEY.toString('base64') }) {
  const fake = await startFakePlatform()
  const attacker = await startFakePlatform()
  t.teardown(async () => {
    await fake.close()
    await attacker.close()
  })
  const ctx = await testApp(t, {
    env: { FACEBOOK_GRAPH_URL: fake.baseUrl, FACEBOOK_PAGE_ID: '448242228374517', FACEBOOK_PAGE_TOKEN: 'env-page-token', ...env },
  })
  await inTransaction(ctx.app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  const admin = ctx.token('admin', 'itadmin')
  const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object, token = admin) =>
    ctx.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) })
  return { ...ctx, fake, attacker, admin, call }
}

async function removeFacebookComment(app: FastifyInstance, token: string) {
  await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: '122131676912594941_1213590066982748' } })
  const detail = (await app.inject({ url: `/v1/comments/${comment.id}`, headers: { authorization: `Bearer ${token}` } })).json()
  const res = await app.inject({
    method: 'POST',
    url: `/v1/comments/${comment.id}/decisions`,
    headers: { authorization: `Bearer ${token}` },
    payload: { action: 'hide', versionId: detail.versions[detail.versions.length - 1].id, ruleCodes: ['4.a'] },
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  if (res.json().policyVersion !== 1 || !res.json().policyVersionId) throw new Error(`the decision cites its policy version by id and number: ${res.body}`)
  await app.db.pool.query('UPDATE graphile_worker._private_jobs SET run_at = now() WHERE locked_at IS NULL')
  await app.jobs.runDue()
}

t.test('admin manages a connection: sealed credentials, never returned, used by the platform clients, health shown', async (t) => {
  const { app, fake, call, token, ownerPool } = await connectionsApp(t)
  const before = await call('GET', '/v1/admin/connections')
  t.equal(before.statusCode, 200)
  t.match(before.json().items.find((c: { platform: string }) => c.platform === 'facebook'), { source: 'environment', enabled: true, credentialsSet: true, settings: { pageId: '448242228374517' } })
  t.match(before.json().items.find((c: { platform: string }) => c.platform === 'x'), { source: 'none', enabled: false })
  t.equal(before.json().nextCursor, null)

  const put = await call('PUT', '/v1/admin/connections/facebook', { settings: { baseUrl: fake.baseUrl, pageId: '448242228374517' }, credentials: { accessToken: 'db-page-token-secret' } })
  t.equal(put.statusCode, 200, put.body)
  t.match(put.json(), { platform: 'facebook', source: 'connection', enabled: true, credentialsSet: true, credentialsFingerprint: /^hmac-sha256:[0-9a-f]{16}$/, updatedBy: 'user:itadmin' })
  t.notMatch(put.body, /db-page-token-secret/, 'the credential is never returned')
  t.notMatch((await call('GET', '/v1/admin/connections')).body, /db-page-token-secret/)

  const row = (await ownerPool().query(`SELECT credentials_sealed FROM platform_connection WHERE platform = 'facebook'`)).rows[0]
  t.match(row.credentials_sealed, /^v1\./)
  t.notMatch(row.credentials_sealed, /db-page-token/, 'stored encrypted')
  const entries = (await ownerPool().query(`SELECT actor, payload FROM ledger_entry WHERE kind = 'platform.connection'`)).rows
  t.equal(entries.length, 1)
  t.equal(entries[0].actor, 'user:itadmin')
  t.notMatch(JSON.stringify(entries[0].payload), /db-page-token-secret/, 'the ledger has the fingerprint, not the credential')
  t.match(JSON.stringify(entries[0].payload), new RegExp(put.json().credentialsFingerprint))

  // The platform clients now act with the connection's token, not the environment's.
  await removeFacebookComment(app, token('tst_moderator', 'mod'))
  t.ok(fake.requests.length > 0)
  t.ok(fake.requests.every((r) => r.headers.authorization === 'Bearer db-page-token-secret'), 'every request carries the connection token')
  const health = (await call('GET', '/v1/admin/connections')).json().items.find((c: { platform: string }) => c.platform === 'facebook').health
  t.ok(health.lastSuccessAt, 'the last successful call is shown')
  // The webhook's health is written after the delivery committed, outside it: wait for it.
  let webhookAt = health.lastWebhookAt
  for (let i = 0; i < 100 && !webhookAt; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    webhookAt = (await call('GET', '/v1/admin/connections')).json().items.find((c: { platform: string }) => c.platform === 'facebook').health.lastWebhookAt
  }
  t.ok(webhookAt, 'the last webhook delivery is shown')

  // Settings change without credentials keeps the sealed ones (same fingerprint).
  const again = await call('PUT', '/v1/admin/connections/facebook', { settings: { baseUrl: fake.baseUrl, pageId: '999' } })
  t.equal(again.statusCode, 200)
  t.equal(again.json().credentialsFingerprint, put.json().credentialsFingerprint)

  // Disabled: the platform is not acted on, and the environment's token does not come back.
  const disabled = await call('POST', '/v1/admin/connections/facebook/disable')
  t.equal(disabled.statusCode, 200)
  t.equal(disabled.json().enabled, false)
  t.equal((await effectivePlatformConfig(app.db.prisma, app.config)).facebook, null)
  t.equal((await call('POST', '/v1/admin/connections/x/disable')).statusCode, 404, 'no connection to disable')
})

t.test('attacks: an admin cannot send the environment token elsewhere; no key, no stored credentials; roles', async (t) => {
  const { app, attacker, call, token } = await connectionsApp(t)
  // A connection with only a new baseUrl would otherwise reuse the environment's token there.
  const redirect = await call('PUT', '/v1/admin/connections/facebook', { settings: { baseUrl: attacker.baseUrl, pageId: '1' } })
  t.equal(redirect.statusCode, 400)
  t.match(redirect.json(), { errors: [{ path: 'body:$.credentials' }] })
  t.equal(await app.db.prisma.platformConnection.count(), 0, 'nothing stored')
  t.same(attacker.requests, [])

  // A website connection needs its base URL; unknown fields are refused.
  t.equal((await call('PUT', '/v1/admin/connections/website', { credentials: { accessToken: 'web-token-1' } })).statusCode, 400)
  t.equal((await call('PUT', '/v1/admin/connections/x', { settings: { token: 'x' }, credentials: { accessToken: 'abcdefgh' } })).statusCode, 400)

  for (const role of ['tst_admin', 'tst_moderator', 'records_clerk', 'auditor'] as const) {
    t.equal((await call('GET', '/v1/admin/connections', undefined, token(role))).statusCode, 403, `${role} cannot read connections`)
    t.equal((await call('PUT', '/v1/admin/connections/x', { credentials: { accessToken: 'abcdefgh' } }, token(role))).statusCode, 403, `${role} cannot change them`)
  }
  t.equal((await app.inject({ url: '/v1/admin/connections' })).statusCode, 401)
})

t.test('without CONNECTION_CREDENTIALS_KEY, credentials are refused rather than stored in clear', async (t) => {
  const { app, call } = await connectionsApp(t, {})
  const res = await call('PUT', '/v1/admin/connections/x', { credentials: { accessToken: 'x-token-123' } })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { type: '/problems/credentials-key-missing' })
  t.equal(await app.db.prisma.platformConnection.count(), 0)
})

t.test('sealing: bound to its platform, tamper-evident, fingerprints keyed', async (t) => {
  const sealed = sealCredentials(KEY, 'facebook', { accessToken: 'abc' })
  t.same(openCredentials(KEY, 'facebook', sealed), { accessToken: 'abc' })
  t.equal(openCredentials(KEY, 'x', sealed), null, 'a sealed value copied to another platform does not open')
  t.equal(openCredentials(randomBytes(32), 'facebook', sealed), null, 'another key does not open it')
  const parts = sealed.split('.')
  const flipped = Buffer.from(parts[3]!, 'base64url')
  flipped[0] = flipped[0]! ^ 1
  t.equal(openCredentials(KEY, 'facebook', [parts[0], parts[1], parts[2], flipped.toString('base64url')].join('.')), null, 'an altered ciphertext does not open')
  t.not(sealCredentials(KEY, 'facebook', { accessToken: 'abc' }), sealed, 'a fresh IV each time')
  t.not(credentialFingerprint(KEY, 'facebook', { accessToken: 'abc' }), credentialFingerprint(randomBytes(32), 'facebook', { accessToken: 'abc' }), 'the fingerprint depends on the key')
})
