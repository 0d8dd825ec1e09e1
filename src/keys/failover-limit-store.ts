// Redis mode with a safety net: while Redis is unreachable or not answering within its command
// deadline, limits are counted in this process (fail open, the default) or every request is
// refused with 503 (fail closed). Once Redis has failed, requests no longer wait on it: a PING
// every PROBE_INTERVAL_MS checks it, and the first one answered switches back. Both changes are
// logged, once per incident.
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import type {
  CooldownReason,
  Lease,
  LimitStore,
  SelectInput,
  SelectResult,
  Settlement,
  UsageView,
} from './limit-store.js';
import type { MemoryLimitStore } from './memory-limit-store.js';
import type { RedisLimitStore } from './redis-limit-store.js';

const PROBE_INTERVAL_MS = 500;

export class FailoverLimitStore implements LimitStore {
  readonly kind = 'redis';
  private readonly localLeases = new WeakSet<Lease>();
  private degraded = false;
  private probe: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    readonly redis: RedisLimitStore,
    readonly local: MemoryLimitStore,
    private readonly failOpen: boolean,
    private readonly logger: Logger,
  ) {}

  get usingRedis(): boolean {
    return !this.degraded && this.redis.ready;
  }

  async select(input: SelectInput): Promise<SelectResult> {
    if (this.usingRedis) {
      try {
        return await this.redis.select(input);
      } catch (error) {
        this.degrade(error);
      }
    } else {
      this.degrade(undefined);
    }
    if (!this.failOpen) return { ok: false, freeInMs: undefined, unavailable: true };
    const result = this.local.select(input);
    if (result.ok) this.localLeases.add(result.lease);
    return result;
  }

  private degrade(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(
      { err: error instanceof Error ? error.message : undefined },
      this.failOpen
        ? 'Redis is unreachable or not answering: counting key limits in this process until it is back (REDIS_FAIL_MODE=open)'
        : 'Redis is unreachable or not answering: refusing requests until it is back (REDIS_FAIL_MODE=closed)',
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
    this.logger.info('Redis is reachable again: key limits are shared again');
  }

  settle(lease: Lease, settlement: Settlement | undefined): void {
    if (this.localLeases.has(lease)) this.local.settle(lease, settlement);
    else this.redis.settle(lease, settlement);
  }

  countClient(day: number, settlement: Settlement): void {
    if (this.usingRedis) this.redis.countClient(day, settlement);
    else this.local.countClient(day, settlement);
  }

  cool(keyId: string, untilMs: number, reason: CooldownReason): void {
    this.local.cool(keyId, untilMs, reason);
    if (this.usingRedis) this.redis.cool(keyId, untilMs, reason);
  }

  clearCooldown(keyId: string): void {
    this.local.clearCooldown(keyId);
    if (this.usingRedis) this.redis.clearCooldown(keyId);
  }

  async view(keyIds: readonly string[], now: number): Promise<UsageView> {
    if (this.usingRedis) {
      try {
        return await this.redis.view(keyIds, now);
      } catch (error) {
        this.degrade(error);
      }
    } else {
      this.degrade(undefined);
    }
    // Fail closed counts nothing locally: a report of zeros would mislead.
    if (!this.failOpen) {
      throw new GatewayError(
        'no_capacity',
        'The shared rate-limit store (Redis) is unreachable and REDIS_FAIL_MODE=closed; retry later.',
      );
    }
    return this.local.view(keyIds, now);
  }

  async close(): Promise<void> {
    clearInterval(this.probe);
    await this.redis.close();
  }
}
