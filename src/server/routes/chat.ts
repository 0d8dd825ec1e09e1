// POST /v1/chat/completions on the Fastify side: its documentation, its 405s and the Fastify entry
// (exchange-route.ts); the request itself normally takes the fast path.
import type { FastifyInstance } from 'fastify';
import { chatRequestSchema } from '../chat-schema.js';
import type { ExchangeHandler } from '../exchange-handler.js';
import { registerExchangeRoute } from './exchange-route.js';

export function registerChatRoute(app: FastifyInstance, chat: ExchangeHandler): void {
  registerExchangeRoute(app, chat, {
    summary: 'Create a chat completion (OpenAI-compatible), streamed or not, on any configured provider',
    tags: ['OpenAI API'],
    body: chatRequestSchema,
  });
}
