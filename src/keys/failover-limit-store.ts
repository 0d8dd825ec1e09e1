// Redis mode with a safety net: while Redis is unreachable, limits are counted in this process
// (fail open, the default) or every request is refused with 503 (fail closed). ioredis reconnects
// on its own; the first command that works again switches back, and both changes are logged.
import type { Logger } from 'pino';
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

export class FailoverLimitStore implements LimitStore {
  readonly kind = 'redis';
  private readonly localLeases = new WeakSet<Lease>();
  private degraded = false;

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
    if (this.redis.ready) {
      try {
        const result = await this.redis.select(input);
        this.recovered();
        return result;
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
        ? 'Redis is unreachable: counting key limits in this process until it is back (REDIS_FAIL_MODE=open)'
        : 'Redis is unreachable: refusing requests until it is back (REDIS_FAIL_MODE=closed)',
    );
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
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
    if (this.redis.ready) this.redis.cool(keyId, untilMs, reason);
  }

  clearCooldown(keyId: string): void {
    this.local.clearCooldown(keyId);
    if (this.redis.ready) this.redis.clearCooldown(keyId);
  }

  async view(keyIds: readonly string[], now: number): Promise<UsageView> {
    if (this.redis.ready) {
      try {
        return await this.redis.view(keyIds, now);
      } catch (error) {
        this.degrade(error);
      }
    }
    return this.local.view(keyIds, now);
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}
