// Client-key limits and budgets kept in this process: per key, 60 one-second buckets of requests
// and tokens (the sliding minute of minute-window.ts, as memory-limit-store.ts keeps it), the UTC day's requests,
// tokens and cost, the UTC month's and the lifetime cost, and the open reservations. Every step is
// synchronous, so a reservation cannot interleave with another: the decision is exact. The Redis
// store runs the same rule in Lua (redis-budget-scripts.ts).
import { randomBytes } from 'node:crypto';
import { type MinuteBucket, MinuteWindow } from '../keys/minute-window.js';
import {
  type Actual,
  type BudgetStore,
  budgetOver,
  dayOf,
  type KeyUsageView,
  limitsOf,
  monthOf,
  RESERVATION_TTL_MS,
  type Reservation,
  type ReserveInput,
  type ReserveResult,
  rateRefusal,
  remainingOf,
  toNanos,
  usageView,
  wholeTokens,
} from './budget-store.js';
import type { KeyPolicy } from './types.js';

/** A key's counts besides its minute buckets; money in nanos. Written to the snapshot as is. */
interface PeriodCounts {
  day: number;
  requestsDay: number;
  tokensDay: number;
  costDay: number;
  month: number;
  costMonth: number;
  costTotal: number;
}

interface KeyCounters extends PeriodCounts {
  minute: MinuteWindow;
  /** Open reservations by id, in the order they were made. */
  open: Map<string, Reservation>;
}

/** The snapshot written to disk: plain JSON, restored at start. */
export interface BudgetSnapshot {
  version: 1;
  savedAt: number;
  keys: Record<string, PeriodCounts & { buckets: MinuteBucket[] }>;
}

function newCounters(): KeyCounters {
  return {
    minute: new MinuteWindow(),
    day: -1,
    requestsDay: 0,
    tokensDay: 0,
    costDay: 0,
    month: -1,
    costMonth: 0,
    costTotal: 0,
    open: new Map(),
  };
}

/** This process's part of every reservation id: ids are unique across instances sharing Redis. */
const ID_PREFIX = randomBytes(9).toString('base64url');
let idCounter = 0;

/** A reservation id: a random prefix drawn once per process and a counter (a draw per request cost ~11 µs). */
export function newReservationId(): string {
  idCounter += 1;
  return `${ID_PREFIX}${idCounter.toString(36)}`;
}

export interface MemoryBudgetOptions {
  /** Open reservations older than this are forgotten, counted at their estimate. */
  reservationTtlMs?: number;
}

export class MemoryBudgetStore implements BudgetStore {
  readonly kind = 'memory';
  private readonly counters = new Map<string, KeyCounters>();
  private readonly reservationTtlMs: number;
  /** Set on every change; the snapshot writer clears it. */
  dirty = false;

  constructor(options: MemoryBudgetOptions = {}) {
    this.reservationTtlMs = options.reservationTtlMs ?? RESERVATION_TTL_MS;
  }

  /** The key's counters with the day's and month's counts reset when `now` is in a new one. */
  private countersOf(keyId: string, now: number): KeyCounters {
    let counters = this.counters.get(keyId);
    if (counters === undefined) {
      counters = newCounters();
      this.counters.set(keyId, counters);
    }
    const day = dayOf(now);
    if (counters.day !== day) {
      counters.day = day;
      counters.requestsDay = 0;
      counters.tokensDay = 0;
      counters.costDay = 0;
    }
    const month = monthOf(now);
    if (counters.month !== month) {
      counters.month = month;
      counters.costMonth = 0;
    }
    return counters;
  }

  /** Forgets open reservations past their time to live: they stay counted at their estimate. */
  private expire(counters: KeyCounters, now: number): void {
    const before = now - this.reservationTtlMs;
    for (const [id, reservation] of counters.open) {
      // Insertion order is (nearly) time order: stop at the first one still alive.
      if (reservation.at >= before) break;
      counters.open.delete(id);
    }
  }

  reserve(input: ReserveInput): ReserveResult {
    const { now } = input;
    const limits = limitsOf(input.policy);
    const tokens = wholeTokens(input.tokens);
    const cost = toNanos(input.cost);
    const counters = this.countersOf(input.keyId, now);
    this.expire(counters, now);
    const day = counters.day;
    const month = counters.month;
    const over = budgetOver(
      limits,
      { day: counters.costDay, month: counters.costMonth, total: counters.costTotal },
      cost,
      { day, month },
    );
    if (over !== undefined) return over;
    const second = Math.floor(now / 1000);
    const refusal = rateRefusal(
      limits,
      {
        minute: () => counters.minute.totals(second),
        requestsDay: counters.requestsDay,
        tokensDay: counters.tokensDay,
        day,
      },
      tokens,
      now,
    );
    if (refusal !== undefined) return refusal;

    counters.minute.add(second, 1, tokens);
    counters.requestsDay += 1;
    counters.tokensDay += tokens;
    counters.costDay += cost;
    counters.costMonth += cost;
    counters.costTotal += cost;
    const reservation: Reservation = {
      id: newReservationId(),
      keyId: input.keyId,
      tokens,
      cost: input.cost,
      at: now,
      day,
      month,
    };
    counters.open.set(reservation.id, reservation);
    this.dirty = true;
    return {
      ok: true,
      reservation,
      remaining: remainingOf(limits, counters.costDay, counters.costMonth, counters.costTotal),
    };
  }

  settle(reservation: Reservation, actual: Actual): void {
    this.finish(reservation, wholeTokens(actual.tokens), toNanos(actual.cost));
  }

  release(reservation: Reservation): void {
    this.finish(reservation, 0, 0);
  }

  /** Whether this store holds the reservation open (the failover store routes by it). */
  holds(reservation: Reservation): boolean {
    return this.counters.get(reservation.keyId)?.open.has(reservation.id) === true;
  }

  /** Replaces an open reservation's estimates by `tokens` and `cost` (nanos) in its own periods. */
  private finish(reservation: Reservation, tokens: number, cost: number): void {
    const counters = this.counters.get(reservation.keyId);
    if (counters === undefined || !counters.open.delete(reservation.id)) return;
    const tokenDelta = tokens - reservation.tokens;
    const costDelta = cost - toNanos(reservation.cost);
    counters.minute.adjustTokens(Math.floor(reservation.at / 1000), tokenDelta);
    if (counters.day === reservation.day) {
      counters.tokensDay = Math.max(0, counters.tokensDay + tokenDelta);
      counters.costDay = Math.max(0, counters.costDay + costDelta);
    }
    if (counters.month === reservation.month)
      counters.costMonth = Math.max(0, counters.costMonth + costDelta);
    counters.costTotal = Math.max(0, counters.costTotal + costDelta);
    this.dirty = true;
  }

  view(keyId: string, policy: KeyPolicy, now: number): KeyUsageView {
    const counters = this.countersOf(keyId, now);
    const w = counters.minute.totals(Math.floor(now / 1000));
    const open = { requests: 0, tokens: 0, cost: 0, costDay: 0, costMonth: 0 };
    // Reads change nothing: reservations past their TTL are left out here, forgotten at the next
    // reservation (as in Redis, so both stores forget at the same moment).
    const before = now - this.reservationTtlMs;
    for (const reservation of counters.open.values()) {
      if (reservation.at < before) continue;
      const cost = toNanos(reservation.cost);
      open.requests += 1;
      open.tokens += reservation.tokens;
      open.cost += cost;
      if (reservation.day === counters.day) open.costDay += cost;
      if (reservation.month === counters.month) open.costMonth += cost;
    }
    return usageView(keyId, policy, {
      day: counters.day,
      month: counters.month,
      requestsMinute: w.requests,
      tokensMinute: w.tokens,
      requestsDay: counters.requestsDay,
      tokensDay: counters.tokensDay,
      costDay: counters.costDay,
      costMonth: counters.costMonth,
      costTotal: counters.costTotal,
      open,
    });
  }

  /** Open reservations are not written: after a restart nobody can settle them, so they stay counted. */
  snapshot(now: number): BudgetSnapshot {
    const keys: BudgetSnapshot['keys'] = {};
    const second = Math.floor(now / 1000);
    for (const [id, c] of this.counters) {
      keys[id] = {
        day: c.day,
        requestsDay: c.requestsDay,
        tokensDay: c.tokensDay,
        costDay: c.costDay,
        month: c.month,
        costMonth: c.costMonth,
        costTotal: c.costTotal,
        buckets: c.minute.buckets(second),
      };
    }
    return { version: 1, savedAt: now, keys };
  }

  /** Takes a snapshot's counts; a damaged one throws before anything is changed. */
  restore(snapshot: BudgetSnapshot): void {
    const restored = new Map<string, KeyCounters>();
    for (const [id, saved] of Object.entries(snapshot.keys ?? {})) {
      const numbers = [
        saved.day,
        saved.requestsDay,
        saved.tokensDay,
        saved.costDay,
        saved.month,
        saved.costMonth,
        saved.costTotal,
      ];
      if (!numbers.every(Number.isFinite) || !Array.isArray(saved.buckets)) {
        throw new Error(`damaged budget counts for ${id}`);
      }
      for (const [second, requests, tokens] of saved.buckets) {
        if (!Number.isInteger(second) || !Number.isFinite(requests) || !Number.isFinite(tokens)) {
          throw new Error(`damaged minute bucket for ${id}`);
        }
      }
      const c = newCounters();
      c.minute.load(saved.buckets);
      c.day = saved.day;
      c.requestsDay = saved.requestsDay;
      c.tokensDay = saved.tokensDay;
      c.costDay = saved.costDay;
      c.month = saved.month;
      c.costMonth = saved.costMonth;
      c.costTotal = saved.costTotal;
      restored.set(id, c);
    }
    for (const [id, c] of restored) this.counters.set(id, c);
  }

  async close(): Promise<void> {}
}
