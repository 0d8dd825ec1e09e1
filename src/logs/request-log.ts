// Appends request records to logs/requests/YYYY-MM-DD.jsonl (UTC days), off the request path:
// records queue in memory and a flush shortly after serializes and writes them in one append per
// day. close() flushes everything and waits for the write, so a graceful stop loses nothing.
//
// A worker thread for serializing was tried and measured worse: cloning each record across the
// thread boundary cost more CPU than serializing it here (bench/README.md).
import { join } from 'node:path';
import { writeBatch } from './jsonl-writer.js';
import type { Accounting, PendingRecord } from './request-record.js';

export interface RequestLogOptions {
  dir: string;
  bodies: boolean;
  /** How long records may wait before a write; small keeps the log current, larger batches more. */
  flushDelayMs?: number;
  onError?: (error: unknown) => void;
  /** Settles each record's key reservation and prices it, once its usage is known. */
  account?: Accounting;
}

export class RequestLog {
  private queue: PendingRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  readonly requestsDir: string;

  constructor(private readonly options: RequestLogOptions) {
    this.requestsDir = join(options.dir, 'requests');
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

  /** Writes every queued record; resolves when they are in the OS's hands. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue;
    this.queue = [];
    if (batch.length > 0) {
      this.writing = this.writing.then(() =>
        writeBatch(
          this.requestsDir,
          batch,
          this.options.bodies,
          this.options.onError,
          this.options.account,
        ).catch((error: unknown) => this.options.onError?.(error)),
      );
    }
    return this.writing;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
