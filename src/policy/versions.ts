import { randomUUID } from 'node:crypto'
import type { Policy, PolicyVersion } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { sha256Hex, canonicalJson } from '../ledger/canonical-json.js'
import { ConflictError, NotFoundError, ValidationProblem } from '../plugins/errors.js'
import { compilePolicy } from './compile.js'
import { validatePolicyContent, type PolicyProblem, type PolicyVersionContent } from './rules.js'

export class PolicyNotFoundError extends NotFoundError {
  constructor(policyId: string) {
    super(`No policy ${policyId}.`)
  }
}

export class PolicyVersionNotFoundError extends NotFoundError {
  constructor(policyId: string, version: number) {
    super(`Policy ${policyId} has no version ${version}.`)
  }
}

export class PolicyVersionPublishedError extends ConflictError {
  constructor(version: number) {
    super(`Version ${version} is published and frozen; create a new version to change the rules.`, 'policy-version-published')
  }
}

export class EffectiveTimeConflictError extends ConflictError {
  constructor(detail: string) {
    super(detail, 'policy-effective-conflict')
  }
}

export class PolicyContentInvalidError extends ValidationProblem {
  constructor(problems: PolicyProblem[]) {
    super(
      `The policy content is invalid: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
      problems.map((p) => ({ path: `body:$.content${p.path ? (p.path.startsWith('[') ? p.path : '.' + p.path) : ''}`, message: p.message })),
    )
  }
}

export class PolicyNameTakenError extends ConflictError {
  constructor(name: string) {
    super(`A policy named ${JSON.stringify(name)} exists already.`, 'policy-name-taken')
  }
}

function validContent(input: unknown): PolicyVersionContent {
  const result = validatePolicyContent(input)
  if (!result.ok) throw new PolicyContentInvalidError(result.problems)
  return result.content
}

export async function createPolicy(tx: Tx, actor: string, input: { name: string; description: string }, clock: Clock): Promise<Policy> {
  const existing = await tx.policy.findUnique({ where: { name: input.name } })
  if (existing) throw new PolicyNameTakenError(input.name)
  return tx.policy.create({ data: { id: randomUUID(), name: input.name, description: input.description, createdBy: actor, createdAt: clock() } })
}

export async function requirePolicy(tx: Tx, policyId: string): Promise<Policy> {
  const policy = await tx.policy.findUnique({ where: { id: policyId } })
  if (!policy) throw new PolicyNotFoundError(policyId)
  return policy
}

export async function requireVersion(tx: Tx, policyId: string, version: number, options: { includeDrafts: boolean }): Promise<PolicyVersion> {
  const row = await tx.policyVersion.findUnique({ where: { policyId_version: { policyId, version } } })
  // Drafts are the TST's work in progress: to everyone else they do not exist.
  if (!row || (row.status === 'draft' && !options.includeDrafts)) throw new PolicyVersionNotFoundError(policyId, version)
  return row
}

/**
 * A new draft: the given content, or a copy of an existing version's (the latest by default), so
 * the TST edits the rules in force rather than starting from nothing.
 */
export async function createDraft(
  tx: Tx,
  actor: string,
  policyId: string,
  input: { content?: unknown; basedOn?: number },
  clock: Clock,
): Promise<PolicyVersion> {
  await requirePolicy(tx, policyId)
  // Version numbers are assigned in order; the lock keeps two drafts from taking the same number.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${'policy-versions:' + policyId}))`
  const latest = await tx.policyVersion.findFirst({ where: { policyId }, orderBy: { version: 'desc' } })
  let content: unknown = input.content
  if (content === undefined) {
    const source = input.basedOn !== undefined ? await requireVersion(tx, policyId, input.basedOn, { includeDrafts: true }) : latest
    if (!source) {
      throw new ValidationProblem('The policy has no version to copy: give the content of the first version.', [{ path: 'body:$.content', message: 'required for the first version' }])
    }
    content = source.content
  }
  const valid = validContent(content)
  const now = clock()
  return tx.policyVersion.create({
    data: {
      id: randomUUID(),
      policyId,
      version: (latest?.version ?? 0) + 1,
      status: 'draft',
      content: valid,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
      updatedBy: actor,
    },
  })
}

export async function updateDraft(tx: Tx, actor: string, policyId: string, version: number, content: unknown, clock: Clock): Promise<PolicyVersion> {
  const row = await requireVersion(tx, policyId, version, { includeDrafts: true })
  if (row.status === 'published') throw new PolicyVersionPublishedError(version)
  const valid = validContent(content)
  return tx.policyVersion.update({ where: { id: row.id }, data: { content: valid, updatedAt: clock(), updatedBy: actor } })
}

/**
 * Freezes a draft, appends `policy.published` with its full content to the ledger, and makes it
 * the version in force from `effectiveFrom` (default now). Versions cannot be backdated: decisions
 * already taken cite the version that was in force, and that must stay true.
 */
export async function publishVersion(
  tx: Tx,
  actor: string,
  policyId: string,
  version: number,
  input: { effectiveFrom?: Date },
  clock: Clock,
): Promise<PolicyVersion> {
  // One publication at a time, so the ordering checks below cannot race.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('policy-publish'))`
  const policy = await requirePolicy(tx, policyId)
  const row = await requireVersion(tx, policyId, version, { includeDrafts: true })
  if (row.status === 'published') throw new PolicyVersionPublishedError(version)
  const content = validContent(row.content)
  try {
    compilePolicy(content, row.id)
  } catch (error) {
    throw new ValidationProblem(`The policy does not compile: ${(error as Error).message}`, [{ path: 'body:$.content', message: (error as Error).message }])
  }
  const now = clock()
  const effectiveFrom = input.effectiveFrom ?? now
  if (effectiveFrom.getTime() < now.getTime() - 1000) {
    throw new EffectiveTimeConflictError(`effectiveFrom ${effectiveFrom.toISOString()} is in the past; a version cannot be backdated.`)
  }
  const last = await tx.policyVersion.findFirst({ where: { status: 'published' }, orderBy: { effectiveFrom: 'desc' } })
  if (last?.effectiveFrom && effectiveFrom.getTime() <= last.effectiveFrom.getTime()) {
    throw new EffectiveTimeConflictError(
      `Version ${last.version} of policy ${last.policyId} takes effect at ${last.effectiveFrom.toISOString()}; exactly one version is in force at a time, so a new one must take effect later.`,
    )
  }
  const [entry] = await appendEntries(
    tx,
    [
      {
        kind: 'policy.published',
        subject: row.id,
        actor,
        payload: {
          policyId,
          policyName: policy.name,
          versionId: row.id,
          version,
          effectiveFrom: effectiveFrom.toISOString(),
          contentSha256: sha256Hex(canonicalJson(content)),
          content,
        },
      },
    ],
  )
  return tx.policyVersion.update({
    where: { id: row.id },
    data: { status: 'published', effectiveFrom, publishedAt: now, publishedBy: actor, ledgerEntryId: entry!.id },
  })
}

/** The published version in force at `now`, with its policy; null before the first takes effect. */
export async function versionInForce(tx: Tx, now: Date) {
  return tx.policyVersion.findFirst({
    where: { status: 'published', effectiveFrom: { lte: now } },
    orderBy: { effectiveFrom: 'desc' },
    include: { policy: true },
  })
}

/** A policy's published versions, oldest first, without their content. */
export async function publishedVersions(tx: Tx, policyId: string) {
  return tx.policyVersion.findMany({
    where: { policyId, status: 'published' },
    orderBy: { version: 'asc' },
    select: { version: true, effectiveFrom: true, publishedAt: true, publishedBy: true, ledgerEntryId: true },
  })
}
