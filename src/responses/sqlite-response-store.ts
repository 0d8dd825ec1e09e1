// Stored responses in one SQLite file (WAL, so `serve --workers` processes share it): one table,
// the input items and the Response object as JSON text. Expired rows are invisible at once and
// deleted by a periodic purge (an unref'd timer) and when a read finds one.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { asStoredResponse, checkSize, parseJson, preparedRecord } from './record-json.js';
import { DEFAULT_MAX_RECORD_BYTES, type ResponseStore, type StoredResponse } from './response-store.js';

export interface SqliteResponseStoreOptions {
  path: string;
  maxRecordBytes?: number;
  /** How often expired rows are deleted; 10 minutes unless told. */
  purgeIntervalMs?: number;
  /** The clock, for tests. */
  now?: () => number;
  /** A purge on the timer that failed (the file locked past busy_timeout, say): logged, not thrown. */
  onError?: (error: Error) => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  owner TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  key_id TEXT NOT NULL,
  native INTEGER NOT NULL,
  input TEXT NOT NULL,
  response TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS responses_expires_at ON responses (expires_at);
`;

interface Row {
  id: string;
  owner: string | null;
  created_at: number;
  expires_at: number;
  model: string;
  provider: string;
  key_id: string;
  native: number;
  input: string;
  response: string;
}

function fromRow(row: Row): StoredResponse | undefined {
  return asStoredResponse({
    id: row.id,
    owner: row.owner,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    model: row.model,
    provider: row.provider,
    keyId: row.key_id,
    native: row.native === 1,
    input: parseJson(row.input),
    response: parseJson(row.response),
  });
}

export class SqliteResponseStore implements ResponseStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement<[string]>;
  private readonly remove: Database.Statement<[string]>;
  private readonly purgeBefore: Database.Statement<[number]>;
  /**
   * Records put in this tick, written together in one transaction just after it: a commit per
   * answer was the largest cost of a stored response under load. Reads see them at once.
   */
  private pending = new Map<string, { record: StoredResponse; row: Record<string, unknown> }>();
  private flushScheduled = false;
  private readonly onError: (error: Error) => void;
  private readonly writeMany: (rows: Record<string, unknown>[]) => void;

  constructor(options: SqliteResponseStoreOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Other worker processes write the same file: wait for their lock instead of failing.
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.maxBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.now = options.now ?? Date.now;
    this.insert = this.db.prepare(
      `INSERT OR REPLACE INTO responses
         (id, owner, created_at, expires_at, model, provider, key_id, native, input, response)
       VALUES (@id, @owner, @created_at, @expires_at, @model, @provider, @key_id, @native, @input, @response)`,
    );
    this.select = this.db.prepare('SELECT * FROM responses WHERE id = ?');
    this.remove = this.db.prepare('DELETE FROM responses WHERE id = ? RETURNING expires_at');
    this.purgeBefore = this.db.prepare('DELETE FROM responses WHERE expires_at <= ?');
    this.purge();
    const onError = options.onError ?? (() => undefined);
    this.onError = onError;
    this.writeMany = this.db.transaction((rows: Record<string, unknown>[]) => {
      for (const row of rows) this.insert.run(row);
    });
    this.timer = setInterval(() => {
      try {
        this.purge();
      } catch (error) {
        onError(error as Error);
      }
    }, options.purgeIntervalMs ?? 600_000);
    this.timer.unref();
  }

  async put(record: StoredResponse): Promise<void> {
    const kept = preparedRecord(record);
    const input = JSON.stringify(kept.input);
    const response = JSON.stringify(kept.response ?? null);
    checkSize(record.id, Buffer.byteLength(input) + Buffer.byteLength(response), this.maxBytes);
    const row = {
      id: kept.id,
      owner: kept.owner,
      created_at: kept.createdAt,
      expires_at: kept.expiresAt,
      model: kept.model,
      provider: kept.provider,
      key_id: kept.keyId,
      native: kept.native ? 1 : 0,
      input,
      response,
    };
    this.pending.set(kept.id, { record: kept, row });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes the records put so far in one transaction. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.size === 0 || !this.db.open) return;
    const rows = [...this.pending.values()].map((entry) => entry.row);
    this.pending = new Map();
    try {
      this.writeMany(rows);
    } catch (error) {
      this.onError(error as Error);
    }
  }

  async get(id: string): Promise<StoredResponse | undefined> {
    const waiting = this.pending.get(id);
    if (waiting !== undefined) return waiting.record.expiresAt > this.now() ? waiting.record : undefined;
    const row = this.select.get(id) as Row | undefined;
    if (row === undefined) return undefined;
    if (row.expires_at <= this.now()) {
      this.remove.run(id);
      return undefined;
    }
    return fromRow(row);
  }

  async delete(id: string): Promise<boolean> {
    const waiting = this.pending.get(id);
    if (waiting !== undefined) {
      this.pending.delete(id);
      this.remove.run(id);
      return waiting.record.expiresAt > this.now();
    }
    const row = this.remove.get(id) as { expires_at: number } | undefined;
    return row !== undefined && row.expires_at > this.now();
  }

  /** Deletes every expired row; returns how many. */
  purge(): number {
    return this.purgeBefore.run(this.now()).changes;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    if (this.db.open) this.db.close();
  }
}
