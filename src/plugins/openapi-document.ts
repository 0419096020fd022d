import { join } from 'node:path'
import { buildApp } from '../app.js'
import { DEFAULT_DATABASE_URL, loadConfig, resolveDatabase } from '../config.js'
import { PROJECT_ROOT } from '../paths.js'

export const OPENAPI_PATH = join(PROJECT_ROOT, 'openapi', 'openapi.json')

/**
 * The OpenAPI document exactly as committed: built from a throwaway app instance (no database
 * connection is opened) with a fixed configuration, so its text depends on the routes alone.
 */
export async function generateOpenApi(): Promise<string> {
  const app = await buildApp(
    resolveDatabase(
      loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: DEFAULT_DATABASE_URL,
        JWT_SECRET: 'openapi-generation-only-secret-000000',
        JOBS: 'off',
        LEDGER_SEALER: 'off',
      }),
    ),
  )
  try {
    await app.ready()
    return JSON.stringify(app.swagger(), null, 2) + '\n'
  } finally {
    await app.close()
  }
}
