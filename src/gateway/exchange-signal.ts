// One signal per exchange that fires when the client goes away or the total timeout passes; the
// upstream call, the backoff sleep and the stream relay all listen to it.
//
// It is an EventEmitter with `aborted` and `reason`, which undici accepts as a request signal.
// An AbortController per request measured about a fifth of the gateway's throughput on the hot
// path (undici's AbortSignal handling); an emitter costs next to nothing.
import { EventEmitter } from 'node:events';
import { type AttemptFailure, failureFromError, TotalTimeoutError } from './failure.js';

class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

export class ExchangeSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(totalTimeoutMs: number) {
    super();
    this.timer = setTimeout(() => this.abort(new TotalTimeoutError(totalTimeoutMs)), totalTimeoutMs);
    this.timer.unref();
  }

  get clientGone(): boolean {
    return this.reason instanceof ClientGoneError;
  }

  clientClosed(): void {
    this.abort(new ClientGoneError());
  }

  /** Why the exchange was cut short, or undefined while it runs. */
  failure(): AttemptFailure | undefined {
    if (!this.aborted) return undefined;
    return failureFromError(this.reason, this.clientGone);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/** Resolves after `ms`, or rejects at once when the signal fires. */
export function sleep(ms: number, signal: ExchangeSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.off('abort', onAbort);
      resolve();
    }, ms);
    signal.once('abort', onAbort);
  });
}
