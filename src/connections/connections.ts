// Platform connections managed through the API (docs/operations.md, "Platform connections").
//
// How they coexist with the environment: per platform, a connection row wins entirely (settings
// and credentials together) whether it is enabled or not; a disabled connection means "do not act
// on this platform", never "fall back to the environment". No row: the *_TOKEN variables apply, as
// before, so a simple install needs no API call. A connection never borrows the environment's
// token: an admin who sets only a baseUrl would otherwise send the environment's token to a host
// of their choosing.
import type { Config } from '../config.js'
import type { Tx } from '../db/tx.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import type { PlatformApiConfig } from '../moderation/platform-clients.js'
import { ConflictError, NotFoundError, ValidationProblem } from '../plugins/errors.js'
import type { Platform } from '../webhooks/platforms/index.js'
import { credentialFingerprint, openCredentials, sealCredentials } from './credentials.js'

export const PLATFORMS: readonly Platform[] = ['facebook', 'instagram', 'x', 'linkedin', 'website']

export const DEFAULT_BASE_URLS: Readonly<Record<Platform, string | null>> = {
  facebook: 'https://graph.facebook.com/v21.0',
  instagram: 'https://graph.facebook.com/v21.0',
  x: 'https://api.x.com',
  linkedin: 'https://api.linkedin.com',
  website: null,
}

/** The settings each platform needs besides baseUrl. */
const REQUIRED_SETTINGS: Readonly<Record<Platform, ReadonlyArray<'pageId' | 'organizationUrn'>>> = {
  facebook: ['pageId'],
  instagram: [],
  x: [],
  linkedin: ['organizationUrn'],
  website: [],
}

export interface ConnectionSettings {
  baseUrl?: string | undefined
  pageId?: string | undefined
  organizationUrn?: string | undefined
  apiVersion?: string | undefined
}

export interface ConnectionInput {
  enabled: boolean
  settings: ConnectionSettings
  /** Omitted: the connection keeps the credentials it has. */
  credentials?: { accessToken: string } | undefined
}

export interface ConnectionView {
  platform: Platform
  /** connection: this API's row; environment: the *_TOKEN variables; none: not configured. */
  source: 'connection' | 'environment' | 'none'
  enabled: boolean
  settings: ConnectionSettings
  credentialsSet: boolean
  credentialsFingerprint: string | null
  updatedAt: Date | null
  updatedBy: string | null
  health: { lastSuccessAt: Date | null; lastErrorAt: Date | null; lastError: string | null; lastWebhookAt: Date | null }
}

export interface ConnectionDeps {
  clock: Clock
  key: Buffer | null
  production: boolean
}

function cleanSettings(platform: Platform, input: ConnectionSettings, production: boolean): ConnectionSettings {
  const problems: Array<{ path: string; message: string }> = []
  const baseUrl = input.baseUrl ?? DEFAULT_BASE_URLS[platform]
  if (!baseUrl) problems.push({ path: 'body:$.settings.baseUrl', message: `required for ${platform}` })
  else if (production && !baseUrl.startsWith('https://')) problems.push({ path: 'body:$.settings.baseUrl', message: 'must be https:// in production (the token travels to it)' })
  for (const name of REQUIRED_SETTINGS[platform]) {
    if (!input[name]) problems.push({ path: `body:$.settings.${name}`, message: `required for ${platform}` })
  }
  if (problems.length > 0) throw new ValidationProblem(`The ${platform} connection's settings are incomplete: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}.`, problems)
  const settings: ConnectionSettings = { baseUrl: baseUrl! }
  if (platform === 'facebook') settings.pageId = input.pageId!
  if (platform === 'linkedin') {
    settings.organizationUrn = input.organizationUrn!
    if (input.apiVersion) settings.apiVersion = input.apiVersion
  }
  return settings
}

/** Creates or replaces a platform's connection; recorded in the ledger (`platform.connection`). */
export async function putConnection(tx: Tx, actor: string, platform: Platform, input: ConnectionInput, deps: ConnectionDeps): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${'platform_connection:' + platform}))`
  const existing = await tx.platformConnection.findUnique({ where: { platform } })
  const settings = cleanSettings(platform, input.settings, deps.production)
  let sealed = existing?.credentialsSealed ?? null
  let fingerprint = existing?.credentialsFingerprint ?? null
  let names = existing?.credentialNames ?? []
  if (input.credentials) {
    if (!deps.key) {
      throw new ConflictError('CONNECTION_CREDENTIALS_KEY is not set: credentials cannot be stored encrypted, so they are not stored at all.', 'credentials-key-missing')
    }
    sealed = sealCredentials(deps.key, platform, input.credentials)
    fingerprint = credentialFingerprint(deps.key, platform, input.credentials)
    names = Object.keys(input.credentials).sort()
  }
  if (input.enabled && sealed === null) {
    throw new ValidationProblem(`An enabled ${platform} connection needs credentials.`, [{ path: 'body:$.credentials', message: 'required to enable a connection that has none' }])
  }
  const now = deps.clock()
  await appendEntries(tx, [
    {
      kind: 'platform.connection',
      subject: `platform:${platform}`,
      actor,
      payload: {
        platform,
        change: existing ? 'updated' : 'created',
        enabled: input.enabled,
        settings: { ...settings },
        credentialNames: names,
        credentialsFingerprint: fingerprint,
        credentialsChanged: input.credentials !== undefined,
      },
    },
  ])
  const data = { enabled: input.enabled, settings: { ...settings }, credentialsSealed: sealed, credentialNames: names, credentialsFingerprint: fingerprint, updatedAt: now, updatedBy: actor }
  await tx.platformConnection.upsert({ where: { platform }, create: { platform, ...data }, update: data })
}

/** Disables a connection: the platform is then not acted on (the environment does not take over). */
export async function disableConnection(tx: Tx, actor: string, platform: Platform, deps: { clock: Clock }): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${'platform_connection:' + platform}))`
  const existing = await tx.platformConnection.findUnique({ where: { platform } })
  if (!existing) throw new NotFoundError(`No ${platform} connection: the environment's variables configure it, and only unsetting them changes that.`)
  await appendEntries(tx, [
    {
      kind: 'platform.connection',
      subject: `platform:${platform}`,
      actor,
      payload: { platform, change: 'disabled', enabled: false, credentialsFingerprint: existing.credentialsFingerprint },
    },
  ])
  await tx.platformConnection.update({ where: { platform }, data: { enabled: false, updatedAt: deps.clock(), updatedBy: actor } })
}

function environmentSettings(platform: Platform, config: PlatformApiConfig): ConnectionSettings | null {
  switch (platform) {
    case 'facebook':
      return config.facebook ? { baseUrl: config.facebook.baseUrl, pageId: config.facebook.pageId } : null
    case 'instagram':
      return config.instagram ? { baseUrl: config.instagram.baseUrl } : null
    case 'x':
      return config.x ? { baseUrl: config.x.baseUrl } : null
    case 'linkedin':
      return config.linkedin
        ? { baseUrl: config.linkedin.baseUrl, organizationUrn: config.linkedin.organizationUrn, ...(config.linkedin.apiVersion ? { apiVersion: config.linkedin.apiVersion } : {}) }
        : null
    case 'website':
      return config.website ? { baseUrl: config.website.baseUrl } : null
  }
}

/** Every platform's connection as the API shows it: never a credential, only whether one is set and its fingerprint. */
export async function listConnections(db: Tx | PrismaClient, config: Pick<Config, 'platforms'>): Promise<ConnectionView[]> {
  const rows = new Map((await db.platformConnection.findMany()).map((r) => [r.platform, r]))
  const health = new Map((await db.platformHealth.findMany()).map((h) => [h.platform, h]))
  return PLATFORMS.map((platform) => {
    const row = rows.get(platform)
    const h = health.get(platform)
    const healthView = { lastSuccessAt: h?.lastSuccessAt ?? null, lastErrorAt: h?.lastErrorAt ?? null, lastError: h?.lastError ?? null, lastWebhookAt: h?.lastWebhookAt ?? null }
    if (row) {
      return {
        platform,
        source: 'connection' as const,
        enabled: row.enabled,
        settings: row.settings as ConnectionSettings,
        credentialsSet: row.credentialsSealed !== null,
        credentialsFingerprint: row.credentialsFingerprint,
        updatedAt: row.updatedAt,
        updatedBy: row.updatedBy,
        health: healthView,
      }
    }
    const env = environmentSettings(platform, config.platforms)
    return {
      platform,
      source: env ? ('environment' as const) : ('none' as const),
      enabled: env !== null,
      settings: env ?? {},
      credentialsSet: env !== null,
      credentialsFingerprint: null,
      updatedAt: null,
      updatedBy: null,
      health: healthView,
    }
  })
}

/**
 * The outbound API configuration in force: each platform from its connection when it has one
 * (null when disabled or when its credentials cannot be opened with the key), else from the
 * environment. Read at each platform call, so a change applies to the next action without a restart.
 */
export async function effectivePlatformConfig(db: Tx | PrismaClient, config: Pick<Config, 'platforms' | 'connectionCredentialsKey'>): Promise<PlatformApiConfig> {
  const rows = await db.platformConnection.findMany()
  const result: PlatformApiConfig = { ...config.platforms }
  for (const row of rows) {
    const platform = row.platform as Platform
    const settings = row.settings as ConnectionSettings
    const credentials = row.enabled && row.credentialsSealed && config.connectionCredentialsKey ? openCredentials(config.connectionCredentialsKey, platform, row.credentialsSealed) : null
    const token = credentials?.accessToken
    const baseUrl = settings.baseUrl ?? DEFAULT_BASE_URLS[platform]
    if (!token || !baseUrl) {
      result[platform] = null
      continue
    }
    switch (platform) {
      case 'facebook':
        result.facebook = { baseUrl, pageId: settings.pageId ?? '', pageToken: token }
        break
      case 'instagram':
        result.instagram = { baseUrl, accessToken: token }
        break
      case 'x':
        result.x = { baseUrl, bearerToken: token }
        break
      case 'linkedin':
        result.linkedin = { baseUrl, accessToken: token, organizationUrn: settings.organizationUrn ?? '', ...(settings.apiVersion ? { apiVersion: settings.apiVersion } : {}) }
        break
      case 'website':
        result.website = { baseUrl, token }
        break
    }
  }
  return result
}

/** Notes a platform call's outcome (or a webhook delivery) for the connection's health. */
export async function recordPlatformHealth(
  db: Tx | PrismaClient,
  platform: Platform,
  event: { kind: 'success' } | { kind: 'error'; error: string } | { kind: 'webhook' },
  now: Date,
): Promise<void> {
  const data =
    event.kind === 'success' ? { lastSuccessAt: now } : event.kind === 'error' ? { lastErrorAt: now, lastError: event.error.slice(0, 500) } : { lastWebhookAt: now }
  await db.platformHealth.upsert({ where: { platform }, create: { platform, ...data }, update: data })
}
