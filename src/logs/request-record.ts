// One exchange as the request log keeps it (SPEC §8). The log store ingests exactly this shape, so
// every field is named here once. No field ever holds a key: clients by hash, provider keys by id.
import type { AttemptRecord } from '../gateway/attempt-loop.js';
import { assembleChatStream } from '../streaming/assemble-chat.js';

export interface RequestRecord {
  id: string;
  time: string;
  server_id: string;
  endpoint: string;
  method: string;
  client_key_hash: string | null;
  client_ip: string;
  user_agent: string | null;
  dialog_id: string | null;
  model_requested: string | null;
  model_mapped: string | null;
  provider: string | null;
  key_id: string | null;
  status: number;
  latency_ms: number;
  ttfb_ms: number | null;
  overhead_ms: number | null;
  stream: boolean;
  attempts: AttemptRecord[];
  usage: unknown;
  cost: number | null;
  request: unknown;
  response: unknown;
  error: unknown;
}

/**
 * What the route hands over when the response is done. Serializing and assembling happen later,
 * in the writer's flush, so the request path pays only for an object allocation.
 */
export interface PendingRecord {
  base: Omit<RequestRecord, 'request' | 'response' | 'usage' | 'error'>;
  /** The request body as the client sent it (valid JSON text), or undefined. */
  rawRequest: string | undefined;
  /** A body that was not valid JSON: stored as a JSON string, never spliced in. */
  unparsedRequest?: string | undefined;
  /** A non-stream answer's bytes, or the stream's raw SSE chunks. */
  responseBytes: Buffer | undefined;
  streamChunks: Buffer[] | undefined;
  error: unknown;
}

function parseJson(bytes: Buffer | undefined): unknown {
  if (bytes === undefined || bytes.length === 0) return null;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes.toString('utf8').slice(0, 10_000);
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** Builds the JSON line. The raw request is spliced in as text: it was valid JSON when parsed. */
export function serializeRecord(pending: PendingRecord, includeBodies: boolean): string {
  let response: unknown = null;
  let usage: unknown = null;
  let error = pending.error ?? null;
  if (pending.streamChunks !== undefined) {
    const assembled = assembleChatStream(pending.streamChunks);
    response = assembled.completion ?? null;
    usage = assembled.usage ?? null;
    if (assembled.error !== undefined && error === null) error = assembled.error;
  } else if (pending.responseBytes !== undefined) {
    response = parseJson(pending.responseBytes);
    usage = asRecord(response)?.usage ?? null;
  }
  const record: Omit<RequestRecord, 'request'> = {
    ...pending.base,
    usage,
    response: includeBodies ? response : null,
    error,
  };
  const head = JSON.stringify(record);
  if (includeBodies && pending.rawRequest === undefined && pending.unparsedRequest !== undefined) {
    return `${head.slice(0, -1)},"request":${JSON.stringify(pending.unparsedRequest)}}\n`;
  }
  if (!includeBodies || pending.rawRequest === undefined) return `${head.slice(0, -1)},"request":null}\n`;
  // JSON text may hold raw line breaks only as whitespace between tokens; a JSONL line must not.
  const request = pending.rawRequest.replace(/[\r\n]+/g, ' ');
  return `${head.slice(0, -1)},"request":${request}}\n`;
}
