// Redis mode with a safety net (redis-failover.ts): while Redis is unreachable or not answering
// within its command deadline, limits are counted in this process (fail open, the default) or every
// request is refused with 503 (fail closed), until a PING answers again.
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
import { type FailoverWording, RedisFailover } from './redis-failover.js';
import type { RedisLimitStore } from './redis-limit-store.js';

export class FailoverLimitStore
  extends RedisFailover<RedisLimitStore, MemoryLimitStore>
  implements LimitStore
{
  protected readonly wording: FailoverWording = {
    open: 'counting key limits in this process',
    closed: 'refusing requests',
    recovered: 'key limits are shared again',
  };
  private readonly localLeases = new WeakSet<Lease>();

  select(input: SelectInput): Promise<SelectResult> {
    return this.run(
      () => this.redis.select(input),
      () => {
        const result = this.local.select(input);
        if (result.ok) this.localLeases.add(result.lease);
        return result;
      },
      () => ({ ok: false, freeInMs: undefined, unavailable: true }),
    );
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

  view(keyIds: readonly string[], now: number): Promise<UsageView> {
    return this.run(
      () => this.redis.view(keyIds, now),
      () => this.local.view(keyIds, now),
      () => {
        // Fail closed counts nothing locally: a report of zeros would mislead.
        throw new GatewayError(
          'no_capacity',
          'The shared rate-limit store (Redis) is unreachable and REDIS_FAIL_MODE=closed; retry later.',
        );
      },
    );
  }
}
