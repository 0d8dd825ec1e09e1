// Hands a finished exchange to the request log. Only an object is built here; serializing happens
// in the log's flush, after the response is out.
import type { PendingRecord } from '../logs/request-record.js';
import { redactorFor } from '../secrets/config-secrets.js';
import type { ExchangeContext } from './exchange-context.js';
import type { Runtime } from './runtime.js';

function header(ctx: ExchangeContext, name: string): string | null {
  const value = ctx.headers[name];
  return typeof value === 'string' ? value.slice(0, 256) : null;
}

// Many exchanges end in the same millisecond under load: the ISO time is formatted once per ms.
let isoMs = 0;
let isoText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

export function logExchange(runtime: Runtime, ctx: ExchangeContext, status: number): void {
  if (ctx.logged) return;
  ctx.logged = true;
  const exchange = ctx.exchange;
  const error = exchange?.error ?? ctx.errorBody ?? null;
  const pending: PendingRecord = {
    base: {
      id: ctx.id,
      client_request_id: ctx.clientRequestId ?? null,
      time: isoNow(),
      server_id: runtime.identity.server_id,
      endpoint: ctx.endpoint,
      method: ctx.method,
      client_key_hash: ctx.clientKeyHash,
      client_ip: ctx.clientIp,
      user_agent: header(ctx, 'user-agent'),
      dialog_id: header(ctx, 'x-dialog-id'),
      model_requested: exchange?.modelRequested ?? null,
      model_mapped: exchange?.modelMapped ?? null,
      provider: exchange?.provider ?? null,
      key_id: exchange?.keyId ?? null,
      status,
      latency_ms: Math.round((performance.now() - ctx.startedAt) * 100) / 100,
      ttfb_ms: exchange?.ttfbMs ?? null,
      overhead_ms: exchange?.overheadMs ?? null,
      stream: exchange?.stream ?? false,
      attempts: exchange?.attempts ?? [],
    },
    rawRequest: ctx.rawBody,
    unparsedRequest: ctx.unparsedBody,
    responseBytes: exchange?.responseBytes,
    streamChunks: exchange?.streamChunks,
    responseTruncated: exchange?.streamTruncated === true,
    // Whatever built the error, no secret reaches the log (and the log store that ingests it).
    error: error === null ? null : redactorFor(runtime.state.config).value(error),
  };
  if (exchange !== undefined) {
    pending.lease = exchange.lease;
    pending.clientReservation = exchange.clientReservation;
    pending.cost = exchange.cost;
    pending.price =
      exchange.price ??
      runtime.pricing.priceFor(exchange.provider, exchange.modelMapped, exchange.modelRequested);
  }
  // Metrics and the exchange's span take what is known now, and its usage once the log has it.
  const meter = runtime.metrics?.exchange(pending.base, ctx.managedKey);
  const span = exchange?.span;
  pending.observer = span === undefined ? meter : span.finish(pending.base, exchange!, meter);
  runtime.requestLog.add(pending);
}
