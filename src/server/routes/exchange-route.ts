// The Fastify side of a fast-path route (chat completions, messages). Requests normally reach the
// ExchangeHandler straight from node:http (app.ts); this route publishes the dialect's schema in
// /openapi.json, answers other methods with 405 as the providers do, and serves the rare request
// that comes through Fastify (an injected one, say) with the same handler.
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import { errorResponses } from '../chat-schema.js';
import type { ExchangeHandler } from '../exchange-handler.js';
import { contextFor } from '../request-context.js';

export interface ExchangeRouteDoc {
  summary: string;
  tags: string[];
  body: object;
  /** The documented error answers (OpenAI's shape unless given). */
  errors?: object;
}

export function registerExchangeRoute(
  app: FastifyInstance,
  handler: ExchangeHandler,
  doc: ExchangeRouteDoc,
): void {
  const path = handler.dialect.path;
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: path,
    schema: { hide: true },
    handler: async (request) => {
      throw new GatewayError(
        'method_not_allowed',
        `Invalid method for URL (${request.method} ${path}): use POST.`,
        {
          headers: { allow: 'POST' },
        },
      );
    },
  });

  app.post(
    path,
    {
      schema: {
        summary: doc.summary,
        tags: doc.tags,
        body: doc.body,
        response: doc.errors ?? errorResponses,
        security: [{ bearerAuth: [] }],
      },
      // The handler validates the body itself (the same schema), so both entries answer alike.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const ctx = contextFor(request);
      reply.hijack();
      await handler.serve(ctx, reply.raw, ctx.rawBody ?? ctx.unparsedBody ?? '');
    },
  );
}
