import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseCronItems } from 'graphile-worker'
import { z } from 'zod'
import type { PlatformApiConfig } from './moderation/platform-clients.js'
import { holidayCalendar } from './foia/business-days.js'
import type { MailConfig } from './mail/send.js'
import { PROJECT_ROOT } from './paths.js'
import { ROLES } from './plugins/auth.js'

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/townsquare'

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value)
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional())
/** The placeholder origin of development and tests; production refuses it. */
export const PLACEHOLDER_LEDGER_ORIGIN = 'townsquare.invalid/ledger'
const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/
/** Milliseconds from a whole number of ms or an ISO 8601 duration of days, hours, minutes, seconds (PT1H, P1D, PT30M). */
export function parseDurationMs(value: string): number | null {
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const m = ISO_DURATION.exec(text)
  if (!m || text === 'P' || text.endsWith('T')) return null
  const [d, h, min, sec] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number]
  return (((d * 24 + h) * 60 + min) * 60 + sec) * 1000
}
/** A cron pattern graphile-worker's crontab accepts (five fields, UTC). */
const validCron = (pattern: string) => {
  try {
    parseCronItems([{ task: 'check', match: pattern }])
    return true
  } catch {
    return false
  }
}
/** The 32 bytes of CONNECTION_CREDENTIALS_KEY (64 hex digits or base64), or null when it is not 32 bytes. */
export function connectionKeyBytes(value: string): Buffer | null {
  const text = value.trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : null
  return bytes !== null && bytes.length === 32 ? bytes : null
}
const validTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
/** A zod field for an ISO 8601 duration (or ms) within bounds, as milliseconds. */
const durationField = (fallback: string, minMs: number, maxMs: number, range: string) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default(fallback)
      .transform((value, ctx) => {
        const ms = parseDurationMs(value)
        if (ms === null || ms < minMs || ms > maxMs) {
          ctx.addIssue({ code: 'custom', message: `milliseconds or an ISO 8601 duration (e.g. PT30M, PT12H), ${range}` })
          return z.NEVER
        }
        return ms
      }),
  )
/**
 * The whole environment of the service. Each key is documented here (`describe`) and in
 * `.env.example`; the reference in docs/operations.md is generated from this schema (npm run docs:config).
 */
export const EnvSchema = z
  .object({
    NODE_ENV: z
      .preprocess(emptyAsUndefined, z.enum(['development', 'test', 'production']).default('development'))
      .describe('development, test or production. Production refuses development conveniences (generated secrets).'),
    HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')).describe('Interface to listen on.'),
    PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(3000)).describe('TCP port to listen on.'),
    LOG_LEVEL: z
      .preprocess(emptyAsUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
      .describe('pino log level.'),
    DATABASE_URL: z
      .preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional())
      .describe(
        'PostgreSQL connection URL used by the running service (may be the restricted runtime role), e.g. ' +
          DEFAULT_DATABASE_URL +
          '. Unset: an embedded PostgreSQL server in EMBEDDED_DATA_DIR (same engine, one machine, no backups: for evaluation); required in production.',
      ),
    MIGRATION_DATABASE_URL: z
      .preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional())
      .describe('PostgreSQL URL of the role that owns the schema and applies migrations. Defaults to DATABASE_URL.'),
    DATABASE_POOL_SIZE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(200).default(10)).describe('Connections in the pg pool.'),
    DATA_DIR: z
      .preprocess(emptyAsUndefined, z.string().default('.data'))
      .describe('Directory for local state outside the repository (development secrets and keys, the embedded database).'),
    EMBEDDED_DATA_DIR: optionalString.describe('Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset. Default: DATA_DIR/embedded.'),
    EMBEDDED_PORT: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(0))
      .describe('Loopback port of the embedded PostgreSQL when DATABASE_URL is unset. 0: a free port chosen at each start.'),
    JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'must be at least 32 characters').optional()).describe('HS256 secret for development tokens (at least 32 characters). Not allowed in production.'),
    JWT_PUBLIC_KEY: optionalString.describe('PEM public key (RSA or EC P-256) that verifies RS256/ES256 tokens in production.'),
    JWT_JWKS_URL: z.preprocess(emptyAsUndefined, z.url().optional()).describe('JWKS URL of the identity provider (RS256/ES256).'),
    JWT_ISSUER: optionalString.describe('Required `iss` claim. Required in production; development default townsquare-dev.'),
    JWT_AUDIENCE: optionalString.describe('Required `aud` claim. Required in production; development default townsquare.'),
    BODY_LIMIT_BYTES: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(1024).default(1_048_576))
      .describe('Largest request body accepted on JSON routes, in bytes.'),
    TRUST_PROXY: z
      .preprocess(
        emptyAsUndefined,
        z
          .string()
          .regex(/^(true|false|[0-9]{1,2}|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/, 'true, false, a number of proxies, or proxy addresses/CIDRs separated by commas')
          .optional(),
      )
      .describe(
        'Reverse proxies in front of the service whose X-Forwarded-For is trusted: false (none), true or 1 (one: the client is the address the proxy added), ' +
          'a number of proxies, or their addresses or CIDRs separated by commas. Never "all": a client could then choose its own address.',
      ),
    LEDGER_ORIGIN: z
      .preprocess(emptyAsUndefined, z.string().regex(/^[^\s+]+$/, 'no spaces or "+"').default(PLACEHOLDER_LEDGER_ORIGIN))
      .describe(
        `Name of this ledger in signed checkpoints (origin line and key name), e.g. townsquare.kankakee.gov/ledger. Production refuses the placeholder ${PLACEHOLDER_LEDGER_ORIGIN}.`,
      ),
    LEDGER_SIGNING_KEY: optionalString.describe(
      'Ed25519 private key (PKCS#8 PEM, "\\n" escapes allowed) that signs checkpoints. Development: generated in DATA_DIR; required in production.',
    ),
    LEDGER_PREVIOUS_SIGNING_KEY: optionalString.describe(
      'During a key rotation only: the previous Ed25519 private key (PKCS#8 PEM, "\\n" escapes allowed), which co-signs the first checkpoint under LEDGER_SIGNING_KEY ' +
        '(the endorsement verifiers follow; docs/ledger.md "Key rotation"). Remove it once that checkpoint is issued.',
    ),
    LEDGER_MAX_CHECKPOINT_AGE: z
      .preprocess(
        emptyAsUndefined,
        z
          .string()
          .default('PT1H')
          .transform((value, ctx) => {
            const ms = parseDurationMs(value)
            if (ms === null || ms < 1000 || ms > 7 * 86_400_000) {
              ctx.addIssue({ code: 'custom', message: 'milliseconds or an ISO 8601 duration (e.g. PT1H, PT15M, P1D), from 1 second to 7 days' })
              return z.NEVER
            }
            return ms
          }),
      )
      .describe(
        'Longest time without a new signed checkpoint: when nothing was appended, the sealer signs the same tree again with a newer time, so a frozen log shows. ' +
          'Milliseconds or an ISO 8601 duration (PT1H, PT15M, P1D).',
      ),
    LEDGER_CHECKPOINT_INTERVAL_MS: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(50).max(60_000).default(1000))
      .describe('How often the sealer seals committed entries and signs a checkpoint while there are new ones (ms).'),
    LEDGER_SEALER: z
      .preprocess(emptyAsUndefined, z.enum(['on', 'off']).default('on'))
      .describe('Run the sealer in this instance (one instance seals at a time, chosen by an advisory lock).'),
    META_APP_SECRET: optionalString.describe('Meta app secret: verifies X-Hub-Signature-256 on /v1/webhooks/meta. Unset: the route answers 404.'),
    META_VERIFY_TOKEN: optionalString.describe('The verify token entered in the Meta app dashboard, echoed back in the subscription handshake.'),
    X_CONSUMER_SECRET: optionalString.describe('X app consumer secret: CRC responses and x-twitter-webhooks-signature. Unset: /v1/webhooks/x answers 404.'),
    LINKEDIN_CLIENT_SECRET: optionalString.describe('LinkedIn app client secret: challenge responses and X-LI-Signature. Unset: /v1/webhooks/linkedin answers 404.'),
    WEBSITE_WEBHOOK_SECRET: optionalString.describe('Shared secret of the city website (Townsquare-Signature). Unset: /v1/webhooks/website answers 404.'),
    WEBHOOK_BODY_LIMIT_BYTES: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(1024).default(4 * 1_048_576))
      .describe('Largest webhook delivery accepted, in bytes (Meta batches up to 1,000 changes); larger ones get 413.'),
    INGEST_WRITERS: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(50).default(2))
      .describe('Transactions that store webhook deliveries at once; deliveries arriving meanwhile wait and are stored together in the next one (group commit). Each holds a pool connection.'),
    INGEST_GROUP_MAX_EVENTS: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(100_000).default(2000))
      .describe('Most comment events stored in one group-commit transaction (a bigger delivery is a group of its own).'),
    FACEBOOK_GRAPH_URL: z.preprocess(emptyAsUndefined, z.url().default('https://graph.facebook.com/v21.0')).describe('Graph API base URL for acting on Facebook comments.'),
    FACEBOOK_PAGE_ID: optionalString.describe("The city's Facebook Page id (private replies are sent from it)."),
    FACEBOOK_PAGE_TOKEN: optionalString.describe('Page access token with pages_manage_engagement. Unset: Facebook actions fail and surface in the queue.'),
    INSTAGRAM_GRAPH_URL: z.preprocess(emptyAsUndefined, z.url().default('https://graph.facebook.com/v21.0')).describe('Graph API base URL for Instagram comments.'),
    INSTAGRAM_ACCESS_TOKEN: optionalString.describe('Instagram access token with instagram_manage_comments.'),
    X_API_URL: z.preprocess(emptyAsUndefined, z.url().default('https://api.x.com')).describe('X API base URL.'),
    X_USER_TOKEN: optionalString.describe("OAuth 2 user-context token of the city's X account (hide replies, post replies)."),
    LINKEDIN_API_URL: z.preprocess(emptyAsUndefined, z.url().default('https://api.linkedin.com')).describe('LinkedIn API base URL.'),
    LINKEDIN_ACCESS_TOKEN: optionalString.describe('LinkedIn access token with w_organization_social.'),
    LINKEDIN_ORGANIZATION_URN: optionalString.describe("The city's organization URN, e.g. urn:li:organization:12345."),
    WEBSITE_API_URL: z.preprocess(emptyAsUndefined, z.url().optional()).describe("The city website's moderation API base URL (docs/moderation.md)."),
    WEBSITE_API_TOKEN: optionalString.describe("Bearer token for the city website's moderation API."),
    CONNECTION_CREDENTIALS_KEY: z
      .preprocess(
        emptyAsUndefined,
        z
          .string()
          .refine((v) => connectionKeyBytes(v) !== null, '32 bytes as 64 hexadecimal digits or base64 (openssl rand -base64 32)')
          .optional(),
      )
      .describe(
        'AES-256-GCM key that seals platform credentials managed through the API (/v1/admin/connections): 32 bytes, hex or base64. ' +
          'Unset: connections cannot hold credentials, and the *_TOKEN variables above are the only credentials.',
      ),
    CITY_TIME_ZONE: z
      .preprocess(emptyAsUndefined, z.string().default('America/Chicago').refine(validTimeZone, 'an IANA time zone name, e.g. America/Chicago'))
      .describe("The city's IANA time zone: a plain date in a query (from=2026-12-07) means the start of that day there (README.md, \"Dates in requests\")."),
    SMTP_URL: z
      .preprocess(emptyAsUndefined, z.url({ protocol: /^smtps?$/ }).optional())
      .describe(
        'The relay for e-mailed notices and letters: smtps://user:pass@host:465 (TLS) or smtp://user:pass@host:587 (STARTTLS required, see SMTP_PLAINTEXT); the certificate is always verified. Unset: no e-mail.',
      ),
    SMTP_CA_FILE: optionalString.describe("PEM file of CA certificates trusted for the SMTP relay in addition to the system's (a private relay). Verification cannot be switched off."),
    SMTP_PLAINTEXT: z
      .preprocess(emptyAsUndefined, z.enum(['refuse', 'allow']).default('refuse'))
      .describe('allow: send over smtp:// without STARTTLS when the relay offers none (credentials and messages in clear; only for a relay on the same host). refuse: such a message fails.'),
    NOTICE_FROM_EMAIL: z.preprocess(emptyAsUndefined, z.email().default('no-reply@townsquare.invalid')).describe('From address of e-mailed notices.'),
    MODERATION_CLAIM_MINUTES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(240).default(15)).describe('How long a claim on a review item lasts.'),
    MODERATION_SELF_CORRECTION_MINUTES: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(240).default(10))
      .describe(
        'A moderator may restore their own removal or hide within this many minutes of it, and only while its notice has not reached the author; otherwise another person restores it (0: never). docs/moderation.md, "Who may undo a decision".',
      ),
    APPEAL_REVIEWER: z
      .preprocess(emptyAsUndefined, z.enum(['not-decider', 'not-involved']).default('not-decider'))
      .describe("Who may decide an appeal: not-decider, any tst_admin other than the person who made the decision appealed; not-involved, any tst_admin who made no decision on the comment."),
    NOTICE_CHANNEL_X: z
      .preprocess(emptyAsUndefined, z.enum(['public-reply', 'appeal-page']).default('public-reply'))
      .describe('X cannot message an author: public-reply, a short public reply pointing to the appeal page with the reference; appeal-page, no platform notice (the notice is published under its reference and the decision records that the author was not told).'),
    NOTICE_CHANNEL_LINKEDIN: z
      .preprocess(emptyAsUndefined, z.enum(['public-reply', 'appeal-page']).default('public-reply'))
      .describe('LinkedIn cannot message a commenter: public-reply or appeal-page, as NOTICE_CHANNEL_X.'),
    APPEAL_WINDOW_DAYS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(365).default(30)).describe('How long after a decision its author may appeal.'),
    DISPOSAL_NOTICE_DAYS: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(365).default(30))
      .describe('Days between recording a disposal\'s approval and destroying its records (Local Records Act practice: 30). The database\'s floor (retention_settings, 30 unless its owner lowers it) prevails when longer; docs/retention.md.'),
    CONSOLE: z.preprocess(emptyAsUndefined, z.enum(['on', 'off']).default('on')).describe('Serve the console and the public pages (docs/console.md). The /v1 API is served either way.'),
    CONSOLE_SESSION_IDLE: durationField('PT30M', 60_000, 86_400_000, 'from 1 minute to 1 day').describe(
      'A console session ends after this long without a request (ISO 8601 duration or ms; default PT30M).',
    ),
    CONSOLE_SESSION_MAX: durationField('PT12H', 60_000, 7 * 86_400_000, 'from 1 minute to 7 days').describe(
      'A console session ends this long after sign-in, however active (ISO 8601 duration or ms; default PT12H).',
    ),
    CONSOLE_DEV_SIGN_IN: z
      .preprocess(emptyAsUndefined, z.enum(['on', 'off']).optional())
      .describe('The development sign-in page that picks a role without an identity provider. Default on outside production; refused in production.'),
    CONSOLE_SECURE_COOKIES: z
      .preprocess(emptyAsUndefined, z.enum(['on', 'off']).optional())
      .describe('Mark the session cookie Secure (HTTPS only). Default on in production, off otherwise (so http://localhost works).'),
    OIDC_ISSUER: z.preprocess(emptyAsUndefined, z.url().optional()).describe('The city identity provider\'s issuer URL (OpenID Connect discovery). Unset: no single sign-on.'),
    OIDC_CLIENT_ID: optionalString.describe('The console\'s client id at the identity provider.'),
    OIDC_CLIENT_SECRET: optionalString.describe('The console\'s client secret (confidential client; PKCE is used as well).'),
    OIDC_REDIRECT_URL: z
      .preprocess(emptyAsUndefined, z.url().optional())
      .describe('The callback registered at the identity provider, ending in /console/sign-in/callback, e.g. https://townsquare.kankakee.gov/console/sign-in/callback.'),
    OIDC_ROLES_CLAIM: z.preprocess(emptyAsUndefined, z.string().default('roles')).describe('The ID token claim that lists the user\'s groups or roles (Entra ID: roles or groups; Okta: groups).'),
    OIDC_ROLE_MAP: optionalString.describe(
      'Claim values to Townsquare roles, comma-separated value=role pairs (e.g. TST-Moderators=tst_moderator,Records=records_clerk). Unset: claim values that are role names are taken as they are.',
    ),
    JOBS: z.preprocess(emptyAsUndefined, z.enum(['on', 'off']).default('on')).describe('Run the job worker (platform actions, notices) in this instance.'),
    JOB_CONCURRENCY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(50).default(4)).describe('Jobs run at once by this instance.'),
    RECONCILE_SCHEDULE: z
      .preprocess(
        emptyAsUndefined,
        z
          .string()
          .default('30 3 * * *')
          .refine((v) => v === 'off' || validCron(v), 'a cron pattern of five fields (minute hour day month weekday, UTC), or off'),
      )
      .describe(
        'When the job worker reconciles the comment projections against the ledger (cron, UTC; docs/ledger.md "Reconciliation"); off: never on a schedule. Needs JOBS=on in some instance.',
      ),
    JOB_MAX_ATTEMPTS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(25).default(6)).describe('Attempts of a platform action before it is surfaced in the queue as failed.'),
    FOIA_CLOSED_DAYS: z.preprocess(emptyAsUndefined, z.string().regex(/^\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*$/, 'comma-separated dates YYYY-MM-DD').optional())
      .describe('Days the city\'s offices are closed besides the State of Illinois holidays (comma-separated YYYY-MM-DD), skipped by FOIA deadlines.'),
    FOIA_OPEN_DAYS: z.preprocess(emptyAsUndefined, z.string().regex(/^\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*$/, 'comma-separated dates YYYY-MM-DD').optional())
      .describe('Days the city\'s offices are open although the State observes a holiday (comma-separated YYYY-MM-DD): business days for FOIA deadlines.'),
    FOIA_OPEN_HOLIDAYS: z
      .preprocess(emptyAsUndefined, z.string().regex(/^[a-z_]+(,[a-z_]+)*$/, 'comma-separated holiday ids, e.g. columbus_day,lincolns_birthday').optional())
      .describe('State holidays the city never observes, by id (comma-separated; ids in docs/foia.md, e.g. columbus_day): its offices are open, so they count as business days.'),
    FOIA_PUBLIC_BODY: z
      .preprocess(emptyAsUndefined, z.string().min(1).max(200).default('City of Kankakee'))
      .describe('The public body named in FOIA letters.'),
    FOIA_OFFICE_ADDRESS: z
      .preprocess(emptyAsUndefined, z.string().max(500).default(''))
      .describe('The FOIA office\'s postal address for letters (lines separated by "|").'),
    FOIA_OFFICIALS: z
      .preprocess(emptyAsUndefined, z.string().regex(/^[^=|]+=[^=|]+(\|[^=|]+=[^=|]+)*$/, 'Name=Title pairs separated by "|"').default('FOIA Officer=Freedom of Information Officer'))
      .describe('Those responsible for FOIA denials, named with their titles in every denial notice (5 ILCS 140/9(a)): "Name=Title|Name=Title".'),
    FOIA_FEE_PER_PAGE_CENTS: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(15).default(15))
      .describe('Fee per black-and-white letter or legal page after the first 50 (5 ILCS 140/6(b): at most 15 cents).'),
    FOIA_FEE_MEDIUM_CENTS: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(10_000).default(0))
      .describe('Fee for an electronic production: the actual cost of the medium (5 ILCS 140/6(a)); 0 for an e-mailed or downloaded copy.'),
    FOIA_PRODUCTIONS_DIR: optionalString.describe('Where FOIA production archives are stored. Defaults to DATA_DIR/productions.'),
    FOIA_SEAL_WAIT_MS: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(120_000).default(10_000))
      .describe('How long creating a production waits for its records to be sealed into the ledger before answering 409 (ms).'),
  })
  .superRefine((env, ctx) => {
    try {
      holidayCalendar({ closedDays: env.FOIA_CLOSED_DAYS?.split(','), openDays: env.FOIA_OPEN_DAYS?.split(','), openHolidays: env.FOIA_OPEN_HOLIDAYS?.split(',') })
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['FOIA_CLOSED_DAYS'], message: `FOIA calendar: ${(error as Error).message}` })
    }
    if (Boolean(env.META_APP_SECRET) !== Boolean(env.META_VERIFY_TOKEN)) {
      ctx.addIssue({ code: 'custom', path: [env.META_APP_SECRET ? 'META_VERIFY_TOKEN' : 'META_APP_SECRET'], message: 'META_APP_SECRET and META_VERIFY_TOKEN are set together' })
    }
    if (env.JWT_PUBLIC_KEY && env.JWT_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_JWKS_URL'], message: 'set JWT_PUBLIC_KEY or JWT_JWKS_URL, not both' })
    }
    if (env.OIDC_ROLE_MAP) {
      for (const pair of env.OIDC_ROLE_MAP.split(',').map((p) => p.trim()).filter(Boolean)) {
        const at = pair.lastIndexOf('=')
        if (at <= 0 || !(ROLES as readonly string[]).includes(pair.slice(at + 1).trim())) {
          ctx.addIssue({ code: 'custom', path: ['OIDC_ROLE_MAP'], message: `"${pair}" is not value=role with a role among ${ROLES.join(', ')}` })
        }
      }
    }
    const oidc = [env.OIDC_ISSUER, env.OIDC_CLIENT_ID, env.OIDC_REDIRECT_URL]
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      ctx.addIssue({ code: 'custom', path: ['OIDC_ISSUER'], message: 'OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_REDIRECT_URL are set together' })
    }
    if (env.MIGRATION_DATABASE_URL && !env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'required when MIGRATION_DATABASE_URL is set' })
    }
    if (env.NODE_ENV === 'production') {
      if (!env.DATABASE_URL) ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'required in production (the embedded database is for evaluation only)' })
      if (env.JWT_SECRET) {
        ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'HS256 development tokens are not accepted in production; use JWT_PUBLIC_KEY or JWT_JWKS_URL' })
      }
      if (!env.JWT_PUBLIC_KEY && !env.JWT_JWKS_URL) {
        ctx.addIssue({ code: 'custom', path: ['JWT_PUBLIC_KEY'], message: 'production needs JWT_PUBLIC_KEY or JWT_JWKS_URL' })
      }
      if (!env.JWT_ISSUER) ctx.addIssue({ code: 'custom', path: ['JWT_ISSUER'], message: 'required in production' })
      if (env.CONSOLE_DEV_SIGN_IN === 'on') ctx.addIssue({ code: 'custom', path: ['CONSOLE_DEV_SIGN_IN'], message: 'the development sign-in is refused in production: sign in through OIDC_ISSUER' })
      if (!env.JWT_AUDIENCE) ctx.addIssue({ code: 'custom', path: ['JWT_AUDIENCE'], message: 'required in production' })
      if (!env.LEDGER_SIGNING_KEY) ctx.addIssue({ code: 'custom', path: ['LEDGER_SIGNING_KEY'], message: 'required in production' })
      if (env.LEDGER_ORIGIN === PLACEHOLDER_LEDGER_ORIGIN) {
        ctx.addIssue({
          code: 'custom',
          path: ['LEDGER_ORIGIN'],
          message: `the placeholder ${PLACEHOLDER_LEDGER_ORIGIN} is refused in production: set the ledger's public name, e.g. townsquare.kankakee.gov/ledger (it is in every checkpoint and key name)`,
        })
      }
    }
  })

export type Env = z.infer<typeof EnvSchema>

/** The embedded PostgreSQL's place (src/db/embedded.ts); `ownParent` is DATA_DIR, Townsquare's own directory above it. */
export interface EmbeddedConfig {
  dataDir: string
  port: number
  ownParent: string
}

export function embeddedConfig(env: Pick<Env, 'EMBEDDED_DATA_DIR' | 'EMBEDDED_PORT' | 'DATA_DIR'>): EmbeddedConfig {
  return { dataDir: env.EMBEDDED_DATA_DIR ?? join(env.DATA_DIR, 'embedded'), port: env.EMBEDDED_PORT, ownParent: env.DATA_DIR }
}

export type JwtVerification =
  | { mode: 'hs256'; secret: string }
  | { mode: 'public-key'; publicKey: string }
  | { mode: 'jwks'; jwksUrl: string }

export interface Config {
  env: Env['NODE_ENV']
  host: string
  port: number
  logLevel: Env['LOG_LEVEL']
  databaseUrl: string
  migrationDatabaseUrl: string
  /** Set when the service runs on the embedded PostgreSQL (no DATABASE_URL). */
  embedded: EmbeddedConfig | null
  poolSize: number
  dataDir: string
  bodyLimitBytes: number
  /** Fastify's trustProxy: none, the proxies' addresses, or a hop count (as a function: Fastify's type has no number). */
  trustProxy: false | string[] | ((address: string, hop: number) => boolean)
  migrationsDir: string
  webhooks: {
    meta: { appSecret: string; verifyToken: string } | null
    xConsumerSecret: string | null
    linkedinClientSecret: string | null
    websiteSecret: string | null
    bodyLimitBytes: number
    /** Group commit of deliveries (src/webhooks/delivery-writer.ts). */
    writers: number
    maxGroupEvents: number
  }
  platforms: PlatformApiConfig
  smtp: MailConfig | null
  /** The AES-256-GCM key of platform connections' credentials (src/connections/credentials.ts), or null. */
  connectionCredentialsKey: Buffer | null
  /** IANA name: plain dates in queries are days there (src/http/dates.ts). */
  cityTimeZone: string
  moderation: {
    claimMinutes: number
    appealWindowDays: number
    selfCorrectionMinutes: number
    appealReviewer: 'not-decider' | 'not-involved'
    noticeChannels: { x: 'public-reply' | 'appeal-page'; linkedin: 'public-reply' | 'appeal-page' }
  }
  retention: { disposalNoticeDays: number }
  jobs: { enabled: boolean; concurrency: number; maxAttempts: number; reconcileSchedule: string | null }
  console: {
    enabled: boolean
    sessionIdleMs: number
    sessionMaxMs: number
    devSignIn: boolean
    secureCookies: boolean
    oidc: { issuer: string; clientId: string; clientSecret: string | null; redirectUrl: string; rolesClaim: string; roleMap: Map<string, string[]> | null } | null
  }
  foia: {
    closedDays: string[]
    openDays: string[]
    openHolidays: string[]
    publicBody: string
    officeAddress: string[]
    officials: Array<{ name: string; title: string }>
    fees: { perPageCents: number; mediumCents: number }
    productionsDir: string
    sealWaitMs: number
  }
  ledger: {
    origin: string
    /** PEM, or undefined in development (then generated in dataDir). */
    signingKeyPem: string | undefined
    /** The key rotated out, PEM: it endorses the first checkpoint under signingKeyPem. */
    previousSigningKeyPem: string | undefined
    checkpointIntervalMs: number
    /** A checkpoint at least this often, even of an unchanged tree (ms). */
    maxCheckpointAgeMs: number
    sealer: boolean
  }
  jwt: {
    verification: JwtVerification
    issuer: string
    audience: string
  }
}

/**
 * The configuration as read from the environment: without DATABASE_URL the database URLs are
 * null until the embedded PostgreSQL is started (src/db/embedded.ts, resolveDatabase).
 */
export type LoadedConfig = Omit<Config, 'databaseUrl' | 'migrationDatabaseUrl'> & {
  databaseUrl: string | null
  migrationDatabaseUrl: string | null
}

/**
 * The configuration with its database known: the server's, or the embedded one's, where the
 * service runs as the runtime login role and migrates as the superuser, as on a server.
 */
export function resolveDatabase(config: LoadedConfig, embedded?: { url: string; runtimeUrl: string }): Config {
  if (config.databaseUrl !== null) return { ...config, databaseUrl: config.databaseUrl, migrationDatabaseUrl: config.migrationDatabaseUrl ?? config.databaseUrl }
  if (!embedded || !config.embedded) throw new ConfigError(['DATABASE_URL: not set, and no embedded database was started'])
  return { ...config, databaseUrl: embedded.runtimeUrl, migrationDatabaseUrl: embedded.url }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'prisma', 'migrations')

/**
 * Reads the environment through one schema and reports every problem at once.
 * `devJwtSecret` supplies the generated development secret when none is configured
 * (see src/dev-secrets.ts); production never takes that path.
 */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  options: { devJwtSecret?: () => string; migrationsDir?: string } = {},
): LoadedConfig {
  const parsed = EnvSchema.safeParse(source)
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`))
  }
  const env = parsed.data
  let verification: JwtVerification
  if (env.JWT_PUBLIC_KEY) verification = { mode: 'public-key', publicKey: env.JWT_PUBLIC_KEY.replace(/\\n/g, '\n') }
  else if (env.JWT_JWKS_URL) verification = { mode: 'jwks', jwksUrl: env.JWT_JWKS_URL }
  else if (env.JWT_SECRET) verification = { mode: 'hs256', secret: env.JWT_SECRET }
  else if (options.devJwtSecret) verification = { mode: 'hs256', secret: options.devJwtSecret() }
  else throw new ConfigError(['JWT_SECRET: set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL'])

  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    databaseUrl: env.DATABASE_URL ?? null,
    migrationDatabaseUrl: env.MIGRATION_DATABASE_URL ?? env.DATABASE_URL ?? null,
    embedded: env.DATABASE_URL ? null : embeddedConfig(env),
    poolSize: env.DATABASE_POOL_SIZE,
    dataDir: env.DATA_DIR,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    trustProxy: trustProxy(env.TRUST_PROXY),
    migrationsDir: options.migrationsDir ?? MIGRATIONS_DIR,
    webhooks: {
      meta: env.META_APP_SECRET && env.META_VERIFY_TOKEN ? { appSecret: env.META_APP_SECRET, verifyToken: env.META_VERIFY_TOKEN } : null,
      xConsumerSecret: env.X_CONSUMER_SECRET ?? null,
      linkedinClientSecret: env.LINKEDIN_CLIENT_SECRET ?? null,
      websiteSecret: env.WEBSITE_WEBHOOK_SECRET ?? null,
      bodyLimitBytes: env.WEBHOOK_BODY_LIMIT_BYTES,
      writers: env.INGEST_WRITERS,
      maxGroupEvents: env.INGEST_GROUP_MAX_EVENTS,
    },
    platforms: {
      facebook: env.FACEBOOK_PAGE_TOKEN && env.FACEBOOK_PAGE_ID ? { baseUrl: env.FACEBOOK_GRAPH_URL, pageId: env.FACEBOOK_PAGE_ID, pageToken: env.FACEBOOK_PAGE_TOKEN } : null,
      instagram: env.INSTAGRAM_ACCESS_TOKEN ? { baseUrl: env.INSTAGRAM_GRAPH_URL, accessToken: env.INSTAGRAM_ACCESS_TOKEN } : null,
      x: env.X_USER_TOKEN ? { baseUrl: env.X_API_URL, bearerToken: env.X_USER_TOKEN } : null,
      linkedin:
        env.LINKEDIN_ACCESS_TOKEN && env.LINKEDIN_ORGANIZATION_URN
          ? { baseUrl: env.LINKEDIN_API_URL, accessToken: env.LINKEDIN_ACCESS_TOKEN, organizationUrn: env.LINKEDIN_ORGANIZATION_URN }
          : null,
      website: env.WEBSITE_API_URL && env.WEBSITE_API_TOKEN ? { baseUrl: env.WEBSITE_API_URL, token: env.WEBSITE_API_TOKEN } : null,
    },
    smtp: env.SMTP_URL ? { url: env.SMTP_URL, from: env.NOTICE_FROM_EMAIL, caFile: env.SMTP_CA_FILE ?? null, plaintext: env.SMTP_PLAINTEXT === 'allow' } : null,
    connectionCredentialsKey: env.CONNECTION_CREDENTIALS_KEY ? connectionKeyBytes(env.CONNECTION_CREDENTIALS_KEY) : null,
    cityTimeZone: env.CITY_TIME_ZONE,
    moderation: {
      claimMinutes: env.MODERATION_CLAIM_MINUTES,
      appealWindowDays: env.APPEAL_WINDOW_DAYS,
      selfCorrectionMinutes: env.MODERATION_SELF_CORRECTION_MINUTES,
      appealReviewer: env.APPEAL_REVIEWER,
      noticeChannels: { x: env.NOTICE_CHANNEL_X, linkedin: env.NOTICE_CHANNEL_LINKEDIN },
    },
    retention: { disposalNoticeDays: env.DISPOSAL_NOTICE_DAYS },
    console: {
      enabled: env.CONSOLE === 'on',
      sessionIdleMs: env.CONSOLE_SESSION_IDLE,
      sessionMaxMs: env.CONSOLE_SESSION_MAX,
      devSignIn: (env.CONSOLE_DEV_SIGN_IN ?? (env.NODE_ENV === 'production' ? 'off' : 'on')) === 'on',
      secureCookies: (env.CONSOLE_SECURE_COOKIES ?? (env.NODE_ENV === 'production' ? 'on' : 'off')) === 'on',
      oidc:
        env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_REDIRECT_URL
          ? {
              issuer: env.OIDC_ISSUER,
              clientId: env.OIDC_CLIENT_ID,
              clientSecret: env.OIDC_CLIENT_SECRET ?? null,
              redirectUrl: env.OIDC_REDIRECT_URL,
              rolesClaim: env.OIDC_ROLES_CLAIM,
              roleMap: env.OIDC_ROLE_MAP ? parseRoleMap(env.OIDC_ROLE_MAP) : null,
            }
          : null,
    },
    jobs: {
      enabled: env.JOBS === 'on',
      concurrency: env.JOB_CONCURRENCY,
      maxAttempts: env.JOB_MAX_ATTEMPTS,
      reconcileSchedule: env.RECONCILE_SCHEDULE === 'off' ? null : env.RECONCILE_SCHEDULE,
    },
    foia: {
      closedDays: env.FOIA_CLOSED_DAYS?.split(',') ?? [],
      openDays: env.FOIA_OPEN_DAYS?.split(',') ?? [],
      openHolidays: env.FOIA_OPEN_HOLIDAYS?.split(',') ?? [],
      publicBody: env.FOIA_PUBLIC_BODY,
      officeAddress: env.FOIA_OFFICE_ADDRESS ? env.FOIA_OFFICE_ADDRESS.split('|').map((l) => l.trim()) : [],
      officials: env.FOIA_OFFICIALS.split('|').map((pair) => {
        const [name, title] = pair.split('=') as [string, string]
        return { name: name.trim(), title: title.trim() }
      }),
      fees: { perPageCents: env.FOIA_FEE_PER_PAGE_CENTS, mediumCents: env.FOIA_FEE_MEDIUM_CENTS },
      productionsDir: env.FOIA_PRODUCTIONS_DIR ?? join(env.DATA_DIR, 'productions'),
      sealWaitMs: env.FOIA_SEAL_WAIT_MS,
    },
    ledger: {
      origin: env.LEDGER_ORIGIN,
      signingKeyPem: env.LEDGER_SIGNING_KEY?.replace(/\\n/g, '\n'),
      previousSigningKeyPem: env.LEDGER_PREVIOUS_SIGNING_KEY?.replace(/\\n/g, '\n'),
      checkpointIntervalMs: env.LEDGER_CHECKPOINT_INTERVAL_MS,
      maxCheckpointAgeMs: env.LEDGER_MAX_CHECKPOINT_AGE,
      sealer: env.LEDGER_SEALER === 'on',
    },
    jwt: {
      verification,
      issuer: env.JWT_ISSUER ?? 'townsquare-dev',
      audience: env.JWT_AUDIENCE ?? 'townsquare',
    },
  }
}

/**
 * TRUST_PROXY as Fastify takes it. `true` means one proxy, never every hop: with every hop trusted,
 * the client's own leftmost X-Forwarded-For entry would become its address (rate limits, logs).
 */
function trustProxy(value: string | undefined): Config['trustProxy'] {
  if (value === undefined || value === 'false' || value === '0') return false
  if (value === 'true' || /^\d+$/.test(value)) {
    const hops = value === 'true' ? 1 : Number(value)
    // Hop 0 is the socket's peer (the nearest proxy): trusting `hops` of them makes the client the
    // address the outermost trusted proxy added, whatever a client wrote before it.
    return (_address, hop) => hop < hops
  }
  return value.split(',')
}

/** Loads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path)
}

/** `value=role,value=role` of OIDC_ROLE_MAP; a value named twice maps to both roles. */
export function parseRoleMap(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>()
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.lastIndexOf('=')
    const value = pair.slice(0, at).trim()
    map.set(value, [...(map.get(value) ?? []), pair.slice(at + 1).trim()])
  }
  return map
}
