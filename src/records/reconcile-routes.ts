import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { accessFrom, recordAccess } from '../audit/access-log.js'
import type { Role } from '../plugins/auth.js'
import { Problem } from '../plugins/errors.js'
import { latestReconciliation, runReconciliation, type StoredReconciliation } from './reconcile.js'
import * as S from './schemas.js'

// As the other ledger routes: auditors and records clerks.
const READERS: readonly Role[] = ['auditor', 'records_clerk']

/** The comments a report names: a reading of which records diverge, and how, is logged like any read of records. */
const namedComments = (r: StoredReconciliation | null) => [...new Set(r?.divergences.map((d) => d.commentId) ?? [])].filter((id) => /^[0-9a-f-]{36}$/i.test(id))

export const reconcileRoutes: FastifyPluginAsyncZod = async (app) => {
  const errors = { 401: Problem, 403: Problem }

  app.post(
    '/ledger/reconcile',
    {
      config: { access: READERS },
      schema: {
        tags: ['ledger'],
        summary: 'Recompute every comment\'s current state and versions from the ledger; report each divergence of the tables',
        description:
          'Checks the comment projections (current text, versions, status, moderation status, identity, every event) against the ledger entries, ' +
          'stores the result (GET /v1/ledger/status) and logs it, at error level when anything diverges. Divergences name ids and fields; ' +
          'content (text, author) is never in the report. Runs on RECONCILE_SCHEDULE too.',
        response: { 200: S.Reconciliation, ...errors },
      },
    },
    async (request) => {
      const report = await runReconciliation({ pool: app.db.pool, clock: app.clock, log: request.log }, { trigger: 'request', actor: `user:${request.user.sub}` })
      await recordAccess(app.db.prisma, { ...accessFrom(request, 'ledger.reconcile', {}, app.clock()), recordIds: namedComments(report) })
      return report
    },
  )

  app.get(
    '/ledger/status',
    {
      config: { access: READERS },
      schema: {
        tags: ['ledger'],
        summary: 'The latest reconciliation of the comment projections against the ledger, and its schedule',
        description: 'When the comment projections were last checked against the ledger, what diverged, and when the next scheduled check runs (RECONCILE_SCHEDULE).',
        response: { 200: S.LedgerStatus, ...errors },
      },
    },
    async (request) => {
      const reconciliation = await latestReconciliation(app.db.prisma)
      await recordAccess(app.db.prisma, { ...accessFrom(request, 'ledger.status', {}, app.clock()), recordIds: namedComments(reconciliation) })
      return { reconciliation, reconcileSchedule: app.config.jobs.reconcileSchedule }
    },
  )
}
