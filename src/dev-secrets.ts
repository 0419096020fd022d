import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Development-only secrets live in DATA_DIR (git-ignored), generated on first use so that a fresh
 * clone starts without configuration and `npm run token` mints tokens the service accepts.
 */
export function readOrCreateDevSecret(dataDir: string, name: string, generate: () => string): string {
  const path = join(dataDir, name)
  try {
    return readFileSync(path, 'utf8').trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const value = generate()
  // 'wx' fails if another process created it meanwhile; then read theirs.
  try {
    writeFileSync(path, value + '\n', { flag: 'wx', mode: 0o600 })
    return value
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return readFileSync(path, 'utf8').trim()
  }
}

export const devJwtSecret = (dataDir: string) => () =>
  readOrCreateDevSecret(dataDir, 'jwt-dev-secret', () => randomBytes(32).toString('base64url'))
