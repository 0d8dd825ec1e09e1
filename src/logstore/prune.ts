// Retention (`ai-proxy logs prune --before DATE`, `logdb.retention_days`): whole partitions whose
// days all lie before DATE go, with the request-log files they were ingested from; with an archive
// folder each is first packed into a bundle (its partition and raw files, as `logs bundle create`
// makes them). A partition ingest has not finished is kept: one of its days' JSONL files not read
// to its end (or not read at all). A dry run only reports.
//
// Order on disk, so a stop at any moment loses nothing that is still wanted: archive (written to
// a .partial, then renamed), then the JSONL files, then the partition. A partition whose files are
// gone is pruned on the next run; JSONL files left behind a deleted partition cannot happen, so
// ingest never brings a pruned day back (except rows a later day's file carries into it).
import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createBundle } from './bundle/create.js';
import { DAY_MS, formatDay, listPartitions, type PartitionInfo } from './partitions.js';
import { openPartition } from './schema.js';

export interface PruneOptions {
  dbRoot: string;
  /** The request-log folder (LOG_DIR/requests) whose day files are deleted with their partition. */
  rawDir: string;
  /** Partitions that end on or before this UTC midnight go. */
  before: Date;
  /** Bundle each partition (and its raw files) here before deleting it. */
  archiveDir?: string;
  /** Server id written into archive bundles. */
  serverId?: string;
  dryRun?: boolean;
  onPartition?: (entry: PruneEntry) => void;
}

export interface PruneEntry {
  key: string;
  path: string;
  /** The partition's bytes (with its -wal and -shm). */
  bytes: number;
  /** JSONL files deleted with it. */
  rawFiles: string[];
  rawBytes: number;
  /** Why it is kept; undefined when it goes. */
  kept?: string;
  archive?: string;
}

export interface PruneResult {
  dryRun: boolean;
  before: string;
  pruned: PruneEntry[];
  kept: PruneEntry[];
  bytesFreed: number;
}

const RAW_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function partitionBytes(path: string): number {
  return sizeOf(path) + sizeOf(`${path}-wal`) + sizeOf(`${path}-shm`);
}

/** The day files in rawDir that a partition's days produced. */
function rawFilesOf(rawDir: string, partition: PartitionInfo): string[] {
  if (!existsSync(rawDir)) return [];
  const files: string[] = [];
  for (const name of readdirSync(rawDir)) {
    const match = RAW_FILE.exec(name);
    if (match === null) continue;
    const day = Date.parse(`${match[1]}T00:00:00Z`);
    if (day >= partition.start.getTime() && day < partition.end.getTime()) files.push(resolve(rawDir, name));
  }
  return files.sort();
}

interface Checkpoint {
  source_path: string;
  bytes_consumed: number;
  mtime_ms: number;
}

/** What goes with a partition, or why it stays. */
function plan(partition: PartitionInfo, rawDir: string): PruneEntry {
  const entry: PruneEntry = {
    key: partition.key,
    path: partition.path,
    bytes: partitionBytes(partition.path),
    rawFiles: [],
    rawBytes: 0,
  };
  const db = openPartition(partition.path, { readonly: true });
  let checkpoints: Checkpoint[];
  try {
    checkpoints = db
      .prepare('SELECT source_path, bytes_consumed, mtime_ms FROM ingest_sources')
      .all() as Checkpoint[];
  } finally {
    db.close();
  }
  const byPath = new Map(checkpoints.map((c) => [resolve(c.source_path), c]));
  const files = new Set(rawFilesOf(rawDir, partition));
  for (const c of checkpoints) if (existsSync(c.source_path)) files.add(resolve(c.source_path));
  for (const file of [...files].sort()) {
    const checkpoint = byPath.get(file);
    const stats = statSync(file);
    if (checkpoint === undefined) {
      if (stats.size === 0) continue;
      entry.kept = `${file} has not been ingested`;
      return entry;
    }
    if (checkpoint.bytes_consumed !== stats.size || checkpoint.mtime_ms !== Math.trunc(stats.mtimeMs)) {
      entry.kept = `${file} is not ingested to its end (${checkpoint.bytes_consumed} of ${stats.size} bytes)`;
      return entry;
    }
    entry.rawFiles.push(file);
    entry.rawBytes += stats.size;
  }
  return entry;
}

/** Removes the partition's folder (YYYY/MM or YYYY/WNN) and year folder once they are empty. */
function removeEmptyFolders(path: string, root: string): void {
  let dir = dirname(path);
  const stop = resolve(root);
  while (resolve(dir) !== stop && resolve(dir).startsWith(stop)) {
    try {
      if (readdirSync(dir).length > 0) return;
      rmdirSync(dir);
    } catch {
      return;
    }
    dir = dirname(dir);
  }
}

export async function prune(options: PruneOptions): Promise<PruneResult> {
  const result: PruneResult = {
    dryRun: options.dryRun === true,
    before: formatDay(options.before),
    pruned: [],
    kept: [],
    bytesFreed: 0,
  };
  const candidates = listPartitions(options.dbRoot).filter(
    (p) => p.end.getTime() <= options.before.getTime(),
  );
  for (const partition of candidates) {
    const entry = plan(partition, options.rawDir);
    if (entry.kept !== undefined) {
      result.kept.push(entry);
      options.onPartition?.(entry);
      continue;
    }
    if (options.archiveDir !== undefined) {
      entry.archive = join(options.archiveDir, `ai_proxy_${partition.key}.tgz`);
    }
    if (!result.dryRun) {
      if (entry.archive !== undefined) {
        await createBundle({
          dbRoot: options.dbRoot,
          rawDir: options.rawDir,
          serverId: options.serverId ?? 'unknown',
          since: formatDay(partition.start),
          to: formatDay(new Date(partition.end.getTime() - DAY_MS)),
          out: entry.archive,
          includeRaw: true,
        });
      }
      for (const file of entry.rawFiles) rmSync(file, { force: true });
      // The database last: its -wal and -shm go first, so no half of a database is left behind.
      rmSync(`${partition.path}-wal`, { force: true });
      rmSync(`${partition.path}-shm`, { force: true });
      rmSync(partition.path, { force: true });
      removeEmptyFolders(partition.path, options.dbRoot);
    }
    result.pruned.push(entry);
    result.bytesFreed += entry.bytes + entry.rawBytes;
    options.onPartition?.(entry);
  }
  return result;
}

/** The cut-off that keeps `days` whole days before today (UTC): today minus `days`, at midnight. */
export function retentionCutoff(days: number, now = Date.now()): Date {
  return new Date((Math.floor(now / DAY_MS) - days) * DAY_MS);
}
