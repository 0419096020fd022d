// The public pages (no sign-in): home, the comment policy in force, the transparency statistics.
import type { FastifyInstance } from 'fastify'
import { statsRange, transparencyStats } from '../../moderation/transparency.js'
import { publishedVersions, versionInForce } from '../../policy/versions.js'
import type { PolicyVersionContent } from '../../policy/rules.js'
import { sendPage, viewerOf } from '../plugin.js'
import { PolicyPage, PublicHome, TransparencyPage } from './views.js'
import { ValidationProblem } from '../../plugins/errors.js'

const PAGE = { access: 'public', page: 'public' } as const

export async function publicPages(app: FastifyInstance): Promise<void> {
  const prisma = app.db.prisma

  app.get('/', { config: PAGE, schema: { hide: true } }, async (request, reply) => sendPage(reply, PublicHome({ viewer: viewerOf(request) })))

  app.get('/policy', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const row = await versionInForce(prisma, app.clock())
    const policy = row
      ? {
          name: row.policy.name,
          version: row.version,
          effectiveFrom: row.effectiveFrom!,
          content: row.content as PolicyVersionContent,
          history: await publishedVersions(prisma, row.policyId),
        }
      : null
    return sendPage(reply, PolicyPage({ viewer: viewerOf(request), policy }))
  })

  app.get('/transparency', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const text = { from: typeof query.from === 'string' ? query.from.trim() : '', to: typeof query.to === 'string' ? query.to.trim() : '' }
    const errors: Array<{ field: string; message: string }> = []
    for (const field of ['from', 'to'] as const) {
      if (text[field] !== '' && !/^\d{4}-(0[1-9]|1[0-2])$/.test(text[field])) {
        errors.push({ field, message: `Enter the ${field === 'from' ? 'first' : 'last'} month as YYYY-MM, for example 2026-01` })
      }
    }
    const now = app.clock()
    let range = statsRange({}, now)
    if (errors.length === 0) {
      try {
        range = statsRange({ from: text.from || undefined, to: text.to || undefined }, now)
      } catch (err) {
        if (!(err instanceof ValidationProblem)) throw err
        errors.push({ field: 'from', message: err.message })
      }
    }
    const stats = await transparencyStats(prisma, { range, now })
    return sendPage(reply, TransparencyPage({ viewer: viewerOf(request), stats, query: text, errors }), errors.length ? 400 : 200)
  })
}
