// `npm run build`, and the first step of `npm start`: compiles src/ to dist/ with tsc, unless
// dist/ was built from exactly these sources. The digest of every build input is kept beside the
// output, so an unchanged checkout starts without recompiling (tsc takes about 25 s here).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const DIGEST_FILE = join(ROOT, 'dist', '.build-digest')

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* files(path)
    else yield path
  }
}

/** SHA-256 over the names and bytes of everything tsc reads for the build. */
export function sourceDigest() {
  const hash = createHash('sha256')
  const inputs = [...files(join(ROOT, 'src')), join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json'), join(ROOT, 'package-lock.json')]
  for (const path of inputs) hash.update(path.slice(ROOT.length)).update('\0').update(readFileSync(path)).update('\0')
  return hash.digest('hex')
}

/** Compiles when dist/ is missing or was built from other sources; returns whether it compiled. */
export function buildIfStale({ force = false } = {}) {
  const digest = sourceDigest()
  const current = existsSync(join(ROOT, 'dist', 'src', 'server.js')) && existsSync(DIGEST_FILE) && readFileSync(DIGEST_FILE, 'utf8') === digest
  if (current && !force) return false
  console.log(force ? 'compiling src/ to dist/' : 'compiling src/ to dist/ (the sources changed since the last build)')
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
  if (result.status !== 0) {
    console.error('the build failed (tsc above); nothing was started')
    process.exit(result.status ?? 1)
  }
  writeFileSync(DIGEST_FILE, digest)
  return true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildIfStale({ force: process.argv.includes('--force') })
