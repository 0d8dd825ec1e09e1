// The safety net both Redis-mode stores (provider-key limits, client-key budgets) are built on:
// while Redis is unreachable or not answering within its command deadline, work is done in this
// process (REDIS_FAIL_MODE=open, the default) or refused (closed). Once Redis has failed, requests
// no longer wait on it: a PING every PROBE_INTERVAL_MS checks it, and the first one answered
// switches back. Both changes are logged, once per incident.
import type { Logger } from 'pino';

const PROBE_INTERVAL_MS = 500;

/** What the failover needs of the Redis store: whether ioredis is connected, a PING, and close. */
export interface ProbedRedis {
  readonly ready: boolean;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The store-specific words of the log lines, e.g. "counting key limits in this process". */
export interface FailoverWording {
  /** What happens meanwhile under REDIS_FAIL_MODE=open. */
  open: string;
  /** What happens meanwhile under REDIS_FAIL_MODE=closed. */
  closed: string;
  /** What is true again once Redis answers. */
  recovered: string;
}

/**
 * A Redis store `R` with an in-process store `L` beside it; a subclass implements the store
 * interface with `run` (Redis or the fail mode) and `tolerate` (Redis, failures only noted), and
 * names what it counts in `wording`.
 */
export abstract class RedisFailover<R extends ProbedRedis, L> {
  readonly kind = 'redis';
  private degraded = false;
  private probe: NodeJS.Timeout | undefined;
  private probing = false;
  protected abstract readonly wording: FailoverWording;

  constructor(
    readonly redis: R,
    readonly local: L,
    private readonly failOpen: boolean,
    private readonly logger: Logger,
  ) {}

  get usingRedis(): boolean {
    return !this.degraded && this.redis.ready;
  }

  /**
   * `shared()` while Redis is in use; when it fails, or Redis is not in use, the incident starts
   * (if it has not) and the answer is `local()` under fail open, `refused()` (which may throw)
   * under fail closed.
   */
  protected async run<T>(
    shared: () => Promise<T>,
    local: () => T | Promise<T>,
    refused: () => T,
  ): Promise<T> {
    if (this.usingRedis) {
      try {
        return await shared();
      } catch (error) {
        this.degrade(error);
      }
    } else {
      this.degrade(undefined);
    }
    return this.failOpen ? local() : refused();
  }

  /** `shared()` whatever the state; a failure starts the incident (if it has not) and is swallowed. */
  protected async tolerate(shared: () => Promise<void>): Promise<void> {
    try {
      await shared();
    } catch (error) {
      this.degrade(error);
    }
  }

  private degrade(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(
      { err: error instanceof Error ? error.message : undefined },
      this.failOpen
        ? `Redis is unreachable or not answering: ${this.wording.open} until it is back (REDIS_FAIL_MODE=open)`
        : `Redis is unreachable or not answering: ${this.wording.closed} until it is back (REDIS_FAIL_MODE=closed)`,
    );
    this.probe = setInterval(() => void this.check(), PROBE_INTERVAL_MS);
    this.probe.unref();
  }

  /** One PING at a time, and only on a connection ioredis calls ready (else it fails at once). */
  private async check(): Promise<void> {
    if (this.probing || !this.redis.ready) return;
    this.probing = true;
    try {
      await this.redis.ping();
      this.recovered();
    } catch {
      // Still away; the next tick asks again.
    } finally {
      this.probing = false;
    }
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    clearInterval(this.probe);
    this.probe = undefined;
    this.logger.info(`Redis is reachable again: ${this.wording.recovered}`);
  }

  async close(): Promise<void> {
    clearInterval(this.probe);
    await this.redis.close();
  }
}
