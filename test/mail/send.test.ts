import { mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sendMail, type MailConfig } from '../../src/mail/send.js'
import { startSmtpSink, testPki } from '../helpers/smtp-sink.js'

const from = 'Townsquare Kankakee <notices@citykankakee-il.gov>'
const credentials = { user: 'townsquare', password: 'p@ss:w/rd%' }

function parse(data: string) {
  const split = data.indexOf('\r\n\r\n')
  const headerBlock = data.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const headers = new Map<string, string>()
  for (const line of headerBlock.split('\r\n')) {
    const colon = line.indexOf(':')
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
  return { headers, body: data.slice(split + 4) }
}

/** RFC 2047 encoded words (B or Q), as a mail reader shows them. */
function decodeWords(value: string): string {
  return value.replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_m, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  )
}

function decodeBody(headers: Map<string, string>, body: string): string {
  const cte = headers.get('content-transfer-encoding')
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (cte === 'quoted-printable') {
    return Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')
  }
  return body
}

t.test('STARTTLS on smtp:// with the test CA: delivered encrypted, authenticated, UTF-8, headers', async (t) => {
  const sink = await startSmtpSink({ tls: 'starttls' })
  t.teardown(() => sink.close())
  const config: MailConfig = { url: sink.url(credentials), from, caFile: testPki().caFile }
  const subject = 'Your comment was removed — rule R3 (Zoë)'
  const text = 'Hello Zoë,\n.this line starts with a dot\n..and this one with two\n.\nLast line — ünïcödé ✓'
  const result = await sendMail(config, { to: 'resident@example.com', subject, text })
  t.match(result, { ok: true, messageId: /^<[^<>@]+@citykankakee-il\.gov>$/ })
  t.equal(sink.messages.length, 1)
  const m = sink.messages[0]!
  t.equal(m.secure, true, 'upgraded with STARTTLS before anything was sent')
  t.same(m.auth, credentials, 'authenticated with the decoded URL credentials')
  t.equal(m.mailFrom, 'notices@citykankakee-il.gov')
  t.same(m.rcptTo, ['resident@example.com'])
  const { headers, body } = parse(m.data)
  t.equal(decodeWords(headers.get('from') ?? ''), from)
  t.equal(headers.get('to'), 'resident@example.com')
  t.equal(decodeWords(headers.get('subject') ?? ''), subject)
  t.equal(headers.get('auto-submitted'), 'auto-generated', 'RFC 3834: auto-responders stay quiet')
  t.equal(headers.get('message-id'), result.ok ? result.messageId : '')
  t.match(headers.get('content-type'), /^text\/plain; charset=utf-8/)
  t.equal(decodeBody(headers, body).replace(/\r\n/g, '\n').replace(/\n$/, ''), text, 'the body, intact (dots included)')
})

t.test('smtps:// (implicit TLS) with the test CA, and a PDF attachment', async (t) => {
  const sink = await startSmtpSink({ tls: 'implicit' })
  t.teardown(() => sink.close())
  t.match(sink.url(), /^smtps:\/\//)
  const pdf = Buffer.from('%PDF-1.7\n%test\n')
  const result = await sendMail(
    { url: sink.url(), from, caFile: testPki().caFile },
    { to: 'requester@example.com', subject: 'FOIA 2026-0042', text: 'Attached.', attachments: [{ filename: 'letter.pdf', content: pdf }] },
  )
  t.match(result, { ok: true })
  const m = sink.messages[0]!
  t.equal(m.secure, true)
  t.equal(m.auth, null, 'no credentials in the URL: no AUTH')
  t.match(m.data, /Content-Type: application\/pdf; name=letter\.pdf/)
  t.match(m.data, /Content-Disposition: attachment; filename=letter\.pdf/)
  t.ok(m.data.includes(pdf.toString('base64')), 'the PDF, base64')
})

t.test('an untrusted certificate is refused, permanently, and nothing is sent', async (t) => {
  for (const mode of ['starttls', 'implicit'] as const) {
    const sink = await startSmtpSink({ tls: mode })
    t.teardown(() => sink.close())
    // Without SMTP_CA_FILE the test CA is not trusted.
    const result = await sendMail({ url: sink.url(credentials), from }, { to: 'resident@example.com', subject: 'Notice', text: 'Text' })
    t.match(result, { ok: false, transient: false, error: /certificate/i }, mode)
    t.notOk(JSON.stringify(result).includes(credentials.password), 'no credentials in the error')
    t.equal(sink.messages.length, 0)
  }
})

t.test('a CA file adds to the system roots and a certificate for another name is refused', async (t) => {
  // The sink's certificate names 127.0.0.1 and localhost; reached as ::ffff:127.0.0.1... use a
  // second certificate signed by an unrelated CA instead: trusted file, wrong issuer.
  const dir = mkdtempSync(join(tmpdir(), 'townsquare-other-ca-'))
  writeFileSync(join(dir, 'ca.pem'), testPki().cert) // a leaf certificate is no CA for its own chain
  const sink = await startSmtpSink({ tls: 'starttls' })
  t.teardown(() => sink.close())
  const result = await sendMail({ url: sink.url(), from, caFile: join(dir, 'ca.pem') }, { to: 'resident@example.com', subject: 'Notice', text: 'Text' })
  t.match(result, { ok: false, transient: false })
  t.equal(sink.messages.length, 0)
  t.match(await sendMail({ url: sink.url(), from, caFile: join(dir, 'missing.pem') }, { to: 'r@example.com', subject: 'N', text: 'T' }), {
    ok: false,
    transient: false,
    error: /CA file .* cannot be read/,
  })
})

t.test('smtp:// to a relay without STARTTLS: refused unless plain text is allowed explicitly', async (t) => {
  const sink = await startSmtpSink({ tls: 'none' })
  t.teardown(() => sink.close())
  const refused = await sendMail({ url: sink.url(credentials), from }, { to: 'resident@example.com', subject: 'Notice', text: 'Text' })
  t.match(refused, { ok: false, transient: false })
  t.equal(sink.messages.length, 0, 'nothing sent in clear')
  const allowed = await sendMail({ url: sink.url(credentials), from, plaintext: true }, { to: 'Resident <r@example.com>', subject: 'Notice', text: 'Text' })
  t.match(allowed, { ok: true })
  t.equal(sink.messages[0]?.secure, false)
  t.same(sink.messages[0]?.auth, credentials)
  t.same(sink.messages[0]?.rcptTo, ['r@example.com'])
})

t.test('refusals: 4xx transient, 5xx permanent', async (t) => {
  const sink = await startSmtpSink({ tls: 'starttls' })
  t.teardown(() => sink.close())
  const config: MailConfig = { url: sink.url(credentials), from, caFile: testPki().caFile }
  const send = () => sendMail(config, { to: 'resident@example.com', subject: 'Notice', text: 'Text' })
  sink.failAt('MAIL', 451, 'Mail server temporarily rejected message')
  t.match(await send(), { ok: false, transient: true, error: /451/ })
  sink.reset()
  sink.failAt('RCPT', 550, 'Recipient address rejected: User unknown')
  t.match(await send(), { ok: false, transient: false, error: /550/ })
  sink.reset()
  sink.failAt('DATA', 554, 'Message rejected as spam')
  t.match(await send(), { ok: false, transient: false, error: /554/ })
  sink.reset()
  sink.failAt('DATA', 452, 'Insufficient system storage')
  t.match(await send(), { ok: false, transient: true, error: /452/ })
  sink.reset()
  sink.failAt('AUTH', 535, 'Authentication credentials invalid')
  const auth = await send()
  t.match(auth, { ok: false, transient: false, error: /535/ })
  t.notOk(JSON.stringify(auth).includes(credentials.password), 'no credentials in the error')
  t.equal(sink.messages.length, 0)
})

t.test('a refused connection and a silent server are transient', async (t) => {
  const gone = await startSmtpSink({ tls: 'starttls' })
  const url = gone.url()
  await gone.close()
  t.match(await sendMail({ url, from, caFile: testPki().caFile }, { to: 'r@example.com', subject: 'N', text: 'T' }), { ok: false, transient: true, error: /ECONNREFUSED|connect/i })

  const silent = net.createServer(() => {})
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())))
  const port = (silent.address() as net.AddressInfo).port
  t.match(await sendMail({ url: `smtp://127.0.0.1:${port}`, from, timeoutMs: 300 }, { to: 'r@example.com', subject: 'N', text: 'T' }), { ok: false, transient: true })
})

t.test('bad addresses, header injection and bad URLs: permanent, nothing sent', async (t) => {
  const sink = await startSmtpSink({ tls: 'starttls' })
  t.teardown(() => sink.close())
  const config: MailConfig = { url: sink.url(), from, caFile: testPki().caFile }
  // nodemailer reads `to` as a list: a CRLF or a comma would add recipients.
  for (const to of ['resident@example.com\r\nBcc: victim@example.com', 'resident@example.com, victim@example.com', 'resident@example.com victim@example.com', 'zoë@example.com', 'Group: a@example.com;']) {
    t.match(await sendMail(config, { to, subject: 'Notice', text: 'Text' }), { ok: false, transient: false, error: /invalid recipient/ }, JSON.stringify(to))
  }
  t.equal(sink.messages.length, 0)
  const subject = await sendMail(config, { to: 'resident@example.com', subject: 'Notice\r\nBcc: victim@example.com', text: 'Text' })
  t.match(subject, { ok: true })
  t.same(sink.messages[0]?.rcptTo, ['resident@example.com'], 'a CRLF in the subject adds no recipient')
  t.notMatch(sink.messages[0]?.data ?? '', /^Bcc:/im, 'and no header')
  for (const to of ['not-an-address', '']) {
    t.match(await sendMail(config, { to, subject: 'Notice', text: 'Text' }), { ok: false, transient: false, error: /invalid recipient/ }, JSON.stringify(to))
  }
  t.match(await sendMail({ ...config, url: 'http://127.0.0.1:25' }, { to: 'r@example.com', subject: 'N', text: 'T' }), { ok: false, transient: false, error: /scheme/ })
  t.match(await sendMail({ ...config, url: 'not a url' }, { to: 'r@example.com', subject: 'N', text: 'T' }), { ok: false, transient: false, error: /invalid SMTP URL/ })
})
