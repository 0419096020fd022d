// `npm start`: build when the sources changed since the last build (scripts/build.mjs), then run
// the server in this same process, so the signals npm start receives are the server's own.
import { buildIfStale } from './build.mjs'

buildIfStale()
await import('../dist/src/server.js')
