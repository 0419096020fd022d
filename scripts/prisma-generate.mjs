// Generates the Prisma client without the Prisma download site (see ENVIRONMENT.md):
// `prisma generate` only needs PRISMA_SCHEMA_ENGINE_BINARY to name an existing file so that it
// skips fetching the native schema engine, which generate never runs.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const env = { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' }
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath
}
// prisma.config.ts reads DATABASE_URL through env(); generate never connects.
env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/townsquare'

const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { env, stdio: 'inherit' })
process.exit(result.status ?? 1)
