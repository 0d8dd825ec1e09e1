// Ties an ExchangeContext to a Fastify request, for the routes Fastify serves.
import type { FastifyRequest } from 'fastify';
import { createContext, type ExchangeContext } from './exchange-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    exchangeContext: ExchangeContext | undefined;
  }
}

export function contextFor(request: FastifyRequest): ExchangeContext {
  let ctx = request.exchangeContext;
  if (ctx === undefined) {
    ctx = createContext(request.id, request.method, request.url, request.headers, request.ip);
    request.exchangeContext = ctx;
  }
  return ctx;
}
