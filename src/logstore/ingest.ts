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
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RequestRecord } from '../logs/request-record.js';
import { createFts, indexRequest } from './fts.js';
import { type Granularity, parseDay, partitionPath } from './partitions.js';
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

export class IngestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestError';
  }
}

interface HashState {
  offset: number;
  digest: string;
  hash: Hash;
}

/** What a long-lived ingest keeps between runs. close() closes the partitions it opened. */
export class IngestCache {
  readonly dbs = new Map<string, Db>();
  readonly hashes = new Map<string, HashState>();
  readonly ftsChecked = new Map<Db, boolean>();
  readonly serversSeen = new Map<Db, Set<string>>();

  /** Page cache per open partition, in KiB (derived from LOGDB_MEMORY_CAP_MB). */
  cacheKib = 16_384;

  db(path: string): Db {
    let db = this.dbs.get(path);
    if (db === undefined) {
      db = openPartition(path);
      // Bulk writes: a larger page cache, and WAL checkpoints every ~40 MB rather than every
      // 4 MB (each checkpoint copies pages into the database file and syncs it).
      db.pragma(`cache_size = -${this.cacheKib}`);
      db.pragma('wal_autocheckpoint = 10000');
      this.dbs.set(path, db);
    }
    return db;
  }

  close(): void {
    for (const db of this.dbs.values()) db.close();
    this.dbs.clear();
    this.ftsChecked.clear();
    this.serversSeen.clear();
  }
}

const SOURCE_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

export interface SourceFile {
  path: string;
  day: Date;
  size: number;
}

export function sourceDir(from: string): string {
  const requests = join(from, 'requests');
  return existsSync(requests) ? requests : from;
}

export function listSourceFiles(from: string, since?: Date, to?: Date): SourceFile[] {
  const dir = resolve(sourceDir(from));
  if (!existsSync(dir)) throw new IngestError(`--from ${from}: no such folder`);
  const files: SourceFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const match = SOURCE_FILE.exec(name);
    if (match === null) continue;
    const day = parseDay(match[1]!, name);
    if (since !== undefined && day < since) continue;
    if (to !== undefined && day > to) continue;
    const path = join(dir, name);
    files.push({ path, day, size: statSync(path).size });
  }
  return files;
}

interface ServerInfo {
  server_id: string;
  hostname: string | null;
  environment: string | null;
  created_at: string | null;
}

/** The identity file next to the request log, when the source is a gateway's log folder. */
function readIdentity(from: string): ServerInfo | undefined {
  const path = join(from, 'server.json');
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServerInfo>;
    if (typeof parsed.server_id !== 'string') return undefined;
    return {
      server_id: parsed.server_id,
      hostname: parsed.hostname ?? null,
      environment: parsed.environment ?? null,
      created_at: parsed.created_at ?? null,
    };
  } catch {
    return undefined;
  }
}

interface Checkpoint {
  bytes_consumed: number;
  mtime_ms: number;
  sha256: string;
  records: number;
}

async function hashPrefix(path: string, bytes: number, chunk: number): Promise<Hash> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(chunk, Math.max(bytes, 1)));
    let position = 0;
    while (position < bytes) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, bytes - position), position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return hash;
}

function isRecord(value: unknown): value is RequestRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.id === 'string' && typeof r.time === 'string' && typeof r.status === 'number';
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
    if (fts) indexRequest(db, rowid, row.request_id, row.model_original, record.request, record.response);
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
  const { options, cache } = ctx;
  const stats = statSync(file.path);
  const size = stats.size;
  const mtime = Math.trunc(stats.mtimeMs);
  const homePath = partitionPath(options.dbRoot, file.day, options.granularity);
  const home = cache.db(homePath);
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
      const lines = complete.toString('utf8').split('\n');
      for (let i = 0; i < lines.length - 1; i++) {
        const line = lines[i]!;
        if (line.trim() === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          ctx.result.badLines += 1;
          continue;
        }
        if (!isRecord(parsed)) {
          ctx.result.badLines += 1;
          continue;
        }
        const row = rowFromRecord(parsed);
        // A record lands in the partition of its own time; normally its file's day.
        const target =
          row.ts > 0 ? partitionPath(options.dbRoot, new Date(row.ts), options.granularity) : homePath;
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
        const db = cache.db(target);
        db.transaction(() => insertRows(ctx, db, items))();
        ctx.touched.add(target);
      }
      hash.update(complete);
      offset += complete.length;
      const digest = hash.copy().digest('hex');
      const own = byPartition.get(homePath) ?? [];
      home.transaction(() => {
        insertRows(ctx, home, own);
        writeCheckpoint(home, file.path, {
          bytes_consumed: offset,
          mtime_ms: mtime,
          sha256: digest,
          records,
        });
      })();
      if (own.length > 0) ctx.touched.add(homePath);
      cache.hashes.set(file.path, { offset, digest, hash: hash.copy() });
      ctx.progress.add(bytesRead);
      if (options.yieldBetweenSlices) await new Promise((r) => setImmediate(r));
    }
    if (offset === size || pending.length > 0) {
      // Record the mtime even when nothing new was whole, so an unchanged file is skipped cheaply.
      const digest = hash.copy().digest('hex');
      if (pending.length === 0) {
        home.transaction(() =>
          writeCheckpoint(home, file.path, {
            bytes_consumed: offset,
            mtime_ms: mtime,
            sha256: digest,
            records,
          }),
        )();
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
): Promise<IngestResult> {
  const parallelism = Math.max(1, options.parallelism ?? 1);
  const capBytes = (options.memoryCapMb ?? 256) * 1_048_576;
  // Each file in flight holds a read buffer, its decoded text and its parsed records (≈ 4×).
  const chunkBytes =
    options.sliceBytes ??
    Math.max(64 * 1024, Math.min(8 * 1_048_576, Math.floor(capBytes / (parallelism * 4))));
  const ownCache = options.cache === undefined;
  const cache = options.cache ?? new IngestCache();
  cache.cacheKib = Math.max(2048, Math.min(65_536, Math.floor(capBytes / 1024 / 4 / parallelism)));
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

function emptyResult(files: number): IngestResult {
  return { files, filesRead: 0, inserted: 0, duplicates: 0, badLines: 0, bytes: 0, touched: [] };
}

/** The compiled worker next to this module; absent when running from TypeScript sources. */
function workerScript(): URL | undefined {
  const url = new URL('./ingest-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined;
}

export interface WorkerJob {
  files: SourceFile[];
  options: Omit<IngestOptions, 'progress' | 'cache'>;
}

export type WorkerMessage =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; result: IngestResult }
  | { type: 'error'; message: string };

/**
 * LOGDB_IMPORT_PARALLELISM worker threads, each given whole partitions' worth of files (so two
 * threads rarely write one partition), balanced by bytes. SQLite work is synchronous, so threads
 * are what makes parallelism real; a killed process loses at most each thread's open slice.
 */
async function ingestInWorkers(
  files: SourceFile[],
  options: IngestOptions,
  threads: number,
  script: URL,
): Promise<IngestResult> {
  const groups = new Map<string, SourceFile[]>();
  for (const file of files) {
    const home = partitionPath(options.dbRoot, file.day, options.granularity);
    const group = groups.get(home) ?? [];
    group.push(file);
    groups.set(home, group);
  }
  const buckets = Array.from({ length: Math.min(threads, groups.size) }, () => ({
    files: [] as SourceFile[],
    bytes: 0,
  }));
  for (const group of [...groups.values()].sort((a, b) => size(b) - size(a))) {
    const lightest = buckets.reduce((min, b) => (b.bytes < min.bytes ? b : min));
    lightest.files.push(...group);
    lightest.bytes += size(group);
  }
  const progress = options.progress ?? silentProgress;
  const { progress: _p, cache: _c, ...plain } = options;
  const results = await Promise.all(
    buckets.map(
      (bucket) =>
        new Promise<IngestResult>((resolvePromise, reject) => {
          const job: WorkerJob = { files: bucket.files, options: plain };
          const worker = new Worker(script, { workerData: job });
          let settled = false;
          worker.on('message', (message: WorkerMessage) => {
            if (message.type === 'progress') progress.add(message.bytes);
            else if (message.type === 'done') {
              settled = true;
              resolvePromise(message.result);
            } else {
              settled = true;
              reject(new IngestError(message.message));
            }
          });
          worker.on('error', (error) => {
            settled = true;
            reject(error);
          });
          worker.on('exit', (code) => {
            if (!settled) reject(new IngestError(`ingest worker stopped with code ${code}`));
          });
        }),
    ),
  );
  const total = emptyResult(files.length);
  const touched = new Set<string>();
  for (const r of results) {
    total.filesRead += r.filesRead;
    total.inserted += r.inserted;
    total.duplicates += r.duplicates;
    total.badLines += r.badLines;
    total.bytes += r.bytes;
    for (const t of r.touched) touched.add(t);
  }
  total.touched = [...touched].sort();
  return total;
}

function size(files: SourceFile[]): number {
  return files.reduce((sum, f) => sum + f.size, 0);
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
