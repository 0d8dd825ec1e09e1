// Ties an ExchangeContext to a Fastify request, for the routes Fastify serves.
import type { FastifyRequest } from 'fastify';
import { type ExchangeContext, pathOf } from './exchange-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    exchangeContext: ExchangeContext | undefined;
  }
}

export function contextFor(request: FastifyRequest): ExchangeContext {
  let ctx = request.exchangeContext;
  if (ctx === undefined) {
    ctx = {
      id: request.id,
      startedAt: performance.now(),
      method: request.method,
      endpoint: pathOf(request.url),
      headers: request.headers,
      clientIp: request.ip,
      clientKeyHash: null,
      rawBody: undefined,
      unparsedBody: undefined,
      exchange: undefined,
      errorBody: undefined,
      logged: false,
    };
    request.exchangeContext = ctx;
  }
  return ctx;
}
