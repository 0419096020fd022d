import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { generateOpenApi, OPENAPI_PATH } from '../../src/plugins/openapi-document.js'
import { PROJECT_ROOT } from '../../src/paths.js'
import { testApp } from '../helpers/app.js'

const run = promisify(execFile)

t.test('the committed OpenAPI document is the one the routes generate', async (t) => {
  const generated = await generateOpenApi()
  t.equal(readFileSync(OPENAPI_PATH, 'utf8'), generated, 'run `npm run openapi` and commit openapi/openapi.json')
  const doc = JSON.parse(generated)
  t.equal(doc.openapi, '3.1.0')
  t.ok(doc.paths['/readyz'], 'documents the routes')
})

t.test('the drift check fails on a stale document and passes on a current one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'townsquare-openapi-'))
  const stale = join(dir, 'stale.json')
  const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'))
  delete doc.paths['/readyz']
  writeFileSync(stale, JSON.stringify(doc, null, 2) + '\n')
  const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx')
  const failed = await run(tsx, ['scripts/openapi.ts', '--check', '--file', stale], { cwd: PROJECT_ROOT }).then(
    () => null,
    (error: { code: number; stderr: string }) => error,
  )
  t.ok(failed, 'the check exits non-zero')
  t.equal(failed?.code, 1)
  t.match(failed?.stderr, /is stale: run npm run openapi/)
  const ok = await run(tsx, ['scripts/openapi.ts', '--check'], { cwd: PROJECT_ROOT })
  t.match(ok.stdout, /is current/)
})

t.test('the document and its viewer are served', async (t) => {
  const { app } = await testApp(t)
  const res = await app.inject('/openapi.json')
  t.equal(res.statusCode, 200)
  t.equal(res.json().openapi, '3.1.0')
  const docs = await app.inject('/docs/')
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-type'], /text\/html/)
})

t.test('every operation has a summary and a description', async (t) => {
  const doc = JSON.parse(await generateOpenApi())
  const missing: string[] = []
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { summary?: string; description?: string }>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue
      if (!op.summary?.trim() || !op.description?.trim()) missing.push(`${method.toUpperCase()} ${path}`)
    }
  }
  t.same(missing, [], 'add a summary and a description to these routes')
})

t.test('every list answers the same envelope: { items, nextCursor }', async (t) => {
  const doc = JSON.parse(await generateOpenApi())
  const schemas = doc.components?.schemas ?? {}
  const resolve = (s: Record<string, unknown>): Record<string, unknown> => ('$ref' in s ? resolve(schemas[String(s.$ref).split('/').pop()!]) : s)
  const outliers: string[] = []
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }> }>>)) {
    for (const [method, op] of Object.entries(item)) {
      const schema = op.responses?.['200']?.content?.['application/json']?.schema
      if (!schema) continue
      const s = resolve(schema)
      const props = (s.properties ?? {}) as Record<string, unknown>
      if (s.type === 'array' || ('items' in props && !('nextCursor' in props))) outliers.push(`${method.toUpperCase()} ${path}`)
    }
  }
  t.same(outliers, [], 'lists that answer a bare array, or items without nextCursor')
})

t.test('every policyVersionId in a response has its policyVersion number beside it', async (t) => {
  const doc = JSON.parse(await generateOpenApi())
  const missing: string[] = []
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${at}[${i}]`))
    if (typeof node !== 'object' || node === null) return
    const props = (node as { properties?: Record<string, unknown> }).properties
    if (props && 'policyVersionId' in props && !('policyVersion' in props)) missing.push(at)
    for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`)
  }
  walk(doc, '')
  t.same(missing, [])
})
