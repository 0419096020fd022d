// `npm run openapi` writes openapi/openapi.json from the route schemas;
// `npm run openapi -- --check` exits 1 when the committed document is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { generateOpenApi, OPENAPI_PATH } from '../src/plugins/openapi-document.js'
import { cliArgs } from '../src/cli-args.js'

const { values } = cliArgs('usage: npm run openapi [-- --check] [--file <path>]\n\nWrites openapi/openapi.json from the route schemas; --check exits 1 when the committed document (or --file) is stale.', {
  options: { check: { type: 'boolean', default: false }, file: { type: 'string', default: OPENAPI_PATH } },
})
const generated = await generateOpenApi()
if (values.check) {
  const committed = readFileSync(values.file, 'utf8')
  if (committed !== generated) {
    console.error(`${values.file} is stale: run npm run openapi and commit the result.`)
    process.exit(1)
  }
  console.log(`${values.file} is current`)
} else {
  writeFileSync(values.file, generated)
  console.log(`wrote ${values.file}`)
}
