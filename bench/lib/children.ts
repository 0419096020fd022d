// Child processes for benchmarks: servers started with `spawn`, readiness polling, CPU time read
// from /proc, and a guarantee that no child outlives the benchmark (normal exit, failure, SIGINT,
// SIGTERM). Only processes started here are ever signalled, by their pid.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { sleep } from './stats.js'

const running = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook() {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // 'exit' handlers must be synchronous: kill() is.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL')
  })
}

/** A free TCP port on the loopback interface (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export interface ChildServer {
  name: string
  pid: number
  baseUrl: string
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  tail(): string
  /** Lines the child logged at pino level error or fatal (>= 50). */
  errorLines(): number
  exited(): boolean
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code once the child is gone. */
  stop(graceMs?: number): Promise<number | null>
}

export interface StartOptions {
  name: string
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
  cwd: string
  port: number
  /** Path answering 200 once the server is ready. */
  readyPath: string
  readyTimeoutMs?: number
  /** Writes each output line (prefixed with the name) to stderr. */
  echo?: (line: string) => boolean
}

export async function startChild(options: StartOptions): Promise<ChildServer> {
  installExitHook()
  const child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const lines: string[] = []
  let errors = 0
  let exitCode: number | null | undefined
  const exitPromise = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 : null)
      running.delete(child)
      resolve(exitCode)
    })
  })
  child.once('error', (error) => lines.push(`spawn error: ${error.message}`))
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      lines.push(line)
      if (lines.length > 60) lines.shift()
      const level = /"level":(\d+)/.exec(line)
      if (level && Number(level[1]) >= 50) errors++
      if (options.echo?.(line) ?? true) process.stderr.write(`[${options.name}] ${line}\n`)
    }
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)

  const server: ChildServer = {
    name: options.name,
    pid: child.pid ?? -1,
    baseUrl: `http://127.0.0.1:${options.port}`,
    tail: () => lines.join('\n'),
    errorLines: () => errors,
    exited: () => exitCode !== undefined,
    async stop(graceMs = 15_000) {
      if (exitCode !== undefined) return exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const code = await exitPromise
      clearTimeout(timer)
      return code
    },
  }

  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000)
  for (;;) {
    if (exitCode !== undefined) throw new Error(`${options.name} exited (code ${exitCode}) before it was ready:\n${server.tail()}`)
    try {
      const response = await fetch(server.baseUrl + options.readyPath, { signal: AbortSignal.timeout(2000) })
      await response.arrayBuffer()
      if (response.status === 200) return server
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop(2000)
      throw new Error(`${options.name} was not ready within ${options.readyTimeoutMs ?? 90_000} ms:\n${server.tail()}`)
    }
    await sleep(200)
  }
}

/** Stops every child still running (used on failure paths). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
          child.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill('SIGTERM')
        }),
    ),
  )
}

const TICKS_PER_SECOND = 100 // USER_HZ on Linux

/** CPU seconds (user + system, all threads) a process has used so far; null when unreadable. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return null
  }
}

/**
 * CPU seconds used by a set of processes since the meter started. Processes can be added while it
 * runs (`track`): one first seen after the start is counted from zero, so a connection opened during
 * a phase counts entirely. `sample` keeps the last reading of each, so a process that exits before
 * `read` keeps what it used up to its last sample.
 */
export class CpuMeter {
  readonly #start = new Map<number, number>()
  readonly #last = new Map<number, number>()
  readonly #wallStart = performance.now()

  constructor(pids: readonly number[]) {
    for (const pid of pids) {
      const s = processCpuSeconds(pid)
      if (s !== null) {
        this.#start.set(pid, s)
        this.#last.set(pid, s)
      }
    }
  }

  /** Adds processes not yet tracked (counted from zero: they started after the meter). */
  track(pids: readonly number[]): void {
    for (const pid of pids) {
      if (this.#start.has(pid)) continue
      const s = processCpuSeconds(pid)
      if (s === null) continue
      this.#start.set(pid, 0)
      this.#last.set(pid, s)
    }
  }

  sample(): void {
    for (const pid of this.#start.keys()) {
      const now = processCpuSeconds(pid)
      if (now !== null) this.#last.set(pid, now)
    }
  }

  /** CPU seconds used since construction, and that as a share of one core (1.0 = one core busy). */
  read(): { cpuSeconds: number; cores: number } {
    this.sample()
    let total = 0
    for (const [pid, start] of this.#start) total += this.#last.get(pid)! - start
    const wall = (performance.now() - this.#wallStart) / 1000
    return { cpuSeconds: total, cores: wall > 0 ? total / wall : 0 }
  }
}
