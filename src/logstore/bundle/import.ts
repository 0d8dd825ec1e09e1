// `logs bundle import`: unpacks a bundle into a private staging folder while hashing it, refuses
// it unless every checksum matches metadata.json, then merges each db/ partition's rows into the
// store under `dest`. Idempotent: a second import of the same bundle inserts nothing.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Granularity } from '../partitions.js';
import { SCHEMA_VERSION } from '../schema.js';
import { BundleError } from './errors.js';
import { mergeIntoStore } from './merge-rows.js';
import type { BundleMetadata } from './metadata.js';
import { type BundleProgress, silentProgress } from './progress.js';
import { scanBundle } from './scan.js';

export interface ImportOptions {
  bundle: string;
  /** The destination store's partition root (LOG_DIR/db on the receiving server). */
  dest: string;
  granularity: Granularity;
  /** Where raw/ request-log files go, if anywhere; an existing file of the same name is kept. */
  rawDest?: string;
  progress?: BundleProgress;
}

export interface ImportResult {
  metadata: BundleMetadata;
  rows: number;
  inserted: number;
  conflicts: number;
  partitions: string[];
  rawCopied: string[];
}

export async function importBundle(options: ImportOptions): Promise<ImportResult> {
  const progress = options.progress ?? silentProgress;
  if (!existsSync(options.bundle)) throw new BundleError(`${options.bundle}: no such file`);
  if (existsSync(options.dest) && !statSync(options.dest).isDirectory()) {
    throw new BundleError(`--dest ${options.dest}: not a folder`);
  }
  // Staged inside the destination (a dot folder partition listing skips): same disk, no /tmp limit.
  mkdirSync(options.dest, { recursive: true });
  const stage = mkdtempSync(join(options.dest, '.bundle-import-'));
  try {
    const scan = await scanBundle(options.bundle, { extractTo: stage, progress });
    if (scan.problems.length > 0) {
      throw new BundleError(
        `${options.bundle}: verification failed, nothing imported:\n  ${scan.problems.join('\n  ')}`,
      );
    }
    const { metadata } = scan;
    if (metadata.schema_version > SCHEMA_VERSION) {
      throw new BundleError(
        `${options.bundle}: schema version ${metadata.schema_version} is newer than this ai-proxy understands (${SCHEMA_VERSION})`,
      );
    }
    const result: ImportResult = {
      metadata,
      rows: 0,
      inserted: 0,
      conflicts: 0,
      partitions: [],
      rawCopied: [],
    };
    const touched = new Set<string>();
    const dbFiles = metadata.files.filter((file) => file.path.startsWith('db/'));
    progress.start('merge', dbFiles.length, 'files');
    for (const file of dbFiles) {
      const counts = mergeIntoStore(
        options.dest,
        join(stage, ...file.path.split('/')),
        options.granularity,
        file.path,
      );
      result.rows += counts.rows;
      result.inserted += counts.inserted;
      result.conflicts += counts.conflicts;
      for (const path of counts.partitions) touched.add(path);
      progress.add(1);
    }
    progress.finish();
    result.partitions = [...touched].sort();
    if (options.rawDest !== undefined) {
      mkdirSync(options.rawDest, { recursive: true });
      for (const file of metadata.files.filter((f) => f.path.startsWith('raw/'))) {
        const name = file.path.slice('raw/'.length).split('/').join('_');
        const target = join(options.rawDest, `${metadata.server_id}_${name}`);
        if (existsSync(target)) continue;
        copyFileSync(join(stage, ...file.path.split('/')), target);
        result.rawCopied.push(target);
      }
    }
    return result;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
