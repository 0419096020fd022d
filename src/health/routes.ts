import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Database } from '../db/client.js'
import { planMigrations, readAppliedMigrations, type MigrationFile } from '../db/migrate.js'
import { Problem } from '../plugins/errors.js'

const Health = z.object({ status: z.literal('ok') })
const Readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({
    database: z.enum(['ok', 'unreachable']),
    migrations: z.enum(['current', 'pending', 'failed', 'unknown']),
  }),
  detail: z.string().optional(),
})

export type ReadinessReport = z.infer<typeof Readiness>

export async function checkReadiness(db: Database, migrationFiles: MigrationFile[]): Promise<ReadinessReport> {
  let applied
  try {
    applied = await readAppliedMigrations(db.pool)
  } catch (error) {
    return {
      status: 'not_ready',
      checks: { database: 'unreachable', migrations: 'unknown' },
      detail: `database unreachable: ${(error as Error).message.split('\n')[0]}`,
    }
  }
  const plan = planMigrations(migrationFiles, applied ?? [])
  if (plan.problems.length > 0) {
    return { status: 'not_ready', checks: { database: 'ok', migrations: 'failed' }, detail: plan.problems[0]!.message }
  }
  if (plan.pending.length > 0) {
    return {
      status: 'not_ready',
      checks: { database: 'ok', migrations: 'pending' },
      detail: `pending migrations: ${plan.pending.map((m) => m.name).join(', ')}`,
    }
  }
  return { status: 'ready', checks: { database: 'ok', migrations: 'current' } }
}

export const healthRoutes: FastifyPluginAsyncZod<{ db: Database; migrationFiles: MigrationFile[] }> = async (app, { db, migrationFiles }) => {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { tags: ['health'], summary: 'The process is alive', description: 'Liveness only: answers 200 while the process runs, without touching the database. Use /readyz to decide whether to send traffic.', response: { 200: Health } },
    },
    () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'The database is reachable and every migration is applied',
        description: 'Readiness: 200 when PostgreSQL answers and the applied migrations are exactly the ones this build ships; 503 otherwise (database unreachable, or migrations missing), so a load balancer holds traffic back.',
        response: { 200: Readiness, 503: Readiness, 500: Problem },
      },
    },
    async (_request, reply) => {
      const report = await checkReadiness(db, migrationFiles)
      return reply.status(report.status === 'ready' ? 200 : 503).send(report)
    },
  )
}
