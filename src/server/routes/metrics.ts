// GET /metrics: Prometheus text format (observability/metrics.ts); under `serve --workers` the
// whole server's. Open unless METRICS_KEY is set, then `Authorization: Bearer <METRICS_KEY>`
// (compared in constant time). Not registered with METRICS_ENABLED=false (a 404 like any path).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import { sendError } from '../error-handler.js';
import type { Runtime } from '../runtime.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

export function registerMetricsRoute(app: FastifyInstance, runtime: Runtime): void {
  const metrics = runtime.metrics;
  if (metrics === undefined) return;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const key = runtime.state.config.observability.metricsKey;
    if (key !== undefined) {
      const presented = bearer(request.headers.authorization);
      if (presented === undefined || !timingSafeEqual(digest(presented), digest(key))) {
        sendError(
          request,
          reply,
          new GatewayError(
            'invalid_api_key',
            presented === undefined
              ? 'GET /metrics needs Authorization: Bearer <METRICS_KEY>.'
              : 'Incorrect metrics key provided.',
          ),
        );
        return reply;
      }
    }
    let text: string;
    try {
      text = await metrics.text();
    } catch (error) {
      runtime.logger.error({ err: error }, 'metrics could not be gathered');
      throw new GatewayError(
        'internal_error',
        `The metrics could not be gathered: ${(error as Error).message}`,
      );
    }
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
