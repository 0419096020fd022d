import { appendFileSync } from 'node:fs'
// Small statistics and formatting helpers shared by the benchmarks.

/** Nearest-rank percentile (p in [0, 100]) of an already sorted array; NaN when empty. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export interface Summary {
  count: number
  min: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b)
  const sum = sorted.reduce((acc, v) => acc + v, 0)
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  }
}

/** High-resolution milliseconds since an arbitrary origin. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** Runs `work` and returns its result with the elapsed milliseconds. */
export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = nowMs()
  const result = await work()
  return { result, ms: nowMs() - start }
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? grouped.format(Math.round(n)) : String(n)
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms)
  if (Math.abs(ms) >= 10_000) return `${(ms / 1000).toFixed(1)} s`
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`
  if (Math.abs(ms) >= 100) return `${ms.toFixed(0)} ms`
  if (Math.abs(ms) >= 10) return `${ms.toFixed(1)} ms`
  return `${ms.toFixed(2)} ms`
}

export function fmtRate(perSecond: number, unit = '/s'): string {
  return `${fmtInt(perSecond)}${unit}`
}

export function fmtBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024)
  return mib >= 1024 ? `${(mib / 1024).toFixed(2)} GiB` : `${mib.toFixed(0)} MiB`
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export interface MemoryMeasured<T> {
  result: T
  ms: number
  startRss: number
  peakRss: number
  peakHeap: number
}

/** Runs work while sampling this process's RSS and heap every 20 ms: time and peak memory. */
export async function measureMemory<T>(work: () => Promise<T>): Promise<MemoryMeasured<T>> {
  global.gc?.()
  const startRss = process.memoryUsage().rss
  let peakRss = startRss
  let peakHeap = process.memoryUsage().heapUsed
  const sampler = setInterval(() => {
    const m = process.memoryUsage()
    peakRss = Math.max(peakRss, m.rss)
    peakHeap = Math.max(peakHeap, m.heapUsed)
  }, 20)
  const start = nowMs()
  const cpu = process.cpuUsage()
  try {
    const result = await work()
    const used = process.cpuUsage(cpu)
    // BENCH_CPU_LOG: this process's CPU time (user + system) for each measured step, one line each.
    if (process.env.BENCH_CPU_LOG) appendFileSync(process.env.BENCH_CPU_LOG, `${process.argv[1]} wall ${(nowMs() - start).toFixed(0)} ms cpu ${((used.user + used.system) / 1000).toFixed(0)} ms\n`)
    return { result, ms: nowMs() - start, startRss, peakRss, peakHeap }
  } finally {
    clearInterval(sampler)
  }
}
