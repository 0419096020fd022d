// One loopback HTTP server playing every platform's API (Graph, X, LinkedIn, the city website):
// give each client the same baseUrl. It records every request exactly as received and answers
// 200 {"success":true}, or 200 {"id":"fake-N"} for a creation (a POST ending in /messages, /replies,
// /comments, /notices, or to /2/tweets), unless told otherwise with respondWith().
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeRequest {
  method: string
  /** The path as received: percent-encoding kept, no query. */
  path: string
  /** The raw query string, without `?` ('' when none). */
  query: string
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>
  body: string
}

export interface FakeResponse {
  status: number
  /** A string is sent as is (text/plain unless headers say otherwise); anything else as JSON. */
  body?: unknown
  headers?: Record<string, string>
  /** Never answer (for timeouts): the connection is held open until close(). */
  hang?: boolean
}

export interface FakePlatform {
  baseUrl: string
  requests: FakeRequest[]
  /**
   * Answers requests matching `matcher` with `response`; an array is consumed in order, one entry a
   * request, after which the default answer applies again. Rules are tried in the order given.
   */
  respondWith(matcher: (req: FakeRequest) => boolean, response: FakeResponse | FakeResponse[]): void
  /** Forgets requests and rules, and restarts the fake-N ids. */
  reset(): void
  close(): Promise<void>
}

interface Rule {
  matcher: (req: FakeRequest) => boolean
  responses: FakeResponse[]
  repeat: boolean
}

function isCreation(req: FakeRequest): boolean {
  return req.method === 'POST' && (/\/(messages|replies|comments|notices)$/.test(req.path) || /\/2\/tweets$/.test(req.path))
}

export async function startFakePlatform(): Promise<FakePlatform> {
  const requests: FakeRequest[] = []
  let rules: Rule[] = []
  let created = 0

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const rawUrl = req.url ?? '/'
      const q = rawUrl.indexOf('?')
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
      }
      const recorded: FakeRequest = {
        method: req.method ?? '',
        path: q >= 0 ? rawUrl.slice(0, q) : rawUrl,
        query: q >= 0 ? rawUrl.slice(q + 1) : '',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      requests.push(recorded)

      let response: FakeResponse | undefined
      for (const rule of rules) {
        if (rule.responses.length === 0 || !rule.matcher(recorded)) continue
        response = rule.repeat ? rule.responses[0] : rule.responses.shift()
        break
      }
      if (response === undefined) {
        response = isCreation(recorded) ? { status: 200, body: { id: `fake-${++created}` } } : { status: 200, body: { success: true } }
      }
      if (response.hang) return
      const isText = typeof response.body === 'string'
      const payload = response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body)
      res.writeHead(response.status, {
        ...(response.body === undefined ? {} : { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json' }),
        ...response.headers,
      })
      res.end(payload)
    })
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    respondWith(matcher, response) {
      const list = Array.isArray(response) ? [...response] : [response]
      rules.push({ matcher, responses: list, repeat: !Array.isArray(response) })
    },
    reset() {
      requests.length = 0
      rules = []
      created = 0
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
    },
  }
}
