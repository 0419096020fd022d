import t from 'tap'
import type { Test } from 'tap'
import {
  InvalidPlatformRequestError,
  PlatformNotConfiguredError,
  UnsupportedOperationError,
  performPlatformAction,
  replyToAuthor,
} from '../../src/moderation/platform-clients.js'
import type { PlatformApiConfig, PlatformCallResult, PlatformTarget } from '../../src/moderation/platform-clients.js'
import { startFakePlatform } from '../helpers/fake-platform.js'
import type { FakeRequest } from '../helpers/fake-platform.js'

const TOKENS = {
  facebook: 'fb-PAGE-TOKEN-secret',
  instagram: 'ig-ACCESS-TOKEN-secret',
  x: 'x-USER-TOKEN-secret',
  linkedin: 'li-ACCESS-TOKEN-secret',
  website: 'web-API-TOKEN-secret',
}

const fake = await startFakePlatform()
t.teardown(() => fake.close())
t.beforeEach(() => fake.reset())

const GRAPH = `${fake.baseUrl}/v21.0`
const config: PlatformApiConfig = {
  facebook: { baseUrl: `${GRAPH}/`, pageId: '104000000000001', pageToken: TOKENS.facebook },
  instagram: { baseUrl: GRAPH, accessToken: TOKENS.instagram },
  x: { baseUrl: fake.baseUrl, bearerToken: TOKENS.x },
  linkedin: { baseUrl: fake.baseUrl, accessToken: TOKENS.linkedin, organizationUrn: 'urn:li:organization:12345' },
  website: { baseUrl: `${fake.baseUrl}/api/v1`, token: TOKENS.website },
}

const targets = {
  facebook: {
    platform: 'facebook',
    account: '104000000000001',
    externalId: '104000000000001_2000000000000002',
    postId: '104000000000001_3000000000000003',
    parentExternalId: null,
    authorId: '5550001',
  },
  instagram: {
    platform: 'instagram',
    account: '17841400000000001',
    externalId: '17900000000000001',
    postId: '17800000000000001',
    parentExternalId: null,
    authorId: '17840000000000009',
  },
  x: {
    platform: 'x',
    account: '1500000000000000001',
    externalId: '1790000000000000002',
    postId: '1790000000000000001',
    parentExternalId: null,
    authorId: '42',
  },
  linkedin: {
    platform: 'linkedin',
    account: 'urn:li:organization:12345',
    externalId: 'urn:li:comment:(urn:li:activity:7100000000000000001,7100000000000000002)',
    postId: 'urn:li:share:7100000000000000000',
    parentExternalId: null,
    authorId: 'urn:li:person:XyZ789',
  },
  website: {
    platform: 'website',
    account: 'www.citykankakee-il.gov',
    externalId: 'c-1001',
    postId: 'https://www.citykankakee-il.gov/news/road-work',
    parentExternalId: null,
    authorId: 'u-7',
  },
} satisfies Record<string, PlatformTarget>

const NOTICE = 'Your comment was hidden: rule R3 (personal information). Policy: https://www.citykankakee-il.gov/comments — Zoë & co.'

/** The one request the fake received, with the checks every request must pass. */
function only(t: Test, token: string): FakeRequest {
  t.equal(fake.requests.length, 1, 'exactly one request was sent')
  const req = fake.requests[0] as FakeRequest
  t.equal(req.headers.authorization, `Bearer ${token}`, 'the token travels in the Authorization header')
  t.equal(req.headers.accept, 'application/json')
  t.notOk(req.path.includes(token) || req.query.includes(token) || req.body.includes(token), 'the token is not in the URL or the body')
  t.notOk(/access_token/.test(req.query + req.body), 'no access_token parameter')
  return req
}

/** The RecordedRequest mirrors what was sent and holds no secret. */
function recorded(t: Test, result: PlatformCallResult, req: FakeRequest) {
  const url = new URL(result.request.url)
  t.equal(url.pathname, req.path, 'recorded path')
  t.equal(url.search, req.query === '' ? '' : `?${req.query}`, 'recorded query')
  t.equal(result.request.method, req.method, 'recorded method')
  t.equal(result.request.body, req.body === '' ? null : req.body, 'recorded body')
  t.same(Object.keys(result.request).sort(), ['body', 'method', 'url'])
  const json = JSON.stringify(result.request)
  for (const token of Object.values(TOKENS)) t.notOk(json.includes(token), 'no token in the RecordedRequest')
  t.notOk(/authorization|bearer/i.test(json), 'no Authorization header in the RecordedRequest')
}

const FORM = 'application/x-www-form-urlencoded'
const JSON_TYPE = 'application/json'

t.test('Facebook', async (t) => {
  t.test('hide and unhide: POST /{comment-id} is_hidden, form-encoded', async (t) => {
    for (const [operation, value] of [['hide', 'true'], ['unhide', 'false']] as const) {
      fake.reset()
      const result = await performPlatformAction(config, targets.facebook, operation)
      t.match(result, { ok: true, status: 200 })
      const req = only(t, TOKENS.facebook)
      t.equal(req.method, 'POST')
      t.equal(req.path, '/v21.0/104000000000001_2000000000000002')
      t.equal(req.query, '')
      t.equal(req.headers['content-type'], FORM)
      t.equal(req.body, `is_hidden=${value}`)
      recorded(t, result, req)
      t.equal(result.request.url, `${GRAPH}/104000000000001_2000000000000002`)
    }
  })

  t.test('delete: DELETE /{comment-id} without a body', async (t) => {
    const result = await performPlatformAction(config, targets.facebook, 'delete')
    t.match(result, { ok: true, status: 200 })
    const req = only(t, TOKENS.facebook)
    t.equal(req.method, 'DELETE')
    t.equal(req.path, '/v21.0/104000000000001_2000000000000002')
    t.equal(req.query, '')
    t.equal(req.body, '')
    t.equal(req.headers['content-type'], undefined)
    recorded(t, result, req)
  })

  t.test('notice: a private reply, POST /{page-id}/messages with recipient.comment_id', async (t) => {
    fake.respondWith((r) => r.path.endsWith('/messages'), { status: 200, body: { recipient_id: '5550001', message_id: 'm_abc' } })
    const result = await replyToAuthor(config, targets.facebook, NOTICE)
    t.match(result, { ok: true, status: 200, createdId: 'm_abc' })
    const req = only(t, TOKENS.facebook)
    t.equal(req.method, 'POST')
    t.equal(req.path, '/v21.0/104000000000001/messages')
    t.equal(req.query, '')
    t.equal(req.headers['content-type'], JSON_TYPE)
    t.equal(req.body, JSON.stringify({ recipient: { comment_id: '104000000000001_2000000000000002' }, message: { text: NOTICE } }))
    recorded(t, result, req)
  })
})

t.test('Instagram', async (t) => {
  t.test('hide and unhide: POST /{ig-comment-id} hide, form-encoded', async (t) => {
    for (const [operation, value] of [['hide', 'true'], ['unhide', 'false']] as const) {
      fake.reset()
      const result = await performPlatformAction(config, targets.instagram, operation)
      t.match(result, { ok: true, status: 200 })
      const req = only(t, TOKENS.instagram)
      t.equal(req.method, 'POST')
      t.equal(req.path, '/v21.0/17900000000000001')
      t.equal(req.query, '')
      t.equal(req.headers['content-type'], FORM)
      t.equal(req.body, `hide=${value}`)
      recorded(t, result, req)
    }
  })

  t.test('delete: DELETE /{ig-comment-id}', async (t) => {
    const result = await performPlatformAction(config, targets.instagram, 'delete')
    t.match(result, { ok: true })
    const req = only(t, TOKENS.instagram)
    t.equal(req.method, 'DELETE')
    t.equal(req.path, '/v21.0/17900000000000001')
    t.equal(req.body, '')
    recorded(t, result, req)
  })

  t.test('notice: POST /{ig-comment-id}/replies message=, form-encoded', async (t) => {
    const result = await replyToAuthor(config, targets.instagram, NOTICE)
    t.match(result, { ok: true, createdId: 'fake-1' })
    const req = only(t, TOKENS.instagram)
    t.equal(req.method, 'POST')
    t.equal(req.path, '/v21.0/17900000000000001/replies')
    t.equal(req.headers['content-type'], FORM)
    t.equal(req.body, new URLSearchParams({ message: NOTICE }).toString())
    t.equal(new URLSearchParams(req.body).get('message'), NOTICE, 'UTF-8 text survives the form encoding')
    recorded(t, result, req)
  })
})

t.test('X', async (t) => {
  t.test('hide and unhide: PUT /2/tweets/{id}/hidden {"hidden":bool}', async (t) => {
    for (const [operation, value] of [['hide', true], ['unhide', false]] as const) {
      fake.reset()
      fake.respondWith((r) => r.method === 'PUT', { status: 200, body: { data: { hidden: value } } })
      const result = await performPlatformAction(config, targets.x, operation)
      t.match(result, { ok: true, status: 200 })
      const req = only(t, TOKENS.x)
      t.equal(req.method, 'PUT')
      t.equal(req.path, '/2/tweets/1790000000000000002/hidden')
      t.equal(req.query, '')
      t.equal(req.headers['content-type'], JSON_TYPE)
      t.equal(req.body, JSON.stringify({ hidden: value }))
      recorded(t, result, req)
    }
  })

  t.test('delete is unsupported and names what X can do', async (t) => {
    await t.rejects(performPlatformAction(config, targets.x, 'delete'), UnsupportedOperationError)
    const err = await performPlatformAction(config, targets.x, 'delete').catch((e: unknown) => e)
    t.type(err, UnsupportedOperationError)
    t.match(err, { platform: 'x', operation: 'delete', supported: ['hide', 'unhide'], message: /supports only hide and unhide/ })
    t.equal(fake.requests.length, 0, 'nothing was sent')
  })

  t.test('notice: POST /2/tweets with reply.in_reply_to_tweet_id', async (t) => {
    fake.respondWith((r) => r.path === '/2/tweets', { status: 201, body: { data: { id: '1790000000000000099', text: NOTICE } } })
    const result = await replyToAuthor(config, targets.x, NOTICE)
    t.match(result, { ok: true, status: 201, createdId: '1790000000000000099' })
    const req = only(t, TOKENS.x)
    t.equal(req.method, 'POST')
    t.equal(req.path, '/2/tweets')
    t.equal(req.headers['content-type'], JSON_TYPE)
    t.equal(req.body, JSON.stringify({ text: NOTICE, reply: { in_reply_to_tweet_id: '1790000000000000002' } }))
    recorded(t, result, req)
  })
})

t.test('LinkedIn', async (t) => {
  const ENCODED_COMMENT = 'urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A7100000000000000001%2C7100000000000000002%29'

  t.test('delete: DELETE /rest/socialActions/{post urn}/comments/{comment id}?actor={org urn}', async (t) => {
    const result = await performPlatformAction(config, targets.linkedin, 'delete')
    t.match(result, { ok: true })
    const req = only(t, TOKENS.linkedin)
    t.equal(req.method, 'DELETE')
    t.equal(req.path, '/rest/socialActions/urn%3Ali%3Ashare%3A7100000000000000000/comments/7100000000000000002')
    t.equal(req.query, 'actor=urn%3Ali%3Aorganization%3A12345')
    t.equal(req.headers['linkedin-version'], '202603')
    t.equal(req.headers['x-restli-protocol-version'], '2.0.0')
    t.equal(req.body, '')
    recorded(t, result, req)
  })

  t.test('delete without a stored post: the activity inside the comment URN; apiVersion is configurable', async (t) => {
    const cfg: PlatformApiConfig = { ...config, linkedin: { ...config.linkedin!, apiVersion: '202607' } }
    await performPlatformAction(cfg, { ...targets.linkedin, postId: null }, 'delete')
    const req = only(t, TOKENS.linkedin)
    t.equal(req.path, '/rest/socialActions/urn%3Ali%3Aactivity%3A7100000000000000001/comments/7100000000000000002')
    t.equal(req.headers['linkedin-version'], '202607')
  })

  t.test('hide and unhide are unsupported and name what LinkedIn can do', async (t) => {
    for (const operation of ['hide', 'unhide'] as const) {
      const err = await performPlatformAction(config, targets.linkedin, operation).catch((e: unknown) => e)
      t.type(err, UnsupportedOperationError)
      t.match(err, { platform: 'linkedin', supported: ['delete'], message: /supports only delete/ })
    }
    t.equal(fake.requests.length, 0)
  })

  t.test('notice: a nested reply, POST /rest/socialActions/{comment urn}/comments', async (t) => {
    fake.respondWith((r) => r.method === 'POST', {
      status: 201,
      body: {},
      headers: { 'x-restli-id': 'urn:li:comment:(urn:li:activity:7100000000000000001,7100000000000000009)' },
    })
    const result = await replyToAuthor(config, targets.linkedin, NOTICE)
    t.match(result, { ok: true, status: 201, createdId: 'urn:li:comment:(urn:li:activity:7100000000000000001,7100000000000000009)' })
    const req = only(t, TOKENS.linkedin)
    t.equal(req.method, 'POST')
    t.equal(req.path, `/rest/socialActions/${ENCODED_COMMENT}/comments`)
    t.equal(req.query, '')
    t.equal(req.headers['content-type'], JSON_TYPE)
    t.equal(req.headers['linkedin-version'], '202603')
    t.equal(req.headers['x-restli-protocol-version'], '2.0.0')
    t.equal(
      req.body,
      JSON.stringify({
        actor: 'urn:li:organization:12345',
        object: 'urn:li:share:7100000000000000000',
        message: { text: NOTICE },
        parentComment: targets.linkedin.externalId,
      }),
    )
    recorded(t, result, req)
  })

  t.test('notice on a reply goes under its top-level comment (threads are two levels deep)', async (t) => {
    const reply = {
      ...targets.linkedin,
      externalId: 'urn:li:comment:(urn:li:activity:7100000000000000001,7100000000000000005)',
      parentExternalId: targets.linkedin.externalId,
    }
    await replyToAuthor(config, reply, NOTICE)
    const req = only(t, TOKENS.linkedin)
    t.equal(req.path, `/rest/socialActions/${ENCODED_COMMENT}/comments`)
    t.match(JSON.parse(req.body), { parentComment: targets.linkedin.externalId })
  })

  t.test('a comment id that is not a URN cannot be answered', async (t) => {
    await t.rejects(replyToAuthor(config, { ...targets.linkedin, externalId: '7100000000000000002' }, NOTICE), InvalidPlatformRequestError)
    t.equal(fake.requests.length, 0)
  })
})

t.test('the city website (Townsquare contract)', async (t) => {
  const cases = [
    ['hide', 'POST', '/api/v1/comments/c-1001/hide'],
    ['unhide', 'POST', '/api/v1/comments/c-1001/unhide'],
    ['delete', 'DELETE', '/api/v1/comments/c-1001'],
  ] as const
  for (const [operation, method, path] of cases) {
    t.test(operation, async (t) => {
      const result = await performPlatformAction(config, targets.website, operation)
      t.match(result, { ok: true, status: 200 })
      const req = only(t, TOKENS.website)
      t.equal(req.method, method)
      t.equal(req.path, path)
      t.equal(req.query, '')
      t.equal(req.body, '')
      t.equal(req.headers['content-type'], undefined)
      recorded(t, result, req)
    })
  }

  t.test('notice: POST /comments/{id}/notices {"text"}', async (t) => {
    const result = await replyToAuthor(config, targets.website, NOTICE)
    t.match(result, { ok: true, createdId: 'fake-1' })
    const req = only(t, TOKENS.website)
    t.equal(req.method, 'POST')
    t.equal(req.path, '/api/v1/comments/c-1001/notices')
    t.equal(req.headers['content-type'], JSON_TYPE)
    t.equal(req.body, JSON.stringify({ text: NOTICE }))
    recorded(t, result, req)
  })

  t.test('ids are one encoded path segment; dot segments are refused', async (t) => {
    await performPlatformAction(config, { ...targets.website, externalId: 'a/b?c#d' }, 'hide')
    t.equal(fake.requests[0]?.path, '/api/v1/comments/a%2Fb%3Fc%23d/hide')
    t.equal(fake.requests[0]?.query, '')
    fake.reset()
    for (const externalId of ['', '.', '..']) {
      await t.rejects(performPlatformAction(config, { ...targets.website, externalId }, 'delete'), InvalidPlatformRequestError)
    }
    t.equal(fake.requests.length, 0)
  })
})

t.test('a platform without credentials throws PlatformNotConfiguredError before sending', async (t) => {
  const none: PlatformApiConfig = { facebook: null, instagram: null, x: null, linkedin: null, website: null }
  for (const target of Object.values(targets)) {
    const op = target.platform === 'x' ? 'hide' : 'delete'
    await t.rejects(performPlatformAction(none, target, op), PlatformNotConfiguredError, `${target.platform} action`)
    await t.rejects(replyToAuthor(none, target, NOTICE), PlatformNotConfiguredError, `${target.platform} notice`)
  }
  t.equal(fake.requests.length, 0)
})

t.test('failures are classified', async (t) => {
  t.test('500, 502, 503 and 429 are transient, with the platform message', async (t) => {
    const answers = [
      { status: 500, body: { error: { message: 'An unexpected error has occurred.', type: 'OAuthException', code: 2 } }, expect: /An unexpected error has occurred\. \(code 2\)/ },
      { status: 502, body: '<html><body>Bad   gateway</body></html>', expect: /<html><body>Bad gateway<\/body><\/html>/ },
      { status: 503, body: { message: 'Service Unavailable' }, headers: { 'retry-after': '30' }, expect: /Service Unavailable/, retry: 30 },
      { status: 429, body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }, expect: /Too Many Requests/ },
    ]
    for (const a of answers) {
      fake.reset()
      fake.respondWith(() => true, { status: a.status, body: a.body, headers: a.headers ?? {} })
      const result = await performPlatformAction(config, targets.facebook, 'hide')
      t.match(result, { ok: false, transient: true, status: a.status, error: a.expect }, `${a.status}`)
      if (a.retry !== undefined) t.match(result, { retryAfterSeconds: a.retry })
      t.equal(result.request.url, `${GRAPH}/104000000000001_2000000000000002`)
    }
  })

  t.test('404 and 403 are permanent, with the platform message', async (t) => {
    fake.respondWith((r) => r.path.startsWith('/v21.0/'), {
      status: 404,
      body: { error: { message: "Unsupported delete request. Object with ID '104000000000001_2000000000000002' does not exist", type: 'GraphMethodException', code: 100, error_subcode: 33 } },
    })
    fake.respondWith((r) => r.path.startsWith('/2/'), {
      status: 403,
      body: { title: 'Forbidden', detail: 'You are not permitted to hide replies in this conversation.', type: 'about:blank', status: 403 },
    })
    fake.respondWith((r) => r.path.startsWith('/rest/'), {
      status: 403,
      body: { status: 403, serviceErrorCode: 100, code: 'ACCESS_DENIED', message: 'Not enough permissions to access: socialActions.DELETE' },
    })
    fake.respondWith((r) => r.path.startsWith('/api/v1/'), { status: 404, body: { message: 'comment c-1001 not found' } })

    t.match(await performPlatformAction(config, targets.facebook, 'delete'), {
      ok: false,
      transient: false,
      status: 404,
      error: /^Facebook answered 404: Unsupported delete request\. Object with ID '104000000000001_2000000000000002' does not exist \(code 100, subcode 33\)$/,
    })
    t.match(await performPlatformAction(config, targets.x, 'hide'), {
      ok: false,
      transient: false,
      status: 403,
      error: 'X answered 403: You are not permitted to hide replies in this conversation.',
    })
    t.match(await performPlatformAction(config, targets.linkedin, 'delete'), {
      ok: false,
      transient: false,
      status: 403,
      error: 'LinkedIn answered 403: Not enough permissions to access: socialActions.DELETE',
    })
    t.match(await replyToAuthor(config, targets.website, NOTICE), { ok: false, transient: false, status: 404, error: /comment c-1001 not found/ })
  })

  t.test('Graph throttling answered with 400/403 is transient; a 2xx {"success":false} is a failure', async (t) => {
    fake.respondWith(() => true, [
      { status: 400, body: { error: { message: '(#4) Application request limit reached', type: 'OAuthException', code: 4, is_transient: true } } },
      { status: 403, body: { error: { message: '(#32) Page request limit reached', code: 32 } } },
      { status: 200, body: { success: false } },
    ])
    t.match(await performPlatformAction(config, targets.facebook, 'hide'), { ok: false, transient: true, status: 400, error: /Application request limit reached/ })
    t.match(await performPlatformAction(config, targets.instagram, 'hide'), { ok: false, transient: true, status: 403 })
    t.match(await performPlatformAction(config, targets.facebook, 'hide'), { ok: false, transient: false, status: 200, error: /success":false/ })
    t.match(await performPlatformAction(config, targets.facebook, 'hide'), { ok: true }, 'the responses were consumed, then the default')
  })

  t.test('the platform message is truncated to 500 characters', async (t) => {
    fake.respondWith(() => true, { status: 400, body: { message: 'é'.repeat(2000) } })
    const result = await performPlatformAction(config, targets.website, 'hide')
    t.equal(result.ok, false)
    if (result.ok) return
    t.equal(result.transient, false)
    t.equal(result.error, `the city website answered 400: ${'é'.repeat(500)}…`)
  })

  t.test('a redirect is not followed (it would carry the token elsewhere)', async (t) => {
    fake.respondWith((r) => r.path.endsWith('/hide'), { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } })
    const result = await performPlatformAction(config, targets.website, 'hide')
    t.match(result, { ok: false, transient: false, status: 302, error: /redirect/ })
    t.equal(fake.requests.length, 1)
  })

  t.test('a refused connection is transient', async (t) => {
    const closed = await startFakePlatform()
    await closed.close()
    const cfg: PlatformApiConfig = { ...config, website: { baseUrl: closed.baseUrl, token: TOKENS.website } }
    const result = await performPlatformAction(cfg, targets.website, 'delete')
    t.match(result, { ok: false, transient: true, status: null, error: /network error: .*ECONNREFUSED/ })
    t.same(result.request, { method: 'DELETE', url: `${closed.baseUrl}/comments/c-1001`, body: null })
  })

  t.test('no answer within timeoutMs is transient', async (t) => {
    fake.respondWith(() => true, { status: 200, hang: true })
    const result = await replyToAuthor({ ...config, timeoutMs: 200 }, targets.x, NOTICE)
    t.match(result, { ok: false, transient: true, status: null, error: /timed out/ })
    t.equal(fake.requests.length, 1, 'the request reached the server')
  })
})

t.test('an empty notice is refused before sending', async (t) => {
  await t.rejects(replyToAuthor(config, targets.website, '  \n'), InvalidPlatformRequestError)
  t.equal(fake.requests.length, 0)
})

// E-mail: test/mail/send.test.ts (a real SMTP server, TLS included).
