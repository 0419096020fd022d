// `npm run docs:config` rewrites the configuration reference in docs/operations.md from the zod
// schema; `-- --check` exits 1 when the committed document is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { withConfigReference } from '../src/config-doc.js'
import { PROJECT_ROOT } from '../src/paths.js'
import { cliArgs } from '../src/cli-args.js'

const { values } = cliArgs('usage: npm run docs:config [-- --check]\n\nRewrites the configuration reference in docs/operations.md from src/config.ts; --check exits 1 when it is stale.', {
  options: { check: { type: 'boolean', default: false } },
})
const path = join(PROJECT_ROOT, 'docs', 'operations.md')
const current = readFileSync(path, 'utf8')
const generated = withConfigReference(current)
if (values.check) {
  if (generated !== current) {
    console.error(`${path}: the configuration reference is stale; run npm run docs:config and commit the result.`)
    process.exit(1)
  }
  console.log(`${path}: the configuration reference is current`)
} else {
  writeFileSync(path, generated)
  console.log(`wrote the configuration reference in ${path}`)
}
