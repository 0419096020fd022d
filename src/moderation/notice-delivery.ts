// E-mailing a moderation notice to a website author whose address is known, over plain SMTP
// (RFC 5321) spoken directly with node:net: no dependency.
//
// Scope: one plain-text message to one recipient per connection: greeting, EHLO (HELO when EHLO is
// refused), AUTH PLAIN when the URL carries credentials, MAIL FROM, RCPT TO, DATA, QUIT.
// NOT supported: TLS (neither smtps:// nor STARTTLS). Credentials in the URL therefore cross the
// network in clear text: use this only with a relay on the same host or a trusted network, until TLS
// is added (tls.connect for smtps://, or STARTTLS after EHLO).
//
// The message: CRLF line endings, dot-stuffed, headers From, To, Subject (RFC 2047 encoded-word
// when not ASCII), Date, Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
// Content-Transfer-Encoding 8bit (quoted-printable instead when a line exceeds SMTP's 998-octet
// limit), Auto-Submitted: auto-generated (RFC 3834, so auto-responders do not answer).
//
// Outcome: 4xx replies, connection errors and timeouts are transient; 5xx replies and bad input
// (addresses, URL) are permanent. Never throws.

import { randomUUID } from 'node:crypto'
import net from 'node:net'
import os from 'node:os'

export interface SmtpConfig {
  /** smtp://user:pass@host:port (user and password percent-encoded; port defaults to 25). */
  url: string
  /** The sender: `notices@example.gov` or `Townsquare <notices@example.gov>`. */
  from: string
  /** Idle timeout for each step of the conversation. Default 10 s. */
  timeoutMs?: number
  /** The name given in EHLO. Default: this host's name. */
  heloName?: string
}

export type SendNoticeResult = { ok: true; messageId: string } | { ok: false; transient: boolean; error: string }

export const DEFAULT_SMTP_TIMEOUT_MS = 10_000
const MAX_LINE_OCTETS = 998

class SmtpFailure extends Error {
  readonly transient: boolean
  constructor(message: string, transient: boolean) {
    super(message)
    this.transient = transient
  }
}

/** Sends one plain-text message. Resolves to ok with the Message-ID (angle brackets included). */
export async function sendNoticeEmail(config: SmtpConfig, to: string, subject: string, text: string): Promise<SendNoticeResult> {
  try {
    const server = parseSmtpUrl(config.url)
    const sender = parseMailbox(config.from, 'sender')
    const recipient = parseMailbox(to, 'recipient')
    const domain = sender.address.slice(sender.address.lastIndexOf('@') + 1)
    const messageId = `<${randomUUID()}@${domain}>`
    const message = buildMessage({ from: sender.header, to: recipient.header, subject, text, messageId, date: new Date() })
    const helo = config.heloName ?? heloName()

    const session = new SmtpSession(server, config.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS)
    try {
      await session.connect()
      await session.expect(null, [220], 'greeting')
      const ehlo = await session.command(`EHLO ${helo}`)
      let extensions: string[] = []
      if (ehlo.code === 250) extensions = ehlo.lines.slice(1).map((l) => l.toUpperCase())
      else if (ehlo.code >= 500) await session.expect(`HELO ${helo}`, [250], 'HELO')
      else throw replyFailure('EHLO', ehlo)
      if (server.user !== null) {
        const token = Buffer.from(`\u0000${server.user}\u0000${server.password ?? ''}`, 'utf8').toString('base64')
        // Errors name the step, never the command: the credentials stay out of them.
        await session.expect(`AUTH PLAIN ${token}`, [235], 'AUTH PLAIN')
      }
      const eightBit = extensions.some((e) => e === '8BITMIME')
      await session.expect(`MAIL FROM:<${sender.address}>${eightBit ? ' BODY=8BITMIME' : ''}`, [250], 'MAIL FROM')
      await session.expect(`RCPT TO:<${recipient.address}>`, [250, 251], 'RCPT TO')
      await session.expect('DATA', [354], 'DATA')
      await session.expect(`${dotStuff(message)}\r\n.`, [250], 'message data')
      await session.quit()
    } finally {
      session.destroy()
    }
    return { ok: true, messageId }
  } catch (err) {
    if (err instanceof SmtpFailure) return { ok: false, transient: err.transient, error: err.message }
    return { ok: false, transient: true, error: `SMTP error: ${err instanceof Error ? err.message : String(err)}` }
  }
}

// ---------------------------------------------------------------------------------------------
// The message

interface ServerAddress {
  host: string
  port: number
  user: string | null
  password: string | null
}

function parseSmtpUrl(raw: string): ServerAddress {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new SmtpFailure('invalid SMTP URL', false)
  }
  if (url.protocol === 'smtps:') throw new SmtpFailure('smtps:// (TLS) is not supported; use smtp:// to a trusted relay', false)
  if (url.protocol !== 'smtp:') throw new SmtpFailure(`unsupported SMTP URL scheme ${url.protocol}`, false)
  if (url.hostname === '') throw new SmtpFailure('SMTP URL has no host', false)
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  const port = url.port === '' ? 25 : Number(url.port)
  const user = url.username === '' ? null : decodeURIComponent(url.username)
  const password = url.password === '' ? null : decodeURIComponent(url.password)
  return { host, port, user, password }
}

/**
 * `addr@host` or `Display Name <addr@host>`. The address must be ASCII (no SMTPUTF8), hold one @,
 * and no whitespace, angle brackets or control characters: it goes into the envelope verbatim.
 */
function parseMailbox(raw: string, what: string): { address: string; header: string } {
  const m = /^\s*(?:(.*?)\s*<([^<>]*)>|([^<>]*))\s*$/s.exec(raw)
  const name = m?.[1]?.trim() ?? ''
  const address = (m?.[2] ?? m?.[3] ?? '').trim()
  if (!/^[\x21-\x7e]+@[\x21-\x7e]+$/.test(address) || /[<>()[\]\\,;:"\s]/.test(address.replace(/@[^@]*$/, '')) || address.split('@').length !== 2) {
    throw new SmtpFailure(`invalid ${what} address ${JSON.stringify(raw.slice(0, 200))}`, false)
  }
  if (/[\r\n]/.test(name)) throw new SmtpFailure(`invalid ${what} name`, false)
  if (name === '') return { address, header: address }
  return { address, header: `${displayName(name)} <${address}>` }
}

function displayName(name: string): string {
  if (/[^\x20-\x7e]/.test(name)) return encodeWords(name)
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ .]*$/.test(name) && !name.includes('.')) return name
  return `"${name.replace(/(["\\])/g, '\\$1')}"`
}

/** RFC 2047 B-encoded words, each at most 75 characters, split on character boundaries. */
function encodeWords(value: string): string {
  const words: string[] = []
  let chunk = ''
  for (const ch of value) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk)
      chunk = ''
    }
    chunk += ch
  }
  if (chunk !== '') words.push(chunk)
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ')
}

function headerText(value: string): string {
  const flat = value.replace(/[\r\n]+/g, ' ').trim()
  if (/[^\x20-\x7e]/.test(flat) || flat.length > 900) return encodeWords(flat)
  return flat
}

/** RFC 5322 date, e.g. `Tue, 24 Nov 2026 06:00:00 +0000`. */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000')
}

/** Headers and body with CRLF line endings, not yet dot-stuffed. */
export function buildMessage(m: { from: string; to: string; subject: string; text: string; messageId: string; date: Date }): string {
  const body = m.text.replace(/\r\n|\r|\n/g, '\n').split('\n')
  const long = body.some((line) => Buffer.byteLength(line, 'utf8') > MAX_LINE_OCTETS)
  const headers = [
    `From: ${m.from}`,
    `To: ${m.to}`,
    `Subject: ${headerText(m.subject)}`,
    `Date: ${rfc5322Date(m.date)}`,
    `Message-ID: ${m.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${long ? 'quoted-printable' : '8bit'}`,
    'Auto-Submitted: auto-generated',
  ]
  const lines = long ? quotedPrintable(body) : body
  return `${headers.join('\r\n')}\r\n\r\n${lines.join('\r\n')}`
}

/** RFC 2045 quoted-printable, soft line breaks at 76 characters. */
function quotedPrintable(lines: string[]): string[] {
  const out: string[] = []
  for (const line of lines) {
    const bytes = Buffer.from(line, 'utf8')
    let current = ''
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number
      const last = i === bytes.length - 1
      const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last)
      const token = literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`
      if (current.length + token.length > 75) {
        out.push(`${current}=`)
        current = ''
      }
      current += token
    }
    out.push(current)
  }
  return out
}

/** Doubles a leading dot on every line (RFC 5321 4.5.2). Expects CRLF line endings. */
export function dotStuff(message: string): string {
  return message.replace(/(^|\r\n)\./g, '$1..')
}

function heloName(): string {
  const name = os.hostname()
  return /^[A-Za-z0-9.-]+$/.test(name) ? name : 'localhost'
}

// ---------------------------------------------------------------------------------------------
// The conversation

interface Reply {
  code: number
  lines: string[]
}

function replyFailure(step: string, reply: Reply): SmtpFailure {
  const text = reply.lines.join(' ').slice(0, 500)
  const transient = reply.code >= 400 && reply.code < 500
  return new SmtpFailure(`SMTP ${step} refused: ${reply.code} ${text}`.trimEnd(), transient)
}

class SmtpSession {
  private socket: net.Socket | null = null
  private buffer = ''
  private pending: Reply['lines'] = []
  private replies: Reply[] = []
  private waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null
  private failure: Error | null = null

  constructor(
    private readonly server: ServerAddress,
    private readonly timeoutMs: number,
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.server.host, port: this.server.port })
      this.socket = socket
      socket.setTimeout(this.timeoutMs)
      socket.setEncoding('utf8')
      let connected = false
      socket.once('connect', () => {
        connected = true
        resolve()
      })
      socket.on('data', (chunk: string) => this.onData(chunk))
      socket.on('timeout', () => this.fail(new SmtpFailure(`SMTP server ${this.where()} did not answer within ${this.timeoutMs} ms`, true)))
      socket.on('error', (err) => {
        const e = new SmtpFailure(`SMTP connection to ${this.where()} failed: ${err.message}`, true)
        if (!connected) reject(e)
        this.fail(e)
      })
      socket.on('close', () => this.fail(new SmtpFailure(`SMTP server ${this.where()} closed the connection`, true)))
    })
  }

  private where(): string {
    return `${this.server.host}:${this.server.port}`
  }

  private onData(chunk: string): void {
    this.buffer += chunk
    let nl: number
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '')
      this.buffer = this.buffer.slice(nl + 1)
      const m = /^(\d{3})([ -]?)(.*)$/.exec(line)
      if (!m) {
        this.fail(new SmtpFailure(`SMTP server sent a malformed reply: ${JSON.stringify(line.slice(0, 200))}`, true))
        return
      }
      this.pending.push(m[3] ?? '')
      if (m[2] !== '-') {
        this.replies.push({ code: Number(m[1]), lines: this.pending })
        this.pending = []
      }
    }
    this.deliver()
  }

  private deliver(): void {
    if (this.waiter && this.replies.length > 0) {
      const w = this.waiter
      this.waiter = null
      w.resolve(this.replies.shift() as Reply)
    }
  }

  private fail(err: Error): void {
    if (this.failure === null) this.failure = err
    if (this.waiter) {
      const w = this.waiter
      this.waiter = null
      w.reject(this.failure)
    }
  }

  private next(): Promise<Reply> {
    const queued = this.replies.shift()
    if (queued) return Promise.resolve(queued)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
  }

  /** Sends a line (null: nothing, just read) and reads the reply. */
  async command(line: string | null): Promise<Reply> {
    if (line !== null) {
      if (this.failure) throw this.failure
      this.socket?.write(`${line}\r\n`, 'utf8')
    }
    return this.next()
  }

  /** Like command(), failing unless the reply code is one of `codes`. */
  async expect(line: string | null, codes: number[], step: string): Promise<Reply> {
    const reply = await this.command(line)
    if (!codes.includes(reply.code)) {
      if (reply.code >= 400) throw replyFailure(step, reply)
      throw new SmtpFailure(`SMTP ${step}: unexpected reply ${reply.code} ${reply.lines.join(' ').slice(0, 500)}`, false)
    }
    return reply
  }

  /** QUIT once the message is accepted: its outcome no longer matters. */
  async quit(): Promise<void> {
    try {
      await this.command('QUIT')
    } catch {
      // accepted already
    }
  }

  destroy(): void {
    this.socket?.removeAllListeners('close')
    this.socket?.destroy()
  }
}
