// The service as a real child process (node --import tsx src/server.ts), for tests that kill it,
// run several instances, or start it without DATABASE_URL.
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import type { Readable } from 'node:stream'
import { join } from 'node:path'
import type { Test } from 'tap'
import { PROJECT_ROOT } from '../../src/paths.js'
import { TEST_JWT_SECRET, TEST_LEDGER_KEY_PEM, TEST_WEBHOOK_SECRETS } from './app.js'

export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

export interface ServiceProcess {
  child: ChildProcessByStdio<null, Readable, Readable>
  base: string
  port: number
  /** Everything it printed so far. */
  output(): string
  /** Polls /readyz until 200; fails after `seconds`. */
  waitReady(seconds?: number): Promise<void>
  /** Sends `signal` and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>
}

/**
 * Starts one instance. Without DATABASE_URL in `env` it runs embedded. The environment is the
 * test's own, less any DATABASE_URL, plus the test secrets and `env`.
 */
export async function startServiceProcess(t: Test, env: Record<string, string>, options: { port?: number } = {}): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort())
  const base = { ...process.env }
  delete base.DATABASE_URL
  delete base.MIGRATION_DATABASE_URL
  // Its own DATA_DIR unless the test gives one: an embedded cluster in it is about 40 MB, removed with the test.
  const dataDir = env.DATA_DIR ? null : mkdtempSync(join(tmpdir(), 'townsquare-data-'))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...base,
      NODE_ENV: 'test',
      PORT: String(port),
      LOG_LEVEL: 'info',
      ...(dataDir ? { DATA_DIR: dataDir } : {}),
      JWT_SECRET: TEST_JWT_SECRET,
      LEDGER_SIGNING_KEY: TEST_LEDGER_KEY_PEM,
      ...TEST_WEBHOOK_SECRETS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })
  const url = `http://127.0.0.1:${port}`
  return {
    child,
    base: url,
    port,
    output: () => output,
    async waitReady(seconds = 90) {
      const deadline = Date.now() + seconds * 1000
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}):\n${output}`)
        const res = await fetch(`${url}/readyz`).catch(() => null)
        if (res?.status === 200) return
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      throw new Error(`not ready within ${seconds} s:\n${output}`)
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}
