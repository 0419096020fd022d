// A minimal loopback SMTP server (RFC 5321 subset: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT) that records what it is sent and can refuse any step on demand.
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export type SmtpStage = 'greeting' | 'EHLO' | 'HELO' | 'AUTH' | 'MAIL' | 'RCPT' | 'DATA' | 'message'

export interface FakeSmtpMessage {
  helo: string
  /** Decoded AUTH PLAIN credentials, null when the client did not authenticate. */
  auth: { user: string; password: string } | null
  /** The MAIL FROM line's argument as sent, e.g. `<a@b.gov> BODY=8BITMIME`. */
  mailFromLine: string
  mailFrom: string
  rcptTo: string[]
  /** The DATA bytes exactly as received (dot-stuffed, CRLF), without the final `.` line. */
  raw: string
  /** `raw` with the dot-stuffing undone. */
  data: string
}

export interface FakeSmtp {
  host: string
  port: number
  /** smtp://host:port, or with credentials when given. */
  url(credentials?: { user: string; password: string }): string
  messages: FakeSmtpMessage[]
  /** Every command line received, in order (AUTH lines included). */
  commands: string[]
  /** Answer `stage` with this reply (e.g. '451 4.3.0 Try again later') until reset(). */
  failAt(stage: SmtpStage, reply: string): void
  reset(): void
  close(): Promise<void>
}

export async function startFakeSmtp(options: { extensions?: string[] } = {}): Promise<FakeSmtp> {
  const extensions = options.extensions ?? ['8BITMIME', 'AUTH PLAIN', 'SIZE 10485760']
  const messages: FakeSmtpMessage[] = []
  const commands: string[] = []
  let failures = new Map<SmtpStage, string>()
  const sockets = new Set<net.Socket>()

  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    const send = (line: string) => socket.write(`${line}\r\n`)
    const refusal = (stage: SmtpStage) => failures.get(stage)

    let helo = ''
    let auth: FakeSmtpMessage['auth'] = null
    let mailFromLine = ''
    let mailFrom: string | null = null
    let rcptTo: string[] = []
    let inData = false
    let buffer = ''

    const greeting = refusal('greeting')
    if (greeting) {
      send(greeting)
      socket.end()
      return
    }
    send('220 fake-smtp.test ESMTP ready')

    const handle = (line: string) => {
      commands.push(line)
      const verb = (/^\S+/.exec(line)?.[0] ?? '').toUpperCase()
      const arg = line.slice(verb.length).trim()
      switch (verb) {
        case 'EHLO': {
          const r = refusal('EHLO')
          if (r) return send(r)
          helo = arg
          const lines = ['fake-smtp.test greets you', ...extensions]
          lines.forEach((l, i) => send(`250${i === lines.length - 1 ? ' ' : '-'}${l}`))
          return
        }
        case 'HELO': {
          const r = refusal('HELO')
          if (r) return send(r)
          helo = arg
          return send('250 fake-smtp.test')
        }
        case 'AUTH': {
          const r = refusal('AUTH')
          if (r) return send(r)
          const [mech, initial] = arg.split(/\s+/)
          if (mech?.toUpperCase() !== 'PLAIN' || !initial) return send('504 5.5.4 only AUTH PLAIN with an initial response')
          const parts = Buffer.from(initial, 'base64').toString('utf8').split('\u0000')
          auth = { user: parts[1] ?? '', password: parts[2] ?? '' }
          return send('235 2.7.0 Authentication successful')
        }
        case 'MAIL': {
          const r = refusal('MAIL')
          if (r) return send(r)
          const m = /^FROM:\s*<([^>]*)>(.*)$/i.exec(arg)
          if (!m) return send('501 5.5.4 syntax: MAIL FROM:<address>')
          mailFromLine = arg.slice('FROM:'.length)
          mailFrom = m[1] ?? ''
          rcptTo = []
          return send('250 2.1.0 OK')
        }
        case 'RCPT': {
          if (mailFrom === null) return send('503 5.5.1 MAIL first')
          const r = refusal('RCPT')
          if (r) return send(r)
          const m = /^TO:\s*<([^>]*)>$/i.exec(arg)
          if (!m) return send('501 5.5.4 syntax: RCPT TO:<address>')
          rcptTo.push(m[1] ?? '')
          return send('250 2.1.5 OK')
        }
        case 'DATA': {
          if (rcptTo.length === 0) return send('503 5.5.1 RCPT first')
          const r = refusal('DATA')
          if (r) return send(r)
          inData = true
          return send('354 End data with <CR><LF>.<CR><LF>')
        }
        case 'RSET':
          mailFrom = null
          rcptTo = []
          return send('250 2.0.0 OK')
        case 'NOOP':
          return send('250 2.0.0 OK')
        case 'QUIT':
          send('221 2.0.0 Bye')
          socket.end()
          return
        default:
          return send('502 5.5.2 command not recognized')
      }
    }

    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8')
      for (;;) {
        if (inData) {
          const end = buffer.startsWith('.\r\n') ? 0 : buffer.indexOf('\r\n.\r\n')
          if (end < 0) return
          const raw = end === 0 ? '' : buffer.slice(0, end)
          buffer = buffer.slice(end === 0 ? 3 : end + 5)
          inData = false
          commands.push('<message data>')
          const r = refusal('message')
          if (r) {
            send(r)
          } else {
            messages.push({
              helo,
              auth,
              mailFromLine,
              mailFrom: mailFrom ?? '',
              rcptTo,
              raw,
              data: raw.replace(/(^|\r\n)\.\./g, '$1.'),
            })
            send('250 2.0.0 OK queued')
          }
          mailFrom = null
          rcptTo = []
          continue
        }
        const nl = buffer.indexOf('\r\n')
        if (nl < 0) return
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 2)
        handle(line)
      }
    })
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const host = '127.0.0.1'

  return {
    host,
    port,
    url(credentials) {
      const auth = credentials ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@` : ''
      return `smtp://${auth}${host}:${port}`
    },
    messages,
    commands,
    failAt(stage, reply) {
      failures.set(stage, reply)
    },
    reset() {
      messages.length = 0
      commands.length = 0
      failures = new Map()
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        for (const s of sockets) s.destroy()
      })
    },
  }
}
