// `npm run test:only [-- tap arguments]`: the tap suite against a real PostgreSQL. With
// TEST_DATABASE_URL set it uses that server; without, it starts a throwaway embedded PostgreSQL
// (durability off), runs tap against it and stops it, whatever way tap ends (docs/testing.md).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbedded, type EmbeddedDatabase } from '../src/db/embedded.js'
import { PROJECT_ROOT } from '../src/paths.js'

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  // Every other argument is tap's (npx tap --help lists them).
  console.log(
    'usage: npm run test:only [-- <test files> [tap options]]\n\nRuns the tap suite against TEST_DATABASE_URL, or a throwaway embedded PostgreSQL when it is unset ' +
      '(docs/testing.md). Other arguments go to tap unchanged: npx tap --help lists them.',
  )
  process.exit(0)
}

const env = { ...process.env }
let embedded: EmbeddedDatabase | null = null
let dataDir: string | null = null
if (!env.TEST_DATABASE_URL) {
  dataDir = mkdtempSync(join(tmpdir(), 'townsquare-test-pg-'))
  const started = Date.now()
  try {
    embedded = await startEmbedded({ dataDir, durable: false })
  } catch (error) {
    console.error(`cannot start the embedded PostgreSQL for the tests: ${(error as Error).message}`)
    rmSync(dataDir, { recursive: true, force: true })
    process.exit(1)
  }
  env.TEST_DATABASE_URL = embedded.url
  console.log(`# tests on an embedded PostgreSQL at 127.0.0.1:${embedded.port} (started in ${Date.now() - started} ms; TEST_DATABASE_URL unset)`)
}

const tap = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tap'), process.argv.slice(2), { stdio: 'inherit', env })
// Ctrl-C reaches tap through the terminal; a SIGTERM sent to this process alone is passed on.
// Either way the server is stopped after tap has ended.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => tap.kill(signal))
const [code, signal] = (await once(tap, 'exit')) as [number | null, NodeJS.Signals | null]
await embedded?.stop()
if (dataDir) rmSync(dataDir, { recursive: true, force: true })
process.exit(code ?? (signal ? 1 : 0))
