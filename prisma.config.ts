import { defineConfig, env } from 'prisma/config'

// Migrations are plain SQL in Prisma's layout, applied by `npm run db:migrate` (src/db/migrate.ts)
// because the Prisma CLI's native schema engine cannot be downloaded here (docs/migrations.md).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: env('DATABASE_URL') },
})
