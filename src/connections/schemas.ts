import { z } from 'zod'

export const PlatformName = z.enum(['facebook', 'instagram', 'x', 'linkedin', 'website']).describe('The platform')

export const ConnectionParams = z.object({ platform: PlatformName })

const Settings = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/ }).max(500).optional().describe("The platform API's base URL; default the platform's public API (the website has none: required). https:// in production"),
    pageId: z.string().min(1).max(200).optional().describe("Facebook: the city's Page id (required)"),
    organizationUrn: z.string().regex(/^urn:li:organization:\d+$/, 'urn:li:organization:<number>').optional().describe("LinkedIn: the city's organization URN (required)"),
    apiVersion: z.string().regex(/^\d{6}$/, 'YYYYMM').optional().describe('LinkedIn: the LinkedIn-Version header (YYYYMM)'),
  })
  .strict()

export const ConnectionInput = z
  .object({
    enabled: z.boolean().default(true).describe('false: keep the connection but do not act on the platform (the environment does not take over)'),
    settings: Settings.default({}),
    credentials: z
      .object({ accessToken: z.string().min(8).max(4096).describe("The token Townsquare acts with: Facebook's Page token, Instagram's access token, X's user-context OAuth 2 token, LinkedIn's access token, the website's bearer token") })
      .strict()
      .optional()
      .describe('Write-only: stored encrypted, never returned. Omit to keep the credentials already stored'),
  })
  .strict()

const time = z.iso.datetime().nullable()

export const Connection = z
  .object({
    platform: PlatformName,
    source: z.enum(['connection', 'environment', 'none']).describe('connection: managed here; environment: the *_TOKEN variables; none: not configured'),
    enabled: z.boolean(),
    settings: Settings,
    credentialsSet: z.boolean(),
    credentialsFingerprint: z.string().nullable().describe('HMAC-SHA256 under CONNECTION_CREDENTIALS_KEY, first 16 hex digits: tells two credentials apart, reveals nothing of them'),
    updatedAt: time,
    updatedBy: z.string().nullable(),
    health: z.object({
      lastSuccessAt: time.describe('Last platform API call that succeeded'),
      lastErrorAt: time,
      lastError: z.string().nullable().describe("The platform's answer to the last failed call"),
      lastWebhookAt: time.describe('Last webhook delivery accepted from the platform'),
    }),
  })
  .meta({ id: 'Connection' })

export const ConnectionList = z.object({ items: z.array(Connection), nextCursor: z.string().nullable().describe('Always null: every platform fits on one page') }).meta({ id: 'ConnectionList' })
