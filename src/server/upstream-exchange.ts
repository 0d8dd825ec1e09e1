// The exchange plumbing every upstream route shares: the exchange record, the client-disconnect
// signal, the attempt loop, the gateway's response headers and the 499 record for a client that
// went away. The fast chat path uses the small helpers (no extra allocations on its hot path);
// the Fastify routes (embeddings, images) run whole exchanges through serveUpstream.
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import {
  type CommittedResponse,
  type ExchangeInput,
  type ExchangeTrace,
  runAttempts,
} from '../gateway/attempt-loop.js';
import { ExchangeSignal } from '../gateway/exchange-signal.js';
import type { Target } from '../routing/router.js';
import type { ChatRequestBody } from '../translators/types.js';
import { costOf, readUsage } from '../usage/pricing.js';
import {
  type ExchangeContext,
  type ExchangeInfo,
  newExchangeInfo,
  responseRequestId,
} from './exchange-context.js';
import { logExchange } from './exchange-log.js';
import { setHeaderValue } from './header-value.js';
import { admitManagedKey, budgetRemainingHeader } from './key-admission.js';
import { contextFor } from './request-context.js';
import { CLIENT_CLOSED } from './routes/relay-stream.js';
import type { Runtime } from './runtime.js';

/** Milliseconds to two decimals, as logged and sent in x-ai-proxy-overhead-ms. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Tells the signal when the client goes away before the answer is finished; returns the listener. */
export function watchClient(res: ServerResponse, signal: ExchangeSignal): () => void {
  const onClose = () => {
    if (!res.writableFinished) signal.clientClosed();
  };
  res.on('close', onClose);
  return onClose;
}

/** The provider and model the router would try first, before any attempt is made. */
export function recordTargets(exchange: ExchangeInfo, targets: readonly Target[]): void {
  exchange.modelMapped = targets[0]?.model ?? null;
  exchange.provider = targets[0]?.provider.name ?? null;
}

/** The provider, model and key that answered. */
export function recordCommitted(exchange: ExchangeInfo, committed: CommittedResponse): void {
  exchange.modelMapped = committed.target.model;
  exchange.provider = committed.target.provider.name;
  exchange.keyId = committed.key.id;
  exchange.lease = committed.lease;
}

/**
 * A whole answer with a known price: its cost goes in x-ai-proxy-cost (and the log record).
 * `usage` is read only when some price exists, so a gateway without prices pays nothing here.
 */
export function priceAnswer(
  runtime: Runtime,
  exchange: ExchangeInfo,
  headers: Record<string, string>,
  usage: () => unknown,
): void {
  if (runtime.pricing.empty) return;
  const price = runtime.pricing.priceFor(exchange.provider, exchange.modelMapped, exchange.modelRequested);
  exchange.price = price;
  if (price === undefined) return;
  const tokens = readUsage(usage());
  if (tokens === undefined) return;
  exchange.cost = costOf(price, tokens);
  headers['x-ai-proxy-cost'] = exchange.cost.toFixed(6);
}

/** The usage object of a parsed JSON answer, if it has one. */
export function usageOf(answer: unknown): unknown {
  return typeof answer === 'object' && answer !== null
    ? (answer as Record<string, unknown>).usage
    : undefined;
}

/** The usage object of a JSON answer's bytes, if it has one. */
export function usageOfBytes(bytes: Buffer): unknown {
  try {
    return usageOf(JSON.parse(bytes.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** The gateway's own time (all but the upstream's) and the time to first byte, so far. */
export function recordTiming(ctx: ExchangeContext, exchange: ExchangeInfo, trace: ExchangeTrace): number {
  const elapsed = performance.now() - ctx.startedAt;
  const overheadMs = roundMs(Math.max(0, elapsed - trace.upstreamMs));
  exchange.overheadMs = overheadMs;
  exchange.ttfbMs = roundMs(elapsed);
  return overheadMs;
}

/** The headers every upstream answer carries: request id, who answered, overhead, dropped params. */
export function gatewayHeaders(
  ctx: ExchangeContext,
  committed: CommittedResponse,
  overheadMs: number,
): Record<string, string> {
  // Names come from the request, the config or the catalog: each is sent as a header can carry it
  // (percent-encoded past printable ASCII, left out if too long), never thrown on after the answer.
  const headers: Record<string, string> = { 'x-request-id': responseRequestId(ctx) };
  setHeaderValue(headers, 'x-ai-proxy-provider', committed.target.provider.name);
  setHeaderValue(headers, 'x-ai-proxy-model', committed.target.model);
  setHeaderValue(headers, 'x-ai-proxy-key', committed.key.id);
  headers['x-ai-proxy-overhead-ms'] = overheadMs.toFixed(2);
  if (committed.droppedParams.length > 0) {
    setHeaderValue(headers, 'x-ai-proxy-dropped-params', committed.droppedParams.join(','));
  }
  return headers;
}

/** Nobody is left to answer: the record keeps the error and says so with nginx's 499. */
export function logClientClosed(
  runtime: Runtime,
  ctx: ExchangeContext,
  exchange: ExchangeInfo,
  error: unknown,
): void {
  exchange.error = error instanceof GatewayError ? error.toResponse().error : { message: String(error) };
  logExchange(runtime, ctx, CLIENT_CLOSED);
}

/** The upstream's JSON answer, or the gateway's error naming the provider that sent something else. */
export function parseUpstreamJson(committed: CommittedResponse): unknown {
  // The attempt loop has parsed it already (a 2xx that is not JSON is a failed attempt there).
  if (committed.json !== undefined) return committed.json;
  try {
    return JSON.parse((committed.body ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    const provider = committed.target.provider.name;
    throw new GatewayError('upstream_error', `${provider} answered with a body that is not JSON.`, {
      provider,
    });
  }
}

export interface UpstreamRoute {
  body: ChatRequestBody;
  modelRequested: string | null;
  targets: (router: Runtime['state']['router']) => Target[];
  translatorFor: NonNullable<ExchangeInput['translatorFor']>;
  operation: string;
  /** The answer's bytes, in OpenAI's shape; time spent waiting on others goes in trace.upstreamMs. */
  answer: (
    committed: CommittedResponse,
    signal: ExchangeSignal,
    trace: ExchangeTrace,
  ) => Buffer | Promise<Buffer>;
}

/** One non-streaming exchange on a Fastify route, answered as JSON with the gateway's headers. */
export async function serveUpstream(
  runtime: Runtime,
  request: FastifyRequest,
  reply: FastifyReply,
  route: UpstreamRoute,
): Promise<void> {
  const ctx = contextFor(request);
  const { config, router } = runtime.state;
  const exchange = newExchangeInfo(route.modelRequested, false);
  ctx.exchange = exchange;
  const signal = new ExchangeSignal(config.timeouts.totalMs);
  const res = reply.raw;
  const onClose = watchClient(res, signal);
  exchange.span = runtime.tracing?.exchange(ctx, route.body as Record<string, unknown>);
  const trace: ExchangeTrace = { attempts: exchange.attempts, upstreamMs: 0, tracer: exchange.span };
  runtime.enter(signal);
  try {
    let targets = route.targets(router);
    const rawBody = ctx.rawBody ?? JSON.stringify(route.body);
    if (ctx.managedKey !== undefined) {
      const admission = await admitManagedKey(runtime, ctx.managedKey, route.body, rawBody, targets);
      targets = admission.targets;
      exchange.clientReservation = admission.reservation;
      ctx.budgetRemaining = admission.remaining;
    }
    recordTargets(exchange, targets);
    const committed = await runAttempts(
      { config, pools: runtime.pools, keys: runtime.keys },
      targets,
      {
        body: route.body,
        rawBody,
        stream: false,
        signal,
        translatorFor: route.translatorFor,
        operation: route.operation,
        clientHeaders: request.headers,
      },
      trace,
    );
    committed.release();
    recordCommitted(exchange, committed);
    const bytes = await route.answer(committed, signal, trace);
    exchange.responseBytes = bytes;
    const headers = gatewayHeaders(ctx, committed, recordTiming(ctx, exchange, trace));
    const remaining = budgetRemainingHeader(ctx.budgetRemaining);
    if (remaining !== undefined) headers['x-ai-proxy-budget-remaining'] = remaining;
    priceAnswer(runtime, exchange, headers, () => usageOfBytes(bytes));
    await reply.code(committed.status).headers(headers).type('application/json').send(bytes);
  } catch (error) {
    if (!signal.clientGone) throw error;
    // Fastify logs no response for a vanished client: the record is written here.
    logClientClosed(runtime, ctx, exchange, error);
    reply.hijack();
    if (!res.destroyed) res.destroy();
  } finally {
    signal.dispose();
    res.off('close', onClose);
    runtime.leave(signal);
  }
}
