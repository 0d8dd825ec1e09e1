// Appends request records to logs/requests/YYYY-MM-DD.jsonl (UTC days), off the request path:
// records queue in memory, and a flush shortly after hands the batch to a worker thread that
// serializes and writes it (in-thread when the worker's compiled file is absent, as when the
// TypeScript sources run directly). close() flushes everything and waits for the write, so a
// graceful stop loses nothing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { writeBatch } from './jsonl-writer.js';
import type { PendingRecord } from './request-record.js';

export interface RequestLogOptions {
  dir: string;
  bodies: boolean;
  /** How long records may wait before a write; small keeps the log current, larger batches more. */
  flushDelayMs?: number;
  /** Serialize and write on a worker thread when possible (default true). */
  useWorker?: boolean;
  onError?: (error: unknown) => void;
}

const WORKER_FILE = new URL('./request-log-worker.js', import.meta.url);

export class RequestLog {
  private queue: PendingRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private worker: Worker | undefined;
  private seq = 0;
  private readonly pending = new Map<number, () => void>();
  private inline: Promise<void> = Promise.resolve();
  readonly requestsDir: string;

  constructor(private readonly options: RequestLogOptions) {
    this.requestsDir = join(options.dir, 'requests');
    if (options.useWorker !== false && existsSync(fileURLToPath(WORKER_FILE))) this.startWorker();
  }

  add(record: PendingRecord): void {
    this.queue.push(record);
    if (this.timer === undefined && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.flushDelayMs ?? 50);
    }
  }

  /** Writes every queued record; resolves when all batches handed over so far are written. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue;
    this.queue = [];
    if (batch.length > 0) this.send(batch);
    return this.settled();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }

  private startWorker(): void {
    const worker = new Worker(WORKER_FILE, {
      workerData: { requestsDir: this.requestsDir, bodies: this.options.bodies },
    });
    worker.on('message', (message: { seq: number; error?: string }) => {
      if (message.error !== undefined) this.options.onError?.(new Error(message.error));
      this.pending.get(message.seq)?.();
      this.pending.delete(message.seq);
      if (this.pending.size === 0) worker.unref();
    });
    worker.on('error', (error) => {
      // Batches the worker had not acknowledged are lost with it; say so, and write in-thread from
      // now on rather than lose more.
      this.options.onError?.(error);
      this.worker = undefined;
      for (const done of this.pending.values()) done();
      this.pending.clear();
    });
    // Unreferenced while idle, so an idle log never keeps the process alive; referenced while a
    // batch is being written, so the process cannot exit before it is on disk.
    worker.unref();
    this.worker = worker;
  }

  private send(batch: PendingRecord[]): void {
    const worker = this.worker;
    if (worker === undefined) {
      this.inline = this.inline.then(() =>
        writeBatch(this.requestsDir, batch, this.options.bodies).catch((error: unknown) =>
          this.options.onError?.(error),
        ),
      );
      return;
    }
    this.seq += 1;
    const seq = this.seq;
    this.pending.set(seq, () => undefined);
    worker.ref();
    worker.postMessage({ seq, batch });
  }

  private settled(): Promise<void> {
    const waits: Promise<void>[] = [this.inline];
    for (const [seq] of this.pending) {
      waits.push(
        new Promise((resolve) => {
          const previous = this.pending.get(seq);
          this.pending.set(seq, () => {
            previous?.();
            resolve();
          });
        }),
      );
    }
    return Promise.all(waits).then(() => undefined);
  }
}
