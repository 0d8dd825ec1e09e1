// Appends request records to logs/requests/YYYY-MM-DD.jsonl (UTC days), off the request path.
// Each finished exchange is packed into the current batch at once (record-batch.ts); a flush
// shortly after hands the batch, as bytes, to the log writer thread, which assembles, serializes
// and appends, and answers with each record's usage and cost for the key accounting here.
// close() flushes everything and waits for the writes, so a graceful stop loses nothing.
//
// Measured (bench/README.md): cloning record objects to a thread cost more than serializing them
// in place; packing costs ~8-9 µs per stream record inside the running gateway, and the rest
// (assembly, the line, the write: ~15-20 µs) leaves the event loop.
//
// Without the compiled thread script (running from TypeScript sources) or after the thread died,
// batches are written in this thread instead, by the same code.
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { compiledWorker } from '../compiled-worker.js';
import type { TokenUsage } from '../usage/cost.js';
import { RESULT_FIELDS, writeBatch } from './jsonl-writer.js';
import type { BatchMessage, DoneMessage, WriterSetup } from './log-writer-thread.js';
import { RecordBatch } from './record-batch.js';
import {
  type Accounting,
  type AccountingMeta,
  accountingMeta,
  type PendingRecord,
} from './request-record.js';

export interface RequestLogOptions {
  dir: string;
  bodies: boolean;
  /** How long records may wait before a write; small keeps the log current, larger batches more. */
  flushDelayMs?: number;
  onError?: (error: unknown) => void;
  /** Settles each record's key reservation and counts its usage, once the writer found it. */
  account?: Accounting;
  /** The writer thread's script; undefined: write in this thread. Default: the compiled one. */
  threadScript?: URL | undefined;
}

/**
 * The writer makes plenty of short-lived garbage (a decoded stream, parsed chunks, strings per
 * record), and a new thread's heap starts with a small young generation: it was scavenged about
 * four times as often as with 8 MB (GC 4.6 → 1.3 µs per stream record, measured with
 * --trace-gc). V8 reads the flag when an isolate's heap is set up, so it applies to threads
 * started after it is set, not to the main thread's heap, which is already there.
 */
const WRITER_YOUNG_GENERATION = '--min-semi-space-size=8';

/** A batch this much larger goes out at once rather than waiting for the timer. */
const EAGER_BYTES = 4 * 1024 * 1024;

/** The compiled thread script; from sources (the tests), the build's when it is fresh. */
export function logWriterScript(): URL | undefined {
  return compiledWorker(import.meta.url, './log-writer-thread.js', 'build-when-fresh');
}

interface Sent {
  /** Kept until the thread answers: a thread that dies mid-batch has its batches written here. */
  batch: RecordBatch;
  metas: AccountingMeta[];
  done: () => void;
}

/** A record's usage from the writer's answer; the details only where the answer had them. */
function tokensAt(results: Float64Array, at: number, total: number): TokenUsage {
  const tokens: TokenUsage = {
    promptTokens: results[at]!,
    completionTokens: results[at + 1]!,
    totalTokens: total,
  };
  if (results[at + 4]! > 0) tokens.cachedReadTokens = results[at + 4]!;
  if (results[at + 5]! > 0) tokens.cacheWriteTokens = results[at + 5]!;
  if (results[at + 6]! > 0) tokens.reasoningTokens = results[at + 6]!;
  return tokens;
}

export class RequestLog {
  private batch = new RecordBatch();
  /** Batches the thread has answered for, ready for reuse. */
  private readonly spare: RecordBatch[] = [];
  private metas: AccountingMeta[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private seq = 0;
  private readonly sent = new Map<number, Sent>();
  private last: Promise<void> = Promise.resolve();
  private thread: Worker | undefined;
  private threadScript: URL | undefined;
  readonly requestsDir: string;

  constructor(private readonly options: RequestLogOptions) {
    this.requestsDir = join(options.dir, 'requests');
    this.threadScript = 'threadScript' in options ? options.threadScript : logWriterScript();
  }

  /** Where batches are written: 'thread' (the writer thread) or 'inline' (this thread). */
  get mode(): 'thread' | 'inline' {
    return this.threadScript === undefined ? 'inline' : 'thread';
  }

  /** Records not yet written and accounted: in the open batch or with the writer. */
  get queued(): number {
    let count = this.batch.count;
    for (const sent of this.sent.values()) count += sent.metas.length;
    return count;
  }

  add(record: PendingRecord): void {
    try {
      this.batch.add(record);
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    this.metas.push(accountingMeta(record));
    // A record that comes in after close (an exchange that outlived the stop) is written at once,
    // in this thread: no timer would flush it any more.
    if (this.batch.length >= EAGER_BYTES || this.closed) {
      void this.flush();
    } else if (this.timer === undefined && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.flushDelayMs ?? 50);
    }
  }

  /** Writes every record added so far; resolves when they are in the OS's hands and accounted. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.batch.count === 0) return this.last;
    const batch = this.batch;
    const metas = this.metas;
    this.batch = this.spare.pop() ?? new RecordBatch();
    this.metas = [];
    const seq = ++this.seq;
    this.last = new Promise<void>((resolve) => {
      this.sent.set(seq, { batch, metas, done: resolve });
    });
    const thread = this.writerThread();
    if (thread === undefined) {
      this.writeInline(seq);
    } else {
      // The batch is shared memory: the thread reads it in place, and it is neither written nor
      // reused here until the thread has answered for it.
      const message: BatchMessage = { seq, bytes: batch.bytes, count: batch.count };
      thread.postMessage(message);
    }
    return this.last;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    const thread = this.thread;
    this.thread = undefined;
    this.threadScript = undefined;
    await thread?.terminate();
  }

  private writerThread(): Worker | undefined {
    if (this.thread !== undefined || this.threadScript === undefined) return this.thread;
    const setup: WriterSetup = { requestsDir: this.requestsDir, bodies: this.options.bodies };
    setFlagsFromString(WRITER_YOUNG_GENERATION);
    const thread = new Worker(this.threadScript, { workerData: setup });
    // Never what keeps the process alive: close() waits for the writes it needs.
    thread.unref();
    thread.on('message', (message: DoneMessage) => this.settle(message.seq, message.results, message.errors));
    thread.on('error', (error) => this.threadLost(thread, error));
    thread.on('exit', (code) =>
      this.threadLost(thread, new Error(`log writer thread exited with code ${code}`)),
    );
    this.thread = thread;
    return thread;
  }

  /** The thread failed: report it, write what it had not finished here, and keep writing here. */
  private threadLost(thread: Worker, error: Error): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    this.threadScript = undefined;
    this.options.onError?.(error);
    for (const seq of [...this.sent.keys()].sort((a, b) => a - b)) this.writeInline(seq);
  }

  private writeInline(seq: number): void {
    const sent = this.sent.get(seq);
    if (sent === undefined) return;
    let results: Float64Array = new Float64Array(0);
    let errors: Array<Error | string> = [];
    try {
      ({ results, errors } = writeBatch(
        this.requestsDir,
        sent.batch.bytes,
        sent.batch.count,
        this.options.bodies,
      ));
    } catch (error) {
      errors = [error as Error];
    }
    this.settle(seq, results, errors);
  }

  private settle(seq: number, results: Float64Array, errors: ReadonlyArray<Error | string>): void {
    const sent = this.sent.get(seq);
    if (sent === undefined) return;
    this.sent.delete(seq);
    for (const error of errors) this.options.onError?.(typeof error === 'string' ? new Error(error) : error);
    const account = this.options.account;
    if (account !== undefined) {
      for (let i = 0; i < sent.metas.length; i++) {
        const at = i * RESULT_FIELDS;
        const total = results[at + 2];
        const tokens = total === undefined || Number.isNaN(total) ? undefined : tokensAt(results, at, total);
        const cost = results[at + 3];
        try {
          account(sent.metas[i]!, tokens, cost === undefined || Number.isNaN(cost) ? null : cost);
        } catch (error) {
          this.options.onError?.(error);
        }
      }
    }
    sent.batch.reset();
    if (this.spare.length < 2) this.spare.push(sent.batch);
    sent.done();
  }
}
