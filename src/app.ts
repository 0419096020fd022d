import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { auditRoutes } from './audit/routes.js'
import { commentRoutes } from './comments/routes.js'
import { consolePlugin } from './console/plugin.js'
import type { Config } from './config.js'
import { createDatabase, type Database } from './db/client.js'
import { holidayCalendar } from './foia/business-days.js'
import { foiaIllinoisRoutes } from './foia/illinois-routes.js'
import { foiaRoutes } from './foia/routes.js'
import { readMigrationFiles } from './db/migrate.js'
import { healthRoutes } from './health/routes.js'
import { systemClock, type Clock } from './ledger/append.js'
import { ledgerRoutes } from './ledger/routes.js'
import { startSealer, type Sealer } from './ledger/sealer.js'
import { loadSigningKey, type LedgerSigningKey } from './ledger/signing-key.js'
import { runDueJobs, startWorker, type Worker } from './moderation/jobs.js'
import { moderationRoutes } from './moderation/routes.js'
import { transparencyRoutes } from './moderation/transparency-routes.js'
import { PROJECT_ROOT } from './paths.js'
import authPlugin from './plugins/auth.js'
import errorsPlugin from './plugins/errors.js'
import jsonBodyPlugin from './plugins/json-body.js'
import idempotencyPlugin from './plugins/idempotency.js'
import openapiPlugin from './plugins/openapi.js'
import { PolicyResolver } from './policy/effective.js'
import { policyRoutes } from './policy/routes.js'
import { blockRoutes } from './moderation/block-routes.js'
import { connectionRoutes } from './connections/routes.js'
import { retentionRoutes } from './retention/routes.js'
import { reconcileRoutes } from './records/reconcile-routes.js'
import { recordRoutes } from './records/routes.js'
import { webhookRoutes } from './webhooks/routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Database
    clock: Clock
    ledger: { signingKey: LedgerSigningKey; sealer: Sealer | null }
    policy: { resolver: PolicyResolver }
    jobs: { runner: Worker | null; runDue(): Promise<void> }
  }
}

const VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version

/** Headers and fields that must never reach a log line. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hub-signature"]',
  'req.headers["x-twitter-webhooks-signature"]',
  'req.headers["x-li-signature"]',
  'req.headers["townsquare-signature"]',
  '*.secret',
  '*.password',
  '*.token',
]

export function loggerOptions(config: Pick<Config, 'logLevel'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: LOG_REDACT, censor: '[redacted]' },
    serializers: {
      req: (req) => ({
        method: req.method,
        url: req.url.split('?')[0],
        remoteAddress: req.ip,
        headers: req.headers,
      }),
    },
  }
}

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
  /** An existing database handle (tests share one); otherwise one is created from the config. */
  database?: Database
  clock?: Clock
}

/** Builds the service from a config without listening (src/server.ts listens). */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: 500 },
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  const db = options.database ?? createDatabase(config.databaseUrl, { poolSize: config.poolSize })
  const clock = options.clock ?? systemClock
  const signingKey = loadSigningKey(config)
  app.decorate('config', config)
  app.decorate('db', db)
  app.decorate('clock', clock)
  app.decorate('ledger', { signingKey, sealer: null })
  app.decorate('policy', { resolver: new PolicyResolver() })
  const jobDeps = { prisma: db.prisma, pool: db.pool, config, clock, log: app.log.child({ component: 'jobs' }) }
  app.decorate('jobs', { runner: null, runDue: () => runDueJobs(jobDeps) })
  if (config.jobs.enabled) {
    app.addHook('onReady', async () => {
      app.jobs.runner = await startWorker(jobDeps)
    })
  }
  if (config.ledger.sealer) {
    app.addHook('onReady', async () => {
      app.ledger.sealer = startSealer({
        databaseUrl: config.databaseUrl,
        key: signingKey,
        intervalMs: config.ledger.checkpointIntervalMs,
        maxCheckpointAgeMs: config.ledger.maxCheckpointAgeMs,
        log: app.log.child({ component: 'sealer' }),
      })
    })
  }
  // One hook, so the order is explicit: the sealer finishes its pass before the pool closes.
  app.addHook('onClose', async () => {
    await app.jobs.runner?.stop()
    await app.ledger.sealer?.stop()
    if (!options.database) await db.close()
  })

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // Every body is served with its declared type only: a handshake's echo or a text export is
    // never sniffed into HTML by a browser.
    reply.header('x-content-type-options', 'nosniff')
  })

  await app.register(errorsPlugin)
  await app.register(jsonBodyPlugin)
  await app.register(authPlugin, { config })
  await app.register(idempotencyPlugin)
  await app.register(openapiPlugin, { version: VERSION })

  await app.register(healthRoutes, { db, migrationFiles: readMigrationFiles(config.migrationsDir) })
  await app.register(
    async (v1) => {
      await v1.register(ledgerRoutes, { signingKey })
      await v1.register(webhookRoutes)
      await v1.register(commentRoutes)
      await v1.register(policyRoutes)
      await v1.register(moderationRoutes)
      await v1.register(transparencyRoutes)
      await v1.register(retentionRoutes)
      const calendarOptions = { closedDays: config.foia.closedDays, openDays: config.foia.openDays, openHolidays: config.foia.openHolidays }
      const calendar = holidayCalendar(calendarOptions)
      const letterDeps = { letters: { publicBody: config.foia.publicBody, officeAddress: config.foia.officeAddress, officials: config.foia.officials, calendar: calendarOptions } }
      await v1.register(foiaRoutes, { calendar, letterDeps })
      await v1.register(foiaIllinoisRoutes, { calendar, letterDeps })
      await v1.register(recordRoutes)
      await v1.register(reconcileRoutes)
      await v1.register(auditRoutes)
      await v1.register(blockRoutes)
      await v1.register(connectionRoutes)
    },
    { prefix: '/v1' },
  )
  if (config.console.enabled) await app.register(consolePlugin)

  return app
}
