// One thread's side of the in-server ingest: a pass runs the same incremental ingest as
// `ai-proxy logs ingest` over LOG_DIR, keeps the FTS index current (LOGDB_FTS_ENABLED) and assigns
// dialogs to new rows (LOGDB_GROUPING_ENABLED); a timer repeats it every LOGDB_INGEST_INTERVAL_MS.
// With LOGDB_RETENTION_DAYS, the first pass of each UTC day also prunes what has grown too old.
// background-ingest.ts runs this in a worker thread (or, from TypeScript sources, in this thread).
import { join } from 'node:path';
import type { LogDbConfig } from '../config/types.js';
import { assignNewDialogs } from './dialogs.js';
import { IngestCache, ingest } from './ingest.js';
import { readIdentity } from './ingest-sources.js';
import { DAY_MS, listPartitions } from './partitions.js';
import { prune, retentionCutoff } from './prune.js';

export interface LoopOptions {
  logDir: string;
  dbRoot: string;
  config: LogDbConfig;
}

export interface PassSummary {
  inserted: number;
  dialogs: number;
  ms: number;
  /** Partitions removed by retention in this pass (the first of each day). */
  pruned?: number;
}

/** Small slices: in this thread's event loop a slice is the longest a timer (or request) waits. */
const SLICE_BYTES = 64 * 1024;

export class IngestLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassSummary | undefined> | undefined;
  private stopped = false;
  private firstRunDone = false;
  private prunedDay = Number.NaN;
  private readonly cache = new IngestCache();

  constructor(
    private readonly options: LoopOptions,
    private readonly report: {
      onRun?: (summary: PassSummary) => void;
      onError?: (error: unknown) => void;
    } = {},
  ) {}

  start(unref: boolean): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runOnce().finally(() => this.start(unref));
    }, this.options.config.ingestIntervalMs);
    if (unref) this.timer.unref();
  }

  /** One pass; concurrent callers share the pass in progress. */
  runOnce(): Promise<PassSummary | undefined> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<PassSummary | undefined> {
    const started = performance.now();
    const { config, dbRoot, logDir } = this.options;
    try {
      // The first pass catches up on every day; later ones look at yesterday and today only
      // (a record goes to its own day's file, and the writer never goes back further).
      const since = this.firstRunDone
        ? new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS)
        : undefined;
      const result = await ingest({
        from: logDir,
        dbRoot,
        granularity: config.granularity,
        since,
        parallelism: 1,
        memoryCapMb: config.memoryCapMb,
        fts: config.ftsEnabled ? true : undefined,
        cache: this.cache,
        sliceBytes: SLICE_BYTES,
        yieldBetweenSlices: true,
      });
      this.firstRunDone = true;
      let dialogs = 0;
      if (config.groupingEnabled && result.touched.length > 0) {
        const all = listPartitions(dbRoot);
        for (const path of result.touched) {
          const index = all.findIndex((p) => p.path === path);
          const previous = index > 0 ? this.cache.db(all[index - 1]!.path) : undefined;
          dialogs += assignNewDialogs(this.cache.db(path), config.dialogWindowMinutes, previous);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      // Old days' partitions stay closed once passed: a long-running server keeps a handful open.
      if (this.cache.dbs.size > 4) this.cache.close();
      const pruned = await this.retention();
      const summary: PassSummary = { inserted: result.inserted, dialogs, ms: performance.now() - started };
      if (pruned !== undefined) summary.pruned = pruned;
      this.report.onRun?.(summary);
      return summary;
    } catch (error) {
      // A missing request folder only means no request was logged yet.
      if (!(error instanceof Error && error.name === 'IngestError' && /no such folder/.test(error.message))) {
        this.report.onError?.(error);
      }
      return undefined;
    }
  }

  /** Once a day (UTC), when retention is set: partitions older than it go (prune.ts). */
  private async retention(): Promise<number | undefined> {
    const { config, dbRoot, logDir } = this.options;
    const today = Math.floor(Date.now() / DAY_MS);
    if (config.retentionDays === undefined || today === this.prunedDay) return undefined;
    this.prunedDay = today;
    // Nothing this loop holds open may be deleted under it.
    this.cache.close();
    const result = await prune({
      dbRoot,
      rawDir: join(logDir, 'requests'),
      before: retentionCutoff(config.retentionDays),
      archiveDir: config.retentionArchiveDir,
      serverId: readIdentity(logDir)?.server_id,
    });
    return result.pruned.length;
  }

  /** Waits for the pass in progress, runs a last one (the request log was just flushed), closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.runOnce();
    this.cache.close();
  }
}
