// A real SMTP server for tests (the `smtp-server` package, the server side of nodemailer's project)
// on loopback: plain, STARTTLS or implicit TLS, with a certificate from a test CA generated here
// with the openssl CLI. It records each accepted message and can refuse a step on demand.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'

export interface TestPki {
  dir: string
  /** PEM file of the test CA (what SMTP_CA_FILE would name). */
  caFile: string
  /** Server key and certificate for 127.0.0.1 and localhost, signed by the test CA. */
  key: string
  cert: string
}

let pki: TestPki | null = null

/** A CA and a server certificate for 127.0.0.1/localhost, made once per test process. */
export function testPki(): TestPki {
  if (pki) return pki
  const dir = mkdtempSync(join(tmpdir(), 'townsquare-smtp-pki-'))
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Townsquare test CA')
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost')
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf')
  pki = { dir, caFile: join(dir, 'ca.pem'), key: readFileSync(join(dir, 'server.key'), 'utf8'), cert: readFileSync(join(dir, 'server.pem'), 'utf8') }
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return pki
}

export type SinkStage = 'AUTH' | 'MAIL' | 'RCPT' | 'DATA'

export interface SinkMessage {
  /** Whether the session was encrypted (STARTTLS or implicit TLS) when the message was sent. */
  secure: boolean
  auth: { user: string; password: string } | null
  mailFrom: string
  rcptTo: string[]
  /** The message as received (headers and body, CRLF), dot-stuffing undone. */
  data: string
}

export interface SmtpSink {
  host: string
  port: number
  /** smtp:// (or smtps:// for implicit TLS) with the credentials when given. */
  url(credentials?: { user: string; password: string }): string
  messages: SinkMessage[]
  /** Refuse `stage` with this code and message until reset(). */
  failAt(stage: SinkStage, code: number, message: string): void
  reset(): void
  close(): Promise<void>
}

export async function startSmtpSink(options: { tls?: 'none' | 'starttls' | 'implicit'; pki?: { key: string; cert: string } } = {}): Promise<SmtpSink> {
  const mode = options.tls ?? 'starttls'
  const keys = mode === 'none' ? null : (options.pki ?? testPki())
  const messages: SinkMessage[] = []
  let failures = new Map<SinkStage, { code: number; message: string }>()
  const refusal = (stage: SinkStage): Error | null => {
    const f = failures.get(stage)
    if (!f) return null
    return Object.assign(new Error(f.message), { responseCode: f.code })
  }
  const serverOptions: SMTPServerOptions = {
    secure: mode === 'implicit',
    ...(keys ? { key: keys.key, cert: keys.cert } : {}),
    disabledCommands: mode === 'none' ? ['STARTTLS'] : [],
    authOptional: true,
    // The plain sink takes credentials in clear: the client's plaintext option is what is tested.
    allowInsecureAuth: mode === 'none',
    logger: false,
    onAuth(auth, _session, callback) {
      const refused = refusal('AUTH')
      if (refused) return callback(refused)
      callback(null, { user: { name: auth.username, password: auth.password } })
    },
    onMailFrom(_address, _session, callback) {
      callback(refusal('MAIL') ?? undefined)
    },
    onRcptTo(_address, _session, callback) {
      callback(refusal('RCPT') ?? undefined)
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const refused = refusal('DATA')
        if (refused) return callback(refused)
        const user = session.user as { name: string; password: string } | undefined
        messages.push({
          secure: session.secure,
          auth: user ? { user: user.name, password: user.password } : null,
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        })
        callback(null)
      })
    },
  }
  const server = new SMTPServer(serverOptions)
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.server.address() as AddressInfo
  const host = '127.0.0.1'
  return {
    host,
    port,
    url(credentials) {
      const auth = credentials ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@` : ''
      return `${mode === 'implicit' ? 'smtps' : 'smtp'}://${auth}${host}:${port}`
    },
    messages,
    failAt(stage, code, message) {
      failures.set(stage, { code, message })
    },
    reset() {
      messages.length = 0
      failures = new Map()
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
