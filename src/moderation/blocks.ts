// Blocks and bans of accounts on the city's pages, as records (docs/moderation.md, "Blocks and
// bans"). Illinois' Public Access Counselor has treated a city's list of blocked social media users
// as a public record, and a block shuts a person out of a public forum: each block and unblock says
// who did it, under which rule of which policy version, and why, in the ledger and in the
// append-only account_block_action table, whose latest row per account is the current list.
import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import { Prisma, type AccountBlockAction, type PrismaClient } from '../generated/prisma/client.js'
import { inTransaction } from '../db/tx.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import type { PolicyResolver } from '../policy/effective.js'
import { ConflictError, NotFoundError, ProblemError, ValidationProblem } from '../plugins/errors.js'
import type { Platform } from '../webhooks/platforms/index.js'
import { BLOCKABLE_BY_API, blockOnPlatform, type PlatformApiConfig, type RecordedRequest } from './platform-clients.js'

export interface BlockChangeInput {
  platform: Platform
  /** The platform's id of the account blocked (the comment author's id). */
  authorId: string
  authorName?: string | undefined
  /** The city's page or account; default the page of `commentId`'s comment. */
  account?: string | undefined
  /** api: Townsquare blocks through the platform's API; manual: it was done in the platform's app, and is recorded here. */
  method: 'api' | 'manual'
  ruleCodes?: string[] | undefined
  reason: string
  /** The comment that led to the block, if one did. */
  commentId?: string | undefined
  /** manual only: when it was done in the app (never in the future). Default now. */
  occurredAt?: Date | undefined
}

export interface BlockDeps {
  clock: Clock
  resolver: PolicyResolver
  /** The outbound API configuration in force (connections over the environment). */
  platforms: () => Promise<PlatformApiConfig>
}

export class PlatformRefusedError extends ProblemError {
  constructor(platform: string, operation: string, error: string, request: RecordedRequest) {
    super(502, 'platform-refused', 'The platform refused', `${platform} did not ${operation} the account: ${error}. Nothing was recorded; try again, or do it in the platform's app and record it by hand (method manual).`, {
      platformRequest: request,
    })
  }
}

export class BlockNotByApiError extends ProblemError {
  constructor(platform: string) {
    super(
      422,
      'block-not-by-api',
      'Not possible through the API',
      `${platform} has no API to block an account for a page (only ${BLOCKABLE_BY_API.join(' and ')} have one): block in ${platform}'s app, then record it here with method manual.`,
    )
  }
}

export class FutureDateError extends ProblemError {
  constructor(field: string, value: Date, now: Date) {
    super(422, 'future-date', 'Date in the future', `${field} ${value.toISOString()} is after now (${now.toISOString()}): it is when something was done, so it cannot be in the future.`, {
      errors: [{ path: `body:$.${field}`, message: 'must not be in the future' }],
    })
  }
}

async function latestFor(tx: Tx, platform: string, account: string, authorId: string): Promise<AccountBlockAction | null> {
  return tx.accountBlockAction.findFirst({ where: { platform, account, authorId }, orderBy: { seq: 'desc' } })
}

interface Prepared {
  account: string
  authorName: string | null
  policyVersionId: string | null
  policyVersion: number | null
  ruleCodes: string[]
  occurredAt: Date | null
}

async function prepare(tx: Tx, action: 'block' | 'unblock', input: BlockChangeInput, deps: BlockDeps, now: Date): Promise<Prepared> {
  let account = input.account
  let authorName = input.authorName ?? null
  if (input.commentId) {
    const comment = await tx.comment.findUnique({ where: { id: input.commentId } })
    if (!comment) throw new NotFoundError(`No comment ${input.commentId}.`)
    if (comment.platform !== input.platform || comment.authorId !== input.authorId) {
      throw new ValidationProblem(`Comment ${input.commentId} was not written by ${input.platform} account ${input.authorId}.`, [
        { path: 'body:$.commentId', message: 'not a comment of this account on this platform' },
      ])
    }
    account ??= comment.account
    authorName ??= comment.authorName
  }
  if (!account) throw new ValidationProblem('Say which city page or account the block is on: account, or a commentId.', [{ path: 'body:$.account', message: 'required without commentId' }])

  const latest = await latestFor(tx, input.platform, account, input.authorId)
  const blocked = latest?.action === 'block'
  if (action === 'block' && blocked) throw new ConflictError(`${input.platform} account ${input.authorId} is already blocked on ${account} (since ${latest.occurredAt.toISOString()}).`, 'already-blocked')
  if (action === 'unblock' && !blocked) throw new ConflictError(`${input.platform} account ${input.authorId} is not blocked on ${account}.`, 'not-blocked')

  const ruleCodes = [...new Set(input.ruleCodes ?? [])]
  const [effective] = await deps.resolver.versionsAt(tx, [now])
  if (action === 'block' && ruleCodes.length === 0) {
    throw new ValidationProblem('A block must cite the rule it enforces.', [{ path: 'body:$.ruleCodes', message: 'cite at least one rule' }])
  }
  if (ruleCodes.length > 0) {
    if (!effective) throw new ConflictError('No policy version is in force, so no rule can be cited.', 'no-policy-in-force')
    const known = new Set(effective.content.rules.map((r) => r.code))
    const unknown = ruleCodes.filter((c) => !known.has(c))
    if (unknown.length > 0) {
      throw new ValidationProblem(
        `Rules ${unknown.join(', ')} are not in version ${effective.version}, the policy in force (its rules: ${[...known].join(', ')}).`,
        unknown.map((code) => ({ path: 'body:$.ruleCodes', message: `unknown rule ${code}` })),
      )
    }
  }
  return { account, authorName, policyVersionId: ruleCodes.length > 0 ? effective!.id : null, policyVersion: ruleCodes.length > 0 ? effective!.version : null, ruleCodes, occurredAt: null }
}

/**
 * Blocks or unblocks an account: checks everything first (nothing sent, nothing recorded on bad
 * input), calls the platform when the method is api (outside any transaction: a slow platform
 * holds no lock), then records the change in the ledger and the table in one transaction. A
 * platform that refuses leaves no record: nothing changed.
 */
export async function changeBlock(prisma: PrismaClient, actor: string, action: 'block' | 'unblock', input: BlockChangeInput, deps: BlockDeps): Promise<AccountBlockAction> {
  const now = deps.clock()
  if (input.method === 'api') {
    if (!BLOCKABLE_BY_API.includes(input.platform)) throw new BlockNotByApiError(input.platform)
    if (input.occurredAt) {
      throw new ValidationProblem('occurredAt is for a block done in the platform\'s app (method manual); through the API it is now.', [{ path: 'body:$.occurredAt', message: 'only with method manual' }])
    }
  }
  if (input.occurredAt && input.occurredAt.getTime() > now.getTime()) throw new FutureDateError('occurredAt', input.occurredAt, now)

  await inTransaction(prisma, (tx) => prepare(tx, action, input, deps, now))

  let platformRequest: Record<string, unknown> | null = null
  if (input.method === 'api') {
    const result = await blockOnPlatform(await deps.platforms(), input.platform, input.authorId, action, input.reason)
    if (!result.ok) throw new PlatformRefusedError(input.platform, action, result.error, result.request)
    platformRequest = { request: result.request, status: result.status }
  }

  return inTransaction(prisma, async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`account_block:${input.platform}:${input.authorId}`}))`
    // Checked again under the lock: another block of the same account may have been recorded meanwhile.
    const p = await prepare(tx, action, input, deps, now)
    const id = randomUUID()
    const occurredAt = input.occurredAt ?? now
    const [entry] = await appendEntries(tx, [
      {
        kind: action === 'block' ? 'account.block' : 'account.unblock',
        subject: `account:${input.platform}:${input.authorId}`,
        actor,
        payload: {
          blockActionId: id,
          platform: input.platform,
          account: p.account,
          authorId: input.authorId,
          authorName: p.authorName,
          method: input.method,
          policyVersionId: p.policyVersionId,
          policyVersion: p.policyVersion,
          ruleCodes: p.ruleCodes,
          reason: input.reason,
          commentId: input.commentId ?? null,
          occurredAt: occurredAt.toISOString(),
          platformRequest,
        },
      },
    ])
    return tx.accountBlockAction.create({
      data: {
        id,
        platform: input.platform,
        account: p.account,
        authorId: input.authorId,
        authorName: p.authorName,
        action,
        method: input.method,
        policyVersionId: p.policyVersionId,
        ruleCodes: p.ruleCodes,
        reason: input.reason,
        commentId: input.commentId ?? null,
        platformRequest: platformRequest === null ? Prisma.DbNull : (platformRequest as Prisma.InputJsonValue),
        actor,
        occurredAt,
        recordedAt: now,
        ledgerEntryId: entry!.id,
      },
    })
  })
}

export interface BlockFilter {
  platform?: Platform | undefined
  /** Words in the author's id or name, the account, or the reason (case-insensitive). */
  q?: string | undefined
  from?: Date | undefined
  to?: Date | undefined
}

export interface BlockPage {
  limit: number
  afterSeq?: bigint | undefined
}

function conditions(filter: BlockFilter): Prisma.Sql {
  const where: Prisma.Sql[] = [Prisma.sql`TRUE`]
  if (filter.platform) where.push(Prisma.sql`platform = ${filter.platform}`)
  if (filter.q) {
    const like = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    where.push(Prisma.sql`(author_id ILIKE ${like} OR author_name ILIKE ${like} OR account ILIKE ${like} OR reason ILIKE ${like})`)
  }
  if (filter.from) where.push(Prisma.sql`occurred_at >= ${filter.from}`)
  if (filter.to) where.push(Prisma.sql`occurred_at < ${filter.to}`)
  return Prisma.join(where, ' AND ')
}

/** The accounts blocked now (each one's latest row is a block), newest first. */
export async function currentBlocks(tx: Tx, filter: BlockFilter, page: BlockPage): Promise<{ items: AccountBlockAction[]; next: bigint | null }> {
  const after = page.afterSeq === undefined ? Prisma.empty : Prisma.sql`AND seq < ${page.afterSeq}`
  const rows = await tx.$queryRaw<Array<{ seq: bigint }>>`
    WITH latest AS (
      SELECT DISTINCT ON (platform, account, author_id) seq, action, platform, account, author_id, author_name, reason, occurred_at
        FROM account_block_action ORDER BY platform, account, author_id, seq DESC)
    SELECT seq FROM latest WHERE action = 'block' AND ${conditions(filter)} ${after} ORDER BY seq DESC LIMIT ${page.limit + 1}`
  return pageOf(tx, rows, page.limit)
}

/** Every block and unblock, newest first. */
export async function blockHistory(tx: Tx, filter: BlockFilter, page: BlockPage): Promise<{ items: AccountBlockAction[]; next: bigint | null }> {
  const after = page.afterSeq === undefined ? Prisma.empty : Prisma.sql`AND seq < ${page.afterSeq}`
  const rows = await tx.$queryRaw<Array<{ seq: bigint }>>`
    SELECT seq FROM account_block_action WHERE ${conditions(filter)} ${after} ORDER BY seq DESC LIMIT ${page.limit + 1}`
  return pageOf(tx, rows, page.limit)
}

async function pageOf(tx: Tx, rows: Array<{ seq: bigint }>, limit: number): Promise<{ items: AccountBlockAction[]; next: bigint | null }> {
  const shown = rows.slice(0, limit).map((r) => r.seq)
  const items = await tx.accountBlockAction.findMany({ where: { seq: { in: shown } }, orderBy: { seq: 'desc' } })
  return { items, next: rows.length > limit ? shown[shown.length - 1]! : null }
}
