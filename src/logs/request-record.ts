// One exchange as the request log keeps it (SPEC §8). The log store ingests exactly this shape, so
// every field is named here once. No field ever holds a key: clients by hash, provider keys by id.
import type { Price } from '../config/types.js';
import type { AttemptRecord } from '../gateway/attempt-loop.js';
import type { Lease } from '../keys/limit-store.js';
import { assembleChatStream } from '../streaming/assemble-chat.js';

export interface RequestRecord {
  id: string;
  /** The client's own x-request-id, when it sent one. */
  client_request_id: string | null;
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
  /** The provider key's reservation, settled with the usage found here. */
  lease?: Lease | undefined;
  price?: Price | undefined;
  /** Already worked out on the request path (non-stream answers with a price send x-ai-proxy-cost). */
  cost?: number | undefined;
}

/** Settles usage and works out cost once the record's usage is known; returns the cost. */
export type Accounting = (pending: PendingRecord, usage: unknown) => number | null;

/** JSON text may hold raw line breaks only as whitespace between tokens; a JSONL line must not. */
function oneLine(json: string): string {
  return json.replace(/[\r\n]+/g, ' ');
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/**
 * Builds the JSON line. Bodies that parsed as JSON are spliced in as their own text rather than
 * parsed and stringified again: the log writer's largest cost, halved.
 */
export function serializeRecord(
  pending: PendingRecord,
  includeBodies: boolean,
  account?: Accounting,
): string {
  let responseJson = 'null';
  let usage: unknown = null;
  let error = pending.error ?? null;
  if (pending.streamChunks !== undefined) {
    const assembled = assembleChatStream(pending.streamChunks);
    responseJson = JSON.stringify(assembled.completion ?? null);
    usage = assembled.usage ?? null;
    if (assembled.error !== undefined && error === null) error = assembled.error;
  } else if (pending.responseBytes !== undefined && pending.responseBytes.length > 0) {
    const text = pending.responseBytes.toString('utf8');
    try {
      usage = asRecord(JSON.parse(text))?.usage ?? null;
      responseJson = oneLine(text);
    } catch {
      responseJson = JSON.stringify(text.slice(0, 10_000));
    }
  }
  // The base object becomes the record (no copy): it is used once, here, and dropped after.
  const record = pending.base as Omit<RequestRecord, 'request' | 'response'>;
  record.usage = usage;
  record.error = error;
  if (account !== undefined) record.cost = account(pending, usage);
  let requestJson = 'null';
  if (pending.rawRequest !== undefined) requestJson = oneLine(pending.rawRequest);
  else if (pending.unparsedRequest !== undefined) requestJson = JSON.stringify(pending.unparsedRequest);
  const head = JSON.stringify(record).slice(0, -1);
  if (!includeBodies) return `${head},"request":null,"response":null}\n`;
  return `${head},"request":${requestJson},"response":${responseJson}}\n`;
}
