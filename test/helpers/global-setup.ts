// tap runs this once before the test files (package.json "tap.before"): building the migrated
// template here keeps parallel test files from racing to build it.
import { ensureTemplate } from './db.js'

const name = await ensureTemplate()
console.log(`# test template database: ${name}`)
