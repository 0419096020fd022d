import { parseArgs, type ParseArgsConfig } from 'node:util'

/**
 * The arguments of a command-line script (scripts/*.ts): `--help` (or `-h`) prints the usage and
 * exits 0; an unknown option or a malformed one prints what is wrong and the usage, and exits 2
 * (the usage-error code every script uses). Never a stack trace.
 */
export function cliArgs<T extends ParseArgsConfig>(usage: string, config: T, argv: string[] = process.argv.slice(2)): ReturnType<typeof parseArgs<T>> {
  const text = usage.trimEnd()
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${text}\n`)
    process.exit(0)
  }
  try {
    return parseArgs({ ...config, args: argv, strict: true }) as ReturnType<typeof parseArgs<T>>
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${text}\n`)
    process.exit(2)
  }
}
