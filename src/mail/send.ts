// Sending one e-mail through the city's relay with nodemailer (a maintained SMTP client: TLS,
// STARTTLS, AUTH, MIME, RFC 2047 headers, dot-stuffing) instead of the hand-written plain-SMTP client
// it replaces. Used by moderation notices (src/moderation/jobs.ts) and FOIA letters.
//
// Transport security:
// - smtps://host[:465]: TLS from the first byte (implicit TLS, RFC 8314).
// - smtp://host[:587]: STARTTLS is REQUIRED (the message is refused rather than sent in clear)
//   unless `plaintext` is set (SMTP_PLAINTEXT=allow: a relay on the same host, said explicitly).
// - The server's certificate is always verified against the system's CAs, plus the PEM file in
//   `caFile` (SMTP_CA_FILE) for a private relay. There is no option to switch verification off.
//
// Outcome: never throws. 4xx replies, connection failures and timeouts are transient (retry later);
// 5xx replies, a refused certificate, a missing STARTTLS, bad addresses or configuration are permanent
// (a person has to act).

import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import nodemailer from 'nodemailer'

export interface MailConfig {
  /** smtp://user:pass@host:port (STARTTLS required) or smtps://user:pass@host:port (implicit TLS). */
  url: string
  /** The sender: `notices@example.gov` or `Townsquare <notices@example.gov>`. */
  from: string
  /** A PEM file of CA certificates trusted in addition to the system's (a private relay). */
  caFile?: string | null
  /** Allow smtp:// without STARTTLS (credentials and message in clear). Default false. */
  plaintext?: boolean
  /** Timeout of the connection and of each step. Default 10 s. */
  timeoutMs?: number
}

export interface MailAttachment {
  filename: string
  content: Buffer | string
  /** Default: guessed from the file name (application/pdf for .pdf). */
  contentType?: string
}

export interface MailMessage {
  to: string
  subject: string
  /** Plain text, sent as text/plain; charset=utf-8. */
  text: string
  attachments?: MailAttachment[]
}

export type SendMailResult = { ok: true; messageId: string; response: string } | { ok: false; transient: boolean; error: string }

export const DEFAULT_MAIL_TIMEOUT_MS = 10_000

/** Sends one message to one recipient. Resolves to ok with the Message-ID (angle brackets included). */
export async function sendMail(config: MailConfig, message: MailMessage): Promise<SendMailResult> {
  let transport: ReturnType<typeof nodemailer.createTransport> | null = null
  try {
    const options = transportOptions(config)
    if (!options.ok) return { ok: false, transient: false, error: options.error }
    const to = singleMailbox(message.to)
    if (to === null) return { ok: false, transient: false, error: `invalid recipient address ${JSON.stringify(message.to.slice(0, 200))}` }
    transport = nodemailer.createTransport(options.value)
    const info = await transport.sendMail({
      from: config.from,
      to,
      subject: message.subject,
      text: message.text,
      // Auto-responders do not answer (RFC 3834).
      headers: { 'Auto-Submitted': 'auto-generated' },
      attachments: message.attachments?.map((a) => ({ filename: a.filename, content: a.content, ...(a.contentType ? { contentType: a.contentType } : {}) })),
      // Nothing in a message reads local files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
    })
    const accepted = (info.accepted as unknown[]).length
    if (accepted === 0) return { ok: false, transient: false, error: `SMTP relay accepted no recipient: ${String(info.response)}` }
    return { ok: true, messageId: String(info.messageId), response: String(info.response) }
  } catch (error) {
    return classify(error)
  } finally {
    transport?.close()
  }
}

/**
 * One mailbox, `addr@host` or `Name <addr@host>`, ASCII address (no SMTPUTF8), no control characters.
 * nodemailer reads `to` as a list: `a@x.org\r\nBcc: b@y.org` would be two recipients.
 */
function singleMailbox(raw: string): { name: string; address: string } | null {
  if ([...raw].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return null
  const m = /^\s*(?:([^<>]*?)\s*<([^<>]*)>|([^<>\s]*))\s*$/.exec(raw)
  if (!m) return null
  const name = (m[1] ?? '').trim()
  const address = (m[2] ?? m[3] ?? '').trim()
  if (!/^[\x21-\x7e]+@[\x21-\x7e]+$/.test(address) || address.split('@').length !== 2 || /[<>()[\]\\,;:"]/.test(address)) return null
  // A name with a comma or semicolon is quoted by nodemailer, never read as a list.
  return { name, address }
}

type Options = Parameters<typeof nodemailer.createTransport>[0]

function transportOptions(config: MailConfig): { ok: true; value: Options } | { ok: false; error: string } {
  let url: URL
  try {
    url = new URL(config.url)
  } catch {
    return { ok: false, error: 'invalid SMTP URL' }
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return { ok: false, error: `unsupported SMTP URL scheme ${url.protocol}` }
  if (url.hostname === '') return { ok: false, error: 'SMTP URL has no host' }
  const secure = url.protocol === 'smtps:'
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  const port = url.port === '' ? (secure ? 465 : 587) : Number(url.port)
  let ca: string[] | undefined
  if (config.caFile) {
    try {
      // Node's `ca` replaces the default roots: keep them and add the file's.
      ca = [...tls.rootCertificates, readFileSync(config.caFile, 'utf8')]
    } catch (error) {
      return { ok: false, error: `SMTP CA file ${config.caFile} cannot be read: ${(error as Error).message}` }
    }
  }
  const timeout = config.timeoutMs ?? DEFAULT_MAIL_TIMEOUT_MS
  const auth = url.username === '' ? undefined : { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
  return {
    ok: true,
    value: {
      host,
      port,
      secure,
      // STARTTLS on smtp:// unless plain text was allowed explicitly; never on smtps:// (already TLS).
      requireTLS: !secure && !config.plaintext,
      ignoreTLS: !secure && config.plaintext === true,
      auth,
      tls: { rejectUnauthorized: true, ...(net.isIP(host) === 0 ? { servername: host } : {}), minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) },
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      dnsTimeout: timeout,
    },
  }
}

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'EDNS', 'ESOCKET', 'EMAXLIMIT'])
/** Node's TLS verification failures: retrying does not help, a person must fix the relay or SMTP_CA_FILE. */
const CERTIFICATE_ERROR = /certificate|CERT_|self[- ]signed|unable to verify|Hostname\/IP does not match/i

function classify(error: unknown): SendMailResult {
  const e = error as { message?: string; code?: string; responseCode?: number; response?: string }
  const message = (e.message ?? String(error)).replace(/\s+/g, ' ').slice(0, 500)
  if (typeof e.responseCode === 'number') {
    return { ok: false, transient: e.responseCode >= 400 && e.responseCode < 500, error: `SMTP relay refused: ${message}` }
  }
  if (CERTIFICATE_ERROR.test(message)) return { ok: false, transient: false, error: `SMTP relay's TLS certificate refused: ${message}` }
  if (e.code === 'ETLS') return { ok: false, transient: false, error: `SMTP TLS failed: ${message}` }
  if (e.code && TRANSIENT_CODES.has(e.code)) return { ok: false, transient: true, error: `SMTP connection failed: ${message}` }
  return { ok: false, transient: false, error: `SMTP error: ${message}` }
}
