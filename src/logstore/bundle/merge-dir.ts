// `logs merge --from DIR --to FILE`: every partition file under DIR, merged into one SQLite file
// with the same schema (for one-file analysis or hand-off). Re-running it adds nothing new.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { listPartitions } from '../partitions.js';
import { openPartition } from '../schema.js';
import { BundleError } from './errors.js';
import { mergeIntoFile } from './merge-rows.js';
import { type BundleProgress, silentProgress } from './progress.js';

export interface MergeDirResult {
  partitions: number;
  rows: number;
  inserted: number;
  conflicts: number;
}

export function mergeDirectory(
  from: string,
  to: string,
  progress: BundleProgress = silentProgress,
): MergeDirResult {
  if (!existsSync(from) || !statSync(from).isDirectory())
    throw new BundleError(`--from ${from}: no such directory`);
  if (existsSync(to) && statSync(to).isDirectory())
    throw new BundleError(`--to ${to}: is a directory; give a file`);
  const target = resolve(to);
  const partitions = listPartitions(from).filter((p) => resolve(p.path) !== target);
  if (partitions.length === 0) {
    throw new BundleError(
      `--from ${from}: no partition files (YYYY/MM/ai_proxy_YYYYMMDD.sqlite3 or YYYY/WNN/…)`,
    );
  }
  const dest = openPartition(to);
  const result: MergeDirResult = { partitions: partitions.length, rows: 0, inserted: 0, conflicts: 0 };
  try {
    progress.start('merge', partitions.length, 'files');
    for (const partition of partitions) {
      const counts = mergeIntoFile(dest, partition.path);
      result.rows += counts.rows;
      result.inserted += counts.inserted;
      result.conflicts += counts.conflicts;
      progress.add(1);
    }
    progress.finish();
    // A hand-off file: one file, no -wal or -shm beside it.
    dest.pragma('journal_mode = DELETE');
  } finally {
    dest.close();
  }
  return result;
}
