// What the gateway remembers about a request between hooks and the handler.
import type { FastifyRequest } from 'fastify';
import type { AttemptRecord } from '../gateway/attempt-loop.js';

export interface ExchangeInfo {
  modelRequested: string | null;
  modelMapped: string | null;
  provider: string | null;
  keyId: string | null;
  stream: boolean;
  attempts: AttemptRecord[];
  ttfbMs: number | null;
  overheadMs: number | null;
  responseBytes: Buffer | undefined;
  streamChunks: Buffer[] | undefined;
  error: unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as sent, when it parsed as JSON. */
    rawBody: string | undefined;
    /** A body that did not parse as JSON (or was blank), kept so the log can show what was sent. */
    unparsedBody: string | undefined;
    clientKeyHash: string | null;
    exchange: ExchangeInfo | undefined;
    /** The handler wrote the request-log record itself (hijacked streams). */
    logged: boolean;
  }
}

export function newExchange(
  request: FastifyRequest,
  modelRequested: string | null,
  stream: boolean,
): ExchangeInfo {
  const exchange: ExchangeInfo = {
    modelRequested,
    modelMapped: null,
    provider: null,
    keyId: null,
    stream,
    attempts: [],
    ttfbMs: null,
    overheadMs: null,
    responseBytes: undefined,
    streamChunks: undefined,
    error: null,
  };
  request.exchange = exchange;
  return exchange;
}

const SANE_ID = /^[\w.:-]{1,128}$/;

/** The client's own x-request-id when it is a sane token, else undefined. */
export function clientRequestId(request: FastifyRequest): string | undefined {
  const sent = request.headers['x-request-id'];
  return typeof sent === 'string' && SANE_ID.test(sent) ? sent : undefined;
}

/** What the x-request-id response header says: the client's id if it sent one, else ours. */
export function responseRequestId(request: FastifyRequest): string {
  return clientRequestId(request) ?? request.id;
}
