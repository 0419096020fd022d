import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { EnvSchema } from '../../src/config.js'
import { withConfigReference } from '../../src/config-doc.js'
import { PROJECT_ROOT } from '../../src/paths.js'

t.test('docs/operations.md holds the configuration reference generated from the schema', async (t) => {
  const document = readFileSync(join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8')
  t.equal(document, withConfigReference(document), 'stale: run npm run docs:config and commit docs/operations.md')
})

t.test('.env.example lists every variable', async (t) => {
  const example = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8')
  const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]))
  t.same(Object.keys(EnvSchema.shape).filter((name) => !listed.has(name)), [], 'missing from .env.example')
})
