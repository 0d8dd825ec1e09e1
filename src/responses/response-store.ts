// Stored Responses API responses: what the gateway keeps of a /v1/responses exchange so that
// `previous_response_id` and GET/DELETE /v1/responses/{id} work. Bridged responses are kept whole
// (input items and the Response object); native ones only say where the upstream keeps them.
// Implementations: sqlite-response-store.ts (one process or one host), redis-response-store.ts
// (every instance sharing a Redis). Ownership is the caller's business: see `visibleTo`.

export interface StoredResponse {
  /** The Response id (`resp_…`), as the client sees it. */
  id: string;
  /** The short hash of the client key that created it; null when the gateway has no client keys. */
  owner: string | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch; from then on the record is gone. */
  expiresAt: number;
  /** The model as the client asked for it. */
  model: string;
  /** The provider that answered, and the id of the key it answered with. */
  provider: string;
  keyId: string;
  /** True: the upstream created and stores the response; the gateway only remembers where. */
  native: boolean;
  /** Bridged: the full input item list of that turn (earlier turns expanded); native: []. */
  input: unknown[];
  /** Bridged: the Response object; native: null. */
  response: unknown;
}

export interface ResponseStore {
  readonly kind: 'sqlite' | 'redis';
  /**
   * Keeps a record until its expiresAt, replacing one with the same id. Input items without an id
   * get one (`msg_…`, `fc_…`, …). Rejects when the record is too large (RecordTooLargeError) or
   * the store is away: the caller logs it and answers the client anyway.
   */
  put(record: StoredResponse): Promise<void>;
  /** The record, or undefined when unknown, expired or deleted. */
  get(id: string): Promise<StoredResponse | undefined>;
  /** True when there was an unexpired record to delete. */
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A record larger than this (as JSON) is refused: 16 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

export class RecordTooLargeError extends Error {
  constructor(
    readonly id: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`response ${id} not stored: ${bytes} bytes is over the ${maxBytes}-byte limit`);
    this.name = 'RecordTooLargeError';
  }
}

/** Another client's record is treated as missing: the caller answers 404 as for an unknown id. */
export function visibleTo(
  record: StoredResponse | undefined,
  owner: string | null,
): record is StoredResponse {
  return record !== undefined && record.owner === owner;
}
