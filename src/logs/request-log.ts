// Appends request records to logs/requests/YYYY-MM-DD.jsonl (UTC days), off the request path:
// records queue in memory and a flush shortly after serializes and writes them in one append.
// close() flushes everything, so a graceful stop loses nothing.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type PendingRecord, serializeRecord } from './request-record.js';

export interface RequestLogOptions {
  dir: string;
  bodies: boolean;
  /** How long records may wait before a write; small keeps the log current, larger batches more. */
  flushDelayMs?: number;
  onError?: (error: unknown) => void;
}

export class RequestLog {
  private queue: PendingRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirReady: Promise<void> | undefined;
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

  /** Writes every queued record; resolves when they are on disk (in the OS's hands). */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue;
    this.queue = [];
    if (batch.length > 0) this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async write(batch: PendingRecord[]): Promise<void> {
    const byDay = new Map<string, string[]>();
    for (const pending of batch) {
      let line: string;
      try {
        line = serializeRecord(pending, this.options.bodies);
      } catch (error) {
        this.options.onError?.(error);
        continue;
      }
      const day = pending.base.time.slice(0, 10);
      let lines = byDay.get(day);
      if (lines === undefined) {
        lines = [];
        byDay.set(day, lines);
      }
      lines.push(line);
    }
    try {
      this.dirReady ??= mkdir(this.requestsDir, { recursive: true }).then(() => undefined);
      await this.dirReady;
      for (const [day, lines] of byDay) {
        await appendFile(join(this.requestsDir, `${day}.jsonl`), lines.join(''));
      }
    } catch (error) {
      this.dirReady = undefined;
      this.options.onError?.(error);
    }
  }
}
