// GET /v1/usage: the key pools' usage today (seed 003's shape, plus tokens, cost and clients).
import type { FastifyInstance } from 'fastify';
import { buildUsageReport, pooledKeyIds } from '../../usage/usage-report.js';
import { errorResponses } from '../chat-schema.js';
import { presentedKey } from '../client-auth.js';
import { contextFor } from '../request-context.js';
import type { Runtime } from '../runtime.js';

export function registerUsageRoute(app: FastifyInstance, runtime: Runtime): void {
  app.get(
    '/v1/usage',
    {
      schema: {
        summary:
          "Key-pool usage today: requests, limits, tokens and cost per provider key, and the caller's own client totals (every client's with an admin key)",
        tags: ['Gateway'],
        security: [{ bearerAuth: [] }],
        response: { 401: errorResponses[401] },
      },
    },
    async (request) => {
      const { config, auth } = runtime.state;
      // Another client's totals are its own business: a client key sees its own, an admin key all.
      // Provider keys' usage (by id) is shared by every client, as seed 003 shows it.
      const client =
        auth.open || auth.isAdmin(presentedKey(request.headers))
          ? undefined
          : (contextFor(request).clientKeyHash ?? '');
      const store = runtime.keys.store;
      const view = await store.view(pooledKeyIds(config), Date.now());
      return buildUsageReport(config, view, store.kind, client);
    },
  );
}
