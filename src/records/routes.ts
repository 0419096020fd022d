import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { accessFrom, loggedRead } from '../audit/access-log.js'
import { decodeSeqCursor, encodeCursor } from '../http/cursor.js'
import type { Role } from '../plugins/auth.js'
import { NotFoundError, Problem, ValidationProblem } from '../plugins/errors.js'
import { textQuerySql } from './query.js'
import * as S from './schemas.js'
import { getRecord, searchRecords } from './search.js'
import { resolveRange } from '../http/dates.js'

const READERS: readonly Role[] = ['records_clerk', 'auditor']

export const recordRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/records/search',
    {
      config: { access: READERS },
      schema: {
        tags: ['records'],
        summary: 'Search the retained comment records: full text over every version, with filters',
        description:
          'Text: words (all must match, English stemming), "an exact phrase", prefix* and -excluded words or phrases. ' +
          'Results are comments, newest first by arrival, each with every version, decision and notice; total counts every match. ' +
          'Every search is written to the access log with the ids returned.',
        querystring: S.RecordSearchQuery,
        response: { 200: S.RecordSearchResult, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const { limit, cursor, ...query } = resolveRange(request.query, app.config.cityTimeZone)
      if (query.q !== undefined && textQuerySql(query.q) === null) {
        throw new ValidationProblem('The search has no words to look for; an exclusion needs a word or phrase to look for too.', [
          { path: 'querystring:$.q', message: 'no searchable words' },
        ])
      }
      const afterSeq = cursor ? decodeSeqCursor(cursor) : undefined
      return loggedRead(app.db.prisma, accessFrom(request, 'records.search', request.query, app.clock()), async (tx) => {
        const result = await searchRecords(tx, query, { limit, afterSeq })
        return {
          value: { total: result.total, items: result.items, nextCursor: result.next === null ? null : encodeCursor({ seq: result.next.toString() }) },
          recordIds: result.items.map((r) => r.id),
        }
      })
    },
  )

  app.get(
    '/records/:id',
    {
      config: { access: READERS },
      schema: {
        tags: ['records'],
        summary: 'One comment record: every version, decision and notice, and its thread links',
        description: 'Every read, found or not, is written to the access log.',
        params: S.RecordParams,
        response: { 200: S.CommentRecordDetail, 400: Problem, 401: Problem, 403: Problem, 404: Problem },
      },
    },
    async (request) => {
      const record = await loggedRead(app.db.prisma, accessFrom(request, 'records.read', request.params, app.clock()), async (tx) => {
        const found = await getRecord(tx, request.params.id)
        return { value: found, recordIds: found ? [found.id] : [] }
      })
      if (!record) throw new NotFoundError(`No record ${request.params.id}.`)
      return record
    },
  )
}
