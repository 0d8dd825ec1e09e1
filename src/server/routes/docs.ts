// /openapi.json generated from the route schemas, Swagger UI at /docs (served from the package,
// no network), and ReDoc at /redoc.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../../version.js';

/** ReDoc ships as one script; REDOC_SCRIPT_URL points it elsewhere (an internal mirror, say). */
const DEFAULT_REDOC_SCRIPT = 'https://cdn.redoc.ly/redoc/v2.5.0/bundles/redoc.standalone.js';

export async function registerDocs(app: FastifyInstance, redocScript = DEFAULT_REDOC_SCRIPT): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ai-proxy',
        version: VERSION,
        description: 'OpenAI-compatible gateway to many model providers.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A client key of this gateway' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: false });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/redoc', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ai-proxy API (ReDoc)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="${redocScript}"></script>
</body>
</html>
`),
  );
}
