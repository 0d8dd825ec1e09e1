// Redis-mode budgets with a safety net, as failover-limit-store.ts does for provider keys: while
// Redis is unreachable or past its command deadline, client-key limits and budgets are counted in
// this process (REDIS_FAIL_MODE=open, the default; each instance then holds the whole budget on
// its own) or every reservation is refused, for a 503 (closed). A PING every PROBE_INTERVAL_MS
// switches back once Redis answers. Each change is logged once per incident.
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import type { MemoryBudgetStore } from './budget-memory-store.js';
import type { RedisBudgetStore } from './budget-redis-store.js';
import type {
  Actual,
  BudgetStore,
  KeyUsageView,
  Reservation,
  ReserveInput,
  ReserveResult,
} from './budget-store.js';
import type { KeyPolicy } from './types.js';

const PROBE_INTERVAL_MS = 500;

export class FailoverBudgetStore implements BudgetStore {
  readonly kind = 'redis';
  private degraded = false;
  private probe: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    readonly redis: RedisBudgetStore,
    readonly local: MemoryBudgetStore,
    private readonly failOpen: boolean,
    private readonly logger: Logger,
  ) {}

  get usingRedis(): boolean {
    return !this.degraded && this.redis.ready;
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    if (this.usingRedis) {
      try {
        return await this.redis.reserve(input);
      } catch (error) {
        this.degrade(error);
      }
    } else {
      this.degrade(undefined);
    }
    if (!this.failOpen) return { ok: false, kind: 'unavailable' };
    return this.local.reserve(input);
  }

  /**
   * A reservation made in Redis is settled there even while degraded: if Redis cannot take it, it
   * stays counted at its estimate there (and is forgotten after the reservation TTL).
   */
  async settle(reservation: Reservation, actual: Actual): Promise<void> {
    if (this.local.holds(reservation)) return this.local.settle(reservation, actual);
    try {
      await this.redis.settle(reservation, actual);
    } catch (error) {
      this.degrade(error);
    }
  }

  async release(reservation: Reservation): Promise<void> {
    if (this.local.holds(reservation)) return this.local.release(reservation);
    try {
      await this.redis.release(reservation);
    } catch (error) {
      this.degrade(error);
    }
  }

  async view(keyId: string, policy: KeyPolicy, now: number): Promise<KeyUsageView> {
    if (this.usingRedis) {
      try {
        return await this.redis.view(keyId, policy, now);
      } catch (error) {
        this.degrade(error);
      }
    } else {
      this.degrade(undefined);
    }
    if (!this.failOpen) {
      throw new GatewayError(
        'no_capacity',
        'The shared budget store (Redis) is unreachable and REDIS_FAIL_MODE=closed; retry later.',
      );
    }
    return this.local.view(keyId, policy, now);
  }

  private degrade(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(
      { err: error instanceof Error ? error.message : undefined },
      this.failOpen
        ? 'Redis is unreachable or not answering: counting client-key budgets in this process until it is back (REDIS_FAIL_MODE=open)'
        : 'Redis is unreachable or not answering: refusing budgeted client keys until it is back (REDIS_FAIL_MODE=closed)',
    );
    this.probe = setInterval(() => void this.check(), PROBE_INTERVAL_MS);
    this.probe.unref();
  }

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
    this.logger.info('Redis is reachable again: client-key budgets are shared again');
  }

  async close(): Promise<void> {
    clearInterval(this.probe);
    await this.redis.close();
  }
}
