// POST /v1/messages (the Anthropic Messages API) on the Fastify side: its documentation, its 405s
// and the Fastify entry (exchange-route.ts); the request itself normally takes the fast path.
import type { FastifyInstance } from 'fastify';
import { anthropicErrorResponses, messagesRequestSchema } from '../dialects/messages-schema.js';
import type { ExchangeHandler } from '../exchange-handler.js';
import { registerExchangeRoute } from './exchange-route.js';

export function registerMessagesRoute(app: FastifyInstance, messages: ExchangeHandler): void {
  registerExchangeRoute(app, messages, {
    summary:
      'Create a message (Anthropic Messages API), streamed or not: native to Anthropic, translated for every other provider',
    tags: ['Anthropic API'],
    body: messagesRequestSchema,
    errors: anthropicErrorResponses,
  });
}
