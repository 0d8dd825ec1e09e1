// One exchange as the request log keeps it (SPEC §8). The log store ingests exactly this shape, so
// every field is named here once. No field ever holds a key: clients by hash, provider keys by id.
import type { Price } from '../config/types.js';
import type { AttemptRecord } from '../gateway/attempt-loop.js';
import type { Lease } from '../keys/limit-store.js';
import type { Reservation } from '../managed-keys/budget-store.js';
import { costOf, readUsage, type TokenUsage } from '../usage/cost.js';
import type { ByteBuffer } from './byte-buffer.js';
import {
  type PackedRecord,
  REQUEST_JSON,
  REQUEST_TEXT,
  RESPONSE_JSON,
  RESPONSE_STREAM,
} from './record-batch.js';
import { streamAssemblerFor } from './stream-assemblers.js';

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
  /** Present (true) only when the log kept a stream's start and end but not all of it. */
  response_truncated?: true;
}

/**
 * What the route hands over when the response is done. The request log packs it at once (bodies
 * copied, see record-batch.ts); assembling and serializing happen later, in the log writer thread.
 */
export interface PendingRecord {
  /** The record's fields up to `attempts`; the writer adds cost, usage, error and the bodies. */
  base: Omit<RequestRecord, 'request' | 'response' | 'usage' | 'error' | 'cost'>;
  /** The request body as the client sent it (valid JSON text), or undefined. */
  rawRequest: string | undefined;
  /** A body that was not valid JSON: stored as a JSON string, never spliced in. */
  unparsedRequest?: string | undefined;
  /** A non-stream answer's bytes, or the stream's raw SSE chunks. */
  responseBytes: Buffer | undefined;
  streamChunks: Buffer[] | undefined;
  /** The stream's copy left its middle out (LOG_STREAM_LIMIT). */
  responseTruncated?: boolean;
  error: unknown;
  /** The provider key's reservation, settled with the usage the writer finds. */
  lease?: Lease | undefined;
  /** A managed client key's reservation, settled or released the same way. */
  clientReservation?: Reservation | undefined;
  price?: Price | undefined;
  /** Already worked out on the request path (non-stream answers with a price send x-ai-proxy-cost). */
  cost?: number | undefined;
  /** Told the usage once it is known (metrics, the exchange's span); undefined when both are off. */
  observer?: UsageObserver | undefined;
}

/** Told a record's usage and cost once the log writer found them. */
export interface UsageObserver {
  usage(meta: AccountingMeta, tokens: TokenUsage | undefined, cost: number | null): void;
}

/** What accounting needs of a record once its usage is known (the rest is gone by then). */
export interface AccountingMeta {
  lease: Lease | undefined;
  clientReservation: Reservation | undefined;
  clientKeyHash: string | null;
  provider: string | null;
  status: number;
  time: string;
  latencyMs: number;
  ttfbMs: number | null;
  stream: boolean;
  observer: UsageObserver | undefined;
}

/** Settles a record's key reservation and counts its client's usage and cost. */
export type Accounting = (meta: AccountingMeta, tokens: TokenUsage | undefined, cost: number | null) => void;

export function accountingMeta(pending: PendingRecord): AccountingMeta {
  const { base } = pending;
  return {
    lease: pending.lease,
    clientReservation: pending.clientReservation,
    clientKeyHash: base.client_key_hash,
    provider: base.provider,
    status: base.status,
    time: base.time,
    latencyMs: base.latency_ms,
    ttfbMs: base.ttfb_ms,
    stream: base.stream,
    observer: pending.observer,
  };
}

/** JSON text may hold raw line breaks only as whitespace between tokens; a JSONL line must not. */
function oneLine(json: string): string {
  return json.replace(/[\r\n]+/g, ' ');
}

/** JSON bytes as one line: copied as they are unless they hold a raw line break. */
function jsonBytes(out: ByteBuffer, json: Buffer): void {
  if (json.indexOf(10) === -1 && json.indexOf(13) === -1) out.bytesOf(json);
  else out.text(oneLine(json.toString('utf8')));
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

export interface RecordOutcome {
  tokens: TokenUsage | undefined;
  cost: number | null;
}

/**
 * Writes the JSON line of a packed record to `out`: the stream assembled into one answer in its
 * client's dialect (a chat completion, a Messages message), usage found in either shape, cost
 * worked out. Bodies that are JSON go in as their own bytes, never parsed and
 * stringified again; only a stream is decoded (to assemble it) and a JSON answer (for its usage).
 */
export function writeRecordLine(
  out: ByteBuffer,
  record: PackedRecord,
  includeBodies: boolean,
): RecordOutcome {
  let usage: unknown = null;
  let errorJson = record.error ?? 'null';
  let completion: unknown;
  let answerText: string | undefined;
  let answerIsJson = false;
  if (record.responseKind === RESPONSE_STREAM) {
    const assembled = streamAssemblerFor(record.endpoint)([record.response]);
    completion = assembled.completion ?? null;
    usage = assembled.usage ?? null;
    if (assembled.error !== undefined && record.error === undefined)
      errorJson = JSON.stringify(assembled.error);
  } else if (record.responseKind === RESPONSE_JSON && record.response.length > 0) {
    answerText = record.response.toString('utf8');
    try {
      usage = asRecord(JSON.parse(answerText))?.usage ?? null;
      answerIsJson = true;
    } catch {
      // kept as a string below
    }
  }
  const tokens = readUsage(usage);
  let cost: number | null = record.cost ?? null;
  if (cost === null && record.price !== undefined && tokens !== undefined)
    cost = costOf(record.price, tokens);
  // Few writes, each a whole run of text: every Buffer#write has a fixed cost well above that of
  // joining a few short strings first.
  const truncated = record.responseTruncated ? ',"response_truncated":true' : '';
  const fields = `${record.head},"cost":${cost !== null && Number.isFinite(cost) ? String(cost) : 'null'},"usage":${JSON.stringify(usage) ?? 'null'},"error":${errorJson}${truncated}`;
  if (!includeBodies) {
    out.text(`${fields},"request":null,"response":null}\n`);
    return { tokens, cost };
  }
  if (record.requestKind === REQUEST_JSON) {
    out.text(`${fields},"request":`);
    jsonBytes(out, record.request);
  } else {
    const request =
      record.requestKind === REQUEST_TEXT ? JSON.stringify(record.request.toString('utf8')) : 'null';
    out.text(`${fields},"request":${request}`);
  }
  if (completion !== undefined) out.text(`,"response":${JSON.stringify(completion)}}\n`);
  else if (answerIsJson) {
    out.text(',"response":');
    jsonBytes(out, record.response);
    out.text('}\n');
  } else {
    const response = answerText !== undefined ? JSON.stringify(answerText.slice(0, 10_000)) : 'null';
    out.text(`,"response":${response}}\n`);
  }
  return { tokens, cost };
}
