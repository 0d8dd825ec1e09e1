// Managed keys in one SQLite file (WAL: the server and the CLI open it together). Only the key's
// sha256 is written. The file is created by the first write, never by a reader, so a gateway that
// has no managed keys leaves no file behind. Changes made by another process are seen through
// `PRAGMA data_version` (a counter SQLite bumps when another connection commits), polled on an
// unref'd timer and before every read; a change reloads the whole index in one read transaction.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { KeyCreateInput, KeyPatch } from './key-input.js';
import {
  type CreatedKey,
  KeyIndex,
  type KeyStore,
  newRecord,
  patchedRecord,
  revokedRecord,
  rotatedRecord,
  storedRecord,
} from './key-store.js';
import type { ManagedKey } from './types.js';

export interface SqliteKeyStoreOptions {
  path: string;
  /** How often another process's changes are looked for; 250 ms unless told. */
  pollMs?: number;
  /** A poll that failed (the file unreadable, say): reported, the last index kept. */
  onError?: (error: Error) => void;
  /** A stored row that does not read back whole: left out (its key does not work), reported. */
  onDamaged?: (id: string) => void;
  now?: () => number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS managed_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  owner TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  status TEXT NOT NULL,
  policy TEXT NOT NULL
) WITHOUT ROWID;
`;

interface Row {
  id: string;
  hash: string;
  name: string;
  owner: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  status: string;
  policy: string;
}

function parsePolicy(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function fromRow(row: Row): ManagedKey | undefined {
  return storedRecord({
    id: row.id,
    hash: row.hash,
    name: row.name,
    owner: row.owner,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    status: row.status,
    policy: parsePolicy(row.policy),
  });
}

function toRow(record: ManagedKey): Row {
  return {
    id: record.id,
    hash: record.hash,
    name: record.name,
    owner: record.owner,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    expires_at: record.expiresAt,
    status: record.status,
    policy: JSON.stringify(record.policy),
  };
}

function isConstraint(error: unknown): boolean {
  return (error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;
}

export class SqliteKeyStore implements KeyStore {
  readonly kind = 'sqlite';
  private readonly index = new KeyIndex();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private readonly onError: (error: Error) => void;
  private readonly onDamaged: (id: string) => void;
  private db: Database.Database | undefined;
  private dataVersion = -1;
  private lastError = '';
  private closed = false;

  constructor(private readonly options: SqliteKeyStoreOptions) {
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
    this.onDamaged = options.onDamaged ?? (() => undefined);
    this.poll();
    this.timer = setInterval(() => this.poll(), options.pollMs ?? 250);
    this.timer.unref();
  }

  get version(): number {
    return this.index.version;
  }

  get size(): number {
    return this.index.size;
  }

  async ready(): Promise<void> {}

  onChange(listener: () => void): () => void {
    return this.index.onChange(listener);
  }

  findByHash(sha256hex: string): ManagedKey | undefined {
    return this.index.findByHash(sha256hex);
  }

  async list(): Promise<ManagedKey[]> {
    this.refresh();
    return this.index.list();
  }

  async get(id: string): Promise<ManagedKey | undefined> {
    this.refresh();
    return this.index.get(id);
  }

  async create(input: KeyCreateInput): Promise<CreatedKey> {
    // Checked before the file is made: refused input leaves nothing behind.
    let created = newRecord(input, this.now());
    const db = this.writable();
    const insert = db.prepare(
      `INSERT INTO managed_keys (id, hash, name, owner, created_at, updated_at, expires_at, status, policy)
       VALUES (@id, @hash, @name, @owner, @created_at, @updated_at, @expires_at, @status, @policy)`,
    );
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) created = newRecord(input, this.now());
      try {
        insert.run(toRow(created.record));
      } catch (error) {
        // An id drawn twice (48 random bits): draw again.
        if (isConstraint(error) && attempt < 5) continue;
        throw error;
      }
      this.index.put(created.record);
      return created;
    }
  }

  async update(id: string, patch: KeyPatch): Promise<ManagedKey | undefined> {
    return this.change(id, (record) => patchedRecord(record, patch, this.now()));
  }

  async revoke(id: string): Promise<ManagedKey | undefined> {
    return this.change(id, (record) => revokedRecord(record, this.now()));
  }

  async rotate(id: string): Promise<CreatedKey | undefined> {
    let created: CreatedKey | undefined;
    const record = this.change(id, (current) => {
      created = rotatedRecord(current, this.now());
      return created.record;
    });
    return record === undefined ? undefined : created;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (this.db?.open) this.db.close();
    this.db = undefined;
  }

  /** Read, changed and written in one write transaction, so two writers never lose each other's change. */
  private change(id: string, next: (record: ManagedKey) => ManagedKey): ManagedKey | undefined {
    if (this.openIfPresent() === undefined) return undefined;
    const db = this.writable();
    const select = db.prepare<[string], Row>('SELECT * FROM managed_keys WHERE id = ?');
    const write = db.prepare(
      `UPDATE managed_keys SET hash = @hash, name = @name, owner = @owner, updated_at = @updated_at,
         expires_at = @expires_at, status = @status, policy = @policy WHERE id = @id`,
    );
    const result = db
      .transaction(() => {
        const row = select.get(id);
        const current = row === undefined ? undefined : fromRow(row);
        if (current === undefined) return undefined;
        const record = next(current);
        if (record !== current) write.run(toRow(record));
        return record;
      })
      .immediate();
    if (result !== undefined) this.index.put(result);
    return result;
  }

  /** The database, created with its folder and table when it is not there yet. */
  private writable(): Database.Database {
    if (this.closed) throw new Error('the key store is closed');
    if (this.db === undefined) {
      mkdirSync(dirname(this.options.path), { recursive: true });
      this.open();
    }
    return this.db as Database.Database;
  }

  private openIfPresent(): Database.Database | undefined {
    if (this.db === undefined && !this.closed && existsSync(this.options.path)) this.open();
    return this.db;
  }

  private open(): void {
    const db = new Database(this.options.path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // The CLI and the server (and `serve --workers`) write the same file: wait for a lock.
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    this.reload();
  }

  /** Reloads when another connection committed since the last look; cheap when none did. */
  private refresh(): void {
    const db = this.openIfPresent();
    if (db === undefined) return;
    const version = db.pragma('data_version', { simple: true }) as number;
    if (version !== this.dataVersion) this.reload();
  }

  private reload(): void {
    const db = this.db as Database.Database;
    // Read first: a commit landing between the two makes the next look reload again, never miss it.
    this.dataVersion = db.pragma('data_version', { simple: true }) as number;
    const rows = db.prepare<[], Row>('SELECT * FROM managed_keys').all();
    const records: ManagedKey[] = [];
    for (const row of rows) {
      const record = fromRow(row);
      if (record === undefined) this.onDamaged(row.id);
      else records.push(record);
    }
    this.index.replaceAll(records);
  }

  private poll(): void {
    try {
      this.refresh();
      this.lastError = '';
    } catch (error) {
      const message = (error as Error).message;
      // The same failure on every tick: said once until it changes.
      if (message !== this.lastError) this.onError(error as Error);
      this.lastError = message;
    }
  }
}
