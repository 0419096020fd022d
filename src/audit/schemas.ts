import { z } from 'zod'
import { DateParam } from '../http/dates.js'

export const AccessQuery = z
  .object({
    actor: z.string().min(1).optional().describe('Who read: user:<sub>, or the bare subject'),
    action: z.string().min(1).optional().describe('records.search, records.read, audit.access, ...'),
    from: DateParam.optional().describe('Read at or after this time (a plain date: from the start of that day)'),
    to: DateParam.optional().describe('Read before this time (a plain date: that day included)'),
    recordId: z.uuid().optional().describe('Only reads that returned this record'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().optional().describe('nextCursor of the previous page'),
  })
  .strict()

export const AccessLogEntry = z
  .object({
    id: z.uuid(),
    actor: z.string().describe('user:<sub>'),
    roles: z.array(z.string()),
    at: z.iso.datetime(),
    action: z.string(),
    route: z.string().describe('Method and route template'),
    query: z.unknown().describe('The filters and parameters of the read, as received'),
    recordIds: z.array(z.uuid()).describe('Exactly the ids returned, in order'),
    count: z.number().int(),
    requestId: z.string(),
  })
  .meta({ id: 'AccessLogEntry' })

export const AccessLogPage = z.object({ items: z.array(AccessLogEntry), nextCursor: z.string().nullable() }).meta({ id: 'AccessLogPage' })
