// Client-key limits and budgets in one SQLite file that several processes share (the workers of
// `serve --workers N` without Redis): every reservation, and every settlement or release, is one
// `BEGIN IMMEDIATE` transaction, which takes the file's write lock before it reads, so no two
// processes decide on the same counts and the limits hold across them exactly. The rule is the
// memory store's (budgetOver, rateRefusal); each commit is in the WAL, so a crash loses nothing
// committed (synchronous=NORMAL: only a power cut can lose the last commits).
//
// The tables and statements are in budget-sqlite-schema.ts. A key's seconds past the minute and
// its reservations past their TTL go at each of its reservations; old days, months and what keys
// that stopped coming left behind, every PRUNE_EVERY-th.
import type Database from 'better-sqlite3';
import { MINUTE_SECONDS } from '../keys/limit-store.js';
import type { MinuteTotals } from '../keys/minute-window.js';
import { type BudgetSnapshot, newReservationId } from './budget-memory-store.js';
import {
  DAY_BASE,
  type DayRow,
  type InFlightRow,
  MONTH_BASE,
  minuteTotals,
  openShared,
  prepare,
  SECOND_BASE,
  type Statements,
  TOTAL,
} from './budget-sqlite-schema.js';
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

export interface SqliteBudgetOptions {
  path: string;
  /** Open reservations older than this are forgotten, counted at their estimate. */
  reservationTtlMs?: number;
  /** The file could not be read or written (locked past the busy timeout, disk full): reported. */
  onError?: (error: Error) => void;
  /** How long a transaction waits for another process's lock before it fails; 5 s unless told. */
  busyTimeoutMs?: number;
  /**
   * Counts to start a new file with (the memory store's snapshots, so a switch to this store
   * forgets no spend); read only by the one process that creates the tables, inside that step.
   */
  seed?: () => BudgetSnapshot[];
}

/** Reservations between two sweeps of rows that no window can read any more. */
const PRUNE_EVERY = 512;
/** Days and months are kept a little past their end (a late settlement still lands in them). */
const KEEP_DAYS = 3;

interface ViewCounts {
  d: DayRow | undefined;
  costMonth: number;
  costTotal: number;
  minute: MinuteTotals;
  open: InFlightRow | undefined;
}

export class SqliteBudgetStore implements BudgetStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly sql: Statements;
  private readonly reservationTtlMs: number;
  private readonly onError: (error: Error) => void;
  private readonly reserveTx: (input: ReserveInput) => ReserveResult;
  private readonly finishTx: (reservation: Reservation, tokens: number, cost: number) => void;
  private readonly readTx: (keyId: string, day: number, month: number, now: number) => ViewCounts;
  private sincePrune = 0;

  constructor(options: SqliteBudgetOptions) {
    this.reservationTtlMs = options.reservationTtlMs ?? RESERVATION_TTL_MS;
    this.onError = options.onError ?? (() => undefined);
    this.db = openShared(options.path, options.busyTimeoutMs ?? 5000, options.seed);
    this.sql = prepare(this.db);
    const reserveTx = this.db.transaction((input: ReserveInput) => this.reserveIn(input));
    this.reserveTx = (input) => reserveTx.immediate(input);
    const finishTx = this.db.transaction((r: Reservation, tokens: number, cost: number) =>
      this.finishIn(r, tokens, cost),
    );
    this.finishTx = (r, tokens, cost) => finishTx.immediate(r, tokens, cost);
    const readTx = this.db.transaction((keyId: string, day: number, month: number, now: number) =>
      this.readIn(keyId, day, month, now),
    );
    this.readTx = (keyId, day, month, now) => readTx.deferred(keyId, day, month, now);
  }

  reserve(input: ReserveInput): ReserveResult {
    try {
      return this.reserveTx(input);
    } catch (error) {
      // Nothing was counted (the transaction rolled back): refuse for now, as Redis closed does.
      this.onError(error as Error);
      return { ok: false, kind: 'unavailable' };
    }
  }

  settle(reservation: Reservation, actual: Actual): void {
    this.finish(reservation, wholeTokens(actual.tokens), toNanos(actual.cost));
  }

  release(reservation: Reservation): void {
    this.finish(reservation, 0, 0);
  }

  /** A settlement that cannot be written leaves the reservation counted at its estimate (until its TTL). */
  private finish(reservation: Reservation, tokens: number, cost: number): void {
    try {
      this.finishTx(reservation, tokens, cost);
    } catch (error) {
      this.onError(error as Error);
    }
  }

  /** Inside the write transaction: check every limit and budget, count the request if it fits. */
  private reserveIn(input: ReserveInput): ReserveResult {
    const { keyId, now } = input;
    const sql = this.sql;
    const limits = limitsOf(input.policy);
    const tokens = wholeTokens(input.tokens);
    const cost = toNanos(input.cost);
    const day = dayOf(now);
    const month = monthOf(now);
    const second = Math.floor(now / 1000);
    if (++this.sincePrune >= PRUNE_EVERY) this.prune(now, day, month);
    sql.forgetOpen.run(keyId, now - this.reservationTtlMs);
    sql.forgetSeconds.run(keyId, SECOND_BASE, SECOND_BASE + second - MINUTE_SECONDS);
    const d = sql.day.get(keyId, DAY_BASE + day);
    const counted = {
      day: d?.cost ?? 0,
      month: sql.cost.get(keyId, MONTH_BASE + month) ?? 0,
      total: sql.cost.get(keyId, TOTAL) ?? 0,
    };
    const over = budgetOver(limits, counted, cost, { day, month });
    if (over !== undefined) return over;
    const refusal = rateRefusal(
      limits,
      {
        minute: () => this.minute(keyId, second),
        requestsDay: d?.requests ?? 0,
        tokensDay: d?.tokens ?? 0,
        day,
      },
      tokens,
      now,
    );
    if (refusal !== undefined) return refusal;
    const reservation: Reservation = {
      id: newReservationId(),
      keyId,
      tokens,
      cost: input.cost,
      at: now,
      day,
      month,
    };
    sql.add.run(keyId, SECOND_BASE + second, 1, tokens, 0);
    sql.add.run(keyId, DAY_BASE + day, 1, tokens, cost);
    sql.add.run(keyId, MONTH_BASE + month, 0, 0, cost);
    sql.add.run(keyId, TOTAL, 0, 0, cost);
    sql.open.run(keyId, reservation.id, now, day, month, tokens, cost);
    return {
      ok: true,
      reservation,
      remaining: remainingOf(limits, counted.day + cost, counted.month + cost, counted.total + cost),
    };
  }

  /**
   * Inside the write transaction: the reservation leaves the open table (a second call, or one
   * after its TTL, finds nothing and counts nothing) and its estimates are replaced by `tokens` and
   * `cost` (nanos) in the periods it counted in, where those are still kept.
   */
  private finishIn(reservation: Reservation, tokens: number, cost: number): void {
    const sql = this.sql;
    const keyId = reservation.keyId;
    const open = sql.close.get(keyId, reservation.id);
    if (open === undefined) return;
    const tokenDelta = tokens - open.tokens;
    const costDelta = cost - open.cost;
    if (tokenDelta !== 0) sql.fix.run(tokenDelta, 0, keyId, SECOND_BASE + Math.floor(open.at / 1000));
    if (tokenDelta !== 0 || costDelta !== 0) sql.fix.run(tokenDelta, costDelta, keyId, DAY_BASE + open.day);
    if (costDelta !== 0) {
      sql.fix.run(0, costDelta, keyId, MONTH_BASE + open.month);
      sql.fix.run(0, costDelta, keyId, TOTAL);
    }
  }

  /** The minute ending with `second`, read from the key's second rows. */
  private minute(keyId: string, second: number): MinuteTotals {
    return minuteTotals(
      this.sql.minute.get(SECOND_BASE, SECOND_BASE, keyId, SECOND_BASE, second - MINUTE_SECONDS),
    );
  }

  /** Deletes what no window reads any more; `now` is the caller's clock (tests inject one). */
  private prune(now: number, day: number, month: number): void {
    this.sincePrune = 0;
    const sql = this.sql;
    sql.pruneCounts.run(SECOND_BASE, SECOND_BASE + Math.floor(now / 1000) - MINUTE_SECONDS + 1);
    sql.pruneCounts.run(DAY_BASE, DAY_BASE + day - KEEP_DAYS);
    sql.pruneCounts.run(MONTH_BASE, MONTH_BASE + month - 1);
    // Twice the TTL: a key's own reservations are forgotten at its next reservation (as in the
    // other stores); this sweep only bounds the table for keys that stopped coming.
    sql.pruneOpen.run(now - 2 * this.reservationTtlMs);
  }

  private readIn(keyId: string, day: number, month: number, now: number): ViewCounts {
    const sql = this.sql;
    return {
      d: sql.day.get(keyId, DAY_BASE + day),
      costMonth: sql.cost.get(keyId, MONTH_BASE + month) ?? 0,
      costTotal: sql.cost.get(keyId, TOTAL) ?? 0,
      minute: this.minute(keyId, Math.floor(now / 1000)),
      // Reads change nothing: reservations past their TTL are left out, forgotten at the next reservation.
      open: sql.inFlight.get(day, month, keyId, now - this.reservationTtlMs),
    };
  }

  view(keyId: string, policy: KeyPolicy, now: number): KeyUsageView {
    const day = dayOf(now);
    const month = monthOf(now);
    // One read transaction: the counts and the reservations in flight are of one moment.
    const { d, costMonth, costTotal, minute, open } = this.readTx(keyId, day, month, now);
    return usageView(keyId, policy, {
      day,
      month,
      requestsMinute: minute.requests,
      tokensMinute: minute.tokens,
      requestsDay: d?.requests ?? 0,
      tokensDay: d?.tokens ?? 0,
      costDay: d?.cost ?? 0,
      costMonth,
      costTotal,
      open: {
        requests: open?.requests ?? 0,
        tokens: open?.tokens ?? 0,
        cost: open?.cost ?? 0,
        costDay: open?.cost_day ?? 0,
        costMonth: open?.cost_month ?? 0,
      },
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
