// The web console's JSON API under /ui/api, admin only (console-session.ts): usage history and
// key-pool state, the live tail, log search with filters and paging, one exchange, one dialog, and
// the managed keys with spend against budget. No answer holds a provider key or a client key:
// provider keys are named by id, clients by the short hash the request log keeps. The log-store
// and request-log reads run in the console's query thread (runtime.consoleQueries), never on the
// thread that relays model calls.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import { DateArgError, defaultDbRoot, parseDay } from '../../logstore/partitions.js';
import { keysUsage } from '../../managed-keys/key-usage.js';
import { toWire } from '../../managed-keys/key-wire.js';
import { buildUsageReport, pooledKeyIds } from '../../usage/usage-report.js';
import { sendError } from '../error-handler.js';
import type { Runtime } from '../runtime.js';
import { type LogFilters, LogQueryError } from './console-api-logs.js';
import type { Bucket } from './console-api-types.js';
import { consoleGuard, registerConsoleSession } from './console-session.js';

type Query = Record<string, string | undefined>;

const HOUR_MS = 3_600_000;
/** An exchange or a dialog comes from the query thread as JSON text, sent as it is. */
const JSON_TYPE = 'application/json; charset=utf-8';
const stringProps = (names: readonly string[]) => ({
  type: 'object',
  properties: Object.fromEntries(names.map((name) => [name, { type: 'string', maxLength: 2000 }])),
});

function badRequest(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

/** A whole number in [min, max] from a query parameter, or the default when absent. */
function intParam(query: Query, name: string, min: number, max: number, fallback: number): number {
  const text = query[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw badRequest(
      `'${name}' must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}.`,
      name,
    );
  }
  return value;
}

function dayParam(query: Query, name: string): Date | undefined {
  const text = query[name];
  if (text === undefined || text === '') return undefined;
  try {
    return parseDay(text, name);
  } catch (error) {
    if (error instanceof DateArgError) throw badRequest(`${error.message}.`, name);
    throw error;
  }
}

function textParam(query: Query, name: string): string | undefined {
  const text = query[name]?.trim();
  return text === undefined || text === '' ? undefined : text;
}

function filtersOf(query: Query): LogFilters {
  const status =
    query.status === undefined || query.status === '' ? undefined : intParam(query, 'status', 100, 599, 0);
  return {
    query: textParam(query, 'q'),
    since: dayParam(query, 'since'),
    to: dayParam(query, 'to'),
    model: textParam(query, 'model'),
    provider: textParam(query, 'provider'),
    status,
    client: textParam(query, 'client'),
    dialog: textParam(query, 'dialog'),
  };
}

/** Managed keys' names by the short hash the log knows a client by. */
async function clientNames(runtime: Runtime): Promise<Record<string, string>> {
  if (runtime.managedKeyCount === 0) return {};
  const names: Record<string, string> = {};
  for (const record of await runtime.managedKeys.list()) names[record.shortHash] = record.name;
  return names;
}

export function registerConsoleApi(app: FastifyInstance, runtime: Runtime): void {
  registerConsoleSession(app, runtime);
  const guard = consoleGuard(runtime);
  const dbRoot = () => defaultDbRoot(runtime.config.log.dir);
  const options = (names: readonly string[]) => ({
    onRequest: guard,
    schema: { hide: true, querystring: stringProps(names) },
  });
  /** Runs a handler; a query the user got wrong becomes a 400 naming it. */
  const answer = async <T>(request: FastifyRequest, reply: FastifyReply, work: () => Promise<T> | T) => {
    reply.header('cache-control', 'no-store');
    try {
      return await work();
    } catch (error) {
      if (error instanceof GatewayError) return sendError(request, reply, error);
      if (error instanceof LogQueryError)
        return sendError(request, reply, badRequest(`${error.message}.`, 'q'));
      throw error;
    }
  };

  app.get<{ Querystring: Query }>('/ui/api/usage', options(['hours', 'bucket']), (request, reply) =>
    answer(request, reply, async () => {
      const hours = intParam(request.query, 'hours', 1, 24 * 366, 24);
      const bucketText = request.query.bucket ?? (hours > 72 ? 'day' : 'hour');
      if (bucketText !== 'hour' && bucketText !== 'day') {
        throw badRequest(`'bucket' must be hour or day, got ${JSON.stringify(bucketText)}.`, 'bucket');
      }
      const { config } = runtime.state;
      const until = Math.ceil((Date.now() + 1) / HOUR_MS) * HOUR_MS;
      const store = runtime.keys.store;
      const [history, view, names] = await Promise.all([
        runtime.consoleQueries.run('usage', {
          dbRoot: dbRoot(),
          since: until - hours * HOUR_MS,
          until,
          bucket: bucketText as Bucket,
        }),
        store.view(pooledKeyIds(config), Date.now()),
        clientNames(runtime),
      ]);
      return {
        logstore: {
          enabled: config.logdb.enabled,
          fts: config.logdb.ftsEnabled,
          grouping: config.logdb.groupingEnabled,
        },
        history,
        pools: buildUsageReport(config, view, store.kind),
        client_names: names,
      };
    }),
  );

  app.get<{ Querystring: Query }>('/ui/api/logs/recent', options(['limit']), (request, reply) =>
    answer(request, reply, async () => ({
      data: await runtime.consoleQueries.run('tail', {
        logDir: runtime.config.log.dir,
        limit: intParam(request.query, 'limit', 1, 500, 50),
      }),
    })),
  );

  app.get<{ Querystring: Query }>(
    '/ui/api/logs/search',
    options(['q', 'since', 'to', 'model', 'provider', 'status', 'client', 'dialog', 'limit', 'cursor']),
    (request, reply) =>
      answer(request, reply, () => {
        const limit = intParam(request.query, 'limit', 1, 500, 50);
        return runtime.consoleQueries.run('search', {
          dbRoot: dbRoot(),
          filters: filtersOf(request.query),
          limit,
          cursor: textParam(request.query, 'cursor'),
        });
      }),
  );

  app.get<{ Params: { id: string } }>(
    '/ui/api/logs/exchange/:id',
    { onRequest: guard, schema: { hide: true } },
    (request, reply) =>
      answer(request, reply, async () => {
        const json = await runtime.consoleQueries.run('exchange', {
          dbRoot: dbRoot(),
          id: request.params.id,
        });
        if (json === null) {
          throw new GatewayError(
            'not_found',
            `No stored exchange with id '${request.params.id}' (yet: the log store ingests every few seconds).`,
          );
        }
        return reply.type(JSON_TYPE).send(json);
      }),
  );

  app.get<{ Params: { id: string } }>(
    '/ui/api/logs/dialog/:id',
    { onRequest: guard, schema: { hide: true } },
    (request, reply) =>
      answer(request, reply, async () => {
        const json = await runtime.consoleQueries.run('dialog', {
          dbRoot: dbRoot(),
          id: request.params.id,
          limit: 500,
        });
        if (json === null) throw new GatewayError('not_found', `No dialog with id '${request.params.id}'.`);
        return reply.type(JSON_TYPE).send(json);
      }),
  );

  app.get('/ui/api/keys', { onRequest: guard, schema: { hide: true } }, (request, reply) =>
    answer(request, reply, async () => {
      const records = await runtime.managedKeys.list();
      const usage = await keysUsage(
        runtime.managedKeys,
        runtime.budgets.store,
        records.map((r) => r.id),
      );
      const now = Date.now();
      return { data: records.map((record) => toWire(record, now, usage.get(record.id))) };
    }),
  );
}
