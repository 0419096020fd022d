import { z } from 'zod'
import { DateParam } from '../http/dates.js'

const Platform = z.enum(['facebook', 'instagram', 'x', 'linkedin', 'website'])

export const BlockInput = z
  .object({
    platform: Platform,
    authorId: z.string().min(1).max(200).describe("The platform's id of the account (a comment's author.id)"),
    authorName: z.string().max(200).optional().describe("The account's display name; default the comment's author name"),
    account: z.string().min(1).max(200).optional().describe("The city's page or account it is blocked from; default the page of commentId's comment"),
    method: z
      .enum(['api', 'manual'])
      .describe('api: Townsquare blocks through the platform API (Facebook, the website); manual: it was done in the platform app, and this records it'),
    ruleCodes: z.array(z.string().min(1).max(20)).max(20).optional().describe('The rules of the policy in force that the block enforces: at least one'),
    reason: z.string().min(1).max(2000).describe('Why: the facts that made the rule apply (public record)'),
    commentId: z.uuid().optional().describe('The comment that led to the block, if one did'),
    occurredAt: DateParam.optional().describe('method manual: when it was done in the app (never in the future). Default now'),
  })
  .strict()
  .meta({ id: 'BlockInput' })

export const UnblockInput = BlockInput.omit({ ruleCodes: true })
  .extend({
    ruleCodes: z.array(z.string().min(1).max(20)).max(20).optional().describe('Rules, if the unblock rests on one (optional)'),
    reason: z.string().min(1).max(2000).describe('Why the account is unblocked (public record)'),
  })
  .strict()
  .meta({ id: 'UnblockInput' })

export const BlockAction = z
  .object({
    id: z.uuid(),
    platform: Platform,
    account: z.string(),
    authorId: z.string(),
    authorName: z.string().nullable(),
    action: z.enum(['block', 'unblock']),
    method: z.enum(['api', 'manual']),
    policyVersionId: z.uuid().nullable(),
    policyVersion: z.number().int().nullable().describe('The number of policyVersionId (version 3)'),
    ruleCodes: z.array(z.string()),
    reason: z.string(),
    commentId: z.uuid().nullable(),
    actor: z.string().describe('Who did it: user:<sub>'),
    occurredAt: z.iso.datetime().describe('When it was done on the platform'),
    recordedAt: z.iso.datetime(),
    ledgerEntryId: z.uuid(),
  })
  .meta({ id: 'BlockAction' })

export const BlockQuery = z.object({
  platform: Platform.optional(),
  q: z.string().min(1).max(200).optional().describe("Words in the account's id or name, the page, or the reason"),
  from: DateParam.optional().describe('Blocked (or, for the history, acted) at or after'),
  to: DateParam.optional().describe('Before; a plain date includes that whole day'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
  format: z.enum(['json', 'csv']).default('json').describe('csv: text/csv, the whole list (every page), for a FOIA production'),
})

export const BlockList = z.object({ items: z.array(BlockAction), nextCursor: z.string().nullable() }).meta({ id: 'BlockList' })
