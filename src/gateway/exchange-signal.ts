// One AbortSignal per exchange that fires when the client goes away or the total timeout passes;
// the upstream call, the backoff sleep and the stream relay all listen to it.
import { type AttemptFailure, TotalTimeoutError, failureFromError } from './failure.js';

class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

export class ExchangeSignal {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(totalTimeoutMs: number) {
    this.timer = setTimeout(() => this.controller.abort(new TotalTimeoutError(totalTimeoutMs)), totalTimeoutMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get clientGone(): boolean {
    return this.controller.signal.reason instanceof ClientGoneError;
  }

  clientClosed(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new ClientGoneError());
  }

  /** Why the exchange was cut short, or undefined while it runs. */
  failure(): AttemptFailure | undefined {
    if (!this.controller.signal.aborted) return undefined;
    return failureFromError(this.controller.signal.reason, this.clientGone);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/** Resolves after `ms`, or rejects at once when the signal fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
