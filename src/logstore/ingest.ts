// Incremental ingest of the JSONL request log into the partitions (SPEC §8).
//
// Each source file has a checkpoint in the partition its day belongs to (`ingest_sources`: bytes
// consumed, mtime, sha256 of the consumed bytes). Rows of a slice and the checkpoint after it are
// committed in one transaction, so a process killed at any moment resumes exactly where its last
// commit left off; rows are INSERT OR IGNORE by request id, so anything read twice is harmless.
// Only whole lines are consumed: a torn last line (a writer mid-append, or a crash) waits for the
// next run. A file whose consumed prefix no longer hashes the same was replaced: it is read again
// from the start, and the request ids keep that free of duplicates.
//
// The same code runs from `ai-proxy logs ingest` and in the server (background-ingest.ts), which
// passes a cache so the prefix hash is not recomputed on every tick.
import { createHash, type Hash } from 'node:crypto';
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { RequestRecord } from '../logs/request-record.js';
import { createFts, indexRequest } from './fts.js';
import { isRecord, parseJsonText, splitLine } from './ingest-lines.js';
import {
  type Checkpoint,
  hashPrefix,
  listSourceFiles,
  readIdentity,
  type ServerInfo,
  type SourceFile,
} from './ingest-sources.js';
import { ingestInWorkers, size, workerScript } from './ingest-threads.js';
import { INGEST_CACHE_KIB, memoryBudget, OPEN_PARTITIONS_PER_LANE } from './memory-budget.js';
import { PartitionLocks } from './partition-locks.js';
import { DAY_MS, type Granularity, partitionPath } from './partitions.js';
import { type Progress, silentProgress } from './progress.js';
import {
  type Db,
  hasFtsIndex,
  insertRequestRowid,
  openPartition,
  type RequestRow,
  rowFromRecord,
  upsertServer,
} from './schema.js';

export interface IngestOptions {
  /** A log folder (holding requests/) or a folder of YYYY-MM-DD.jsonl files. */
  from: string;
  dbRoot: string;
  granularity: Granularity;
  /** Only source files of these days (inclusive). */
  since?: Date;
  to?: Date;
  /** How many source files are read at once (LOGDB_IMPORT_PARALLELISM). */
  parallelism?: number;
  /** Bounds the bytes held in memory at once (LOGDB_MEMORY_CAP_MB). */
  memoryCapMb?: number;
  /** true: create the FTS index and fill it; undefined: keep it current where it exists. */
  fts?: boolean;
  progress?: Progress;
  /** Shared across runs by a long-lived caller: open partitions and hash states. */
  cache?: IngestCache;
  /** Bytes read (and committed) per slice; by default derived from memoryCapMb. */
  sliceBytes?: number;
  /** Yield to the event loop between slices (the in-server ingest: requests come first). */
  yieldBetweenSlices?: boolean;
}

export { IngestError, listSourceFiles, type SourceFile, sourceDir } from './ingest-sources.js';
export type { WorkerJob, WorkerMessage } from './ingest-threads.js';

export interface IngestResult {
  files: number;
  filesRead: number;
  inserted: number;
  duplicates: number;
  badLines: number;
  bytes: number;
  /** Partitions that received new rows. */
  touched: string[];
}

interface HashState {
  offset: number;
  digest: string;
  hash: Hash;
}

/**
 * What a long-lived ingest keeps between runs: a bounded set of open partitions (least recently
 * used closed first, never one a file in flight is pinned to) and the hash states of the files.
 * close() closes the partitions it opened.
 */
export class IngestCache {
  readonly dbs = new Map<string, Db>();
  readonly hashes = new Map<string, HashState>();
  readonly ftsChecked = new Map<Db, boolean>();
  readonly serversSeen = new Map<Db, Set<string>>();
  private readonly pins = new Map<string, number>();

  /** Page cache per open partition, in KiB (derived from LOGDB_MEMORY_CAP_MB). */
  cacheKib = INGEST_CACHE_KIB;
  /** Open partitions kept beyond the pinned ones. */
  maxOpen = OPEN_PARTITIONS_PER_LANE;
  /** One writer per partition across this process's ingest threads. */
  locks = new PartitionLocks();

  db(path: string): Db {
    let db = this.dbs.get(path);
    if (db !== undefined) {
      // Most recently used last: eviction takes from the front.
      this.dbs.delete(path);
      this.dbs.set(path, db);
      return db;
    }
    db = openPartition(path);
    // Bulk writes: the page cache of memory-budget.ts, and WAL checkpoints every ~40 MB (2500 16 KB
    // pages) rather than every 16 MB (each checkpoint copies pages into the database file and syncs it).
    db.pragma(`cache_size = -${this.cacheKib}`);
    db.pragma('wal_autocheckpoint = 2500');
    this.dbs.set(path, db);
    this.evict();
    return db;
  }

  /** Keeps `path` open until unpin (a file in flight holds its own partition across awaits). */
  pin(path: string): Db {
    this.pins.set(path, (this.pins.get(path) ?? 0) + 1);
    return this.db(path);
  }

  /**
   * A partition no file in flight holds any more stays open for rows of other files that belong to
   * its day, but gives its page cache back: what it cached is pages already written.
   */
  unpin(path: string): void {
    const n = (this.pins.get(path) ?? 1) - 1;
    if (n > 0) this.pins.set(path, n);
    else {
      this.pins.delete(path);
      const db = this.dbs.get(path);
      if (db !== undefined && !db.inTransaction) db.pragma('shrink_memory');
    }
    this.evict();
  }

  /** One write transaction on a partition: under its lock, BEGIN IMMEDIATE (see partition-locks). */
  write<T>(path: string, body: (db: Db) => T): T {
    const db = this.db(path);
    return this.locks.with(path, () => db.transaction(() => body(db)).immediate());
  }

  private evict(): void {
    if (this.dbs.size <= this.maxOpen) return;
    for (const [path, db] of this.dbs) {
      if (this.dbs.size <= this.maxOpen) return;
      if (this.pins.has(path) || db.inTransaction) continue;
      this.forget(path, db);
    }
  }

  private forget(path: string, db: Db): void {
    db.close();
    this.dbs.delete(path);
    this.ftsChecked.delete(db);
    this.serversSeen.delete(db);
  }

  close(): void {
    for (const db of this.dbs.values()) db.close();
    this.dbs.clear();
    this.pins.clear();
    this.ftsChecked.clear();
    this.serversSeen.clear();
  }
}

interface Context {
  options: IngestOptions;
  cache: IngestCache;
  chunkBytes: number;
  identity: ServerInfo | undefined;
  result: IngestResult;
  touched: Set<string>;
  progress: Progress;
}

function ftsWanted(ctx: Context, db: Db): boolean {
  let wanted = ctx.cache.ftsChecked.get(db);
  if (wanted === undefined) {
    wanted = ctx.options.fts === true || hasFtsIndex(db);
    if (wanted) createFts(db);
    ctx.cache.ftsChecked.set(db, wanted);
  }
  return wanted;
}

function noteServer(ctx: Context, db: Db, row: RequestRow): void {
  let seen = ctx.cache.serversSeen.get(db);
  if (seen === undefined) {
    seen = new Set();
    ctx.cache.serversSeen.set(db, seen);
  }
  if (seen.has(row.server_id)) return;
  seen.add(row.server_id);
  const known = ctx.identity?.server_id === row.server_id ? ctx.identity : undefined;
  upsertServer(
    db,
    {
      server_id: row.server_id,
      hostname: known?.hostname ?? null,
      environment: known?.environment ?? null,
      created_at: known?.created_at ?? null,
    },
    row.ts,
  );
}

/** Inserts rows (and their FTS text) into one partition; the caller holds the transaction. */
function insertRows(ctx: Context, db: Db, items: { row: RequestRow; record: RequestRecord }[]): void {
  const fts = ftsWanted(ctx, db);
  for (const { row, record } of items) {
    noteServer(ctx, db, row);
    const rowid = insertRequestRowid(db, row);
    if (rowid === undefined) {
      ctx.result.duplicates += 1;
      continue;
    }
    ctx.result.inserted += 1;
    if (fts) {
      // Bodies kept as text (splitLine) are parsed only here, for their words.
      const request = record.request === undefined ? parseJsonText(row.request_json) : record.request;
      const response = record.response === undefined ? parseJsonText(row.response_json) : record.response;
      indexRequest(db, rowid, row.request_id, row.model_original, request, response);
    }
  }
}

const setCheckpoint = new WeakMap<Db, ReturnType<Db['prepare']>>();

function writeCheckpoint(db: Db, path: string, checkpoint: Checkpoint): void {
  let statement = setCheckpoint.get(db);
  if (statement === undefined) {
    statement = db.prepare(
      `INSERT INTO ingest_sources (source_path, bytes_consumed, mtime_ms, sha256, records, updated_at)
       VALUES (@path, @bytes_consumed, @mtime_ms, @sha256, @records, @updated_at)
       ON CONFLICT(source_path) DO UPDATE SET bytes_consumed = excluded.bytes_consumed,
         mtime_ms = excluded.mtime_ms, sha256 = excluded.sha256, records = excluded.records,
         updated_at = excluded.updated_at`,
    );
    setCheckpoint.set(db, statement);
  }
  statement.run({ path, ...checkpoint, updated_at: new Date().toISOString() });
}

async function ingestFile(ctx: Context, file: SourceFile): Promise<void> {
  const homePath = partitionPath(ctx.options.dbRoot, file.day, ctx.options.granularity);
  const home = ctx.cache.pin(homePath);
  try {
    await ingestFileInto(ctx, file, homePath, home);
  } finally {
    ctx.cache.unpin(homePath);
  }
}

async function ingestFileInto(ctx: Context, file: SourceFile, homePath: string, home: Db): Promise<void> {
  const { options, cache } = ctx;
  const stats = statSync(file.path);
  const size = stats.size;
  const mtime = Math.trunc(stats.mtimeMs);
  const checkpoint = home
    .prepare('SELECT bytes_consumed, mtime_ms, sha256, records FROM ingest_sources WHERE source_path = ?')
    .get(file.path) as Checkpoint | undefined;
  if (checkpoint !== undefined && checkpoint.bytes_consumed === size && checkpoint.mtime_ms === mtime) {
    ctx.progress.add(size);
    return;
  }
  let offset = 0;
  let records = 0;
  let hash = createHash('sha256');
  if (checkpoint !== undefined && checkpoint.bytes_consumed <= size) {
    const cached = cache.hashes.get(file.path);
    if (
      cached !== undefined &&
      cached.offset === checkpoint.bytes_consumed &&
      cached.digest === checkpoint.sha256
    ) {
      hash = cached.hash.copy();
    } else {
      hash = await hashPrefix(file.path, checkpoint.bytes_consumed, ctx.chunkBytes);
    }
    if (hash.copy().digest('hex') === checkpoint.sha256) {
      offset = checkpoint.bytes_consumed;
      records = checkpoint.records;
    } else {
      hash = createHash('sha256');
    }
  }
  ctx.progress.add(offset);
  ctx.result.filesRead += 1;

  const handle = await open(file.path, 'r');
  try {
    let pending = Buffer.alloc(0);
    let position = offset;
    const buffer = Buffer.allocUnsafe(ctx.chunkBytes);
    while (position < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      ctx.result.bytes += bytesRead;
      const data =
        pending.length === 0
          ? buffer.subarray(0, bytesRead)
          : Buffer.concat([pending, buffer.subarray(0, bytesRead)]);
      const lastNewline = data.lastIndexOf(10);
      if (lastNewline < 0) {
        pending = Buffer.from(data);
        ctx.progress.add(bytesRead);
        continue;
      }
      const complete = data.subarray(0, lastNewline + 1);
      pending = Buffer.from(data.subarray(lastNewline + 1));

      const byPartition = new Map<string, { row: RequestRow; record: RequestRecord }[]>();
      let lastDay = Number.NaN;
      let lastTarget = homePath;
      const lines = complete.toString('utf8').split('\n');
      for (let i = 0; i < lines.length - 1; i++) {
        const line = lines[i]!;
        if (line.trim() === '') continue;
        const split = splitLine(line);
        let parsed: unknown = split?.head;
        if (split === undefined) {
          try {
            parsed = JSON.parse(line);
          } catch {
            ctx.result.badLines += 1;
            continue;
          }
        }
        if (!isRecord(parsed)) {
          ctx.result.badLines += 1;
          continue;
        }
        const row = rowFromRecord(parsed, split);
        // A record lands in the partition of its own time; normally its file's day.
        let target = homePath;
        if (row.ts > 0) {
          const day = Math.floor(row.ts / DAY_MS);
          if (day !== lastDay) {
            lastDay = day;
            lastTarget = partitionPath(options.dbRoot, new Date(row.ts), options.granularity);
          }
          target = lastTarget;
        }
        let list = byPartition.get(target);
        if (list === undefined) {
          list = [];
          byPartition.set(target, list);
        }
        list.push({ row, record: parsed });
        records += 1;
      }
      // Rows for other partitions first (idempotent), then this file's rows with its checkpoint.
      for (const [target, items] of byPartition) {
        if (target === homePath) continue;
        cache.write(target, (db) => insertRows(ctx, db, items));
        ctx.touched.add(target);
      }
      hash.update(complete);
      offset += complete.length;
      const digest = hash.copy().digest('hex');
      const own = byPartition.get(homePath) ?? [];
      cache.write(homePath, () => {
        insertRows(ctx, home, own);
        writeCheckpoint(home, file.path, {
          bytes_consumed: offset,
          mtime_ms: mtime,
          sha256: digest,
          records,
        });
      });
      if (own.length > 0) ctx.touched.add(homePath);
      cache.hashes.set(file.path, { offset, digest, hash: hash.copy() });
      ctx.progress.add(bytesRead);
      if (options.yieldBetweenSlices) await new Promise((r) => setImmediate(r));
    }
    if (offset === size || pending.length > 0) {
      // Record the mtime even when nothing new was whole, so an unchanged file is skipped cheaply.
      const digest = hash.copy().digest('hex');
      if (pending.length === 0) {
        cache.write(homePath, () =>
          writeCheckpoint(home, file.path, {
            bytes_consumed: offset,
            mtime_ms: mtime,
            sha256: digest,
            records,
          }),
        );
      }
    }
  } finally {
    await handle.close();
  }
}

/** Ingests `files` in this thread, `concurrency` files at a time. The worker runs this too. */
export async function ingestFiles(
  files: SourceFile[],
  options: IngestOptions,
  concurrency: number,
  lockBuffer?: SharedArrayBuffer,
): Promise<IngestResult> {
  // Every lane of the process (a thread, or a file in flight here) gets an equal share of the cap.
  const lanes = Math.max(1, options.parallelism ?? 1);
  const budget = memoryBudget(options.memoryCapMb ?? 256, lanes);
  const chunkBytes = options.sliceBytes ?? budget.sliceBytes;
  const ownCache = options.cache === undefined;
  const cache = options.cache ?? new IngestCache();
  cache.cacheKib = budget.cacheKib;
  cache.maxOpen = budget.maxOpen * Math.max(1, concurrency);
  if (lockBuffer !== undefined) cache.locks = new PartitionLocks(lockBuffer);
  const ctx: Context = {
    options,
    cache,
    chunkBytes,
    identity: readIdentity(options.from),
    result: emptyResult(files.length),
    touched: new Set(),
    progress: options.progress ?? silentProgress,
  };
  try {
    let next = 0;
    const lanes = Array.from({ length: Math.min(Math.max(1, concurrency), files.length) }, async () => {
      while (next < files.length) {
        const file = files[next++]!;
        await ingestFile(ctx, file);
      }
    });
    await Promise.all(lanes);
  } finally {
    if (ownCache) cache.close();
  }
  ctx.result.touched = [...ctx.touched].sort();
  return ctx.result;
}

export function emptyResult(files: number): IngestResult {
  return { files, filesRead: 0, inserted: 0, duplicates: 0, badLines: 0, bytes: 0, touched: [] };
}

export async function ingest(options: IngestOptions): Promise<IngestResult> {
  const files = listSourceFiles(options.from, options.since, options.to);
  const parallelism = Math.max(1, options.parallelism ?? 1);
  (options.progress ?? silentProgress).setTotal(size(files));
  const script = workerScript();
  const days = new Set(files.map((f) => partitionPath(options.dbRoot, f.day, options.granularity)));
  if (parallelism > 1 && days.size > 1 && options.cache === undefined && script !== undefined) {
    return ingestInWorkers(files, options, parallelism, script);
  }
  return ingestFiles(files, options, parallelism);
}
