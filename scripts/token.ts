// `npm run token -- --sub jdoe --role records_clerk [--role auditor] [--expires 8h]`
// Prints a development (HS256) token the service accepts: it uses the same JWT_SECRET, or the
// secret generated in DATA_DIR on first start.
import { createSigner } from 'fast-jwt'
import { loadConfigOrExit } from '../src/cli.js'
import { ROLES } from '../src/plugins/auth.js'
import { cliArgs } from '../src/cli-args.js'

const USAGE = `usage: npm run token -- --sub <user> --role <${ROLES.join('|')}> [--role ...] [--expires 8h]

Prints a development (HS256) token the service accepts, signed with JWT_SECRET or the secret
generated in DATA_DIR. --role may be repeated; --expires takes a duration such as 30m, 8h, 7d.`
const { values } = cliArgs(USAGE, {
  options: {
    sub: { type: 'string' },
    role: { type: 'string', multiple: true, default: [] },
    expires: { type: 'string', default: '8h' },
  },
})
const unknown = values.role.filter((r) => !(ROLES as readonly string[]).includes(r))
if (!values.sub || values.role.length === 0 || unknown.length > 0) {
  console.error(USAGE)
  if (unknown.length) console.error(`unknown role(s): ${unknown.join(', ')}`)
  process.exit(2)
}
const config = loadConfigOrExit()
if (config.jwt.verification.mode !== 'hs256') {
  console.error('npm run token mints development tokens only; this configuration verifies tokens from an identity provider.')
  process.exit(2)
}
const sign = createSigner({
  key: config.jwt.verification.secret,
  algorithm: 'HS256',
  iss: config.jwt.issuer,
  aud: config.jwt.audience,
  expiresIn: values.expires,
})
console.log(sign({ sub: values.sub, roles: values.role }))
