import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import type { Access } from './auth.js'

// The route schemas are the single source of the OpenAPI document; `npm run openapi` writes it to
// openapi/openapi.json, and a test fails when the committed copy is stale.
// Component ids (.meta({ id })) never end in "Input": the zod registry names the input form of a
// schema `<id>Input`, and a collision stops generation (request schemas end in "Request").
async function openapiPlugin(app: FastifyInstance, options: { version: string }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Townsquare',
        version: options.version,
        description:
          'Public comment moderation and records retention for a city\'s social media accounts. ' +
          'Errors are application/problem+json (RFC 9457). Routes list the roles allowed to call them in `x-roles`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: (input) => {
      const transformed = jsonSchemaTransform(input)
      const access = (input.route.config as { access?: Access } | undefined)?.access
      if (access === undefined || access === 'public') return transformed
      return {
        ...transformed,
        schema: { ...transformed.schema, security: [{ bearer: [] }], 'x-roles': [...access] },
      }
    },
    transformObject: jsonSchemaTransformObject,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, () => app.swagger())
}

export default fp(openapiPlugin, { name: 'openapi' })
