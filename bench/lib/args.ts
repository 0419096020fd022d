// Command-line flags with environment fallbacks: `--name value`, `--name=value` or `--flag`;
// the environment variable BENCH_<NAME> (upper case, dashes as underscores) is used otherwise.

export class Args {
  /** Flags read by a shared module rather than by the benchmark (bench/lib/db.ts: --embedded). */
  static readonly #everywhere = new Set<string>()

  /** Makes `name` known to every benchmark that loads the module calling this. */
  static acceptEverywhere(name: string): void {
    Args.#everywhere.add(name)
  }

  readonly #values = new Map<string, string>()

  constructor(argv: readonly string[] = process.argv.slice(2)) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!
      if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)} (flags look like --name value)`)
      const eq = arg.indexOf('=')
      if (eq > 0) {
        this.#values.set(arg.slice(2, eq), arg.slice(eq + 1))
      } else {
        const next = argv[i + 1]
        if (next !== undefined && !next.startsWith('--')) {
          this.#values.set(arg.slice(2), next)
          i++
        } else {
          this.#values.set(arg.slice(2), 'true')
        }
      }
    }
  }

  #raw(name: string): string | undefined {
    return this.#values.get(name) ?? process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`]
  }

  flag(name: string): boolean {
    const v = this.#raw(name)
    return v !== undefined && v !== '' && v !== '0' && v !== 'false'
  }

  number(name: string, fallback: number): number {
    const v = this.#raw(name)
    if (v === undefined || v === '') return fallback
    const n = Number(v.replace(/[_,]/g, ''))
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(v)}`)
    return n
  }

  string(name: string, fallback: string): string {
    const v = this.#raw(name)
    return v === undefined || v === '' ? fallback : v
  }

  /** Exits 2 naming the flags given that are not in `known`, so a typo never runs the default benchmark. */
  exitOnUnknown(known: readonly string[]): void {
    const all = [...known, ...Args.#everywhere]
    const unknown = this.unknown(all)
    if (unknown.length === 0) return
    console.error(`unknown option(s): ${unknown.map((f) => `--${f}`).join(', ')}; known: ${all.map((f) => `--${f}`).join(' ')}`)
    process.exit(2)
  }

  /** Flags given that are not in `known` (typos should not silently run the default benchmark). */
  private unknown(known: readonly string[]): string[] {
    return [...this.#values.keys()].filter((k) => !known.includes(k))
  }
}
