import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { inTransaction } from '../db/tx.js'
import type { PolicyVersion as PolicyVersionRow, Policy } from '../generated/prisma/client.js'
import { noticeFor, SAMPLE_APPEAL_REFERENCE } from '../moderation/notices.js'
import { actorOf, optionalActor, type Role } from '../plugins/auth.js'
import { NotFoundError, Problem } from '../plugins/errors.js'
import { compilePolicy } from './compile.js'
import { diffVersions } from './diff.js'
import { evaluate } from './evaluate.js'
import { policyImpact } from './impact.js'
import type { PolicyVersionContent } from './rules.js'
import * as S from './schemas.js'
import { createDraft, createPolicy, publishVersion, requirePolicy, requireVersion, updateDraft, versionInForce } from './versions.js'
import { instantOf } from '../http/dates.js'

const ADMIN: readonly Role[] = ['tst_admin']
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem }

const iso = (d: Date | null) => d?.toISOString() ?? null

function versionBody(row: PolicyVersionRow, policy: Pick<Policy, 'name'>): z.infer<typeof S.PolicyVersion> {
  return {
    id: row.id,
    policyId: row.policyId,
    policyName: policy.name,
    version: row.version,
    status: row.status as 'draft' | 'published',
    effectiveFrom: iso(row.effectiveFrom),
    publishedAt: iso(row.publishedAt),
    publishedBy: row.publishedBy,
    ledgerEntryId: row.ledgerEntryId,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: row.updatedBy,
    content: row.content as PolicyVersionContent,
  }
}

/** Drafts are the TST's work in progress: visible to a tst_admin presenting a token, to nobody else. */
async function seesDrafts(request: FastifyRequest): Promise<boolean> {
  return (await optionalActor(request))?.roles.includes('tst_admin') ?? false
}

export const policyRoutes: FastifyPluginAsyncZod = async (app) => {
  const prisma = app.db.prisma
  const actor = (request: FastifyRequest) => `user:${actorOf(request).sub}`
  // Published versions are frozen, so their compiled form is cached; drafts change, so never.
  const compiledFor = (row: PolicyVersionRow) =>
    row.status === 'published' ? app.policy.resolver.cache.get(row.id, row.content as PolicyVersionContent) : compilePolicy(row.content as PolicyVersionContent, row.id)

  app.post(
    '/policies',
    {
      config: { access: ADMIN, idempotent: true },
      schema: { tags: ['policy'], summary: 'Create a policy (its rules come in versions)', description: 'A new policy holds no rules yet: create a draft version, then publish it.', body: S.PolicyInput, response: { 201: S.PolicySummary, 409: Problem, ...errors } },
    },
    async (request, reply) => {
      const policy = await inTransaction(prisma, (tx) => createPolicy(tx, actor(request), request.body, app.clock))
      return reply.status(201).send({ id: policy.id, name: policy.name, description: policy.description, createdAt: policy.createdAt.toISOString(), versions: [] })
    },
  )

  app.get(
    '/policies',
    {
      config: { access: 'public' },
      schema: { tags: ['policy'], summary: 'Every policy and its published versions (drafts too for a tst_admin)', description: 'Published versions are public records; drafts are shown to a tst_admin only.', response: { 200: S.PolicyList, 401: Problem } },
    },
    async (request) => {
      const drafts = await seesDrafts(request)
      const policies = await prisma.policy.findMany({
        orderBy: { createdAt: 'asc' },
        include: { versions: { where: drafts ? {} : { status: 'published' }, orderBy: { version: 'asc' } } },
      })
      return {
        items: policies
          .filter((p) => drafts || p.versions.length > 0)
          .map((p) => ({
            id: p.id,
            name: p.name,
            description: p.description,
            createdAt: p.createdAt.toISOString(),
            versions: p.versions.map((v) => ({ version: v.version, status: v.status as 'draft' | 'published', effectiveFrom: iso(v.effectiveFrom), publishedAt: iso(v.publishedAt) })),
          })),
        nextCursor: null,
      }
    },
  )

  app.get(
    '/policies/current',
    {
      config: { access: 'public' },
      schema: { tags: ['policy'], summary: 'The policy version in force now: the rules the public is held to', description: 'Public. The version in force now, with every rule, its action and explanation, and the policy\'s public address: the rules a commenter is held to.', response: { 200: S.PolicyVersion, 404: Problem } },
    },
    async () => {
      const row = await versionInForce(prisma, app.clock())
      if (!row) throw new NotFoundError('No policy version is in force yet.')
      return versionBody(row, row.policy)
    },
  )

  app.post(
    '/policies/:id/versions',
    {
      config: { access: ADMIN, idempotent: true },
      schema: {
        tags: ['policy'],
        summary: 'Create a draft version: the content given, or a copy of basedOn (default the latest version)',
        description: 'A draft can be edited until it is published; basedOn copies an earlier version\'s rules to start from.',
        params: S.PolicyParams,
        body: S.DraftInput,
        response: { 201: S.PolicyVersion, ...errors },
      },
    },
    async (request, reply) => {
      const { row, policy } = await inTransaction(prisma, async (tx) => ({
        row: await createDraft(tx, actor(request), request.params.id, request.body, app.clock),
        policy: await requirePolicy(tx, request.params.id),
      }))
      return reply.status(201).send(versionBody(row, policy))
    },
  )

  app.get(
    '/policies/:id/versions',
    {
      config: { access: 'public' },
      schema: { tags: ['policy'], summary: 'The versions of a policy (drafts too for a tst_admin)', description: 'Each version with its number, status and effective date; drafts only for a tst_admin.', params: S.PolicyParams, response: { 200: S.PolicyVersionList, ...errors } },
    },
    async (request) => {
      const drafts = await seesDrafts(request)
      const policy = await requirePolicy(prisma, request.params.id)
      const rows = await prisma.policyVersion.findMany({ where: { policyId: policy.id, ...(drafts ? {} : { status: 'published' }) }, orderBy: { version: 'asc' } })
      return {
        items: rows.map((r) => {
          const { content: _content, ...rest } = versionBody(r, policy)
          return rest
        }),
        nextCursor: null,
      }
    },
  )

  app.get(
    '/policies/:id/versions/:version',
    {
      config: { access: 'public' },
      schema: { tags: ['policy'], summary: 'One version with its rules (drafts only for a tst_admin)', description: 'The rules of one version (its number is what decisions cite as policyVersion). Drafts only for a tst_admin; 404 otherwise.', params: S.VersionParams, response: { 200: S.PolicyVersion, ...errors } },
    },
    async (request) => {
      const drafts = await seesDrafts(request)
      const policy = await requirePolicy(prisma, request.params.id)
      return versionBody(await requireVersion(prisma, policy.id, request.params.version, { includeDrafts: drafts }), policy)
    },
  )

  app.put(
    '/policies/:id/versions/:version',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['policy'],
        summary: 'Replace the rules of a draft (a published version is frozen: 409)',
        description: 'Replaces the whole rule set of a draft; validated as on publication. A published version is frozen (409).',
        params: S.VersionParams,
        body: S.DraftUpdate,
        response: { 200: S.PolicyVersion, 409: Problem, ...errors },
      },
    },
    async (request) => {
      return inTransaction(prisma, async (tx) => {
        const row = await updateDraft(tx, actor(request), request.params.id, request.params.version, request.body.content, app.clock)
        return versionBody(row, await requirePolicy(tx, request.params.id))
      })
    },
  )

  app.post(
    '/policies/:id/versions/:version/publish',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['policy'],
        summary: 'Publish a draft: frozen forever, appended to the ledger, in force from effectiveFrom',
        description: 'Publishing appends policy.published to the ledger with the whole content and freezes the version. effectiveFrom (a plain date is the start of that day in CITY_TIME_ZONE) may not be in the past and must follow every published version.',
        params: S.VersionParams,
        body: S.PublishInput,
        response: { 200: S.PolicyVersion, 409: Problem, ...errors },
      },
    },
    async (request) => {
      return inTransaction(prisma, async (tx) => {
        const effectiveFrom = request.body.effectiveFrom ? instantOf(request.body.effectiveFrom, app.config.cityTimeZone) : undefined
        const row = await publishVersion(tx, actor(request), request.params.id, request.params.version, effectiveFrom ? { effectiveFrom } : {}, app.clock)
        return versionBody(row, await requirePolicy(tx, request.params.id))
      })
    },
  )

  app.get(
    '/policies/:id/versions/:a/diff/:b',
    {
      config: { access: 'public' },
      schema: { tags: ['policy'], summary: 'What changed from version a to version b, rule by rule', description: 'Rules added, removed and changed between two versions, field by field, for the public record of what changed.', params: S.DiffParams, response: { 200: S.VersionDiff, ...errors } },
    },
    async (request) => {
      const drafts = await seesDrafts(request)
      const { id, a, b } = request.params
      const [va, vb] = [await requireVersion(prisma, id, a, { includeDrafts: drafts }), await requireVersion(prisma, id, b, { includeDrafts: drafts })]
      return { a, b, ...diffVersions(va.content as PolicyVersionContent, vb.content as PolicyVersionContent) }
    },
  )

  app.post(
    '/policies/:id/versions/:version/evaluate',
    {
      config: { access: ['tst_admin', 'tst_moderator'] },
      schema: {
        tags: ['policy'],
        summary: 'Dry run: evaluate any text against any version, drafts included; nothing is stored',
        description: 'Runs the matcher on the given text with the version\'s rules and returns the outcome and the matches; stores nothing and records nothing.',
        params: S.VersionParams,
        body: S.EvaluationInput,
        response: { 200: S.DryRun, ...errors },
      },
    },
    async (request) => {
      const row = await requireVersion(prisma, request.params.id, request.params.version, { includeDrafts: true })
      const content = row.content as PolicyVersionContent
      const evaluation = evaluate(compiledFor(row), request.body)
      const removing = evaluation.matches.filter((m) => m.action === 'remove')
      return { evaluation, noticeText: evaluation.outcome === 'remove' ? noticeFor(content, 'removed', removing.map((m) => m.ruleCode), 'website', SAMPLE_APPEAL_REFERENCE) : null }
    },
  )

  app.post(
    '/policies/:id/versions/:version/impact',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['policy'],
        summary: 'Replay the comments of a time range through a version (a draft) and report which would get another outcome',
        description: 'Before publishing: replays the stored comments of the range (from/to: a plain date is a day in CITY_TIME_ZONE, to includes it) through the version and lists those whose outcome would change. Stores nothing.',
        params: S.VersionParams,
        body: S.ImpactInput,
        response: { 200: S.ImpactReport, ...errors },
      },
    },
    async (request) => {
      const row = await requireVersion(prisma, request.params.id, request.params.version, { includeDrafts: true })
      const compiled = compiledFor(row)
      const { from, to, limit } = request.body
      return inTransaction(prisma, (tx) => policyImpact(tx, compiled, { from: instantOf(from, app.config.cityTimeZone, 'start'), to: instantOf(to, app.config.cityTimeZone, 'end'), limit }))
    },
  )
}
