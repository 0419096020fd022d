import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import type { Test } from 'tap'
import { buildApp, loggerOptions } from '../../src/app.js'
import { loadConfig, resolveDatabase, type Config } from '../../src/config.js'
import type { Role } from '../../src/plugins/auth.js'
import { createTestDatabase, serviceDatabaseEnv } from './db.js'
import { isManualClock } from '../factories/clock.js'

export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-for-hs256'

/** The platform secrets of the README's test vectors. */
export const TEST_WEBHOOK_SECRETS = {
  META_APP_SECRET: 'test-app-secret',
  META_VERIFY_TOKEN: 'test-verify-token',
  X_CONSUMER_SECRET: 'test-consumer-secret',
  LINKEDIN_CLIENT_SECRET: 'test-client-secret',
  WEBSITE_WEBHOOK_SECRET: 'test-website-secret',
}

/** A checkpoint signing key for tests that configure production mode. */
export const TEST_LEDGER_KEY_PEM = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

/** Tests always name their database (a real server): `resolveDatabase` refuses the embedded default. */
export function testConfig(overrides: Record<string, string | undefined> = {}, options: { migrationsDir?: string } = {}): Config {
  return resolveDatabase(loadConfig(
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: '.data/test',
      // Tests seal on demand (app.ledger.sealer.sealNow()) rather than on the timer.
      LEDGER_CHECKPOINT_INTERVAL_MS: '60000',
      // Tests run jobs on demand (app.jobs.runDue()).
      JOBS: 'off',
      ...TEST_WEBHOOK_SECRETS,
      ...overrides,
    },
    options,
  ))
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  /** The owner's URL of the test's database: for the test's own setup and checks, never the service's. */
  databaseUrl: string
  /** The runtime login role's URL: what the service under test uses. */
  runtimeUrl: string
  token(roles: Role[] | Role, sub?: string): string
  /**
   * A pool on the test's database as the owner, for what the service itself must not be able to
   * do (tampering, test-only triggers). Made on first use, closed with the test.
   */
  ownerPool(): pg.Pool
}

/** The real app on a private database; closed and dropped when the test ends. */
export async function testApp(
  t: Test,
  options: { env?: Record<string, string | undefined>; extend?: (app: FastifyInstance) => unknown; clock?: () => Date } = {},
): Promise<TestApp> {
  const database = await createTestDatabase()
  // The service connects as the runtime login role and migrates as the owner, as in production.
  const config = testConfig({ ...serviceDatabaseEnv(database), ...options.env })
  // TEST_LOG=1 shows the app's logs (the sealer's included) while debugging a test.
  const app = await buildApp(config, {
    ...(process.env.TEST_LOG ? { logger: loggerOptions({ logLevel: 'debug' }) } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  })
  await options.extend?.(app)
  let owner: pg.Pool | null = null
  const ownerPool = () => {
    if (!owner) {
      owner = new pg.Pool({ connectionString: database.url, max: 2 })
      // An idle client ended by the server (the database dropped at teardown) is not a test failure.
      owner.on('error', () => {})
    }
    return owner
  }
  // A manual clock moves the database's clock too, from before the app writes anything.
  if (isManualClock(options.clock)) await options.clock.attach(ownerPool())
  t.teardown(async () => {
    // Each step runs even when one before it fails, so no connection outlives its database.
    try {
      await app.close()
    } finally {
      try {
        await owner?.end()
      } finally {
        await database.drop()
      }
    }
  })
  await app.ready()
  return {
    app,
    config,
    databaseUrl: database.url,
    runtimeUrl: database.runtimeUrl,
    token: (roles, sub = 'test-user') => app.jwt.sign({ sub, roles: Array.isArray(roles) ? roles : [roles] }),
    ownerPool,
  }
}
