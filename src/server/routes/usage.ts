// GET /v1/usage: the key pools' usage today (seed 003's shape, plus tokens, cost and clients).
import type { FastifyInstance } from 'fastify';
import { buildUsageReport, pooledKeyIds } from '../../usage/usage-report.js';
import { errorResponses } from '../chat-schema.js';
import type { Runtime } from '../runtime.js';

export function registerUsageRoute(app: FastifyInstance, runtime: Runtime): void {
  app.get(
    '/v1/usage',
    {
      schema: {
        summary: 'Key-pool usage today: requests, limits, tokens and cost per provider key and per client',
        tags: ['Gateway'],
        security: [{ bearerAuth: [] }],
        response: { 401: errorResponses[401] },
      },
    },
    async () => {
      const { config } = runtime.state;
      const store = runtime.keys.store;
      const view = await store.view(pooledKeyIds(config), Date.now());
      return buildUsageReport(config, view, store.kind);
    },
  );
}
