// A stored record to JSON text and back, shared by the stores: items get their ids on the way in,
// the size bound is checked once, and text read back is parsed with a guard (a store shared with
// other software, or a record written by another version, is data, not trusted code).
import { isRecord } from '../json-guards.js';
import { storedItems } from './input-items.js';
import { RecordTooLargeError, type StoredResponse } from './response-store.js';

/** The record as it is kept: input items in stored form. */
export function preparedRecord(record: StoredResponse): StoredResponse {
  return { ...record, input: storedItems(record.input) };
}

/** Throws RecordTooLargeError past the bound; `bytes` is the size of the JSON text kept. */
export function checkSize(id: string, bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) throw new RecordTooLargeError(id, bytes, maxBytes);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A parsed value as a record, or undefined when it does not have the record's shape. */
export function asStoredResponse(value: unknown): StoredResponse | undefined {
  if (!isRecord(value)) return undefined;
  const { id, owner, createdAt, expiresAt, model, provider, keyId, native, input, response } = value;
  if (
    typeof id !== 'string' ||
    (owner !== null && typeof owner !== 'string') ||
    typeof createdAt !== 'number' ||
    typeof expiresAt !== 'number' ||
    typeof model !== 'string' ||
    typeof provider !== 'string' ||
    typeof keyId !== 'string' ||
    typeof native !== 'boolean' ||
    !Array.isArray(input)
  ) {
    return undefined;
  }
  return {
    id,
    owner,
    createdAt,
    expiresAt,
    model,
    provider,
    keyId,
    native,
    input,
    response: response ?? null,
  };
}
