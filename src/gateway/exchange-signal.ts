// One signal per exchange that fires when the client goes away, the total timeout passes or a
// graceful stop's grace period ends; the upstream call, the backoff sleep and the stream relay all
// listen to it.
//
// It has `aborted`, `reason` and an emitter's on/once/off for its one event, which is what undici
// accepts as a request signal. An AbortController per request measured about a fifth of the
// gateway's throughput on the hot path (undici's AbortSignal handling). Not an EventEmitter either:
// 'abort' fires at most once, so a listener list is all it needs, without an emitter's state and
// the wrapper `once` makes per listener.
import { type AttemptFailure, failureFromError, TotalTimeoutError } from './failure.js';

class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/** A graceful stop's grace period ran out with this exchange still in flight. */
export class ShutdownError extends Error {
  constructor() {
    super('the gateway is shutting down and its grace period for requests in flight is over');
    this.name = 'ShutdownError';
  }
}

type AbortListener = () => void;

export class ExchangeSignal {
  aborted = false;
  reason: unknown = undefined;
  private readonly timer: NodeJS.Timeout;
  private listeners: AbortListener[] | undefined;

  constructor(totalTimeoutMs: number) {
    this.timer = setTimeout(() => this.abort(new TotalTimeoutError(totalTimeoutMs)), totalTimeoutMs);
    this.timer.unref();
  }

  /** Calls `listener` once, when the signal fires. Only 'abort' is ever emitted. */
  on(event: 'abort', listener: AbortListener): this {
    if (event !== 'abort') return this;
    if (this.listeners === undefined) this.listeners = [listener];
    else this.listeners.push(listener);
    return this;
  }

  once(event: 'abort', listener: AbortListener): this {
    return this.on(event, listener);
  }

  off(event: 'abort', listener: AbortListener): this {
    const listeners = this.listeners;
    if (event !== 'abort' || listeners === undefined) return this;
    const at = listeners.lastIndexOf(listener);
    if (at !== -1) listeners.splice(at, 1);
    return this;
  }

  removeListener(event: 'abort', listener: AbortListener): this {
    return this.off(event, listener);
  }

  get clientGone(): boolean {
    return this.reason instanceof ClientGoneError;
  }

  clientClosed(): void {
    this.abort(new ClientGoneError());
  }

  /** Cut by a graceful stop (its grace period is over). */
  get shutDown(): boolean {
    return this.reason instanceof ShutdownError;
  }

  shutdown(): void {
    this.abort(new ShutdownError());
  }

  /** Why the exchange was cut short, or undefined while it runs. */
  failure(): AttemptFailure | undefined {
    if (!this.aborted) return undefined;
    if (this.reason instanceof ShutdownError) {
      return { kind: 'aborted', retryable: false, message: this.reason.message };
    }
    return failureFromError(this.reason, this.clientGone);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
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
