// Hands a finished exchange to the request log. Only an object is built here; serializing happens
// in the log's flush, after the response is out.
import type { FastifyRequest } from 'fastify';
import type { PendingRecord } from '../logs/request-record.js';
import { clientRequestId } from './request-context.js';
import type { Runtime } from './runtime.js';

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  return typeof value === 'string' ? value.slice(0, 256) : null;
}

export function logExchange(
  runtime: Runtime,
  request: FastifyRequest,
  status: number,
  latencyMs: number,
): void {
  request.logged = true;
  const exchange = request.exchange;
  const pending: PendingRecord = {
    base: {
      id: request.id,
      client_request_id: clientRequestId(request) ?? null,
      time: new Date().toISOString(),
      server_id: runtime.identity.server_id,
      endpoint: request.routeOptions.url ?? request.url.split('?')[0] ?? request.url,
      method: request.method,
      client_key_hash: request.clientKeyHash,
      client_ip: request.ip,
      user_agent: header(request, 'user-agent'),
      dialog_id: header(request, 'x-dialog-id'),
      model_requested: exchange?.modelRequested ?? null,
      model_mapped: exchange?.modelMapped ?? null,
      provider: exchange?.provider ?? null,
      key_id: exchange?.keyId ?? null,
      status,
      latency_ms: Math.round(latencyMs * 100) / 100,
      ttfb_ms: exchange?.ttfbMs ?? null,
      overhead_ms: exchange?.overheadMs ?? null,
      stream: exchange?.stream ?? false,
      attempts: exchange?.attempts ?? [],
      cost: null,
    },
    rawRequest: request.rawBody,
    unparsedRequest: request.unparsedBody,
    responseBytes: exchange?.responseBytes,
    streamChunks: exchange?.streamChunks,
    error: exchange?.error ?? request.errorBody ?? null,
  };
  runtime.requestLog.add(pending);
}
