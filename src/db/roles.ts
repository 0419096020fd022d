// The database roles of README "Database roles": the owner applies migrations, the service runs
// as a login role whose only rights are the NOLOGIN group role townsquare_runtime's
// (docs/operations.md lists what each may do).
import pg from 'pg'

/**
 * Makes `login` a login role whose only rights are townsquare_runtime's, creating the group role
 * when the migrations have not yet (they create it the same way, only when missing).
 */
export async function ensureRuntimeLogin(ownerUrl: string, login: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl })
  await client.connect()
  try {
    // Roles are cluster-wide: several test files or instances may race to create them.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['townsquare roles'])
    await client.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'townsquare_runtime') THEN CREATE ROLE townsquare_runtime NOLOGIN; END IF;
    END $$`)
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [login])
    const name = pg.escapeIdentifier(login)
    const literal = pg.escapeLiteral(password)
    if (!exists.rowCount) await client.query(`CREATE ROLE ${name} LOGIN PASSWORD ${literal} NOSUPERUSER NOCREATEDB NOCREATEROLE IN ROLE townsquare_runtime`)
    else await client.query(`ALTER ROLE ${name} LOGIN PASSWORD ${literal}`)
    await client.query(`GRANT townsquare_runtime TO ${name}`)
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['townsquare roles']).catch(() => {})
    await client.end()
  }
}
