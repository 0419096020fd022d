import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { inTransaction } from '../db/tx.js'
import { actorOf, type Role } from '../plugins/auth.js'
import { Problem } from '../plugins/errors.js'
import { disableConnection, listConnections, putConnection, type ConnectionView } from './connections.js'
import * as S from './schemas.js'

const ADMIN: readonly Role[] = ['admin']
const errors = { 400: Problem, 401: Problem, 403: Problem }
const iso = (d: Date | null) => d?.toISOString() ?? null

function view(c: ConnectionView): z.infer<typeof S.Connection> {
  return {
    platform: c.platform,
    source: c.source,
    enabled: c.enabled,
    settings: c.settings,
    credentialsSet: c.credentialsSet,
    credentialsFingerprint: c.credentialsFingerprint,
    updatedAt: iso(c.updatedAt),
    updatedBy: c.updatedBy,
    health: { lastSuccessAt: iso(c.health.lastSuccessAt), lastErrorAt: iso(c.health.lastErrorAt), lastError: c.health.lastError, lastWebhookAt: iso(c.health.lastWebhookAt) },
  }
}

/** The `admin` role's routes: the platform connections Townsquare acts through (docs/operations.md, "Platform connections"). */
export const connectionRoutes: FastifyPluginAsyncZod = async (app) => {
  const prisma = app.db.prisma
  const actor = (request: FastifyRequest) => `user:${actorOf(request).sub}`
  const deps = () => ({ clock: app.clock, key: app.config.connectionCredentialsKey, production: app.config.env === 'production' })
  const one = async (platform: z.infer<typeof S.PlatformName>) => view((await listConnections(prisma, app.config)).find((c) => c.platform === platform)!)

  app.get(
    '/admin/connections',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['admin'],
        summary: 'Every platform connection, where its credentials come from, and its health',
        description:
          'One item per platform: managed here (source connection), from the environment variables (environment) or not configured (none). ' +
          'Credentials are never returned, only whether they are set and a keyed fingerprint. Health: the last successful platform call, the last error, the last webhook delivery.',
        response: { 200: S.ConnectionList, ...errors },
      },
    },
    async () => ({ items: (await listConnections(prisma, app.config)).map(view), nextCursor: null }),
  )

  app.put(
    '/admin/connections/:platform',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['admin'],
        summary: "Create or replace a platform's connection (overrides its environment variables)",
        description:
          'The connection replaces the environment variables of its platform entirely, from the next platform call on. Credentials are sealed with AES-256-GCM under ' +
          'CONNECTION_CREDENTIALS_KEY (409 when it is not set) and never returned; omit them to keep those stored. The change is recorded in the ledger (platform.connection) ' +
          'with the settings and the fingerprint, never the credential.',
        params: S.ConnectionParams,
        body: S.ConnectionInput,
        response: { 200: S.Connection, 409: Problem, ...errors },
      },
    },
    async (request) => {
      await inTransaction(prisma, (tx) => putConnection(tx, actor(request), request.params.platform, request.body, deps()))
      return one(request.params.platform)
    },
  )

  app.post(
    '/admin/connections/:platform/disable',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['admin'],
        summary: "Disable a platform's connection: Townsquare stops acting on that platform",
        description:
          'The environment variables do not take over: a disabled connection means the platform is not acted on (its actions fail and surface in the review queue). ' +
          'Re-enable with PUT. 404 when the platform has no connection managed here. Recorded in the ledger.',
        params: S.ConnectionParams,
        response: { 200: S.Connection, 404: Problem, ...errors },
      },
    },
    async (request) => {
      await inTransaction(prisma, (tx) => disableConnection(tx, actor(request), request.params.platform, { clock: app.clock }))
      return one(request.params.platform)
    },
  )
}
