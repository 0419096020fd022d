import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { PROJECT_ROOT } from '../../src/paths.js'

const run = promisify(execFile)
const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx')
const SCRIPTS = ['token', 'verify', 'ledger-export', 'ledger-reconcile', 'demo', 'docs-config', 'openapi', 'seed', 'ledger-format2-vectors']

async function outcome(script: string, arg: string) {
  return run(tsx, [`scripts/${script}.ts`, arg], { cwd: PROJECT_ROOT, env: { ...process.env, NODE_ENV: 'development' } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )
}

t.test('every script prints its usage on --help (exit 0) and on an unknown flag (exit 2), never a stack trace', async (t) => {
  for (const script of SCRIPTS) {
    const help = await outcome(script, '--help')
    t.equal(help.code, 0, `${script} --help exits 0`)
    t.match(help.stdout, /^usage: /, `${script} --help prints the usage`)
    const bogus = await outcome(script, '--no-such-flag')
    t.equal(bogus.code, 2, `${script} --no-such-flag exits 2`)
    t.match(bogus.stderr, /Unknown option '--no-such-flag'[\s\S]*usage: /, `${script}: what is wrong, then the usage`)
    t.notMatch(bogus.stderr, /\n\s+at /, `${script}: no stack trace`)
  }
  const tests = await outcome('test', '--help')
  t.equal(tests.code, 0)
  t.match(tests.stdout, /^usage: npm run test:only/)
})
