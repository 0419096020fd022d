import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { extractText, getDocumentProxy } from 'unpdf'
import { csvCell } from '../../src/foia/intake.js'
import { testApp } from '../helpers/app.js'
import { startSmtpSink, testPki } from '../helpers/smtp-sink.js'
import { websiteComments } from './helpers.js'

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

interface Mail {
  to: string[]
  secure: boolean
  subject: string
  /** The text/plain part, decoded. */
  body: string
  /** The attached PDF, decoded, and its file name. */
  pdf: Buffer | null
  pdfName: string | null
}

/** The parts of a MIME message (multipart/mixed or a single part), their transfer encodings undone. */
function parseMail(raw: string): { headers: string; parts: Array<{ headers: string; content: Buffer }> } {
  const split = raw.indexOf('\r\n\r\n')
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const body = raw.slice(split + 4)
  const decode = (partHeaders: string, content: string): Buffer => {
    const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(partHeaders)?.[1]?.toLowerCase()
    if (encoding === 'base64') return Buffer.from(content.replace(/\s+/g, ''), 'base64')
    if (encoding === 'quoted-printable') {
      const bytes = content.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
      return Buffer.from(bytes, 'latin1')
    }
    return Buffer.from(content, 'utf8')
  }
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers)?.[1]
  if (!boundary) return { headers, parts: [{ headers, content: decode(headers, body) }] }
  const parts = body
    .split(`--${boundary}`)
    .slice(1)
    .filter((p) => !p.startsWith('--'))
    .map((p) => {
      const at = p.indexOf('\r\n\r\n')
      const partHeaders = p.slice(0, at).replace(/\r\n[ \t]+/g, ' ')
      return { headers: partHeaders, content: decode(partHeaders, p.slice(at + 4).replace(/\r\n$/, '')) }
    })
  return { headers, parts }
}

/** A real SMTP server with STARTTLS and a test CA (test/helpers/smtp-sink.ts): what the service sends arrives here. */
async function smtpSink(t: Test): Promise<{ url: string; caFile: string; mails: () => Mail[] }> {
  const sink = await startSmtpSink({ tls: 'starttls' })
  t.teardown(() => sink.close())
  // Parsed when read: the sink fills its list as messages arrive.
  const mails = (): Mail[] =>
    sink.messages.map((m) => {
      const { headers, parts } = parseMail(m.data)
      const text = parts.find((p) => /content-type:\s*text\/plain/i.test(p.headers))
      const pdf = parts.find((p) => /content-type:\s*application\/pdf/i.test(p.headers))
      return {
        to: m.rcptTo,
        secure: m.secure,
        subject: /^Subject: (.*)$/m.exec(headers)?.[1]?.trim() ?? '',
        body: text ? text.content.toString('utf8').replace(/\r\n/g, '\n') : '',
        pdf: pdf?.content ?? null,
        pdfName: pdf ? (/filename="?([^";]+)"?/i.exec(pdf.headers)?.[1] ?? null) : null,
      }
    })
  return { url: sink.url(), caFile: testPki().caFile, mails }
}

async function pdfText(pdf: Buffer): Promise<{ text: string; title: unknown; language: unknown }> {
  const doc = await getDocumentProxy(new Uint8Array(pdf))
  const { text } = await extractText(doc, { mergePages: true })
  const meta = (await doc.getMetadata()).info as { Title?: unknown; Language?: unknown }
  return { text: text.replace(/\s+/g, ' '), title: meta.Title, language: meta.Language }
}

t.test('letters: each kind rendered, e-mailed to a real SMTP server, recorded in the ledger with the hashes of its text and PDF', async (t) => {
  const sink = await smtpSink(t)
  let now = new Date('2026-11-16T15:00:00Z')
  const { app, token } = await testApp(t, {
    clock: () => now,
    env: {
      SMTP_URL: sink.url,
      SMTP_CA_FILE: sink.caFile,
      NOTICE_FROM_EMAIL: 'foia@citykankakee-il.gov',
      FOIA_PUBLIC_BODY: 'City of Kankakee',
      FOIA_OFFICE_ADDRESS: '304 S. Indiana Ave.|Kankakee, IL 60901',
      FOIA_OFFICIALS: 'Jane Clerk=City Clerk and FOIA Officer|John Roe=Corporation Counsel',
    },
  })
  const clerk = { authorization: `Bearer ${token('records_clerk', 'clerk-1')}` }
  const auditor = { authorization: `Bearer ${token('auditor')}` }

  /** The letter, its ledger entry, its PDF and the mail that carried it agree. */
  const checkLetter = async (letter: { id: string; requestId: string; text: string; textSha256: string; pdfSha256: string; ledgerEntryId: string; subject: string }, mailIndex: number | null) => {
    t.equal(sha256(letter.text), letter.textSha256, 'textSha256 is the text\'s')
    const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: letter.ledgerEntryId } })
    t.equal(entry.kind, 'foia.letter')
    const payload = JSON.parse(entry.payload!)
    t.equal(payload.textSha256, letter.textSha256, 'the ledger records the text\'s hash')
    t.equal(payload.pdfSha256, letter.pdfSha256, 'the ledger records the PDF\'s hash')
    const pdf = await app.inject({ method: 'GET', url: `/v1/foia/requests/${letter.requestId}/letters/${letter.id}/pdf`, headers: auditor })
    t.equal(pdf.statusCode, 200)
    t.equal(pdf.headers['content-type'], 'application/pdf')
    t.equal(sha256(pdf.rawPayload), payload.pdfSha256, 'the PDF served is the one recorded')
    const read = await pdfText(pdf.rawPayload)
    t.equal(read.title, letter.subject, 'the PDF has the letter\'s title')
    t.equal(read.language, 'en-US', 'and its language')
    t.match(pdf.rawPayload.toString('latin1'), /\/StructTreeRoot/, 'tagged: it has a structure tree')
    if (mailIndex !== null) {
      const mail = sink.mails()[mailIndex]!
      t.ok(mail, 'e-mailed')
      t.ok(mail.secure, 'over TLS (STARTTLS, the certificate verified against SMTP_CA_FILE)')
      t.equal(mail.body, letter.text, 'the mail carries the letter\'s text, byte for byte')
      t.equal(sha256(mail.body), payload.textSha256, 'whose hash is the one in the ledger')
      t.equal(sha256(mail.pdf!), payload.pdfSha256, 'and the PDF attached is the one recorded')
      t.match(mail.pdfName, /^foia-\d{4}-\d{4}-[a-z]+\.pdf$/)
    }
    return read.text
  }

  t.test('public intake: filed, acknowledged by e-mail with the tracking number and due date', async (t) => {
    const file = (payload: object) => app.inject({ method: 'POST', url: '/v1/foia/public/requests', payload })
    const spam = await file({ name: 'Bot', contact: 'bot@example.org', description: 'x', commercial: false, website: 'http://spam.example' })
    t.equal(spam.statusCode, 400, 'the honeypot field filled: refused')
    t.equal(await app.db.prisma.foiaRequest.count(), 0, 'and nothing created')

    const filed = await file({ name: 'Ann Resident', contact: 'Ann@Example.org', description: 'All comments on the Court Street bridge post {{officials}}, call me at 815-555-0100', commercial: false })
    t.equal(filed.statusCode, 201, filed.body)
    t.same(filed.json(), { trackingNumber: '2026-0001', receivedOn: '2026-11-16', dueOn: '2026-11-23', businessDays: 5, calendar: 'illinois-490-v1', acknowledgement: 'sent' })
    t.same(sink.mails()[0]!.to, ['ann@example.org'])
    const request = (await app.inject({ method: 'GET', url: '/v1/foia/requests/2026-0001', headers: clerk })).json()
    t.match(request, { source: 'public', createdBy: 'public', requester: { name: 'Ann Resident', contact: 'Ann@Example.org' } })
    const letters = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${request.id}/letters`, headers: clerk })).json().items
    t.equal(letters.length, 1)
    t.match(letters[0], { kind: 'acknowledgement', templateVersion: 0, deliveries: [{ status: 'sent', error: null }] })
    t.match(letters[0].text, /Your tracking number is 2026-0001/)
    t.match(letters[0].text, /bridge post \{\{officials\}\}, call me/, "a placeholder in the requester's text is not expanded")
    t.match(letters[0].text, /within 5 business days after receipt, by 2026-11-23/)
    const pdf = await checkLetter(letters[0], 0)
    t.match(pdf, /tracking number is 2026-0001/)
    t.match(pdf, /by 2026-11-23/)
    const deliveries = await app.db.prisma.ledgerEntry.findMany({ where: { kind: 'foia.letter_delivery', subject: request.id } })
    t.match(JSON.parse(deliveries[0]!.payload!), { letterId: letters[0].id, status: 'sent', messageId: /^<.+>$/ }, 'the delivery is recorded too')
  })

  t.test('status by tracking number and contact; messages both ways', async (t) => {
    const status = (payload: object) => app.inject({ method: 'POST', url: '/v1/foia/public/requests/status', payload })
    t.equal((await status({ trackingNumber: '2026-0001', contact: 'someone@example.org' })).statusCode, 404, 'the number alone finds nothing')
    const unknown = await status({ trackingNumber: '2026-0999', contact: 'ann@example.org' })
    t.equal(unknown.statusCode, 404)
    t.equal(unknown.json().detail, (await status({ trackingNumber: '2026-0001', contact: 'x@example.org' })).json().detail, 'the same answer either way')
    const mine = await status({ trackingNumber: '2026-0001', contact: ' ann@EXAMPLE.org ' })
    t.equal(mine.statusCode, 200, mine.body)
    t.match(mine.json(), { trackingNumber: '2026-0001', dueOn: '2026-11-23', status: 'received', letters: [{ kind: 'acknowledgement' }], messages: [] })

    const wrote = await app.inject({ method: 'POST', url: '/v1/foia/public/requests/messages', payload: { trackingNumber: '2026-0001', contact: 'ann@example.org', body: 'Only November, please.' } })
    t.equal(wrote.statusCode, 201)
    t.equal((await app.inject({ method: 'POST', url: '/v1/foia/public/requests/messages', payload: { trackingNumber: '2026-0001', contact: 'eve@example.org', body: 'x' } })).statusCode, 404)
    const id = (await app.inject({ method: 'GET', url: '/v1/foia/requests/2026-0001', headers: clerk })).json().id
    await app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/messages`, headers: clerk, payload: { body: 'Noted: November only.' } })
    const thread = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${id}/messages`, headers: auditor })).json().items
    t.same(thread.map((m: { author: string; body: string }) => [m.author, m.body]), [['requester', 'Only November, please.'], ['clerk', 'Noted: November only.']])
    t.equal((await status({ trackingNumber: '2026-0001', contact: 'ann@example.org' })).json().messages.length, 2)
  })

  t.test('extension notice with the 3(e) reason and the new date; none after the original deadline', async (t) => {
    const id = (await app.inject({ method: 'GET', url: '/v1/foia/requests/2026-0001', headers: clerk })).json().id
    now = new Date('2026-11-20T15:00:00Z')
    const sent = sink.mails().length
    const extended = await app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/extension`, headers: clerk, payload: { reason: 'exemption_review' } })
    t.equal(extended.statusCode, 200, extended.body)
    t.equal(extended.json().dueOn, '2026-12-02')
    const letters = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${id}/letters`, headers: clerk })).json().items
    const notice = letters.find((l: { kind: string }) => l.kind === 'extension')
    t.match(notice.text, /from 2026-11-23 to 2026-12-02/)
    t.match(notice.text, /5 ILCS 140\/3\(e\)\(v\): the requested records require examination and evaluation/)
    const pdf = await checkLetter(notice, sent)
    t.match(pdf, /from 2026-11-23 to 2026-12-02/)

    now = new Date('2026-11-24T15:00:00Z')
    const late = (await app.inject({ method: 'POST', url: '/v1/foia/public/requests', payload: { name: 'Bo', contact: 'bo@example.org', description: 'y', commercial: false } })).json()
    t.equal(late.dueOn, '2026-12-03', 'Thanksgiving and the day after skipped')
    const bo = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${late.trackingNumber}`, headers: clerk })).json()
    now = new Date('2026-12-04T15:00:00Z')
    const letterCount = await app.db.prisma.foiaLetter.count()
    const refused = await app.inject({ method: 'POST', url: `/v1/foia/requests/${bo.id}/extension`, headers: clerk, payload: { reason: 'consultation' } })
    t.match(refused.json(), { status: 409, type: '/problems/foia-extension-too-late' })
    t.equal(await app.db.prisma.foiaLetter.count(), letterCount, 'no letter for a refused extension')
  })

  t.test('denial notice: each exemption with its records and spans, the factual basis, the officials, the review rights; filed in the public index', async (t) => {
    now = new Date('2026-11-25T15:00:00Z')
    const id = (await app.inject({ method: 'GET', url: '/v1/foia/requests/2026-0001', headers: clerk })).json().id
    const [withheld, redacted] = await websiteComments(app, [
      { text: 'A private dispute with my neighbour', author: { id: 'u-p', name: 'Pat Private' } },
      { text: 'Bridge comment from Jane Q. Doe', author: { id: 'u-j', name: 'Jane Q. Doe' } },
    ])
    await app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/records`, headers: clerk, payload: { commentIds: [withheld, redacted] } })
    await app.inject({ method: 'PUT', url: `/v1/foia/requests/${id}/records/${withheld}/withholding`, headers: clerk, payload: { citation: '5 ILCS 140/7(1)(c)', note: 'a private dispute' } })
    const { rows } = await app.db.pool.query<{ id: string }>('SELECT id::text FROM ledger_entry WHERE subject = $1 ORDER BY seq', [redacted])
    const added = await app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/redactions`, headers: clerk, payload: { entryId: rows[0]!.id, path: '/author/name', citation: '5 ILCS 140/7(1)(b)' } })
    t.equal(added.statusCode, 201, added.body)

    const write = (payload: object) => app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/letters`, headers: clerk, payload })
    t.equal((await write({ kind: 'denial' })).statusCode, 400, 'a denial needs its factual basis')
    t.equal((await write({ kind: 'denial', factualBasis: 'x', exemptions: [{ citation: 'privacy', covers: 'x' }] })).statusCode, 400, 'an exemption of 5 ILCS 140/7')
    const sent = sink.mails().length
    const denial = await write({
      kind: 'denial',
      partial: true,
      factualBasis: 'One comment is a private dispute between neighbours (ann@example.org asked for it); the name of a private individual is private information.',
      exemptions: [{ citation: '5 ILCS 140/7(1)(a)', covers: 'the e-mail exchange with the State police about the bridge' }],
    })
    t.equal(denial.statusCode, 201, denial.body)
    const letter = denial.json()
    t.match(letter, { kind: 'denial', subject: 'FOIA request 2026-0001: notice of partial denial', deliveries: [{ status: 'sent' }] })
    const [, withheldExt, redactedExt] = [null, ...(await app.db.prisma.comment.findMany({ where: { id: { in: [withheld!, redacted!] } }, orderBy: { authorName: 'desc' } })).map((c) => c.externalId)]
    t.match(letter.text, new RegExp(`5 ILCS 140/7\\(1\\)\\(b\\):\\n- website comment ${redactedExt}: 1 span of /author/name redacted \\(other\\)`))
    t.match(letter.text, new RegExp(`5 ILCS 140/7\\(1\\)\\(c\\):\\n- website comment ${withheldExt}: withheld in full \\(a private dispute\\)`))
    t.match(letter.text, /5 ILCS 140\/7\(1\)\(a\):\n- the e-mail exchange with the State police/)
    t.match(letter.text, /Jane Clerk, City Clerk and FOIA Officer\nJohn Roe, Corporation Counsel/)
    t.match(letter.text, /Public Access Counselor .* within 60 days after the date of this denial/s)
    t.match(letter.text, /judicial review/)
    t.match(letter.text, /The factual basis for the denial:\n\nOne comment is a private dispute/)
    const pdf = await checkLetter(letter, sent)
    for (const needle of ['5 ILCS 140/7(1)(b)', '5 ILCS 140/7(1)(c)', 'Jane Clerk, City Clerk and FOIA Officer', 'Public Access Counselor', 'judicial review', 'private dispute between neighbours']) {
      t.ok(pdf.includes(needle), `the PDF says ${needle}`)
    }

    const index = await app.inject({ method: 'GET', url: '/v1/foia/public/denials' })
    t.equal(index.statusCode, 200)
    const body = index.json()
    t.same(body.exemptions, [
      { citation: '5 ILCS 140/7(1)(a)', notices: 1 },
      { citation: '5 ILCS 140/7(1)(b)', notices: 1 },
      { citation: '5 ILCS 140/7(1)(c)', notices: 1 },
    ])
    t.match(body.items[0], { letterId: letter.id, trackingNumber: '2026-0001', partial: true, textSha256: letter.textSha256, ledgerEntryId: letter.ledgerEntryId })
    const published = body.items[0].text as string
    t.notMatch(published, /Ann Resident/, "the requester's name is withheld")
    t.notMatch(published, /ann@example\.org/i, 'so is their e-mail address')
    t.notMatch(published, /815-555-0100/, 'and their telephone number')
    t.match(published, /Dear \[requester\]/)
    t.match(published, /Jane Clerk, City Clerk and FOIA Officer/, 'the officials are public')
    t.match(published, /1-877-299-3642/, "the Counselor's number stays")
    const byCitation = (await app.inject({ method: 'GET', url: `/v1/foia/public/denials?citation=${encodeURIComponent('5 ILCS 140/7(1)(c)')}` })).json()
    t.equal(byCitation.items.length, 1)
    t.equal((await app.inject({ method: 'GET', url: `/v1/foia/public/denials?citation=${encodeURIComponent('5 ILCS 140/7(1)(d)')}` })).json().items.length, 0)
    const csv = await app.inject({ method: 'GET', url: '/v1/foia/public/denials.csv' })
    t.equal(csv.statusCode, 200)
    t.match(csv.headers['content-type'], /^text\/csv/)
    const lines = csv.body.split('\r\n')
    t.equal(lines[0], 'citation,tracking_number,date,partial,letter_id,text_sha256,ledger_entry_id,notice')
    t.match(lines[1], /^5 ILCS 140\/7\(1\)\(a\),2026-0001,2026-11-25,true,/)
    t.notMatch(csv.body, /Ann Resident/)
  })

  t.test('response with a fee estimate and its waiver; recurrent and burdensome notices; a letter without an e-mail address', async (t) => {
    const id = (await app.inject({ method: 'GET', url: '/v1/foia/requests/2026-0001', headers: clerk })).json().id
    const fee = (payload: object) => app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/fee`, headers: clerk, payload })
    t.match((await fee({ pages: 0, electronic: true })).json(), { amountCents: 0, dueCents: 0, waived: false })
    t.match((await fee({ pages: 120, electronic: false })).json(), { amountCents: 1050, dueCents: 1050 }, '70 pages after the first 50, at 15 cents')
    t.equal((await fee({ pages: 120, electronic: false, waived: true })).statusCode, 400, 'a waiver needs its reason')
    t.match((await fee({ pages: 120, electronic: false, waived: true, waiverReason: 'in the public interest (6(c))' })).json(), { amountCents: 1050, dueCents: 0, waived: true })
    const response = (await app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/letters`, headers: clerk, payload: { kind: 'response', note: 'The records are attached.' } })).json()
    t.match(response.text, /Fees are waived: in the public interest \(6\(c\)\)\./)
    await checkLetter(response, sink.mails().length - 1)

    t.match((await app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/letters`, headers: clerk, payload: { kind: 'recurrent' } })).json(), { status: 409, type: '/problems/foia-letter-not-applicable' })
    const burden = (payload: object) => app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/letters`, headers: clerk, payload: { kind: 'burdensome', ...payload } })
    t.equal((await burden({ burden: 'Every comment since 2009' })).statusCode, 400, 'how to narrow is required')
    const burdensome = await burden({ burden: 'Every comment since 2009: 2 million records', narrowing: 'One post, or one month' })
    t.equal(burdensome.statusCode, 201)
    t.match(burdensome.json().text, /unduly burdensome.*Every comment since 2009.*One post, or one month/s)
    await checkLetter(burdensome.json(), sink.mails().length - 1)

    // A recurrent requester: 7 requests within 7 days before this one.
    for (let i = 0; i < 7; i++) {
      await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'Rex', contact: 'rex@example.org' }, receivedOn: `2026-11-${16 + i}`, description: `r${i}`, commercial: false } })
    }
    const eighth = (await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'Rex', contact: 'REX@example.org' }, receivedOn: '2026-11-23', description: 'r7', commercial: false } })).json()
    t.match(eighth, { recurrent: true, businessDays: 21, dueOn: '2026-12-24' }, '7 in 7 days before it: recurrent, 21 business days (3.2)')
    t.match(eighth.history[0].note, /recurrent requester/)
    const recurrent = (await app.inject({ method: 'POST', url: `/v1/foia/requests/${eighth.id}/letters`, headers: clerk, payload: { kind: 'recurrent' } })).json()
    t.match(recurrent.text, /within 21 business days after receipt, by 2026-12-24/)
    await checkLetter(recurrent, sink.mails().length - 1)
    t.same(sink.mails().at(-1)!.to, ['rex@example.org'])
    const decide = (payload: object) => app.inject({ method: 'POST', url: `/v1/foia/requests/${eighth.id}/recurrent`, headers: clerk, payload })
    t.equal((await decide({ recurrent: false })).statusCode, 400, 'a reason is required')
    const cleared = (await decide({ recurrent: false, reason: 'the requester is a newspaper (2(g) excludes news media)' })).json()
    t.match(cleared, { recurrent: false, businessDays: 5, dueOn: '2026-12-02' }, 'back to 5 business days')
    t.match(cleared.history.at(-1).note, /not a recurrent requester .*newspaper.*due 2026-12-02/)
    t.match((await decide({ recurrent: false, reason: 'again' })).json(), { status: 409 })

    const posted = (await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'Paul', contact: '12 Main St, Kankakee' }, receivedOn: '2026-11-23', description: 'z', commercial: false } })).json()
    const before = sink.mails().length
    const ack = (await app.inject({ method: 'POST', url: `/v1/foia/requests/${posted.id}/letters`, headers: clerk, payload: { kind: 'acknowledgement' } })).json()
    t.match(ack.deliveries, [{ status: 'no_address' }], 'no e-mail address: the PDF is for the post')
    t.equal(sink.mails().length, before)
    await checkLetter(ack, null)
  })

  t.test('templates: versioned, the statutory contents kept', async (t) => {
    const put = (kind: string, payload: object, headers = clerk) => app.inject({ method: 'PUT', url: `/v1/foia/letter-templates/${kind}`, headers, payload })
    const gutted = await put('denial', { subject: 'Denied {{trackingNumber}}', body: 'No. {{exemptions}} {{factualBasis}} {{officials}}' })
    t.equal(gutted.statusCode, 400)
    t.match(gutted.json().detail, /must contain \{\{reviewRights\}\}/)
    t.match((await put('acknowledgement', { subject: 'x', body: '{{trackingNumber}} {{dueOn}} {{secret}}' })).json().detail, /unknown placeholder \{\{secret\}\}/)
    t.equal((await put('acknowledgement', { subject: 's', body: '{{trackingNumber}} {{dueOn}}' }, auditor)).statusCode, 403)
    const saved = await put('acknowledgement', { subject: 'Your FOIA request {{trackingNumber}}', body: 'Hello {{requesterName}}. Number {{trackingNumber}}, due {{dueOn}}. -- {{publicBody}}' })
    t.equal(saved.statusCode, 201, saved.body)
    t.match(saved.json(), { version: 1, createdBy: 'user:clerk-1', required: ['trackingNumber', 'dueOn'] })
    const versions = (await app.inject({ method: 'GET', url: '/v1/foia/letter-templates/acknowledgement', headers: auditor })).json().items
    t.same(versions.map((v: { version: number }) => v.version), [0, 1])
    const filed = (await app.inject({ method: 'POST', url: '/v1/foia/public/requests', payload: { name: 'Cy', contact: 'cy@example.org', description: 'w', commercial: false } })).json()
    const cy = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${filed.trackingNumber}`, headers: clerk })).json()
    const [ack] = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${cy.id}/letters`, headers: clerk })).json().items
    t.equal(ack.text, `Hello Cy. Number ${filed.trackingNumber}, due ${filed.dueOn}. -- City of Kankakee\n`)
    t.equal(ack.templateVersion, 1)
    const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: ack.ledgerEntryId } })
    t.equal(JSON.parse(entry.payload!).templateVersion, 1, 'the ledger names the version rendered')
    await t.rejects(app.db.prisma.foiaLetterTemplate.updateMany({ data: { body: 'changed' } }), 'a saved version never changes')
    await t.rejects(app.db.prisma.foiaLetter.deleteMany({}), 'nor does a letter')
  })

  t.test('the public form is not a way to mail anyone: 3 letters of public filings a day to one address', async (t) => {
    const file = (i: number) =>
      app.inject({ method: 'POST', url: '/v1/foia/public/requests', remoteAddress: `192.0.2.${i}`, payload: { name: 'Buy pills at spam.example', contact: 'victim@example.org', description: 'spam text', commercial: false } })
    const before = sink.mails().filter((m) => m.to.includes('victim@example.org')).length
    const answers = []
    for (let i = 1; i <= 4; i++) answers.push((await file(i)).json())
    t.same(answers.map((a) => a.acknowledgement), ['sent', 'sent', 'sent', 'suppressed'])
    t.equal(sink.mails().filter((m) => m.to.includes('victim@example.org')).length - before, 3, 'three mails reached the address')
    t.match(answers[3], { trackingNumber: /^2026-/ }, 'the fourth request is still filed, and its status can be read')
    const id = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${answers[3].trackingNumber}`, headers: clerk })).json().id
    const [ack] = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${id}/letters`, headers: clerk })).json().items
    t.match(ack.deliveries, [{ status: 'suppressed', error: /3 letters of public filings/ }])
    const clerkLetter = (await app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/letters`, headers: clerk, payload: { kind: 'response' } })).json()
    t.match(clerkLetter.deliveries, [{ status: 'sent' }], "a clerk's letter is not limited")
  })

  t.test('review by the Public Access Counselor', async (t) => {
    now = new Date('2026-12-05T15:00:00Z')
    const id = (await app.inject({ method: 'GET', url: '/v1/foia/requests/2026-0001', headers: clerk })).json().id
    const review = (payload: object) => app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/reviews`, headers: clerk, payload })
    t.match((await review({ kind: 'requested', onDate: '2026-12-31', pacReference: '2026 PAC 90001' })).json(), { status: 422, type: '/problems/foia-review-date-in-future' })
    t.equal((await review({ kind: 'outcome', onDate: '2026-12-01' })).statusCode, 400, 'an outcome says what it is')
    t.equal((await review({ kind: 'requested', onDate: '2026-12-01', pacReference: '2026 PAC 90001', note: 'request for review received' })).statusCode, 201)
    const document = Buffer.from('%PDF-1.4 the PAC letter')
    const doc = await review({ kind: 'document', onDate: '2026-12-02', pacReference: '2026 PAC 90001', document: { name: 'pac-letter.pdf', contentBase64: document.toString('base64') } })
    t.equal(doc.statusCode, 201, doc.body)
    t.equal(doc.json().documentSha256, sha256(document))
    const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: doc.json().ledgerEntryId } })
    t.match(JSON.parse(entry.payload!), { reviewKind: 'document', documentSha256: sha256(document), pacReference: '2026 PAC 90001', trackingNumber: '2026-0001' })
    t.equal((await review({ kind: 'outcome', onDate: '2026-12-03', outcome: 'no further action' })).statusCode, 201)
    const steps = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${id}/reviews`, headers: auditor })).json().items
    t.same(steps.map((s: { kind: string }) => s.kind), ['requested', 'document', 'outcome'])
  })
})

t.test('public routes are rate limited per client', async (t) => {
  const { app } = await testApp(t)
  const file = (ip: string) =>
    app.inject({ method: 'POST', url: '/v1/foia/public/requests', remoteAddress: ip, payload: { name: 'N', contact: 'n@example.org', description: 'd', commercial: false } })
  for (let i = 0; i < 5; i++) t.equal((await file('203.0.113.7')).statusCode, 201)
  const limited = await file('203.0.113.7')
  t.equal(limited.statusCode, 429, 'the sixth filing in an hour from one client')
  t.equal(await app.db.prisma.foiaRequest.count(), 5, 'and nothing created')
  t.equal((await file('198.51.100.9')).statusCode, 201, 'another client still can')
  const status = (ip: string) => app.inject({ method: 'POST', url: '/v1/foia/public/requests/status', remoteAddress: ip, payload: { trackingNumber: '2026-0001', contact: 'guess@example.org' } })
  for (let i = 0; i < 30; i++) t.equal((await status('203.0.113.8')).statusCode, 404)
  t.equal((await status('203.0.113.8')).statusCode, 429, 'guessing contacts is limited to 30 an hour per client')
})

t.test('the denial index CSV: cells quoted, formulas defused', async (t) => {
  t.equal(csvCell('5 ILCS 140/7(1)(c)'), '5 ILCS 140/7(1)(c)')
  t.equal(csvCell('a, "b"\nc'), '"a, ""b""\nc"')
  t.equal(csvCell('=HYPERLINK("http://evil.example")'), `"'=HYPERLINK(""http://evil.example"")"`)
  for (const start of ['+', '-', '@', '\t', '\r']) t.match(csvCell(`${start}1`), /^"'/, `a cell starting with ${JSON.stringify(start)}`)
})
