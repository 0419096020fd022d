// Summaries of V8 CPU profiles (`node --cpu-prof`): where a process spent its busy time, by
// package or source file (self time) and by function (self and inclusive time).
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount?: number
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  /** Milliseconds of samples that were not (idle). */
  busyMs: number
  totalMs: number
  /** Self time by package (node_modules/<name>), project file, `node:` internals or V8 pseudo-frame. */
  byCategory: Array<{ name: string; ms: number }>
  /** Top functions by self time. */
  bySelf: Array<{ name: string; ms: number }>
  /** Inclusive (self + callees, synchronous part only) time of every function. */
  inclusive: Map<string, number>
}

function category(url: string, functionName: string, root: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  if (url.startsWith('node:')) return 'node: internals'
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = path.slice(nm + 14).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  return relative(root, path)
}

function frameName(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame
  if (url === '') return functionName || '(anonymous)'
  return `${functionName || '(anonymous)'} ${category(url, functionName, root)}:${lineNumber + 1}`
}

export function summarizeProfile(file: string, projectRoot: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  const self = new Map<string, number>()
  const cats = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let busy = 0
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)
    // timeDeltas[i] is the time since the previous sample: attributed to the next sample's frame.
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000
    if (!node) continue
    total += dt
    if (node.callFrame.functionName === '(idle)') continue
    busy += dt
    const name = frameName(node, projectRoot)
    self.set(name, (self.get(name) ?? 0) + dt)
    const cat = category(node.callFrame.url, node.callFrame.functionName, projectRoot)
    cats.set(cat, (cats.get(cat) ?? 0) + dt)
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!
      const key = frameName(frame, projectRoot)
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt)
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms)
  return { busyMs: busy, totalMs: total, byCategory: sorted(cats), bySelf: sorted(self).slice(0, top), inclusive }
}

/** Inclusive time of the functions whose name (before the location) is one of `names`, summed per name. */
export function inclusiveOf(summary: ProfileSummary, names: readonly string[]): Array<{ name: string; ms: number }> {
  return names.map((name) => {
    let ms = 0
    for (const [key, value] of summary.inclusive) if (key === name || key.startsWith(`${name} `)) ms = Math.max(ms, value)
    return { name, ms }
  })
}
