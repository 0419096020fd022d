import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Role } from '../plugins/auth.js'
import { Problem } from '../plugins/errors.js'
import { consistencyReport, optionalRange, statsRange, transparencyStats } from './transparency.js'
import * as S from './transparency-schemas.js'

const AUDITORS: readonly Role[] = ['tst_admin', 'auditor']

const iso = (d: Date | null) => d?.toISOString() ?? null

export const transparencyRoutes: FastifyPluginAsyncZod = async (app) => {
  const prisma = app.db.prisma

  app.get(
    '/transparency/stats',
    {
      config: { access: 'public' },
      schema: {
        tags: ['transparency'],
        summary: 'How the comment policy is applied: counts of decisions and appeals by month, platform, rule and action (no personal data)',
        description: 'Public. Counts only, never a comment or a person: decisions by action, rule, platform and month, automatic or by a person, and appeals and their outcomes. from/to take a month (UTC), a plain date (CITY_TIME_ZONE) or a datetime.',
        querystring: S.TransparencyQuery,
        response: { 200: S.TransparencyStats, 400: Problem },
      },
    },
    async (request) => {
      const now = app.clock()
      const stats = await transparencyStats(prisma, { range: statsRange(request.query, now, app.config.cityTimeZone), now })
      return {
        ...stats,
        range: { from: stats.range.from.toISOString(), to: stats.range.to.toISOString() },
        currentPolicy: stats.currentPolicy && { ...stats.currentPolicy, effectiveFrom: stats.currentPolicy.effectiveFrom.toISOString() },
      }
    },
  )

  app.get(
    '/moderation/consistency',
    {
      config: { access: AUDITORS },
      schema: {
        tags: ['moderation'],
        summary: 'Consistency report: the matcher against the people, rule by rule, and comments with the same evidence that ended differently',
        description: 'For auditing even-handedness: per rule, how often people agreed with the matcher, and groups of comments with the same evidence that got different outcomes. from/to as on the public statistics.',
        querystring: S.ConsistencyQuery,
        response: { 200: S.ConsistencyReport, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const { limit, ...bounds } = request.query
      const report = await consistencyReport(prisma, { ...optionalRange(bounds, app.config.cityTimeZone), limit })
      return {
        ...report,
        range: { from: iso(report.range.from), to: iso(report.range.to) },
        divergent: {
          ...report.divergent,
          groups: report.divergent.groups.map((g) => ({ ...g, comments: g.comments.map((c) => ({ ...c, decidedAt: c.decidedAt.toISOString() })) })),
        },
      }
    },
  )
}
