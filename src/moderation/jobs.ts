import type { FastifyBaseLogger } from 'fastify'
import pg from 'pg'
import { Logger, parseCronItems, run, runOnce, type ParsedCronItem, type Runner, type TaskList } from 'graphile-worker'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { Config } from '../config.js'
import { inTransaction } from '../db/tx.js'
import { asSql, type Queryable } from '../db/sql.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { runReconciliation } from '../records/reconcile.js'
import type { Platform } from '../webhooks/platforms/index.js'
import { sendMail } from '../mail/send.js'
import { openReviewItem } from './queue.js'
import { performPlatformAction, PlatformNotConfiguredError, replyToAuthor, UnsupportedOperationError, type PlatformCallResult } from './platform-clients.js'

export const PLATFORM_ACTION_TASK = 'platform-action'
/** Reconciles the comment projections against the ledger (src/records/reconcile.ts), on RECONCILE_SCHEDULE. */
export const RECONCILE_TASK = 'ledger-reconcile'

/** Enqueues the job that carries out a platform action, in the caller's transaction. */
export async function enqueuePlatformAction(tx: Queryable, actionId: string, maxAttempts: number): Promise<void> {
  // add_job returns the job row, which nobody here reads.
  await asSql(tx).query(`SELECT 1 FROM graphile_worker.add_job($1, json_build_object('actionId', $2::text), max_attempts => $3::int)`, [
    PLATFORM_ACTION_TASK,
    actionId,
    maxAttempts,
  ])
}

export interface JobDeps {
  prisma: PrismaClient
  /** The service's pool (the reconciliation reads in snapshots of its own). */
  pool: pg.Pool
  config: Config
  clock: Clock
  log: FastifyBaseLogger
}

type Outcome =
  | { ok: true; detail: Record<string, unknown> }
  | { ok: false; transient: boolean; error: string; detail: Record<string, unknown> }

/** The retry decision lives here: a transient failure is retried until the last attempt. */
class RetryLater extends Error {}

async function attempt(deps: JobDeps, action: { operation: string; platform: string }, target: Parameters<typeof performPlatformAction>[1], noticeText: string | null, authorEmail: string | null): Promise<Outcome> {
  const fromCall = (r: PlatformCallResult): Outcome => {
    if (r.ok) return { ok: true, detail: { request: r.request, status: r.status } }
    // Deleting what is already gone (the author deleted it, or a person did on the platform) is done.
    if (action.operation === 'delete' && r.status === 404) return { ok: true, detail: { request: r.request, status: r.status, alreadyGone: true } }
    return { ok: false, transient: r.transient, error: r.error, detail: { request: r.request, status: r.status } }
  }
  try {
    switch (action.operation) {
      case 'delete':
      case 'hide':
      case 'unhide':
        return fromCall(await performPlatformAction(deps.config.platforms, target, action.operation))
      case 'reply':
        return fromCall(await replyToAuthor(deps.config.platforms, target, noticeText ?? ''))
      case 'email': {
        if (!deps.config.smtp) return { ok: false, transient: false, error: 'SMTP is not configured (SMTP_URL)', detail: {} }
        if (!authorEmail) return { ok: false, transient: false, error: 'the author left no e-mail address', detail: {} }
        const sent = await sendMail(deps.config.smtp, { to: authorEmail, subject: 'About your comment on the City website', text: noticeText ?? '' })
        return sent.ok ? { ok: true, detail: { to: authorEmail, messageId: sent.messageId } } : { ok: false, transient: sent.transient, error: sent.error, detail: { to: authorEmail } }
      }
      default:
        return { ok: false, transient: false, error: `unknown operation ${action.operation}`, detail: {} }
    }
  } catch (error) {
    if (error instanceof PlatformNotConfiguredError || error instanceof UnsupportedOperationError) {
      return { ok: false, transient: false, error: error.message, detail: {} }
    }
    return { ok: false, transient: true, error: (error as Error).message, detail: {} }
  }
}

/**
 * Carries out one platform action: calls the platform, then in one transaction records the
 * attempt's outcome in the ledger (`platform.action` or `notice.delivery`) and on the action. A
 * transient failure is retried with backoff (by the job queue) until the last attempt; a permanent
 * or final failure is surfaced in the review queue for a person.
 */
export async function performAction(deps: JobDeps, actionId: string, job: { attempts: number; maxAttempts: number }): Promise<void> {
  const action = await deps.prisma.platformAction.findUnique({ where: { id: actionId } })
  if (!action || action.status !== 'pending') return
  const decision = await deps.prisma.moderationDecision.findUniqueOrThrow({ where: { id: action.decisionId } })
  const comment = await deps.prisma.comment.findUniqueOrThrow({ where: { id: action.commentId } })
  const target = {
    platform: comment.platform as Platform,
    account: comment.account,
    externalId: comment.externalId,
    postId: comment.postId,
    parentExternalId: comment.parentExternalId,
    authorId: comment.authorId,
  }
  const outcome = await attempt(deps, action, target, decision.noticeText, comment.authorEmail)
  const final = outcome.ok || !outcome.transient || job.attempts >= job.maxAttempts
  await inTransaction(deps.prisma, async (tx) => {
    const now = deps.clock()
    await appendEntries(
      tx,
      [
        {
          kind: action.operation === 'reply' || action.operation === 'email' ? 'notice.delivery' : 'platform.action',
          subject: action.commentId,
          actor: 'system',
          payload: {
            actionId,
            decisionId: action.decisionId,
            commentId: action.commentId,
            platform: action.platform,
            operation: action.operation,
            attempt: job.attempts,
            outcome: outcome.ok ? 'succeeded' : final ? 'failed' : 'failed_will_retry',
            ...(outcome.ok ? {} : { error: outcome.error, transient: outcome.transient }),
            ...outcome.detail,
          },
        },
      ],
    )
    await tx.platformAction.update({
      where: { id: actionId },
      data: {
        attempts: job.attempts,
        status: outcome.ok ? 'succeeded' : final ? 'failed' : 'pending',
        lastError: outcome.ok ? null : outcome.error,
        completedAt: final ? now : null,
      },
    })
    if (!outcome.ok && final) {
      // A person has to finish what the platform would not do.
      await openReviewItem(
        tx,
        {
          commentId: action.commentId,
          eventId: decision.eventId,
          policyVersionId: decision.policyVersionId,
          ruleCodes: decision.ruleCodes,
          evidence: { failedAction: { id: actionId, operation: action.operation, error: outcome.error } },
          reason: 'action_failed',
        },
        now,
      )
    }
  })
  deps.log.info({ actionId, operation: action.operation, platform: action.platform, attempt: job.attempts, ok: outcome.ok, final }, 'platform action attempted')
  if (!final) throw new RetryLater(`${action.operation} on ${action.platform} failed (attempt ${job.attempts} of ${job.maxAttempts}): ${outcome.ok ? '' : outcome.error}`)
}

/** The scheduled reconciliation: its result is stored and logged (at error level when anything diverges). */
export async function reconcileTask(deps: JobDeps): Promise<void> {
  await runReconciliation({ pool: deps.pool, clock: deps.clock, log: deps.log }, { trigger: 'schedule', actor: 'system' })
}

export function taskList(deps: JobDeps): TaskList {
  return {
    [PLATFORM_ACTION_TASK]: async (payload, helpers) => {
      const { actionId } = payload as { actionId: string }
      await performAction(deps, actionId, { attempts: helpers.job.attempts, maxAttempts: helpers.job.max_attempts })
    },
    [RECONCILE_TASK]: () => reconcileTask(deps),
  }
}

/**
 * The worker's schedule: the reconciliation on RECONCILE_SCHEDULE. graphile-worker's cron gives
 * each run a job key of its own, so with several instances running the worker it runs once; a run
 * missed while no worker was up is not made up (no backfill), the next one comes on schedule.
 */
export function cronItems(config: Pick<Config, 'jobs'>): ParsedCronItem[] {
  const match = config.jobs.reconcileSchedule
  return match ? parseCronItems([{ task: RECONCILE_TASK, match, identifier: RECONCILE_TASK, options: { backfillPeriod: 0, maxAttempts: 3 } }]) : []
}

const quietLogger = new Logger(() => () => {})

export interface Worker {
  /** Finishes the jobs in progress, then closes the worker's connections. */
  stop(): Promise<void>
}

/**
 * The worker inside the service: jobs run once across instances (SKIP LOCKED in graphile-worker).
 * It runs on a pool of its own with an error listener: graphile-worker's own pool has none while it
 * ends, so a connection the server closed at that moment (the embedded server stops right after
 * the service) crashed the process on Ctrl-C.
 */
export async function startWorker(deps: JobDeps): Promise<Worker> {
  const pool = new pg.Pool({ connectionString: deps.config.databaseUrl, max: deps.config.jobs.concurrency + 2, application_name: 'townsquare-jobs' })
  pool.on('error', (error) => deps.log.warn({ err: error }, 'job worker: an idle connection was closed'))
  let runner: Runner
  try {
    runner = await run({
      pgPool: pool,
      concurrency: deps.config.jobs.concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      taskList: taskList(deps),
      parsedCronItems: cronItems(deps.config),
      logger: quietLogger,
    })
  } catch (error) {
    await pool.end()
    throw error
  }
  return {
    async stop() {
      await runner.stop()
      await pool.end()
    },
  }
}

/** Runs every job that is due now, then returns (tests, and `npm run jobs:once`). */
export function runDueJobs(deps: JobDeps): Promise<void> {
  return runOnce({ connectionString: deps.config.databaseUrl, taskList: taskList(deps), logger: quietLogger })
}
