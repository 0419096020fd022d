// The subset of autocannon 9's API that the benchmarks use (the package ships no types and
// @types/autocannon is not installed). See node_modules/autocannon/README.md.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  namespace autocannon {
    interface RequestData {
      method: string
      path: string
      headers: Record<string, string>
      body: string | Buffer
      [key: string]: unknown
    }

    /** Shared by the requests of one connection; reset each time the request list wraps. */
    type Context = Record<string, unknown>

    interface Request {
      method?: string
      path?: string
      headers?: Record<string, string>
      body?: string | Buffer
      /** Called before each request is sent (pipelining 1); return the request to send. */
      setupRequest?: (req: RequestData, context: Context) => RequestData | null | undefined | false
      onResponse?: (status: number, body: string, context: Context, headers: Record<string, string | string[]>) => void
    }

    /** One connection. Emits 'response' (status, bytes, responseTimeMs, rate) per response. */
    interface Client extends EventEmitter {
      on(event: 'response', listener: (status: number, bytes: number, responseTimeMs: number, rate: number | undefined) => void): this
      on(event: string, listener: (...args: unknown[]) => void): this
    }

    interface Options {
      url: string
      connections?: number
      pipelining?: number
      duration?: number
      amount?: number
      /** Seconds before a request counts as timed out (default 10). */
      timeout?: number
      overallRate?: number
      connectionRate?: number
      method?: string
      headers?: Record<string, string>
      body?: string | Buffer
      requests?: Request[]
      setupClient?: (client: Client) => void
      /** Latency percentiles without autocannon's coordinated-omission back-fill. */
      ignoreCoordinatedOmission?: boolean
      excludeErrorStats?: boolean
      bailout?: number
      workers?: number
    }

    interface Histogram {
      average: number
      mean: number
      stddev: number
      min: number
      max: number
      p50: number
      p90: number
      p99: number
      p99_9: number
      [key: string]: number
    }

    interface Result {
      duration: number
      start: Date
      finish: Date
      errors: number
      timeouts: number
      mismatches: number
      non2xx: number
      resets: number
      '1xx': number
      '2xx': number
      '3xx': number
      '4xx': number
      '5xx': number
      statusCodeStats: Record<string, { count: number }>
      latency: Histogram
      requests: Histogram & { total: number; sent: number }
      throughput: Histogram & { total: number }
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance
  export default autocannon
}
