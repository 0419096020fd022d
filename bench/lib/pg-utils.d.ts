// pg's own parameter serialization (pg/lib/utils.js, untyped in @types/pg): bench/ingest-storage.ts
// records statements with their values as pg sends them.
declare module 'pg/lib/utils.js' {
  export function prepareValue(value: unknown): unknown
}
