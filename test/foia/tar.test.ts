import { execFileSync } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { extractTar, TarFormatError, writeTar } from '../../src/foia/tar.js'

const fresh = () => mkdtempSync(join(tmpdir(), 'townsquare-tar-'))

t.test('what writeTar writes, tar(1) and extractTar read back byte for byte', async (t) => {
  const src = fresh()
  const files = [
    { name: 'empty.txt', content: Buffer.alloc(0) },
    { name: 'block.bin', content: Buffer.alloc(512, 7) },
    { name: 'records.jsonl', content: Buffer.from('{"text":"café 🚲"}\n'.repeat(1000)) },
  ]
  for (const f of files) writeFileSync(join(src, f.name), f.content)
  const archive = join(src, 'out.tar')
  await writeTar(createWriteStream(archive), files.map((f) => ({ name: f.name, path: join(src, f.name), size: f.content.length })), new Date('2026-11-24T09:00:00Z'))
  t.equal(readFileSync(archive).length % 512, 0)

  const listed = execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' })
  t.match(listed, /records\.jsonl/)
  const byTar = fresh()
  execFileSync('tar', ['-xf', archive, '-C', byTar])
  const ours = fresh()
  t.same(await extractTar(archive, ours), files.map((f) => f.name))
  for (const f of files) {
    t.same(readFileSync(join(byTar, f.name)), f.content, `tar(1) reads ${f.name}`)
    t.same(readFileSync(join(ours, f.name)), f.content, `extractTar reads ${f.name}`)
  }
})

t.test('extractTar refuses a damaged header, links and paths', async (t) => {
  const src = fresh()
  writeFileSync(join(src, 'a.txt'), 'hello')
  const archive = join(src, 'a.tar')
  await writeTar(createWriteStream(archive), [{ name: 'a.txt', path: join(src, 'a.txt'), size: 5 }], new Date(0))
  const bytes = readFileSync(archive)
  const damaged = Buffer.from(bytes)
  damaged[0] = 'b'.charCodeAt(0)
  writeFileSync(join(src, 'damaged.tar'), damaged)
  await t.rejects(extractTar(join(src, 'damaged.tar'), fresh()), TarFormatError, 'a changed header byte fails the checksum')

  const nested = fresh()
  mkdirSync(join(nested, 'sub'))
  writeFileSync(join(nested, 'sub', 'x.txt'), 'x')
  execFileSync('tar', ['-cf', join(nested, 'paths.tar'), '-C', nested, 'sub'])
  await t.rejects(extractTar(join(nested, 'paths.tar'), fresh()), /only plain files|unsupported file name/)
  await t.rejects(extractTar(join(src, 'a.txt'), fresh()), TarFormatError, 'not an archive')
})
