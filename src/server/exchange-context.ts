// What the gateway knows about one exchange, whichever way it came in (the fast chat path on
// node:http or a Fastify route): enough to answer errors and write its request-log record.
import type { IncomingHttpHeaders } from 'node:http';
import type { Price } from '../config/types.js';
import type { AttemptRecord } from '../gateway/attempt-loop.js';
import type { Lease } from '../keys/limit-store.js';
import type { BudgetRemaining, Reservation } from '../managed-keys/budget-store.js';
import type { ManagedKey } from '../managed-keys/types.js';
import type { ExchangeSpan } from '../observability/tracing.js';

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
  /** The log's copy of the stream left its middle out (LOG_STREAM_LIMIT). */
  streamTruncated: boolean;
  /** A translated stream's whole answer, when its translator keeps one (StreamTranslator.result). */
  streamResult: unknown;
  error: unknown;
  /** The provider key's reservation, settled when the log record learns the usage. */
  lease: Lease | undefined;
  /** A managed client key's reservation, settled (or released) the same way. */
  clientReservation: Reservation | undefined;
  price: Price | undefined;
  /** Worked out on the request path for non-stream answers (x-ai-proxy-cost). */
  cost: number | undefined;
  /** The exchange's span, when traces are on. */
  span: ExchangeSpan | undefined;
}

export interface ExchangeContext {
  id: string;
  /** performance.now() when the request arrived. */
  startedAt: number;
  method: string;
  /** The path without its query string. */
  endpoint: string;
  headers: IncomingHttpHeaders;
  /** The client's own x-request-id when it sent a sane one: echoed back and logged. */
  clientRequestId: string | undefined;
  clientIp: string;
  clientKeyHash: string | null;
  /** The managed key that authenticated the request (issue 15), with its policy. */
  managedKey: ManagedKey | undefined;
  /** Dollars left in the managed key's budgets after this request's reservation. */
  budgetRemaining: BudgetRemaining | undefined;
  /** The body as sent, when it parsed as JSON. */
  rawBody: string | undefined;
  /** A body that did not parse as JSON (or was blank), kept so the log can show what was sent. */
  unparsedBody: string | undefined;
  exchange: ExchangeInfo | undefined;
  errorBody: unknown;
  /** The record has been handed to the request log. */
  logged: boolean;
}

/** A fresh context for a request that has just arrived. */
export function createContext(
  id: string,
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  clientIp: string,
): ExchangeContext {
  return {
    id,
    startedAt: performance.now(),
    method,
    endpoint: pathOf(url),
    headers,
    clientRequestId: clientRequestId(headers),
    clientIp,
    clientKeyHash: null,
    managedKey: undefined,
    budgetRemaining: undefined,
    rawBody: undefined,
    unparsedBody: undefined,
    exchange: undefined,
    errorBody: undefined,
    logged: false,
  };
}

export function newExchangeInfo(modelRequested: string | null, stream: boolean): ExchangeInfo {
  return {
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
    streamTruncated: false,
    streamResult: undefined,
    error: null,
    lease: undefined,
    clientReservation: undefined,
    price: undefined,
    cost: undefined,
    span: undefined,
  };
}

const SANE_ID = /^[\w.:-]{1,128}$/;

/** The client's own x-request-id when it is a sane token, else undefined. */
export function clientRequestId(headers: IncomingHttpHeaders): string | undefined {
  const sent = headers['x-request-id'];
  return typeof sent === 'string' && SANE_ID.test(sent) ? sent : undefined;
}

/** What the x-request-id response header says: the client's id if it sent one, else ours. */
export function responseRequestId(ctx: ExchangeContext): string {
  return ctx.clientRequestId ?? ctx.id;
}

/** The path part of a request URL. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
