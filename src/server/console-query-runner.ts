// The gateway's side of the console's query thread (console-query-thread.ts): the console API's
// log-store reads go there, so a 30-day usage history or a search over a year of partitions never
// holds the event loop that relays model calls. The thread starts with the first query, answers in
// order, and is bounded three ways: at most `maxQueued` queries wait (one more is a 503
// console_busy), the one running has `timeoutMs` (then the thread is stopped and the query answered
// 504 console_query_timeout), and a thread that dies fails the query it was running
// (500 console_query_failed). Either way the queries waiting behind go to a new thread. From
// TypeScript sources without a fresh build, or when the thread cannot start, the same functions
// run in this thread.
import { Worker } from 'node:worker_threads';
import { compiledWorker } from '../compiled-worker.js';
import { GatewayError } from '../errors.js';
import {
  decodeFailure,
  type QueryArgs,
  type QueryName,
  type QueryReply,
  type QueryRequest,
  type QueryResult,
  runQuery,
} from './console-queries.js';

/** How long one query may run in the thread. */
export const QUERY_TIMEOUT_MS = 30_000;
/**
 * The thread's old-generation limit: a query that would need more (a dialog of huge exchanges)
 * ends the thread with a 500, never the gateway process with an out-of-memory crash.
 */
export const QUERY_HEAP_LIMIT_MB = 1024;
/** Queries waiting or running at once (a console polls one or two at a time). */
export const MAX_QUEUED_QUERIES = 16;

export interface ConsoleQueryRunnerOptions {
  /** How long one query may run once the thread starts it (default QUERY_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Queries waiting or running at once; one more is refused (default MAX_QUEUED_QUERIES). */
  maxQueued?: number;
  /** 'auto' (default): the compiled thread when there is one; 'inline' runs every query here. */
  mode?: 'auto' | 'inline';
  /** The thread's V8 heap limit in MB (default QUERY_HEAP_LIMIT_MB): a query past it ends the thread, never the gateway. */
  heapLimitMb?: number;
  onError?: (error: Error) => void;
}

interface Pending {
  request: QueryRequest;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The compiled thread script; from sources (the tests), the build's when it is fresh. */
export function consoleQueryScript(): URL | undefined {
  return compiledWorker(import.meta.url, './console-query-thread.js', 'build-when-fresh');
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

export class ConsoleQueryRunner {
  private script: URL | undefined;
  private worker: Worker | undefined;
  /** The thread has loaded its modules: from here on a death is a crash, not a failed start. */
  private ready = false;
  private seq = 0;
  /** Sent and not answered, in the order sent: the thread runs them in that order. */
  private readonly pending = new Map<number, Pending>();
  /** The deadline of the first pending query: the one the thread is running. */
  private deadline: { id: number; timer: NodeJS.Timeout } | undefined;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly maxQueued: number;

  constructor(private readonly options: ConsoleQueryRunnerOptions = {}) {
    this.script = options.mode === 'inline' ? undefined : consoleQueryScript();
    this.timeoutMs = options.timeoutMs ?? QUERY_TIMEOUT_MS;
    this.maxQueued = options.maxQueued ?? MAX_QUEUED_QUERIES;
  }

  /** Where queries run: 'thread' (the query thread) or 'inline' (this thread). */
  get mode(): 'thread' | 'inline' {
    return this.script === undefined ? 'inline' : 'thread';
  }

  /** Queries sent to the thread and not yet answered. */
  get queued(): number {
    return this.pending.size;
  }

  run<N extends QueryName>(name: N, args: QueryArgs<N>): Promise<QueryResult<N>> {
    if (this.closed) {
      return Promise.reject(new GatewayError('shutting_down', 'The gateway is stopping.'));
    }
    if (this.script === undefined) return new Promise((resolve) => resolve(runQuery(name, args)));
    if (this.pending.size >= this.maxQueued) {
      return Promise.reject(
        new GatewayError(
          'console_busy',
          `${this.pending.size} console queries are already waiting for the log store; try again when they have finished.`,
          { headers: { 'retry-after': '1' } },
        ),
      );
    }
    const request: QueryRequest = { id: ++this.seq, name, args };
    return new Promise<QueryResult<N>>((resolve, reject) => {
      this.pending.set(request.id, { request, resolve: resolve as (value: unknown) => void, reject });
      const worker = this.thread();
      if (worker === undefined) this.runPendingInline();
      else worker.postMessage(request);
    });
  }

  /** Stops the thread; queries still pending are answered 503 shutting_down. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.dropThread();
    for (const pending of this.pending.values()) {
      pending.reject(new GatewayError('shutting_down', 'The gateway is stopping.'));
    }
    this.pending.clear();
    await worker?.terminate();
  }

  private thread(): Worker | undefined {
    if (this.worker !== undefined || this.script === undefined) return this.worker;
    let worker: Worker;
    try {
      worker = new Worker(this.script, {
        resourceLimits: { maxOldGenerationSizeMb: this.options.heapLimitMb ?? QUERY_HEAP_LIMIT_MB },
      });
    } catch (error) {
      this.cannotStart(error);
      return undefined;
    }
    // Never what keeps the process alive: a console request in flight does that.
    worker.unref();
    let failure: Error | undefined;
    worker.on('message', (reply: QueryReply) => this.answered(worker, reply));
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (code) => this.exited(worker, failure?.message ?? `exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private answered(worker: Worker, reply: QueryReply): void {
    if (worker !== this.worker) return;
    if (reply.type === 'ready') {
      this.ready = true;
      this.arm();
      return;
    }
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    this.disarm();
    if (reply.type === 'done') pending.resolve(reply.value);
    else pending.reject(decodeFailure(reply.error));
    this.arm();
  }

  /** Starts the running query's clock: the thread is ready and runs the first pending one. */
  private arm(): void {
    if (!this.ready || this.deadline !== undefined) return;
    const first = this.pending.keys().next();
    if (first.done === true) return;
    const id = first.value;
    const timer = setTimeout(() => this.expired(id), this.timeoutMs);
    timer.unref();
    this.deadline = { id, timer };
  }

  private disarm(): void {
    if (this.deadline !== undefined) clearTimeout(this.deadline.timer);
    this.deadline = undefined;
  }

  /** The running query is past its deadline: only stopping the thread stops SQLite. */
  private expired(id: number): void {
    this.deadline = undefined;
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    const { name } = pending.request;
    const message = `The console's ${name} query ran past its ${duration(this.timeoutMs)} deadline and was stopped; narrow the time range or the search.`;
    this.options.onError?.(new Error(message));
    pending.reject(new GatewayError('console_query_timeout', message));
    void this.dropThread()?.terminate();
    this.resend();
  }

  private exited(worker: Worker, reason: string): void {
    if (worker !== this.worker) return;
    const started = this.ready;
    this.dropThread();
    if (!started) {
      this.cannotStart(new Error(reason));
      return;
    }
    this.options.onError?.(new Error(`console query thread stopped: ${reason}`));
    const first = this.pending.values().next();
    if (first.done !== true) {
      const { request, reject } = first.value;
      this.pending.delete(request.id);
      reject(
        new GatewayError(
          'console_query_failed',
          `The console's query thread stopped (${reason}) while it ran this ${request.name} query; the next query starts a new one.`,
        ),
      );
    }
    this.resend();
  }

  /** The queries that were waiting behind a stopped one, to a new thread. */
  private resend(): void {
    if (this.pending.size === 0) return;
    const worker = this.thread();
    if (worker === undefined) {
      this.runPendingInline();
      return;
    }
    for (const { request } of this.pending.values()) worker.postMessage(request);
  }

  private dropThread(): Worker | undefined {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = false;
    this.disarm();
    return worker;
  }

  /** No thread can be had here: this and every later query runs in this thread. */
  private cannotStart(error: unknown): void {
    this.script = undefined;
    const reason = error instanceof Error ? error.message : String(error);
    this.options.onError?.(
      new Error(`console query thread could not start (${reason}); console queries run on the main thread`),
    );
    this.runPendingInline();
  }

  private runPendingInline(): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const { request, resolve, reject } of pending) {
      try {
        resolve(runQuery(request.name, request.args as QueryArgs<QueryName>));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}
