// Client-key limits and budgets kept in Redis, shared by every gateway instance that points at it:
// a reservation is one Lua script (check every limit and budget, count it), a settlement or a
// release another. On the same connection as the provider-key limit store (redis-connection.ts):
// commands fail fast while Redis is away and have a deadline, so the failover store can take over.
import type { Redis } from 'ioredis';
import { minuteFromRedisHash } from '../keys/minute-window.js';
import { pipelineReader, RedisConnection, type RedisConnectionOptions } from '../keys/redis-connection.js';
import { newReservationId } from './budget-memory-store.js';
import {
  type Actual,
  BUDGET_NAMES,
  type BudgetStore,
  budgetRefusal,
  dayOf,
  type KeyUsageView,
  limitsOf,
  monthOf,
  monthStart,
  RATE_LIMIT_NAMES,
  RESERVATION_TTL_MS,
  type Reservation,
  type ReserveInput,
  type ReserveResult,
  remainingOf,
  toNanos,
  usageView,
  wholeTokens,
} from './budget-store.js';
import { FINISH_SCRIPT, RESERVE_SCRIPT } from './redis-budget-scripts.js';
import type { KeyPolicy } from './types.js';

interface ScriptedRedis extends Redis {
  aiProxyBudgetReserve(...args: (string | number)[]): Promise<number[]>;
  aiProxyBudgetFinish(...args: (string | number)[]): Promise<number>;
}

export interface RedisBudgetOptions extends RedisConnectionOptions {
  /** REDIS_KEY_PREFIX; keys go under prefix + 'budget:' + key id + ':'. */
  prefix: string;
  /** Open reservations older than this are forgotten, counted at their estimate. */
  reservationTtlMs?: number;
}

const MONTH_KEY_GRACE_S = 3 * 86_400;

/** The open-set member: everything a settlement needs, so a settlement reads nothing first. */
function memberOf(reservation: Reservation): string {
  const second = Math.floor(reservation.at / 1000);
  return `${reservation.id}:${second}:${reservation.day}:${reservation.month}:${reservation.tokens}:${toNanos(reservation.cost)}`;
}

export class RedisBudgetStore extends RedisConnection<ScriptedRedis> implements BudgetStore {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly reservationTtlMs: number;

  constructor(options: RedisBudgetOptions) {
    super(options, { aiProxyBudgetReserve: RESERVE_SCRIPT, aiProxyBudgetFinish: FINISH_SCRIPT });
    this.prefix = `${options.prefix}budget:`;
    this.reservationTtlMs = options.reservationTtlMs ?? RESERVATION_TTL_MS;
  }

  private base(keyId: string): string {
    return `${this.prefix}${keyId}:`;
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const { now } = input;
    const limits = limitsOf(input.policy);
    const day = dayOf(now);
    const month = monthOf(now);
    const reservation: Reservation = {
      id: newReservationId(),
      keyId: input.keyId,
      tokens: wholeTokens(input.tokens),
      cost: input.cost,
      at: now,
      day,
      month,
    };
    const monthTtl = Math.ceil((monthStart(month + 1) - now) / 1000) + MONTH_KEY_GRACE_S;
    const answer = await this.client.aiProxyBudgetReserve(
      this.base(input.keyId),
      now,
      day,
      month,
      monthTtl,
      memberOf(reservation),
      reservation.tokens,
      toNanos(input.cost),
      now - this.reservationTtlMs,
      limits.rpm,
      limits.rpd,
      limits.tpm,
      limits.tpd,
      limits.budgetDay,
      limits.budgetMonth,
      limits.budgetTotal,
    );
    const [outcome, a = 0, b = 0, c = 0] = answer;
    if (outcome === 0) return { ok: true, reservation, remaining: remainingOf(limits, a, b, c) };
    if (outcome === 2) return budgetRefusal(BUDGET_NAMES[a - 1]!, limits, b, { day, month });
    const result: ReserveResult = {
      ok: false,
      kind: 'rate',
      limit: RATE_LIMIT_NAMES[a - 1]!,
      retryAfterMs: b,
    };
    if (c === 1) result.exceedsLimit = true;
    return result;
  }

  async settle(reservation: Reservation, actual: Actual): Promise<void> {
    const tokens = wholeTokens(actual.tokens);
    await this.finish(
      reservation,
      tokens - reservation.tokens,
      toNanos(actual.cost) - toNanos(reservation.cost),
    );
  }

  async release(reservation: Reservation): Promise<void> {
    await this.finish(reservation, -reservation.tokens, -toNanos(reservation.cost));
  }

  private async finish(reservation: Reservation, tokenDelta: number, costDelta: number): Promise<void> {
    await this.client.aiProxyBudgetFinish(
      this.base(reservation.keyId),
      memberOf(reservation),
      Math.floor(reservation.at / 1000),
      reservation.day,
      reservation.month,
      tokenDelta,
      costDelta,
    );
  }

  async view(keyId: string, policy: KeyPolicy, now: number): Promise<KeyUsageView> {
    const base = this.base(keyId);
    const day = dayOf(now);
    const month = monthOf(now);
    const second = Math.floor(now / 1000);
    const value = pipelineReader(
      await this.client
        .pipeline()
        .hgetall(`${base}m`)
        .hmget(`${base}d:${day}`, 'r', 't', 'cost')
        .hget(`${base}mo:${month}`, 'cost')
        .hget(`${base}total`, 'cost')
        .zrangebyscore(`${base}open`, now - this.reservationTtlMs, '+inf')
        .exec(),
    );
    const minute = minuteFromRedisHash(value(0) as Record<string, string>, second);
    const [r, t, costDayText] = value(1) as (string | null)[];
    const costDay = Number(costDayText ?? 0);
    const costMonth = Number((value(2) as string | null) ?? 0);
    const costTotal = Number((value(3) as string | null) ?? 0);
    const open = { requests: 0, tokens: 0, cost: 0, costDay: 0, costMonth: 0 };
    for (const member of value(4) as string[]) {
      const [, , memberDay, memberMonth, tokens, cost] = member.split(':').map(Number);
      open.requests += 1;
      open.tokens += tokens ?? 0;
      open.cost += cost ?? 0;
      if (memberDay === day) open.costDay += cost ?? 0;
      if (memberMonth === month) open.costMonth += cost ?? 0;
    }
    return usageView(keyId, policy, {
      day,
      month,
      requestsMinute: minute.requests,
      tokensMinute: minute.tokens,
      requestsDay: Number(r ?? 0),
      tokensDay: Number(t ?? 0),
      costDay,
      costMonth,
      costTotal,
      open,
    });
  }
}
