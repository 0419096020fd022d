import t from 'tap'
import { ValidationProblem } from '../../src/plugins/errors.js'
import { parseTextQuery, recordConditions, RecordQuery, RecordQueryString, textQuerySql } from '../../src/records/query.js'

t.test('a clerk\'s text query: words, phrases, prefixes, exclusions', async (t) => {
  t.same(parseTextQuery('library budget'), [
    { kind: 'word', text: 'library', negated: false },
    { kind: 'word', text: 'budget', negated: false },
  ])
  t.same(parseTextQuery('"court street" park* -flood -"road work" -meter*'), [
    { kind: 'phrase', text: 'court street', negated: false },
    { kind: 'prefix', text: 'park', negated: false },
    { kind: 'word', text: 'flood', negated: true },
    { kind: 'phrase', text: 'road work', negated: true },
    { kind: 'prefix', text: 'meter', negated: true },
  ])
  t.same(parseTextQuery('"unterminated phrase'), [{ kind: 'phrase', text: 'unterminated phrase', negated: false }], 'a missing closing quote ends at the end')
  t.same(parseTextQuery('& | ! <-> :* ( ) ""'), [], 'operators and empty phrases leave nothing')
  t.same(parseTextQuery('café*'), [{ kind: 'prefix', text: 'café', negated: false }], 'letters of any script')
  t.same(parseTextQuery("o'brien*"), [{ kind: 'word', text: 'o brien', negated: false }], 'a prefix of two words is searched as words')
})

t.test('text queries become bound tsquery functions, never text spliced into SQL', async (t) => {
  const sql = textQuerySql('"a phrase" pre* word -not')!
  t.match(sql.sql, /phraseto_tsquery.*to_tsquery.*plainto_tsquery.*!! plainto_tsquery/s)
  t.same(sql.values, ['a phrase', 'pre:*', 'word', 'not'])
  t.equal(textQuerySql('-only -"excluded words"'), null, 'nothing to look for')
  t.equal(textQuerySql('***'), null)
})

t.test('conditions: one per filter, bound values only', async (t) => {
  t.equal(recordConditions({}).sql, 'TRUE')
  const c = recordConditions({ platform: 'x', authorName: '50%_off\\', rule: '4.a', moderator: 'alice', decision: 'remove', removed: false, kind: 'comment' })
  t.ok(c.values.includes('%50\\%\\_off\\\\%'), 'LIKE wildcards escaped')
  t.ok(c.values.includes('user:alice'))
  t.match(c.sql, /NOT EXISTS/)
  let error: unknown = null
  try {
    recordConditions({ q: '-nothing' })
  } catch (e) {
    error = e
  }
  t.ok(error instanceof ValidationProblem, 'only exclusions: a validation problem')
})

t.test('the JSON and query-string forms', async (t) => {
  t.same(RecordQueryString.parse({ removed: 'true', platform: 'website' }), { removed: true, platform: 'website' })
  t.notOk(RecordQueryString.safeParse({ removed: 'yes' }).success)
  t.notOk(RecordQuery.safeParse({ colour: 'red' }).success, 'unknown filters are refused, not ignored')
  t.same(RecordQuery.parse({ q: '  trimmed  ' }), { q: 'trimmed' })
})
