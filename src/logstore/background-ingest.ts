// The gateway's own ingest (LOGDB_ENABLED=true): every LOGDB_INGEST_INTERVAL_MS it runs the same
// incremental ingest as `ai-proxy logs ingest` over LOG_DIR, keeps the FTS index current
// (LOGDB_FTS_ENABLED) and assigns dialogs to the new rows (LOGDB_GROUPING_ENABLED).
//
// It stays off the request path: the timer is unref'd, one run at a time, and the ingest reads
// small slices (64 KB, a few dozen records) and yields to the event loop after each one, so a
// request waits at most one slice's commit (bench/README.md has the measured effect). stop() waits
// for the run in progress, runs a last pass (the request log was flushed just before) and closes.
import type { LogDbConfig } from '../config/types.js';
import { assignNewDialogs } from './dialogs.js';
import { IngestCache, ingest } from './ingest.js';
import { DAY_MS, defaultDbRoot, listPartitions } from './partitions.js';

export interface BackgroundIngestOptions {
  logDir: string;
  config: LogDbConfig;
  dbRoot?: string;
  onError?: (error: unknown) => void;
  onRun?: (summary: { inserted: number; dialogs: number; ms: number }) => void;
}

const SLICE_BYTES = 64 * 1024;

export class BackgroundIngest {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private firstRunDone = false;
  private readonly cache = new IngestCache();
  readonly dbRoot: string;
  runs = 0;

  constructor(private readonly options: BackgroundIngestOptions) {
    this.dbRoot = options.dbRoot ?? defaultDbRoot(options.logDir);
  }

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runOnce().finally(() => this.schedule());
    }, this.options.config.ingestIntervalMs);
    this.timer.unref();
  }

  /** One pass; concurrent callers share the pass in progress. */
  runOnce(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const started = performance.now();
    const { config } = this.options;
    try {
      // The first pass catches up on every day; later ones only look at yesterday and today
      // (a record is written to its own day's file, and the writer never goes back further).
      const since = this.firstRunDone
        ? new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS)
        : undefined;
      const result = await ingest({
        from: this.options.logDir,
        dbRoot: this.dbRoot,
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
        const all = listPartitions(this.dbRoot);
        for (const path of result.touched) {
          const index = all.findIndex((p) => p.path === path);
          const previous = index > 0 ? this.cache.db(all[index - 1]!.path) : undefined;
          dialogs += assignNewDialogs(this.cache.db(path), config.dialogWindowMinutes, previous);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      this.runs += 1;
      this.options.onRun?.({ inserted: result.inserted, dialogs, ms: performance.now() - started });
    } catch (error) {
      // A missing request folder just means no request was logged yet.
      if (!(error instanceof Error && error.name === 'IngestError' && /no such folder/.test(error.message))) {
        this.options.onError?.(error);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.runOnce();
    this.cache.close();
  }
}
