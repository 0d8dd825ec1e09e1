// LOGDB_IMPORT_PARALLELISM > 1: ingest in worker threads (ingest-worker.ts runs ingestFiles).
import { Worker } from 'node:worker_threads';
import { compiledWorker } from '../compiled-worker.js';
import { emptyResult, type IngestOptions, type IngestResult } from './ingest.js';
import { IngestError, type SourceFile } from './ingest-sources.js';
import { createLockBuffer } from './partition-locks.js';
import { partitionPath } from './partitions.js';
import { silentProgress } from './progress.js';

/** The compiled worker next to this module; absent when running from TypeScript sources. */
export function workerScript(): URL | undefined {
  return compiledWorker(import.meta.url, './ingest-worker.js');
}

export interface WorkerJob {
  files: SourceFile[];
  options: Omit<IngestOptions, 'progress' | 'cache'>;
  /** The partition locks every thread shares (partition-locks.ts). */
  locks: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; result: IngestResult }
  | { type: 'error'; message: string };

/**
 * LOGDB_IMPORT_PARALLELISM worker threads, each given whole partitions' worth of files, balanced
 * by bytes. Rows of other days still reach other threads' partitions; the shared partition locks
 * keep one writer per partition at a time. SQLite work is synchronous, so threads are what makes
 * parallelism real; a killed process loses at most each thread's open slice.
 */
export async function ingestInWorkers(
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
  const locks = createLockBuffer();
  const heapMb = Math.max(96, Math.floor((options.memoryCapMb ?? 256) / threads));
  const results = await Promise.all(
    buckets.map(
      (bucket) =>
        new Promise<IngestResult>((resolvePromise, reject) => {
          const job: WorkerJob = { files: bucket.files, options: plain, locks };
          const worker = new Worker(script, {
            workerData: job,
            // The heap a thread may grow to is its share of LOGDB_MEMORY_CAP_MB: V8 otherwise lets
            // garbage pile up far beyond what a slice keeps live, and RSS grows with the run.
            resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: heapMb },
          });
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

export function size(files: SourceFile[]): number {
  return files.reduce((sum, f) => sum + f.size, 0);
}
