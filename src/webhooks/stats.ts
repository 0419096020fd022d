import type { SignatureCheck, WebhookSource } from './platforms/index.js'

type RejectReason = Extract<SignatureCheck, { ok: false }>['reason']

interface Counters {
  accepted: number
  duplicateDeliveries: number
  malformed: number
  rejected: Record<RejectReason, number>
  lastAcceptedAt: Date | null
  lastRejectedAt: Date | null
}

const SOURCES: readonly WebhookSource[] = ['meta', 'x', 'linkedin', 'website']

/**
 * Delivery counters of this instance, for the TST's status route. Rejected deliveries store
 * nothing, so counting them here is the only trace they leave (besides the log line).
 */
export class WebhookStats {
  readonly startedAt: Date
  readonly bySource: Record<WebhookSource, Counters>

  constructor(now: Date) {
    this.startedAt = now
    this.bySource = Object.fromEntries(
      SOURCES.map((s) => [s, { accepted: 0, duplicateDeliveries: 0, malformed: 0, rejected: { missing: 0, malformed: 0, mismatch: 0, expired: 0, handshake: 0 }, lastAcceptedAt: null, lastRejectedAt: null }]),
    ) as Record<WebhookSource, Counters>
  }

  rejected(source: WebhookSource, reason: RejectReason, at: Date) {
    this.bySource[source].rejected[reason]++
    this.bySource[source].lastRejectedAt = at
  }

  accepted(source: WebhookSource, duplicate: boolean, at: Date) {
    const c = this.bySource[source]
    if (duplicate) c.duplicateDeliveries++
    else c.accepted++
    c.lastAcceptedAt = at
  }

  malformed(source: WebhookSource) {
    this.bySource[source].malformed++
  }
}
