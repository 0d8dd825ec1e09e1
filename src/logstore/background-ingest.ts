// The gateway's own ingest (LOGDB_ENABLED=true), off the request path: the ingest loop
// (ingest-loop.ts) runs in a worker thread, so its SQLite work never holds the event loop that
// serves requests. Run from TypeScript sources (tests) there is no compiled worker, and the loop
// runs in this thread instead, in 64 KB slices with a yield after each. stop() waits for the last
// pass (after the request log's final flush), so a graceful stop stores every record.
import { Worker } from 'node:worker_threads';
import { compiledWorker } from '../compiled-worker.js';
import type { LogDbConfig } from '../config/types.js';
import type { IngestLoop, LoopOptions, PassSummary } from './ingest-loop.js';
import type { LoopReport, LoopRequest } from './ingest-loop-worker.js';
import { defaultDbRoot } from './partitions.js';

export interface BackgroundIngestOptions {
  logDir: string;
  config: LogDbConfig;
  dbRoot?: string;
  onError?: (error: unknown) => void;
  onRun?: (summary: PassSummary) => void;
  /** 'auto' (default): a worker thread when the compiled worker exists. */
  mode?: 'auto' | 'inline';
}

function workerScript(): URL | undefined {
  return compiledWorker(import.meta.url, './ingest-loop-worker.js');
}

export class BackgroundIngest {
  readonly dbRoot: string;
  private inline: IngestLoop | undefined;
  /** The in-thread loop is imported on demand: a gateway without the store never loads SQLite. */
  private inlineStarting: Promise<void> | undefined;
  private worker: Worker | undefined;
  private seq = 0;
  private readonly waiting = new Map<number, (summary: PassSummary | undefined) => void>();
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: BackgroundIngestOptions) {
    this.dbRoot = options.dbRoot ?? defaultDbRoot(options.logDir);
  }

  /** 'worker' or 'inline', once started. */
  get mode(): 'worker' | 'inline' | undefined {
    if (this.worker !== undefined) return 'worker';
    return this.inlineStarting !== undefined ? 'inline' : undefined;
  }

  start(): void {
    const loopOptions: LoopOptions = {
      logDir: this.options.logDir,
      dbRoot: this.dbRoot,
      config: this.options.config,
    };
    const script = this.options.mode === 'inline' ? undefined : workerScript();
    if (script === undefined) {
      this.inlineStarting = import('./ingest-loop.js').then(({ IngestLoop }) => {
        this.inline = new IngestLoop(loopOptions, {
          onRun: this.options.onRun,
          onError: this.options.onError,
        });
        this.inline.start(true);
      });
      return;
    }
    const worker = new Worker(script, { workerData: loopOptions });
    worker.unref();
    worker.on('message', (message: LoopReport) => {
      if (message.type === 'pass') this.options.onRun?.(message.summary);
      else if (message.type === 'error') this.options.onError?.(new Error(message.message));
      else if (message.type === 'ran') {
        this.waiting.get(message.seq)?.(message.summary);
        this.waiting.delete(message.seq);
      }
    });
    worker.on('error', (error) => this.options.onError?.(error));
    this.worker = worker;
  }

  /** One pass now (the bench and tests use it); resolves with its summary. */
  async runOnce(): Promise<PassSummary | undefined> {
    await this.inlineStarting;
    if (this.inline !== undefined) return this.inline.runOnce();
    const worker = this.worker;
    if (worker === undefined) return Promise.resolve(undefined);
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      worker.postMessage({ type: 'run', seq } satisfies LoopRequest);
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.inlineStarting;
      if (this.inline !== undefined) {
        await this.inline.stop();
        return;
      }
      const worker = this.worker;
      if (worker === undefined) return;
      await new Promise<void>((resolve) => {
        worker.on('exit', () => resolve());
        worker.on('message', (message: LoopReport) => {
          if (message.type === 'stopped') void worker.terminate();
        });
        worker.postMessage({ type: 'stop' } satisfies LoopRequest);
      });
      for (const resolve of this.waiting.values()) resolve(undefined);
      this.waiting.clear();
    })();
    return this.stopping;
  }
}
