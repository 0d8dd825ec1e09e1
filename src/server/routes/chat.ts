// The Fastify side of POST /v1/chat/completions. Requests normally reach ChatHandler straight from
// node:http (the fast path in app.ts); this route publishes the schema in /openapi.json, answers
// other methods with 405 as OpenAI does, and serves the rare request that comes through Fastify
// (an injected one, say) with the same handler.
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import { CHAT_PATH, type ChatHandler } from '../chat-handler.js';
import { chatRequestSchema, errorResponses } from '../chat-schema.js';
import { contextFor } from '../request-context.js';

export function registerChatRoute(app: FastifyInstance, chat: ChatHandler): void {
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: CHAT_PATH,
    schema: { hide: true },
    handler: async (request) => {
      throw new GatewayError(
        'method_not_allowed',
        `Invalid method for URL (${request.method} ${CHAT_PATH}): use POST.`,
        {
          headers: { allow: 'POST' },
        },
      );
    },
  });

  app.post(
    CHAT_PATH,
    {
      schema: {
        summary: 'Create a chat completion (OpenAI-compatible), streamed or not, on any configured provider',
        tags: ['OpenAI API'],
        body: chatRequestSchema,
        response: errorResponses,
        security: [{ bearerAuth: [] }],
      },
      // The handler validates the body itself (the same schema), so both entries answer alike.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const ctx = contextFor(request);
      reply.hijack();
      await chat.serve(ctx, reply.raw, ctx.rawBody ?? ctx.unparsedBody ?? '');
    },
  );
}
