import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { ROLES, type Role } from '../../src/plugins/auth.js'
import { TEST_JWT_SECRET, TEST_LEDGER_KEY_PEM, testApp, testConfig } from '../helpers/app.js'

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)

/** Builds a JWT by hand so tests can forge the tokens a real client never would. */
function jwt(header: object, payload: object, signer: (input: string) => Buffer | string): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
  const signature = signer(input)
  return `${input}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`
}

const claims = (overrides: object = {}) => ({
  sub: 'jdoe',
  roles: ['records_clerk'],
  iss: 'townsquare-dev',
  aud: 'townsquare',
  iat: now(),
  exp: now() + 600,
  ...overrides,
})

const hs256 = (payload: object, secret = TEST_JWT_SECRET) =>
  jwt({ alg: 'HS256', typ: 'JWT' }, payload, (input) => createHmac('sha256', secret).update(input).digest())

const protectedRoute = (app: FastifyInstance) => {
  app.get('/test/clerks', { config: { access: ['records_clerk'] } }, (request) => ({ sub: request.user.sub }))
}

const get = (app: FastifyInstance, token?: string) =>
  app.inject({ method: 'GET', url: '/test/clerks', headers: token ? { authorization: `Bearer ${token}` } : {} })

/** The console and public pages (src/console): a session, never a bearer token, decides who sees them. */
const CONSOLE_PAGES = /^(\/|\/policy|\/transparency|\/console(\/.*)?|\/assets\/.*)$/

t.test('role matrix: every registered route refuses the anonymous (401) and the wrong role (403)', async (t) => {
  const { app, token } = await testApp(t)
  const guarded = app.routeAccess.filter((r) => r.access !== 'public' && r.method !== 'HEAD')
  // Filled in as domains land; the matrix then covers each new route without a new test.
  t.ok(app.routeAccess.length > 0, 'routes were registered')
  for (const route of guarded) {
    const allowed = route.access as readonly Role[]
    const url = route.url.replace(/:([A-Za-z]+)/g, (_m, name: string) => (/id$/i.test(name) ? '00000000-0000-4000-8000-000000000000' : '1'))
    const anonymous = await app.inject({ method: route.method as 'GET', url })
    t.equal(anonymous.statusCode, 401, `${route.method} ${route.url} without a token`)
    t.match(anonymous.headers['content-type'], /problem\+json/)
    const others = ROLES.filter((role) => !allowed.includes(role))
    const wrong = await app.inject({ method: route.method as 'GET', url, headers: { authorization: `Bearer ${token(others)}` } })
    t.equal(wrong.statusCode, 403, `${route.method} ${route.url} with roles [${others.join(', ')}]`)
  }
  for (const route of app.routeAccess.filter((r) => r.access === 'public')) {
    t.ok(
      ['/healthz', '/readyz', '/openapi.json'].includes(route.url) ||
        route.url.startsWith('/docs') ||
        route.url.startsWith('/v1/') ||
        // The console's pages check their own session (test/console/session.test.ts "every console page").
        CONSOLE_PAGES.test(route.url),
      `public route ${route.method} ${route.url} is expected to be public`,
    )
  }
})

t.test('a route that declares no access stops the app from starting', async (t) => {
  const app = await buildApp(testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' }))
  t.teardown(() => app.close())
  t.throws(() => app.get('/test/undeclared', () => 'open'), /declares no access.*default deny/)
})

t.test('HS256 development tokens', async (t) => {
  const { app, token } = await testApp(t, { extend: protectedRoute })
  t.equal((await get(app)).statusCode, 401, 'no token')
  t.equal((await get(app, 'not.a.jwt')).statusCode, 401, 'garbage')
  t.equal((await get(app, hs256(claims(), 'another-secret-another-secret-another'))).statusCode, 401, 'wrong secret')
  t.equal((await get(app, hs256(claims({ exp: now() - 10 })))).statusCode, 401, 'expired')
  t.equal((await get(app, hs256(claims({ exp: undefined })))).statusCode, 401, 'no expiry')
  t.equal((await get(app, hs256(claims({ iss: 'someone-else' })))).statusCode, 401, 'wrong issuer')
  t.equal((await get(app, hs256(claims({ aud: 'other-service' })))).statusCode, 401, 'wrong audience')
  t.equal((await get(app, hs256(claims({ roles: 'records_clerk' })))).statusCode, 401, 'roles not an array')
  t.equal((await get(app, jwt({ alg: 'none', typ: 'JWT' }, claims(), () => ''))).statusCode, 401, 'alg none')
  t.equal((await get(app, hs256(claims({ roles: ['auditor', 'superuser'] })))).statusCode, 403, 'valid token, wrong role')
  const ok = await get(app, hs256(claims()))
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { sub: 'jdoe' })
  t.equal((await get(app, token('records_clerk'))).statusCode, 200, 'tokens minted by the app itself')
  const refused = await get(app)
  t.same(refused.json(), {
    type: '/problems/unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'This route needs a bearer token.',
    instance: '/test/clerks',
  })
})

function asymmetricCases(kind: 'rsa' | 'ec') {
  const pair =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const alg = kind === 'rsa' ? 'RS256' : 'ES256'
  const signWith = (privateKey: KeyObject) => (input: string) =>
    kind === 'rsa'
      ? cryptoSign('sha256', Buffer.from(input), privateKey)
      : cryptoSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return { pair, alg, signWith }
}

for (const kind of ['rsa', 'ec'] as const) {
  t.test(`production verification with a ${kind.toUpperCase()} public key`, async (t) => {
    const { pair, alg, signWith } = asymmetricCases(kind)
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const env = { NODE_ENV: 'production', LEDGER_ORIGIN: 'townsquare.kankakee.example/ledger', LEDGER_SIGNING_KEY: TEST_LEDGER_KEY_PEM, JWT_SECRET: '', JWT_PUBLIC_KEY: publicPem, JWT_ISSUER: 'https://idp.kankakee.example', JWT_AUDIENCE: 'townsquare' }
    const { app } = await testApp(t, { env, extend: protectedRoute })
    const good = claims({ iss: 'https://idp.kankakee.example' })
    t.equal((await get(app, jwt({ alg, typ: 'JWT' }, good, signWith(pair.privateKey)))).statusCode, 200, `${alg} accepted`)
    const other = asymmetricCases(kind).pair.privateKey
    t.equal((await get(app, jwt({ alg, typ: 'JWT' }, good, signWith(other)))).statusCode, 401, 'another key')
    t.equal(
      (await get(app, jwt({ alg: 'HS256', typ: 'JWT' }, good, (input) => createHmac('sha256', publicPem).update(input).digest()))).statusCode,
      401,
      'HMAC signed with the public key as secret (algorithm confusion)',
    )
    t.equal((await get(app, jwt({ alg: 'none', typ: 'JWT' }, good, () => ''))).statusCode, 401, 'alg none')
    t.equal((await get(app, hs256(good))).statusCode, 401, 'development HS256 token')
  })
}

t.test('production verification through a JWKS URL', async (t) => {
  const { pair, signWith } = asymmetricCases('rsa')
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'RS256', use: 'sig' }
  let fetches = 0
  const jwks = createServer((req, res) => {
    fetches++
    if (req.url !== '/oauth/jwks.json') return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
  })
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => jwks.close(() => resolve())))
  const port = (jwks.address() as AddressInfo).port
  const env = {
    NODE_ENV: 'production',
    LEDGER_ORIGIN: 'townsquare.kankakee.example/ledger',
    LEDGER_SIGNING_KEY: TEST_LEDGER_KEY_PEM,
    JWT_SECRET: '',
    JWT_JWKS_URL: `http://127.0.0.1:${port}/oauth/jwks.json`,
    JWT_ISSUER: 'https://idp.kankakee.example',
    JWT_AUDIENCE: 'townsquare',
  }
  const { app } = await testApp(t, { env, extend: protectedRoute })
  const good = claims({ iss: 'https://idp.kankakee.example' })
  t.equal((await get(app, jwt({ alg: 'RS256', typ: 'JWT', kid: 'key-1' }, good, signWith(pair.privateKey)))).statusCode, 200)
  t.equal((await get(app, jwt({ alg: 'RS256', typ: 'JWT', kid: 'key-1' }, good, signWith(pair.privateKey)))).statusCode, 200)
  t.equal(fetches, 1, 'the key set is cached')
  t.equal((await get(app, jwt({ alg: 'RS256', typ: 'JWT', kid: 'unknown' }, good, signWith(pair.privateKey)))).statusCode, 401, 'unknown kid')
  t.equal((await get(app, hs256(good))).statusCode, 401, 'HS256')
})
