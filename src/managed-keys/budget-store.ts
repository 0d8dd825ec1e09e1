// What every budget store (memory, SQLite, Redis) offers for managed client keys: reserve one request, a
// token estimate and a cost estimate against every limit and budget of a key's policy in one atomic
// step; settle the reservation with what the answer really used, or release it when the call
// failed; report a key's usage. The client-key counterpart of src/keys/limit-store.ts.
//
// Counts that decide admission include the reservations in flight: a reservation is admitted only
// when spent + reserved + its own estimate stays within every limit (equal passes). Money is
// counted in whole nano-dollars, so the stores compare exactly and decide alike; budgetOver and
// rateRefusal are the rule the memory and SQLite stores share (the Redis store runs it in Lua).
import { DAY_MS, dayLabel, dayOf, MINUTE_SECONDS } from '../keys/limit-store.js';
import type { MinuteTotals } from '../keys/minute-window.js';
import type { KeyPolicy } from './types.js';

export interface ReserveInput {
  keyId: string;
  policy: KeyPolicy;
  /** Tokens estimated for the request (prompt estimate plus the output cap); whole numbers. */
  tokens: number;
  /** Dollars estimated for the request. */
  cost: number;
  now: number;
}

/** One admitted request, enough to settle or release it later against the right periods. */
export interface Reservation {
  /** Unique across instances: settling or releasing it twice counts once. */
  id: string;
  keyId: string;
  tokens: number;
  cost: number;
  /** When it was made (ms since epoch); its second holds its minute tokens. */
  at: number;
  /** The UTC day (days since epoch) and UTC month (see monthOf) it counts against. */
  day: number;
  month: number;
}

/** Dollars left in each budget the policy sets, after the request that was just admitted. */
export interface BudgetRemaining {
  day?: number;
  month?: number;
  total?: number;
}

export type RateLimitName = 'rpm' | 'rpd' | 'tpm' | 'tpd';
export type BudgetName = 'day' | 'month' | 'total';

export type ReserveResult =
  | { ok: true; reservation: Reservation; remaining: BudgetRemaining }
  | {
      ok: false;
      kind: 'rate';
      limit: RateLimitName;
      retryAfterMs: number;
      /** The request alone is larger than the limit (tokens over tpm/tpd, or a limit of 0): waiting will not help. */
      exceedsLimit?: true;
    }
  | {
      ok: false;
      kind: 'budget';
      budget: BudgetName;
      limitUsd: number;
      /** What counts against the budget now: settled spend plus the reservations in flight. */
      spentUsd: number;
      /** When the budget starts over (ms since epoch); null for the lifetime budget. */
      resetAt: number | null;
    }
  /** The shared store is away and REDIS_FAIL_MODE=closed: answer 503. */
  | { ok: false; kind: 'unavailable' };

export interface Actual {
  tokens: number;
  cost: number;
}

export interface KeyUsageView {
  keyId: string;
  /** The UTC day and month the figures belong to: YYYY-MM-DD and YYYY-MM. */
  day: string;
  month: string;
  /** As counted against rpm/rpd/tpm/tpd: tokens include the estimates of requests in flight. */
  requestsMinute: number;
  tokensMinute: number;
  requestsDay: number;
  tokensDay: number;
  /** Dollars of settled requests (and of reservations never settled, at their estimate). */
  spentDay: number;
  spentMonth: number;
  spentTotal: number;
  /** Reservations not yet settled or released. */
  inFlight: { requests: number; tokens: number; cost: number };
  /** Dollars left per budget the policy sets: limit - spent - in flight (never below 0). */
  remaining: BudgetRemaining;
  /** When the day and the month start over (ms since epoch). */
  dayResetAt: number;
  monthResetAt: number;
}

export interface BudgetStore {
  readonly kind: 'memory' | 'redis' | 'sqlite';
  reserve(input: ReserveInput): ReserveResult | Promise<ReserveResult>;
  /** Replaces the reservation's estimates by what the answer used; a second call does nothing. */
  settle(reservation: Reservation, actual: Actual): void | Promise<void>;
  /**
   * A failed call: its tokens and cost go back (the request itself stays counted against rpm/rpd,
   * so failing requests cannot be sent without limit). A second call does nothing.
   */
  release(reservation: Reservation): void | Promise<void>;
  view(keyId: string, policy: KeyPolicy, now: number): KeyUsageView | Promise<KeyUsageView>;
  close(): Promise<void>;
}

/**
 * A reservation neither settled nor released by then is forgotten: it stays counted at its
 * estimate (an instance that died mid-call cannot say what the call cost).
 */
export const RESERVATION_TTL_MS = 3_600_000;

export const NANOS_PER_USD = 1_000_000_000;

/** A whole number from 0 up to where doubles (Lua's numbers) and HINCRBY are exact; NaN is 0. */
function whole(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(value)));
}

/** Whole nano-dollars (exact up to about $9M). */
export function toNanos(usd: number): number {
  return whole(usd * NANOS_PER_USD);
}

export function wholeTokens(tokens: number): number {
  return whole(tokens);
}

export function toUsd(nanos: number): number {
  return nanos / NANOS_PER_USD;
}

export { dayLabel, dayOf };

/** Months since January 1970, UTC. */
export function monthOf(now: number): number {
  const date = new Date(now);
  return (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
}

/** The first millisecond of a month (monthOf's numbering). */
export function monthStart(month: number): number {
  return Date.UTC(1970 + Math.floor(month / 12), month % 12, 1);
}

export function monthLabel(month: number): string {
  return new Date(monthStart(month)).toISOString().slice(0, 7);
}

export function dayEnd(day: number): number {
  return (day + 1) * DAY_MS;
}

/** The policy's limits as the stores compare them: whole numbers, money in nanos, -1 = none. */
export interface Limits {
  rpm: number;
  rpd: number;
  tpm: number;
  tpd: number;
  budgetDay: number;
  budgetMonth: number;
  budgetTotal: number;
}

export function limitsOf(policy: KeyPolicy): Limits {
  const count = (value: number | undefined): number => (value === undefined ? -1 : Math.floor(value));
  const money = (value: number | undefined): number => (value === undefined ? -1 : toNanos(value));
  return {
    rpm: count(policy.rpm),
    rpd: count(policy.rpd),
    tpm: count(policy.tpm),
    tpd: count(policy.tpd),
    budgetDay: money(policy.budgetDay),
    budgetMonth: money(policy.budgetMonth),
    budgetTotal: money(policy.budgetTotal),
  };
}

/** What is left of each budget the policy sets, given the counted nanos per period. */
export function remainingOf(limits: Limits, day: number, month: number, total: number): BudgetRemaining {
  const remaining: BudgetRemaining = {};
  if (limits.budgetDay >= 0) remaining.day = toUsd(Math.max(0, limits.budgetDay - day));
  if (limits.budgetMonth >= 0) remaining.month = toUsd(Math.max(0, limits.budgetMonth - month));
  if (limits.budgetTotal >= 0) remaining.total = toUsd(Math.max(0, limits.budgetTotal - total));
  return remaining;
}

/** What a store counted for one key at one moment: money in nanos, in-flight estimates included. */
export interface CountedUsage {
  day: number;
  month: number;
  requestsMinute: number;
  tokensMinute: number;
  requestsDay: number;
  tokensDay: number;
  costDay: number;
  costMonth: number;
  costTotal: number;
  /** Reservations in flight: their count, tokens and cost, and the cost of those in this day and month. */
  open: { requests: number; tokens: number; cost: number; costDay: number; costMonth: number };
}

/** The view every store reports, from what it counted (settled spend is counted minus in flight). */
export function usageView(keyId: string, policy: KeyPolicy, c: CountedUsage): KeyUsageView {
  return {
    keyId,
    day: dayLabel(c.day),
    month: monthLabel(c.month),
    requestsMinute: c.requestsMinute,
    tokensMinute: c.tokensMinute,
    requestsDay: c.requestsDay,
    tokensDay: c.tokensDay,
    spentDay: toUsd(Math.max(0, c.costDay - c.open.costDay)),
    spentMonth: toUsd(Math.max(0, c.costMonth - c.open.costMonth)),
    spentTotal: toUsd(Math.max(0, c.costTotal - c.open.cost)),
    inFlight: { requests: c.open.requests, tokens: c.open.tokens, cost: toUsd(c.open.cost) },
    remaining: remainingOf(limitsOf(policy), c.costDay, c.costMonth, c.costTotal),
    dayResetAt: dayEnd(c.day),
    monthResetAt: monthStart(c.month + 1),
  };
}

/** The refusal for a budget, from the counted nanos of its period. */
export function budgetRefusal(
  budget: BudgetName,
  limits: Limits,
  countedNanos: number,
  reservation: { day: number; month: number },
): ReserveResult {
  const limit =
    budget === 'day' ? limits.budgetDay : budget === 'month' ? limits.budgetMonth : limits.budgetTotal;
  const resetAt =
    budget === 'day'
      ? dayEnd(reservation.day)
      : budget === 'month'
        ? monthStart(reservation.month + 1)
        : null;
  return {
    ok: false,
    kind: 'budget',
    budget,
    limitUsd: toUsd(limit),
    spentUsd: toUsd(countedNanos),
    resetAt,
  };
}

export const RATE_LIMIT_NAMES: readonly RateLimitName[] = ['rpm', 'rpd', 'tpm', 'tpd'];
export const BUDGET_NAMES: readonly BudgetName[] = ['day', 'month', 'total'];

/**
 * The budget that refuses a request estimated at `cost` nanos, given the counted nanos per period:
 * the one that starts over last first (a budget outlasts any rate limit).
 */
export function budgetOver(
  limits: Limits,
  counted: { day: number; month: number; total: number },
  cost: number,
  period: { day: number; month: number },
): ReserveResult | undefined {
  if (limits.budgetTotal >= 0 && counted.total + cost > limits.budgetTotal) {
    return budgetRefusal('total', limits, counted.total, period);
  }
  if (limits.budgetMonth >= 0 && counted.month + cost > limits.budgetMonth) {
    return budgetRefusal('month', limits, counted.month, period);
  }
  if (limits.budgetDay >= 0 && counted.day + cost > limits.budgetDay) {
    return budgetRefusal('day', limits, counted.day, period);
  }
  return undefined;
}

/** What a key has counted against its rate limits now (the minute read only when rpm/tpm is set). */
export interface RateCounts {
  minute: () => MinuteTotals;
  requestsDay: number;
  tokensDay: number;
  day: number;
}

/** The rate limit that refuses a request of `tokens` for longest, if any does. */
export function rateRefusal(
  limits: Limits,
  counts: RateCounts,
  tokens: number,
  now: number,
): ReserveResult | undefined {
  let limit: RateLimitName | undefined;
  let wait = 0;
  let exceeds = false;
  const note = (name: RateLimitName, ms: number, alone: boolean): void => {
    if (limit === undefined || ms > wait) {
      limit = name;
      wait = ms;
      exceeds = alone;
    }
  };
  if (limits.rpm >= 0 || limits.tpm >= 0) {
    const w = counts.minute();
    if (limits.rpm >= 0 && w.requests + 1 > limits.rpm) {
      const alone = limits.rpm < 1;
      note('rpm', alone ? 60_000 : (w.oldestRequest + MINUTE_SECONDS) * 1000 - now, alone);
    }
    if (limits.tpm >= 0 && w.tokens + tokens > limits.tpm) {
      const alone = tokens > limits.tpm;
      note('tpm', alone ? 60_000 : (w.oldestToken + MINUTE_SECONDS) * 1000 - now, alone);
    }
  }
  const toMidnight = dayEnd(counts.day) - now;
  if (limits.rpd >= 0 && counts.requestsDay + 1 > limits.rpd) note('rpd', toMidnight, limits.rpd < 1);
  if (limits.tpd >= 0 && counts.tokensDay + tokens > limits.tpd) note('tpd', toMidnight, tokens > limits.tpd);
  if (limit === undefined) return undefined;
  const result: ReserveResult = { ok: false, kind: 'rate', limit, retryAfterMs: Math.max(1, wait) };
  if (exceeds) result.exceedsLimit = true;
  return result;
}
