import { createReadStream, createWriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { once } from 'node:events'
import type { Hash } from 'node:crypto'
import type { Writable } from 'node:stream'

/**
 * A minimal POSIX ustar (IEEE Std 1003.1-1988 "ustar" interchange format) writer and reader for
 * production archives: regular files with short flat names only. Every tar tool reads what this
 * writes, the writer streams each file from disk (memory does not grow with its size), and the
 * reader refuses anything but plain files, so an archive can never write outside its directory.
 */

const BLOCK = 512
const NAME = /^[A-Za-z0-9._-]{1,100}$/

function octal(value: number, width: number): string {
  // width - 1 octal digits and a NUL, as ustar writes numeric fields.
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

/** The 512-byte header of a regular file. */
export function tarHeader(name: string, size: number, mtime: Date): Buffer {
  if (!NAME.test(name)) throw new Error(`tar: unsupported file name ${JSON.stringify(name)}`)
  if (size >= 8 ** 11) throw new Error(`tar: ${name} is too large for a ustar header`)
  const h = Buffer.alloc(BLOCK)
  h.write(name, 0, 100, 'utf8')
  h.write(octal(0o644, 8), 100, 'ascii') // mode
  h.write(octal(0, 8), 108, 'ascii') // uid
  h.write(octal(0, 8), 116, 'ascii') // gid
  h.write(octal(size, 12), 124, 'ascii')
  h.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, 'ascii')
  h.write('        ', 148, 'ascii') // checksum counted as spaces
  h.write('0', 156, 'ascii') // typeflag: regular file
  h.write('ustar\0', 257, 'ascii')
  h.write('00', 263, 'ascii')
  h.write('townsquare', 265, 'ascii') // uname
  h.write('townsquare', 297, 'ascii') // gname
  let sum = 0
  for (const byte of h) sum += byte
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii')
  return h
}

async function write(out: Writable, chunk: Buffer): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain')
}

/**
 * Writes a tar of the given files (name in the archive, path on disk, size) to `out`, then ends it.
 * Returns the archive's size; `hash` (if given) is fed every byte written.
 */
export async function writeTar(out: Writable, files: ReadonlyArray<{ name: string; path: string; size: number }>, mtime: Date, hash?: Hash): Promise<number> {
  let total = 0
  const write = async (o: Writable, chunk: Buffer) => {
    hash?.update(chunk)
    total += chunk.length
    if (!o.write(chunk)) await once(o, 'drain')
  }
  for (const file of files) {
    await write(out, tarHeader(file.name, file.size, mtime))
    let written = 0
    for await (const chunk of createReadStream(file.path)) {
      written += (chunk as Buffer).length
      await write(out, chunk as Buffer)
    }
    if (written !== file.size) throw new Error(`tar: ${file.name} changed while being archived`)
    const pad = (BLOCK - (file.size % BLOCK)) % BLOCK
    if (pad) await write(out, Buffer.alloc(pad))
  }
  await write(out, Buffer.alloc(2 * BLOCK)) // end of archive: two zero blocks
  out.end()
  await once(out, 'finish')
  return total
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TarFormatError'
  }
}

function field(h: Buffer, start: number, length: number): string {
  const raw = h.subarray(start, start + length)
  const end = raw.indexOf(0)
  return raw.subarray(0, end === -1 ? length : end).toString('utf8')
}

/** Where each member of an archive lies: its header's offset and its size; `end` is where the end-of-archive blocks start. */
export interface TarLayout {
  members: Array<{ name: string; header: number; size: number }>
  end: number
}

/**
 * Extracts the regular files of a ustar archive into `dir` (which must exist), checking every
 * header's checksum. Refuses links, directories, paths and duplicate names. Returns the names.
 */
export async function extractTar(archive: string, dir: string): Promise<string[]> {
  return (await readTar(archive, dir, false)).members.map((m) => m.name)
}

/**
 * extractTar for an archive this module wrote, refusing every byte it would not have written:
 * each header must be exactly tarHeader's for its name, size and the archive's one time, every
 * padding byte zero, and the archive must end with exactly two zero blocks. So every byte of the
 * archive is fixed by the files' names and contents and one time (a production covers them all).
 */
export async function extractCanonicalTar(archive: string, dir: string): Promise<TarLayout> {
  return readTar(archive, dir, true)
}

async function readTar(archive: string, dir: string, canonical: boolean): Promise<TarLayout> {
  const handle = await open(archive, 'r')
  const members: TarLayout['members'] = []
  const names: string[] = []
  let mtime: number | null = null
  try {
    const { size: total } = await handle.stat()
    const header = Buffer.alloc(BLOCK)
    for (let pos = 0; ; ) {
      if (pos + BLOCK > total) throw new TarFormatError('the archive ends without its end-of-archive blocks')
      await handle.read(header, 0, BLOCK, pos)
      if (header.every((b) => b === 0)) {
        if (canonical) {
          const rest = Buffer.alloc(total - pos)
          await handle.read(rest, 0, rest.length, pos)
          if (rest.length !== 2 * BLOCK || !rest.every((b) => b === 0)) {
            throw new TarFormatError(`the archive must end with exactly two zero blocks at byte ${pos}: ${rest.length} byte(s) follow, ${rest.filter((b) => b !== 0).length} not zero`)
          }
        }
        return { members, end: pos }
      }
      let sum = 0
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!
      const recorded = parseInt(field(header, 148, 8).trim(), 8)
      if (recorded !== sum) throw new TarFormatError(`header at byte ${pos} has checksum ${recorded}, computed ${sum}`)
      const name = field(header, 0, 100)
      const type = String.fromCharCode(header[156]!)
      if ((type !== '0' && type !== '\0') || field(header, 345, 155) !== '') throw new TarFormatError(`${name}: only plain files are allowed`)
      if (!NAME.test(name) || name === '.' || name === '..') throw new TarFormatError(`${JSON.stringify(name)}: unsupported file name`)
      if (names.includes(name)) throw new TarFormatError(`${name} appears twice`)
      const size = parseInt(field(header, 124, 12).trim(), 8)
      if (!Number.isSafeInteger(size) || size < 0 || pos + BLOCK + size > total) throw new TarFormatError(`${name}: size ${size} runs past the end of the archive`)
      if (canonical) {
        const time = parseInt(field(header, 136, 12).trim(), 8)
        mtime ??= time
        if (!Number.isSafeInteger(time) || time !== mtime || !tarHeader(name, size, new Date(time * 1000)).equals(header)) {
          throw new TarFormatError(`${name}: its header at byte ${pos} is not the one this archive's writer makes`)
        }
      }
      names.push(name)
      members.push({ name, header: pos, size })
      const out = createWriteStream(`${dir}/${name}`, { flags: 'wx' })
      const buffer = Buffer.alloc(64 * 1024)
      for (let done = 0; done < size; ) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - done), pos + BLOCK + done)
        if (bytesRead === 0) throw new TarFormatError(`${name} is truncated`)
        await write(out, Buffer.from(buffer.subarray(0, bytesRead)))
        done += bytesRead
      }
      out.end()
      await once(out, 'finish')
      const padding = Math.ceil(size / BLOCK) * BLOCK - size
      if (canonical && padding > 0) {
        const pad = Buffer.alloc(padding)
        const { bytesRead } = await handle.read(pad, 0, padding, pos + BLOCK + size)
        if (bytesRead !== padding || !pad.every((b) => b === 0)) throw new TarFormatError(`${name}: the padding after it (byte ${pos + BLOCK + size}) is not all zeros`)
      }
      pos += BLOCK + Math.ceil(size / BLOCK) * BLOCK
    }
  } finally {
    await handle.close()
  }
}
