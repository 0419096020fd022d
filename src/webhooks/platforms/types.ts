// The shapes every platform adapter produces. Adapters are pure: bytes and headers in, these out.

export type Platform = 'facebook' | 'instagram' | 'x' | 'linkedin' | 'website'

/** The route a delivery arrives on. Meta delivers Facebook and Instagram on one route. */
export type WebhookSource = 'meta' | 'x' | 'linkedin' | 'website'

export type CommentEventKind = 'created' | 'edited' | 'deleted_by_author' | 'hidden_on_platform' | 'unhidden_on_platform'

export interface CommentEvent {
  platform: Platform
  /** The city page/account the delivery was for (Meta entry.id, X for_user_id, LinkedIn organizationalEntity, website: host of pageUrl). */
  account: string
  /** The platform's comment id: always a string, never a JS number. */
  externalId: string
  postId: string | null
  /** The parent COMMENT id for replies; null for a comment directly on the post. */
  parentId: string | null
  author: { id: string | null; name: string | null; email?: string | null }
  /** Null for deletions. */
  text: string | null
  /** ISO 8601 UTC. */
  platformTime: string
  kind: CommentEventKind
  /** The city's own account caused it (its page, its X account, ADMIN_COMMENT): recorded, never moderated. */
  byCityAccount: boolean
  /** Stable key for THIS change, identical when the platform redelivers it. */
  deliveryKey: string
}

/** A change that is not a comment event we understand. The caller keeps it in the raw archive; not an error. */
export interface SkippedChange {
  reason: string
  raw: unknown
}

export interface NormalizeResult {
  events: CommentEvent[]
  skipped: SkippedChange[]
}

/** One problem with a delivery: a JSON path (`$.entry[0].id`, as the API's problem documents use) and what is wrong. */
export interface DeliveryIssue {
  path: string
  message: string
}

/** The body is not JSON, or parses but is not the platform's envelope. */
export class MalformedDeliveryError extends Error {
  readonly issues: readonly DeliveryIssue[]

  constructor(source: WebhookSource, issues: readonly DeliveryIssue[]) {
    const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`)
    if (issues.length > shown.length) shown.push(`and ${issues.length - shown.length} more`)
    super(`malformed ${source} delivery: ${shown.join('; ')}`)
    this.name = 'MalformedDeliveryError'
    this.issues = issues
  }
}

export type SignatureCheck = { ok: true; variant?: string } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' | 'expired' | 'handshake' }

export type HandshakeResult = { status: number; contentType: 'text/plain' | 'application/json'; body: string }

export type WebhookHeaders = Record<string, string | string[] | undefined>
