// GET /v1/usage: the key pools' usage today (seed 003's shape, plus tokens, cost and clients), and
// a managed key's own limits, spend and remaining budget (every managed key's for an admin key).
import type { FastifyInstance } from 'fastify';
import { keysUsage } from '../../managed-keys/key-usage.js';
import { buildUsageReport, pooledKeyIds } from '../../usage/usage-report.js';
import { errorResponses } from '../chat-schema.js';
import { presentedKey } from '../client-auth.js';
import { keysRequired } from '../client-identity.js';
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
        !keysRequired(auth, runtime.managedKeyCount) || auth.isAdmin(presentedKey(request.headers))
          ? undefined
          : (contextFor(request).clientKeyHash ?? '');
      const store = runtime.keys.store;
      const view = await store.view(pooledKeyIds(config), Date.now());
      const report: Record<string, unknown> = { ...buildUsageReport(config, view, store.kind, client) };
      // A managed key sees its own limits, spend and what is left; an admin key sees every key's.
      const managed = contextFor(request).managedKey;
      if (managed !== undefined) {
        const usage = await keysUsage(runtime.managedKeys, runtime.budgets.store, [managed.id]);
        report.key = { id: managed.id, name: managed.name, ...(usage.get(managed.id) ?? {}) };
      } else if (client === undefined && runtime.managedKeyCount > 0) {
        const records = await runtime.managedKeys.list();
        const usage = await keysUsage(
          runtime.managedKeys,
          runtime.budgets.store,
          records.map((r) => r.id),
        );
        report.keys = records.map((record) => ({
          id: record.id,
          name: record.name,
          status: record.status,
          ...(usage.get(record.id) ?? {}),
        }));
      }
      return report;
    },
  );
}
