// The console in a real browser: Debian's Chromium driven by playwright-core, the service on
// PostgreSQL under the runtime role, axe-core on every page, journeys by keyboard alone, and the
// OpenID Connect sign-in against a real OpenID provider (oidc-provider) running in the test.
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import Provider from 'oidc-provider'
import t, { type Test } from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { deliver, metaChanges } from '../factories/webhooks.js'
import { testApp } from '../helpers/app.js'
import { accessibilityViolations, launchBrowser, screenshot, tabTo } from '../helpers/browser.js'

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A real OpenID provider with one client (the console) and accounts whose groups we choose. */
async function startProvider(t: Test, redirectUri: string, groups: Record<string, string[]>) {
  const server = http.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const issuer = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'townsquare-console', client_secret: 'console-secret', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], profile: ['name', 'groups'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, name: `${id[0]!.toUpperCase()}${id.slice(1)} Example`, groups: groups[id] ?? [] }) }),
  })
  server.on('request', provider.callback())
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return issuer
}

t.test('pages pass axe, sign-in works by keyboard alone, and through the city identity provider', async (t) => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const issuer = await startProvider(t, `${base}/console/sign-in/callback`, { robin: ['Records'], casey: ['Parks'] })
  const { app } = await testApp(t, {
    env: {
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: 'townsquare-console',
      OIDC_CLIENT_SECRET: 'console-secret',
      OIDC_REDIRECT_URL: `${base}/console/sign-in/callback`,
      OIDC_ROLES_CLAIM: 'groups',
      OIDC_ROLE_MAP: 'Records=records_clerk',
    },
  })
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2026-01-01T00:00:00Z')))
  await app.listen({ port, host: '127.0.0.1' })
  const browser = await launchBrowser(t)
  if (!browser) return

  const context = await browser.newContext()
  const page = await context.newPage()
  const cspViolations: string[] = []
  page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text())
  })

  for (const [path, name, heading] of [
    ['/', 'public-home', "The city's social media, on the record"],
    ['/policy', 'public-policy', /comment policy/i],
    ['/transparency', 'public-transparency', 'Transparency statistics'],
    ['/console/sign-in', 'sign-in', 'Staff sign-in'],
  ] as const) {
    const res = await page.goto(base + path)
    t.equal(res?.status(), 200, `${path} answers 200`)
    t.match(await page.locator('h1').first().innerText(), heading, `${path} shows its heading`)
    t.same(await accessibilityViolations(page), [], `${path}: no axe-core violations`)
    await screenshot(page, name)
  }
  const font = String(await page.evaluate('getComputedStyle(document.body).fontFamily'))
  t.match(font, /Source Sans Pro/, 'USWDS styles are served and applied')

  // An error summary, by keyboard: submitting the empty form says what is missing and keeps focus reachable.
  await page.goto(`${base}/console/sign-in?returnTo=%2Fconsole`)
  await tabTo(page, 'form[action="/console/sign-in/development"] button[type="submit"]')
  await page.keyboard.press('Enter')
  await page.waitForURL(`${base}/console/sign-in/development`)
  t.match(await page.locator('#error-summary').innerText(), 'Enter your name', 'the error summary lists the problem')
  t.same(await accessibilityViolations(page), [], 'the page with errors: no axe-core violations')

  // Development sign-in by keyboard alone.
  await tabTo(page, '#name')
  await page.keyboard.type('Pat Moderator')
  await tabTo(page, 'input[name="role"]')
  // Tab enters the radio group on its first option, TST moderator; Space selects it.
  await page.keyboard.press('Space')
  t.equal(await page.locator('input[name="role"]:checked').getAttribute('value'), 'tst_moderator')
  await tabTo(page, 'form[action="/console/sign-in/development"] button[type="submit"]')
  await page.keyboard.press('Enter')
  await page.waitForURL(`${base}/console`)
  t.match(await page.locator('h1').innerText(), 'Welcome, Pat Moderator')
  t.same(await accessibilityViolations(page), [], '/console: no axe-core violations')
  await screenshot(page, 'console-home')

  // The review queue, by keyboard alone: a comment flagged by rule 4.e (a phone number) is opened and removed.
  await deliver(app, 'meta', metaChanges([{ id: '950_1', message: 'Is the pool open? Call 815-555-0142 <script>alert(1)</script>' }]))
  await tabTo(page, 'a[href="/console/queue"]')
  await page.keyboard.press('Enter')
  await page.waitForURL(`${base}/console/queue`)
  t.match(await page.locator('table.ts-queue').innerText(), 'Is the pool open? Call 815-555-0142 <script>alert(1)</script>', 'the comment shows as text')
  t.same(await accessibilityViolations(page), [], '/console/queue: no axe-core violations')
  await screenshot(page, 'console-queue')
  await tabTo(page, 'a[data-queue-index="0"]')
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/console\/queue\/[0-9a-f-]{36}$/)
  t.match(await page.locator('mark').first().innerText(), '815-555-0142', 'the evidence is marked')
  t.same(await accessibilityViolations(page), [], 'a queue item: no axe-core violations')
  await screenshot(page, 'console-queue-item')
  await tabTo(page, '#action-approve')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown')
  t.equal(await page.locator('input[name="action"]:checked').getAttribute('value'), 'remove')
  await tabTo(page, '[id="rule-4.b"]')
  await page.keyboard.press('Space')
  await tabTo(page, 'form[action$="/decision"] button[type="submit"]')
  await page.keyboard.press('Enter')
  await page.waitForURL(`${base}/console/queue?decided=1`)
  t.match(await page.locator('.usa-alert').first().innerText(), 'Decision recorded')
  const decisions = await app.db.prisma.moderationDecision.findMany()
  t.match(decisions, [{ actor: 'user:dev:pat-moderator', action: 'remove', ruleCodes: ['4.b'] }], 'the decision is recorded as made')
  // The same by the queue's shortcuts: j, Enter, c (claim), r, 1 (cite 4.a beside the cited 4.e), Ctrl+Enter.
  await deliver(app, 'meta', metaChanges([{ id: '950_2', message: 'Text the fire chief at 217-555-0199 tonight' }]))
  await page.goto(`${base}/console/queue`)
  t.match(await page.locator('main').innerText(), '217-555-0199', 'the comment waits in the queue')
  await page.keyboard.press('j')
  t.equal(await page.evaluate('document.activeElement?.getAttribute("data-queue-index")'), '0', 'j focuses the first comment')
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/console\/queue\/[0-9a-f-]{36}$/)
  await page.keyboard.press('c')
  await page.waitForURL(/\/console\/queue\/[0-9a-f-]{36}$/)
  t.match(await page.locator('form[data-claim] button').innerText(), 'Release my claim', 'c claimed it')
  await page.keyboard.press('r')
  await page.keyboard.press('1')
  await page.keyboard.press('Control+Enter')
  await page.waitForURL(`${base}/console/queue?decided=1`)
  const byKeys = await app.db.prisma.moderationDecision.findMany({ orderBy: { decidedAt: 'asc' } })
  t.match(byKeys[1], { action: 'remove', ruleCodes: ['4.a', '4.e'] }, 'the decision made with shortcuts is recorded')

  await tabTo(page, 'form[action="/console/sign-out"] button')
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/console\/sign-in\?notice=signed-out/)
  t.match(await page.locator('.usa-alert').first().innerText(), 'You are signed out')

  // The auditor's pages.
  await app.ledger.sealer!.sealNow()
  const auditor = await (await browser.newContext()).newPage()
  await auditor.goto(`${base}/console/sign-in?returnTo=%2Fconsole%2Fledger`)
  await auditor.fill('#name', 'Alex Auditor')
  await auditor.click('label[for="role-auditor"]')
  await auditor.click('form[action="/console/sign-in/development"] button[type="submit"]')
  await auditor.waitForURL(`${base}/console/ledger`)
  t.same(await accessibilityViolations(auditor), [], '/console/ledger: no axe-core violations')
  await auditor.getByRole('button', { name: 'Verify the ledger' }).click()
  await auditor.waitForURL(`${base}/console/ledger/verify`)
  t.match(await auditor.locator('.usa-alert').first().innerText(), 'The ledger verifies')
  t.same(await accessibilityViolations(auditor), [], 'a verification report: no axe-core violations')
  await screenshot(auditor, 'console-ledger')
  await auditor.goto(`${base}/console/access-log`)
  t.match(await auditor.locator('table').innerText(), 'moderation.queue')
  t.same(await accessibilityViolations(auditor), [], '/console/access-log: no axe-core violations')
  await screenshot(auditor, 'console-access-log')

  // Through the identity provider: a member of Records becomes a records clerk.
  const sso = await (await browser.newContext()).newPage()
  await sso.goto(`${base}/console/sign-in`)
  await sso.getByRole('link', { name: "Sign in with the city's account" }).click()
  await sso.waitForURL(new RegExp('^' + issuer))
  await sso.fill('input[name="login"]', 'robin')
  await sso.fill('input[name="password"]', 'any')
  await sso.click('button[type="submit"]')
  await sso.getByRole('button', { name: 'Continue' }).click()
  await sso.waitForURL(`${base}/console`)
  t.match(await sso.locator('h1').innerText(), 'Welcome, Robin Example')
  t.match(await sso.locator('.usa-intro').innerText(), 'Records clerk', 'the role comes from the mapped group')
  const { rows } = await app.db.pool.query("SELECT subject, roles, signed_in_by FROM console_session WHERE signed_in_by = 'oidc'")
  t.same(rows, [{ subject: 'robin', roles: ['records_clerk'], signed_in_by: 'oidc' }])

  // An account without a mapped group signs in at the provider but gets no console.
  const nobody = await (await browser.newContext()).newPage()
  await nobody.goto(`${base}/console/sign-in/oidc?returnTo=%2Fconsole`)
  await nobody.fill('input[name="login"]', 'casey')
  await nobody.fill('input[name="password"]', 'any')
  await nobody.click('button[type="submit"]')
  await nobody.getByRole('button', { name: 'Continue' }).click()
  await nobody.waitForURL(`${base}/console/sign-in?notice=no-role`)
  t.match(await nobody.locator('.usa-alert').first().innerText(), 'No Townsquare role')

  // A forged callback (a state this browser never started) signs no one in.
  const forged = await (await browser.newContext()).newPage()
  await forged.goto(`${base}/console/sign-in/callback?code=abc&state=forged`)
  t.equal(new URL(forged.url()).search, '?notice=failed')
  t.same(cspViolations, [], 'no Content-Security-Policy violation on any page')
})
