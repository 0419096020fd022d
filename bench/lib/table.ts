// Plain-text tables for benchmark output (monospace, no dependencies).

export type Row = readonly string[]

/** Renders rows under a header with column widths fitted to the content. */
export function renderTable(header: Row, rows: readonly Row[], options: { rightAlign?: readonly number[] } = {}): string {
  const right = new Set(options.rightAlign ?? [])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: Row) =>
    '| ' +
    widths
      .map((w, i) => {
        const cell = cells[i] ?? ''
        return right.has(i) ? cell.padStart(w) : cell.padEnd(w)
      })
      .join(' | ') +
    ' |'
  const rule = '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|'
  return [line(header), rule, ...rows.map(line)].join('\n')
}
