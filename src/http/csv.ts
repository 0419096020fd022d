// RFC 4180: quote every field, double the quotes inside; a leading formula character is defused
// because these files are opened in spreadsheets.
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return `"${safe.replace(/"/g, '""')}"`
}

/** Rows joined with CRLF, a header first. */
export function csv(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>): string {
  return [columns, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n'
}
