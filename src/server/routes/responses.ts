// POST /v1/responses (the OpenAI Responses API) on the Fastify side: its documentation, its 405s
// and the Fastify entry (exchange-route.ts); the request itself normally takes the fast path.
// Stored responses' GET and DELETE routes are in responses-store.ts.
import type { FastifyInstance } from 'fastify';
import { responsesRequestSchema } from '../dialects/responses-schema.js';
import type { ExchangeHandler } from '../exchange-handler.js';
import { registerExchangeRoute } from './exchange-route.js';

export function registerResponsesRoute(app: FastifyInstance, responses: ExchangeHandler): void {
  registerExchangeRoute(app, responses, {
    summary:
      'Create a response (OpenAI Responses API), streamed or not: native to providers that serve it, bridged to chat for the rest',
    tags: ['OpenAI API'],
    body: responsesRequestSchema,
  });
}
