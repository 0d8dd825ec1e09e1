// Redis-mode budgets with the safety net of ../keys/redis-failover.ts, as failover-limit-store.ts
// has for provider keys: while Redis is unreachable or past its command deadline, client-key limits
// and budgets are counted in this process (REDIS_FAIL_MODE=open, the default; each instance then
// holds the whole budget on its own) or every reservation is refused, for a 503 (closed), until a
// PING answers again.
import { GatewayError } from '../errors.js';
import { type FailoverWording, RedisFailover } from '../keys/redis-failover.js';
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

export class FailoverBudgetStore
  extends RedisFailover<RedisBudgetStore, MemoryBudgetStore>
  implements BudgetStore
{
  protected readonly wording: FailoverWording = {
    open: 'counting client-key budgets in this process',
    closed: 'refusing budgeted client keys',
    recovered: 'client-key budgets are shared again',
  };

  reserve(input: ReserveInput): Promise<ReserveResult> {
    return this.run(
      () => this.redis.reserve(input),
      () => this.local.reserve(input),
      () => ({ ok: false, kind: 'unavailable' }),
    );
  }

  /**
   * A reservation made in Redis is settled there even while degraded: if Redis cannot take it, it
   * stays counted at its estimate there (and is forgotten after the reservation TTL).
   */
  async settle(reservation: Reservation, actual: Actual): Promise<void> {
    if (this.local.holds(reservation)) return this.local.settle(reservation, actual);
    await this.tolerate(() => this.redis.settle(reservation, actual));
  }

  async release(reservation: Reservation): Promise<void> {
    if (this.local.holds(reservation)) return this.local.release(reservation);
    await this.tolerate(() => this.redis.release(reservation));
  }

  view(keyId: string, policy: KeyPolicy, now: number): Promise<KeyUsageView> {
    return this.run(
      () => this.redis.view(keyId, policy, now),
      () => this.local.view(keyId, policy, now),
      () => {
        throw new GatewayError(
          'no_capacity',
          'The shared budget store (Redis) is unreachable and REDIS_FAIL_MODE=closed; retry later.',
        );
      },
    );
  }
}
