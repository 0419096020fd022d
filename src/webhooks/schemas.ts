import { z } from 'zod'

// These describe the deliveries for the OpenAPI document only. Deliveries are not validated
// against them: the signature is checked over the raw bytes first, and the adapters in platforms/
// then parse tolerantly (unknown fields and kinds are kept, not refused).

export const MetaDelivery = z
  .object({
    object: z.enum(['page', 'instagram']),
    entry: z.array(
      z.object({
        id: z.string().describe('The Page or Instagram account the changes are for'),
        time: z.number().int().describe('Unix seconds'),
        changes: z.array(
          z.object({
            field: z.enum(['feed', 'comments']),
            value: z.object({
              item: z.literal('comment').optional(),
              verb: z.enum(['add', 'edited', 'edit', 'remove', 'hide', 'unhide']).optional(),
              comment_id: z.string().optional(),
              id: z.string().optional().describe('Instagram comment id'),
              post_id: z.string().optional(),
              parent_id: z.string().optional(),
              from: z.object({ id: z.string(), name: z.string().optional(), username: z.string().optional() }).optional(),
              message: z.string().optional(),
              text: z.string().optional(),
              created_time: z.number().int().optional(),
            }),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'MetaDelivery', description: 'Facebook Page feed and Instagram comments changes, up to 1,000 a delivery' })

const Tweet = z.object({
  id_str: z.string(),
  text: z.string(),
  truncated: z.boolean().optional(),
  extended_tweet: z.object({ full_text: z.string() }).optional(),
  in_reply_to_status_id_str: z.string().nullable().optional(),
  in_reply_to_user_id_str: z.string().nullable().optional(),
  user: z.object({ id_str: z.string(), name: z.string(), screen_name: z.string() }),
  created_at: z.string(),
  timestamp_ms: z.string().optional(),
})

export const XDelivery = z
  .object({
    for_user_id: z.string().describe('The city account'),
    tweet_create_events: z.array(Tweet).optional(),
    tweet_delete_events: z.array(z.object({ status: z.object({ id: z.string(), user_id: z.string() }), timestamp_ms: z.string() })).optional(),
  })
  .meta({ id: 'XDelivery', description: 'Account Activity API events' })

export const LinkedInDelivery = z
  .object({
    type: z.literal('ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS'),
    notifications: z.array(
      z.object({
        notificationId: z.union([z.string(), z.number()]),
        action: z.string().describe('COMMENT, COMMENT_EDIT, COMMENT_DELETE, ADMIN_COMMENT (the city, ignored for moderation), ...'),
        lastModifiedAt: z.number().int().describe('Epoch milliseconds'),
        organizationalEntity: z.string(),
        sourcePost: z.string().optional(),
        generatedActivity: z.string().optional().describe('The comment URN'),
        decoratedGeneratedActivity: z.object({ comment: z.object({ entity: z.string(), owner: z.string(), text: z.string().optional() }) }).optional(),
      }),
    ),
  })
  .meta({ id: 'LinkedInDelivery', description: 'Organization social action notifications' })

export const WebsiteDelivery = z
  .object({
    events: z.array(
      z.object({
        id: z.string().describe('Unique per event: redelivering it is harmless'),
        type: z.enum(['comment.created', 'comment.edited', 'comment.deleted']),
        commentId: z.string(),
        pageUrl: z.url(),
        parentId: z.string().optional(),
        author: z.object({ id: z.string(), name: z.string(), email: z.email().optional() }),
        text: z.string(),
        occurredAt: z.iso.datetime(),
      }),
    ),
  })
  .meta({
    id: 'WebsiteDelivery',
    description:
      'The city website\'s contract. Sign with header Townsquare-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>; deliveries more than 300 s from now are refused.',
  })

export const DeliveryReceipt = z
  .object({
    deliveryId: z.uuid(),
    duplicateDelivery: z.boolean().describe('These exact bytes were received before; nothing new was stored'),
    accepted: z.number().int().describe('Comment events new to Townsquare, each appended to the ledger'),
    duplicates: z.number().int().describe('Events already known'),
    skipped: z.number().int().describe('Changes of kinds Townsquare does not process, kept in the raw archive'),
  })
  .meta({ id: 'DeliveryReceipt' })

export const MetaHandshakeQuery = z.object({
  'hub.mode': z.string().optional(),
  'hub.verify_token': z.string().optional(),
  'hub.challenge': z.string().optional(),
})
export const XCrcQuery = z.object({ crc_token: z.string().optional() })
export const LinkedInChallengeQuery = z.object({ challengeCode: z.string().optional(), applicationId: z.string().optional() })

const Counters = z.object({
  configured: z.boolean(),
  accepted: z.number().int(),
  duplicateDeliveries: z.number().int(),
  malformed: z.number().int(),
  rejected: z.object({
    missing: z.number().int(),
    malformed: z.number().int(),
    mismatch: z.number().int(),
    expired: z.number().int(),
    handshake: z.number().int().describe('Bodies a handshake could have signed (X, LinkedIn): someone trying to use a handshake answer as a signature'),
  }),
  lastAcceptedAt: z.iso.datetime().nullable(),
  lastRejectedAt: z.iso.datetime().nullable(),
})
export const WebhookStatus = z
  .object({
    instanceStartedAt: z.iso.datetime().describe('Counters are per instance and start at zero here'),
    sources: z.object({ meta: Counters, x: Counters, linkedin: Counters, website: Counters }),
    writer: z
      .object({
        groups: z.number().int().describe('Transactions that committed deliveries (group commit: deliveries arriving together share one)'),
        deliveries: z.number().int().describe('Deliveries committed in them'),
        largestGroup: z.number().int(),
        groupsRetriedAlone: z.number().int().describe('Groups that failed, whose deliveries were then each written alone so one bad delivery fails only itself'),
        queued: z.number().int().describe('Deliveries waiting for a transaction now'),
      })
      .describe('Group commit of this instance (INGEST_WRITERS, INGEST_GROUP_MAX_EVENTS)'),
    last24h: z
      .array(z.object({ source: z.string(), outcome: z.string(), deliveries: z.number().int(), events: z.number().int() }))
      .describe('Stored deliveries by source and outcome over the last 24 hours (all instances)'),
  })
  .meta({ id: 'WebhookStatus' })

export const DeliveryListQuery = z.object({
  source: z.enum(['meta', 'x', 'linkedin', 'website']).optional(),
  outcome: z.enum(['accepted', 'malformed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
})

const DeliverySummary = z.object({
  id: z.uuid(),
  source: z.string(),
  receivedAt: z.iso.datetime(),
  outcome: z.string(),
  bodySha256: z.string(),
  bytes: z.number().int(),
  eventCount: z.number().int(),
  signatureVariant: z.string(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })).nullable(),
})
export const DeliveryList = z.object({ items: z.array(DeliverySummary), nextCursor: z.string().nullable() }).meta({ id: 'DeliveryList' })
export const DeliveryDetail = DeliverySummary.extend({
  headers: z.record(z.string(), z.string()),
  body: z.string().nullable().describe('The exact bytes received, base64; null once every comment it carried was disposed (docs/retention.md)'),
  bodyText: z.string().nullable().describe('The body as UTF-8 text, when it is valid UTF-8'),
  skipped: z.array(z.object({ reason: z.string(), raw: z.unknown() })).nullable().describe('Null once the delivery was disposed'),
}).meta({ id: 'DeliveryDetail' })
export const DeliveryParams = z.object({ id: z.uuid() })
