import t from 'tap'
import { ConfigError, DEFAULT_DATABASE_URL, loadConfig, resolveDatabase } from '../src/config.js'

const secret = 'x'.repeat(32)

t.test('defaults give a runnable development configuration', async (t) => {
  const config = loadConfig({ JWT_SECRET: secret })
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  // No DATABASE_URL: the embedded PostgreSQL, started by the server (src/db/embedded.ts).
  t.equal(config.databaseUrl, null)
  t.same(config.embedded, { dataDir: '.data/embedded', port: 0, ownParent: '.data' })
  // Embedded: migrations as the superuser, the service as the runtime login role, as on a server.
  const embedded = resolveDatabase(config, { url: 'postgresql://postgres:a@127.0.0.1:40000/postgres', runtimeUrl: 'postgresql://townsquare_app:b@127.0.0.1:40000/postgres' })
  t.equal(embedded.migrationDatabaseUrl, 'postgresql://postgres:a@127.0.0.1:40000/postgres')
  t.equal(embedded.databaseUrl, 'postgresql://townsquare_app:b@127.0.0.1:40000/postgres')
  t.throws(() => resolveDatabase(config), /DATABASE_URL/)
  const server = loadConfig({ JWT_SECRET: secret, DATABASE_URL: DEFAULT_DATABASE_URL, EMBEDDED_DATA_DIR: '/ignored' })
  t.equal(server.embedded, null)
  t.equal(resolveDatabase(server).migrationDatabaseUrl, DEFAULT_DATABASE_URL)
  t.same(config.jwt, { verification: { mode: 'hs256', secret }, issuer: 'townsquare-dev', audience: 'townsquare' })
})

t.test('every problem is reported at once', async (t) => {
  const error = t.throws(() =>
    loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x/y', JWT_SECRET: 'short' }),
  ) as ConfigError
  t.ok(error instanceof ConfigError)
  const fields = error.problems.map((p) => p.split(':')[0])
  t.same(fields.sort(), ['DATABASE_URL', 'JWT_SECRET', 'LOG_LEVEL', 'PORT'])
  t.match(error.message, /PORT: .*\n.*LOG_LEVEL|LOG_LEVEL: .*\n/)
})

t.test('production refuses development conveniences and requires issuer and audience', async (t) => {
  const error = t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }, { devJwtSecret: () => secret })) as ConfigError
  const fields = error.problems.map((p) => p.split(':')[0]).sort()
  t.same(fields, ['DATABASE_URL', 'JWT_AUDIENCE', 'JWT_ISSUER', 'JWT_PUBLIC_KEY', 'JWT_SECRET', 'LEDGER_ORIGIN', 'LEDGER_SIGNING_KEY'])
})

t.test('a migration URL needs a DATABASE_URL: the embedded database has no separate owner', async (t) => {
  t.throws(() => loadConfig({ JWT_SECRET: secret, MIGRATION_DATABASE_URL: DEFAULT_DATABASE_URL }), /DATABASE_URL: required when MIGRATION_DATABASE_URL/)
})

t.test('a public key or a JWKS URL selects asymmetric verification', async (t) => {
  const pem = '-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----'
  const base = { NODE_ENV: 'production', DATABASE_URL: DEFAULT_DATABASE_URL, JWT_ISSUER: 'https://idp.city.example', JWT_AUDIENCE: 'townsquare', LEDGER_ORIGIN: 'townsquare.city.example/ledger', LEDGER_SIGNING_KEY: 'pem' }
  t.same(loadConfig({ ...base, JWT_PUBLIC_KEY: pem }).jwt.verification, {
    mode: 'public-key',
    publicKey: '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----',
  })
  t.same(loadConfig({ ...base, JWT_JWKS_URL: 'https://idp.city.example/jwks' }).jwt.verification, {
    mode: 'jwks',
    jwksUrl: 'https://idp.city.example/jwks',
  })
  t.throws(() => loadConfig({ ...base, JWT_PUBLIC_KEY: pem, JWT_JWKS_URL: 'https://idp.city.example/jwks' }), /not both/)
})

t.test('without any JWT setting a development secret is generated, never in production', async (t) => {
  t.equal(loadConfig({}, { devJwtSecret: () => 'generated' }).jwt.verification.mode, 'hs256')
  t.throws(() => loadConfig({}), /JWT_SECRET/)
})

t.test('empty values count as unset', async (t) => {
  t.equal(loadConfig({ JWT_SECRET: secret, PORT: '', DATABASE_URL: '' }).port, 3000)
})
