// The console's sign-in, sessions and CSRF, through HTTP against PostgreSQL under the runtime role.
import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { manualClock } from '../factories/clock.js'
import { testApp } from '../helpers/app.js'
import { loadConfig } from '../../src/config.js'
import { Jar, csrfOf, get, post, signIn } from '../helpers/console.js'

t.test('development sign-in, the home page and sign-out', async (t) => {
  const { app, ownerPool } = await testApp(t)
  const jar = new Jar()
  const anonymous = await get(app, jar, '/console')
  t.equal(anonymous.statusCode, 303, 'the console needs a session')
  t.equal(anonymous.headers.location, '/console/sign-in?returnTo=%2Fconsole')

  const res = await signIn(app, jar, 'Pat <b>Doe</b>', 'records_clerk')
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/console')
  const cookie = [res.headers['set-cookie']].flat().find((c) => String(c).startsWith('ts_session='))!
  t.match(cookie, /HttpOnly/, 'the session cookie is HttpOnly')
  t.match(cookie, /SameSite=Lax/)
  t.notMatch(cookie, /Secure/, 'not Secure outside production unless configured (http://localhost works)')

  const home = await get(app, jar, '/console')
  t.equal(home.statusCode, 200)
  t.match(home.body, 'Welcome, <span>Pat &lt;b>Doe&lt;/b></span>', 'the name is escaped')
  t.notMatch(home.body, '<b>Doe', 'never as markup')
  t.match(home.body, 'Records clerk')
  t.match(home.headers['content-security-policy'], /script-src 'self'/, 'a strict CSP')
  t.match(home.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(home.headers['cache-control'], 'no-store')

  const { rows } = await ownerPool().query('SELECT subject, roles, signed_in_by, ended_at FROM console_session')
  t.same(rows, [{ subject: 'dev:pat-b-doe-b-', roles: ['records_clerk'], signed_in_by: 'development', ended_at: null }])
  const stored = await ownerPool().query('SELECT encode(token_sha256, $1) AS h FROM console_session', ['hex'])
  t.not(stored.rows[0].h, jar.cookies.get('ts_session'), 'only a hash of the token is stored')

  // Signing in again ends the earlier session: its token opens nothing.
  const first = jar.cookies.get('ts_session')!
  // (The sign-in page sends a signed-in person on; the form posted from another tab carries the session's token.)
  const again = await post(app, jar, '/console/sign-in/development', { _csrf: csrfOf(home.body), name: 'Pat Doe', role: 'auditor', returnTo: '/console' })
  t.equal(again.statusCode, 303)
  t.not(jar.cookies.get('ts_session'), first, 'a new token')
  t.equal((await app.inject({ method: 'GET', url: '/console', headers: { cookie: `ts_session=${first}` } })).statusCode, 303, 'the earlier session ended')
  const sessionToken = jar.cookies.get('ts_session')!
  const out = await post(app, jar, '/console/sign-out', { _csrf: csrfOf((await get(app, jar, '/console')).body) })
  t.equal(out.statusCode, 303)
  t.equal(out.headers.location, '/console/sign-in?notice=signed-out')
  const after = await app.inject({ method: 'GET', url: '/console', headers: { cookie: `ts_session=${sessionToken}` } })
  t.equal(after.statusCode, 303, 'the signed-out token opens nothing')
  t.equal((await ownerPool().query('SELECT count(*)::int AS n FROM console_session WHERE ended_at IS NOT NULL')).rows[0].n, 2, 'both sessions ended')
})

t.test('CSRF: a form without the token, or with another session\'s, changes nothing', async (t) => {
  const { app, ownerPool } = await testApp(t)
  const jar = new Jar()
  await get(app, jar, '/console/sign-in')
  const forged = await post(app, jar, '/console/sign-in/development', { name: 'Mallory', role: 'tst_admin', returnTo: '/console' })
  t.equal(forged.statusCode, 403, 'login CSRF refused')
  t.match(forged.body, 'This form has expired')
  t.equal((await ownerPool().query('SELECT count(*)::int AS n FROM console_session')).rows[0].n, 0, 'no session was made')

  await signIn(app, jar, 'Pat', 'tst_admin')
  const other = new Jar()
  await signIn(app, other, 'Sam', 'auditor')
  const otherHome = await get(app, other, '/console')
  const res = await post(app, jar, '/console/sign-out', { _csrf: csrfOf(otherHome.body) })
  t.equal(res.statusCode, 403, "another session's token does not sign this one out")
  t.equal((await get(app, jar, '/console')).statusCode, 200, 'still signed in')
})

t.test('idle and absolute timeouts end a session and bring the person back to the same page', async (t) => {
  const clock = manualClock(new Date('2026-12-07T15:00:00Z'))
  const { app } = await testApp(t, { clock, env: { CONSOLE_SESSION_IDLE: 'PT30M', CONSOLE_SESSION_MAX: 'PT2H' } })
  const jar = new Jar()
  await signIn(app, jar, 'Pat', 'tst_moderator')
  await clock.set(new Date('2026-12-07T15:29:00Z'))
  t.equal((await get(app, jar, '/console')).statusCode, 200, 'active within the idle time')
  await clock.set(new Date('2026-12-07T16:00:30Z'))
  const idle = await get(app, jar, '/console?x=1')
  t.equal(idle.statusCode, 303, 'idle for 31 minutes')
  t.equal(idle.headers.location, '/console/sign-in?returnTo=%2Fconsole%3Fx%3D1&notice=expired')
  const page = await get(app, jar, idle.headers.location as string)
  t.match(page.body, 'Your session ended')
  t.match(page.body, 'name="returnTo" value="/console?x=1"', 'the sign-in returns to the page')

  await signIn(app, jar, 'Pat', 'tst_moderator')
  for (let minute = 20; minute <= 120; minute += 20) {
    await clock.set(new Date(Date.parse('2026-12-07T16:00:30Z') + minute * 60_000))
    if (minute < 120) t.equal((await get(app, jar, '/console')).statusCode, 200, `active at ${minute} minutes`)
  }
  t.equal((await get(app, jar, '/console')).statusCode, 303, 'ended two hours after sign-in however active')
})

t.test('sign-in never redirects to another site, and refuses bad input with the form kept', async (t) => {
  const { app } = await testApp(t)
  for (const target of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/ok path']) {
    const jar = new Jar()
    const res = await signIn(app, jar, 'Pat', 'auditor', target)
    t.equal(res.headers.location, '/console', `${JSON.stringify(target)} is replaced by /console`)
  }
  const jar = new Jar()
  const page = await get(app, jar, '/console/sign-in')
  const long = await post(app, jar, '/console/sign-in/development', { _csrf: csrfOf(page.body), name: 'P'.repeat(101), role: 'auditor', returnTo: '/console' })
  t.match(long.body, 'value="' + 'P'.repeat(101) + '"', 'the name typed is kept')
  t.match(long.body, /id="role-auditor"[^>]*checked/, 'the role chosen is kept')
  const bad = await post(app, jar, '/console/sign-in/development', { _csrf: csrfOf(page.body), name: '', role: 'superuser', returnTo: '/console' })
  t.equal(bad.statusCode, 400)
  t.match(bad.body, 'There is a problem')
  t.match(bad.body, 'href="#name"')
  t.match(bad.body, 'Choose a role')
  t.notOk(jar.cookies.has('ts_session'), 'no session')
})

t.test('a session cookie authorizes no /v1 route, and a role sees only its pages', async (t) => {
  const { app } = await testApp(t)
  const jar = new Jar()
  await signIn(app, jar, 'Pat', 'tst_admin')
  const api = await app.inject({ method: 'GET', url: '/v1/audit/access', headers: { cookie: jar.header() } })
  t.equal(api.statusCode, 401, 'the API wants a bearer token, never the cookie')
  t.equal((await get(app, jar, '/console')).statusCode, 200)
})

t.test('the development sign-in is off when configured so, and refused in production', async (t) => {
  const { app } = await testApp(t, { env: { CONSOLE_DEV_SIGN_IN: 'off' } })
  const jar = new Jar()
  const page = await get(app, jar, '/console/sign-in')
  t.notMatch(page.body, 'Development sign-in')
  t.match(page.body, 'Sign-in is not configured')
  const res = await post(app, jar, '/console/sign-in/development', { _csrf: csrfOf(page.body), name: 'Pat', role: 'tst_admin', returnTo: '/console' })
  t.equal(res.statusCode, 404)
  t.throws(() => loadConfig({ NODE_ENV: 'production', CONSOLE_DEV_SIGN_IN: 'on', JWT_SECRET: 'x'.repeat(40) }), /CONSOLE_DEV_SIGN_IN: the development sign-in is refused in production/)
  t.throws(() => loadConfig({ JWT_SECRET: 'x'.repeat(40), OIDC_ROLE_MAP: 'Admins=root' }), /OIDC_ROLE_MAP: "Admins=root" is not value=role/)
})

t.test('public pages: the policy in force and the transparency statistics, without a session', async (t) => {
  const { app } = await testApp(t)
  const jar = new Jar()
  const empty = await get(app, jar, '/policy')
  t.equal(empty.statusCode, 200)
  t.match(empty.body, 'No comment policy is in force yet.')
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2026-01-01T00:00:00Z')))
  const policy = await get(app, jar, '/policy')
  t.match(policy.body, /<h1>[^<]+<\/h1>/)
  t.match(policy.body, 'Version 1, in force since')
  t.match(policy.body, 'id="rule-4.a"', 'each rule has its own section')
  const stats = await get(app, jar, '/transparency')
  t.equal(stats.statusCode, 200)
  t.match(stats.body, 'Decisions per platform')
  const bad = await get(app, jar, '/transparency?from=2026-13&to=soon')
  t.equal(bad.statusCode, 400)
  t.match(bad.body, 'Enter the first month as YYYY-MM')
  t.match(bad.body, 'value="soon"', 'what was typed is kept')
  const reversed = await get(app, jar, '/transparency?from=2026-05&to=2026-01')
  t.equal(reversed.statusCode, 400)
  t.match(reversed.body, 'from must be before to')
})

t.test('every console page needs a session of one of its roles, and every public page none', async (t) => {
  const { app } = await testApp(t)
  const pages = app.routeAccess.filter((r) => r.method === 'GET' && (r.url === '/console' || r.url.startsWith('/console/')))
  t.ok(pages.length > 0)
  const publicPages = new Set(['/console/sign-in', '/console/sign-in/oidc', '/console/sign-in/callback'])
  for (const route of pages) {
    const res = await app.inject({ method: 'GET', url: route.url })
    if (publicPages.has(route.url)) t.not(res.statusCode, 303, `${route.url} opens without a session`)
    else t.equal(res.headers.location, `/console/sign-in?returnTo=${encodeURIComponent(route.url)}`, `${route.url} sends the anonymous to sign-in`)
  }
  const hx = await app.inject({ method: 'GET', url: '/console', headers: { 'hx-request': 'true', 'hx-current-url': 'http://127.0.0.1/console?tab=2' } })
  t.equal(hx.statusCode, 401, 'an htmx fragment without a session')
  t.equal(hx.headers['hx-redirect'], '/console/sign-in?returnTo=%2Fconsole%3Ftab%3D2', 'sends the whole window to sign-in and back')
})
