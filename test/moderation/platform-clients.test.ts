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
import { sendNoticeEmail } from '../../src/moderation/notice-delivery.js'
import { startFakePlatform } from '../helpers/fake-platform.js'
import type { FakeRequest } from '../helpers/fake-platform.js'
import { startFakeSmtp } from '../helpers/fake-smtp.js'

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

// ---------------------------------------------------------------------------------------------
// E-mail

t.test('notice e-mail over SMTP', async (t) => {
  const smtp = await startFakeSmtp()
  t.teardown(() => smtp.close())
  t.beforeEach(() => smtp.reset())
  const credentials = { user: 'townsquare', password: 'p@ss:w/rd%' }
  const from = 'Townsquare Kankakee <notices@citykankakee-il.gov>'

  function parse(data: string) {
    const split = data.indexOf('\r\n\r\n')
    const headerBlock = data.slice(0, split).replace(/\r\n[ \t]/g, ' ')
    const headers = new Map<string, string>()
    for (const line of headerBlock.split('\r\n')) {
      const colon = line.indexOf(':')
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
    }
    return { headers, body: data.slice(split + 4) }
  }

  function decodeWords(value: string): string {
    return value
      .split(' ')
      .map((w) => /^=\?UTF-8\?B\?(.*)\?=$/.exec(w)?.[1])
      .map((b64) => Buffer.from(b64 ?? '', 'base64').toString('utf8'))
      .join('')
  }

  t.test('delivers one message: envelope, headers, UTF-8 body, dot-stuffing, CRLF', async (t) => {
    const subject = 'Your comment was removed — rule R3 (Zoë)'
    const text = 'Hello Zoë,\n.this line starts with a dot\n..and this one with two\n.\nLast line — ünïcödé ✓'
    const result = await sendNoticeEmail({ url: smtp.url(credentials), from, heloName: 'townsquare.test' }, 'resident@example.com', subject, text)
    t.match(result, { ok: true, messageId: /^<[0-9a-f-]{36}@citykankakee-il\.gov>$/ })
    if (!result.ok) return

    t.equal(smtp.messages.length, 1)
    const m = smtp.messages[0]!
    t.equal(m.helo, 'townsquare.test')
    t.same(m.auth, credentials, 'AUTH PLAIN with the decoded URL credentials')
    t.equal(m.mailFrom, 'notices@citykankakee-il.gov')
    t.equal(m.mailFromLine, '<notices@citykankakee-il.gov> BODY=8BITMIME', '8BITMIME declared since the server offers it')
    t.same(m.rcptTo, ['resident@example.com'])
    t.same(
      smtp.commands.map((c) => c.split(' ')[0]),
      ['EHLO', 'AUTH', 'MAIL', 'RCPT', 'DATA', '<message', 'QUIT'],
      'the conversation',
    )

    t.notOk(/[^\r]\n|\r[^\n]/.test(m.raw), 'CRLF line endings only')
    t.ok(m.raw.includes('\r\n..this line starts with a dot\r\n...and this one with two\r\n..\r\nLast line'), 'dot-stuffed on the wire')

    const { headers, body } = parse(m.data)
    t.equal(headers.get('from'), from)
    t.equal(headers.get('to'), 'resident@example.com')
    t.equal(decodeWords(headers.get('subject') ?? ''), subject, 'RFC 2047 UTF-8 subject')
    t.match(headers.get('date'), /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/)
    t.notOk(Number.isNaN(Date.parse(headers.get('date') ?? '')))
    t.equal(headers.get('message-id'), result.messageId)
    t.equal(headers.get('mime-version'), '1.0')
    t.equal(headers.get('content-type'), 'text/plain; charset=utf-8')
    t.equal(headers.get('content-transfer-encoding'), '8bit')
    t.equal(body, text.replace(/\n/g, '\r\n'), 'the body, UTF-8 and unstuffed')
  })

  t.test('no credentials: no AUTH; no 8BITMIME offered: no BODY parameter', async (t) => {
    const plain = await startFakeSmtp({ extensions: [] })
    t.teardown(() => plain.close())
    const result = await sendNoticeEmail({ url: plain.url(), from: 'notices@citykankakee-il.gov' }, 'Resident <r@example.com>', 'Notice', 'Text')
    t.match(result, { ok: true })
    t.equal(plain.messages[0]?.auth, null)
    t.equal(plain.messages[0]?.mailFromLine, '<notices@citykankakee-il.gov>')
    t.same(plain.messages[0]?.rcptTo, ['r@example.com'])
    t.equal(parse(plain.messages[0]?.data ?? '').headers.get('to'), 'Resident <r@example.com>')
  })

  t.test('a line longer than SMTP allows switches to quoted-printable', async (t) => {
    const text = `${'ü'.repeat(700)}\nshort line`
    const result = await sendNoticeEmail({ url: smtp.url(), from }, 'resident@example.com', 'Notice', text)
    t.match(result, { ok: true })
    const m = smtp.messages[0]!
    t.ok(m.raw.split('\r\n').every((line) => line.length <= 78), 'every line fits')
    const { headers, body } = parse(m.data)
    t.equal(headers.get('content-transfer-encoding'), 'quoted-printable')
    const decoded = Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8')
    t.equal(decoded, text.replace(/\n/g, '\r\n'))
  })

  t.test('451 is transient', async (t) => {
    smtp.failAt('MAIL', '451 4.3.0 Mail server temporarily rejected message')
    const result = await sendNoticeEmail({ url: smtp.url(credentials), from }, 'resident@example.com', 'Notice', 'Text')
    t.match(result, { ok: false, transient: true, error: /MAIL FROM refused: 451 4\.3\.0 Mail server temporarily rejected message/ })
    t.notOk(JSON.stringify(result).includes(credentials.password), 'no credentials in the error')
    t.equal(smtp.messages.length, 0)
  })

  t.test('550 is permanent', async (t) => {
    smtp.failAt('RCPT', '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown')
    const result = await sendNoticeEmail({ url: smtp.url(), from }, 'nobody@example.com', 'Notice', 'Text')
    t.match(result, { ok: false, transient: false, error: /RCPT TO refused: 550 5\.1\.1/ })
    t.equal(smtp.messages.length, 0)
  })

  t.test('a refusal of the message data: 554 permanent, 452 transient', async (t) => {
    smtp.failAt('message', '554 5.7.1 Message rejected as spam')
    t.match(await sendNoticeEmail({ url: smtp.url(), from }, 'resident@example.com', 'Notice', 'Text'), { ok: false, transient: false, error: /554/ })
    smtp.failAt('message', '452 4.3.1 Insufficient system storage')
    t.match(await sendNoticeEmail({ url: smtp.url(), from }, 'resident@example.com', 'Notice', 'Text'), { ok: false, transient: true, error: /452/ })
  })

  t.test('a 421 greeting and a refused connection are transient', async (t) => {
    smtp.failAt('greeting', '421 4.3.2 Service not available')
    t.match(await sendNoticeEmail({ url: smtp.url(), from }, 'resident@example.com', 'Notice', 'Text'), { ok: false, transient: true, error: /421/ })
    const gone = await startFakeSmtp()
    await gone.close()
    t.match(await sendNoticeEmail({ url: gone.url(), from }, 'resident@example.com', 'Notice', 'Text'), { ok: false, transient: true, error: /ECONNREFUSED/ })
  })

  t.test('bad addresses and unsupported URLs are permanent and nothing is sent', async (t) => {
    for (const to of ['resident@example.com\r\nBcc: victim@example.com', 'not-an-address', 'a b@example.com', 'zoë@example.com']) {
      t.match(await sendNoticeEmail({ url: smtp.url(), from }, to, 'Notice', 'Text'), { ok: false, transient: false, error: /invalid recipient address/ })
    }
    t.match(await sendNoticeEmail({ url: smtp.url().replace('smtp:', 'smtps:'), from }, 'resident@example.com', 'Notice', 'Text'), {
      ok: false,
      transient: false,
      error: /not supported/,
    })
    t.same(smtp.commands, [])
  })
})
