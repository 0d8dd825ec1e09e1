// Client-key limits and budgets in one SQLite file that several processes share (the workers of
// `serve --workers N` without Redis): every reservation, and every settlement or release, is one
// `BEGIN IMMEDIATE` transaction, which takes the file's write lock before it reads, so no two
// processes decide on the same counts and the limits hold across them exactly. The rule is the
// memory store's (budgetOver, rateRefusal); each commit is in the WAL, so a crash loses nothing
// committed (synchronous=NORMAL: only a power cut can lose the last commits).
//
// Tables: the sliding minute as one row per (key, second); the UTC day's requests, tokens and cost
// per (key, day); cost per (key, month); the lifetime cost per key; the open reservations by id.
// Rows past any window (old seconds, days, months, reservations past their TTL) are deleted every
// PRUNE_EVERY-th reservation, and a key's own expired reservations at each of its reservations.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MINUTE_SECONDS } from '../keys/limit-store.js';
import type { MinuteTotals } from '../keys/minute-window.js';
import { newReservationId } from './budget-memory-store.js';
import {
  type Actual,
  type BudgetStore,
  budgetOver,
  dayEnd,
  dayLabel,
  dayOf,
  type KeyUsageView,
  limitsOf,
  monthLabel,
  monthOf,
  monthStart,
  RESERVATION_TTL_MS,
  type Reservation,
  type ReserveInput,
  type ReserveResult,
  rateRefusal,
  remainingOf,
  toNanos,
  toUsd,
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
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_minute (
  key_id TEXT NOT NULL, second INTEGER NOT NULL, requests INTEGER NOT NULL, tokens INTEGER NOT NULL,
  PRIMARY KEY (key_id, second)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_day (
  key_id TEXT NOT NULL, day INTEGER NOT NULL, requests INTEGER NOT NULL, tokens INTEGER NOT NULL,
  cost INTEGER NOT NULL, PRIMARY KEY (key_id, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_month (
  key_id TEXT NOT NULL, month INTEGER NOT NULL, cost INTEGER NOT NULL,
  PRIMARY KEY (key_id, month)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_total (key_id TEXT PRIMARY KEY, cost INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_open (
  id TEXT PRIMARY KEY, key_id TEXT NOT NULL, at INTEGER NOT NULL, day INTEGER NOT NULL,
  month INTEGER NOT NULL, tokens INTEGER NOT NULL, cost INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS budget_open_key_at ON budget_open (key_id, at);
`;

/** Reservations between two sweeps of rows that no window can read any more. */
const PRUNE_EVERY = 512;
/** Days and months are kept a little past their end (a late settlement still lands in them). */
const KEEP_DAYS = 3;

interface DayRow {
  requests: number;
  tokens: number;
  cost: number;
}

interface MinuteRow {
  requests: number | null;
  tokens: number | null;
  oldest_request: number | null;
  oldest_token: number | null;
}

interface OpenRow {
  at: number;
  day: number;
  month: number;
  tokens: number;
  cost: number;
}

interface InFlightRow {
  requests: number;
  tokens: number | null;
  cost: number | null;
  cost_day: number | null;
  cost_month: number | null;
}

interface ViewCounts {
  d: DayRow | undefined;
  costMonth: number;
  costTotal: number;
  minute: MinuteTotals;
  open: InFlightRow | undefined;
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  const cost = (table: string, where: string) =>
    db.prepare<unknown[], { cost: number }>(`SELECT cost FROM ${table} WHERE ${where}`).pluck();
  return {
    forgetOpen: db.prepare<[string, number]>('DELETE FROM budget_open WHERE key_id = ? AND at < ?'),
    day: db.prepare<[string, number], DayRow>(
      'SELECT requests, tokens, cost FROM budget_day WHERE key_id = ? AND day = ?',
    ),
    month: cost('budget_month', 'key_id = ? AND month = ?'),
    total: cost('budget_total', 'key_id = ?'),
    minute: db.prepare<[string, number], MinuteRow>(
      `SELECT sum(requests) AS requests, sum(tokens) AS tokens,
         min(CASE WHEN requests > 0 THEN second END) AS oldest_request,
         min(CASE WHEN tokens > 0 THEN second END) AS oldest_token
       FROM budget_minute WHERE key_id = ? AND second > ?`,
    ),
    addMinute: db.prepare<[string, number, number]>(
      `INSERT INTO budget_minute (key_id, second, requests, tokens) VALUES (?, ?, 1, ?)
       ON CONFLICT DO UPDATE SET requests = requests + 1, tokens = tokens + excluded.tokens`,
    ),
    addDay: db.prepare<[string, number, number, number]>(
      `INSERT INTO budget_day (key_id, day, requests, tokens, cost) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT DO UPDATE SET requests = requests + 1, tokens = tokens + excluded.tokens,
         cost = cost + excluded.cost`,
    ),
    addMonth: db.prepare<[string, number, number]>(
      `INSERT INTO budget_month (key_id, month, cost) VALUES (?, ?, ?)
       ON CONFLICT DO UPDATE SET cost = cost + excluded.cost`,
    ),
    addTotal: db.prepare<[string, number]>(
      `INSERT INTO budget_total (key_id, cost) VALUES (?, ?)
       ON CONFLICT DO UPDATE SET cost = cost + excluded.cost`,
    ),
    open: db.prepare<[string, string, number, number, number, number, number]>(
      'INSERT INTO budget_open (id, key_id, at, day, month, tokens, cost) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    close: db.prepare<[string], OpenRow>(
      'DELETE FROM budget_open WHERE id = ? RETURNING at, day, month, tokens, cost',
    ),
    // A correction never takes a count below 0 (the memory store's and the Lua's rule).
    fixMinute: db.prepare<[number, string, number]>(
      'UPDATE budget_minute SET tokens = max(0, tokens + ?) WHERE key_id = ? AND second = ?',
    ),
    fixDay: db.prepare<[number, number, string, number]>(
      'UPDATE budget_day SET tokens = max(0, tokens + ?), cost = max(0, cost + ?) WHERE key_id = ? AND day = ?',
    ),
    fixMonth: db.prepare<[number, string, number]>(
      'UPDATE budget_month SET cost = max(0, cost + ?) WHERE key_id = ? AND month = ?',
    ),
    fixTotal: db.prepare<[number, string]>(
      'UPDATE budget_total SET cost = max(0, cost + ?) WHERE key_id = ?',
    ),
    inFlight: db.prepare<[number, number, string, number], InFlightRow>(
      `SELECT count(*) AS requests, sum(tokens) AS tokens, sum(cost) AS cost,
         sum(CASE WHEN day = ? THEN cost END) AS cost_day,
         sum(CASE WHEN month = ? THEN cost END) AS cost_month
       FROM budget_open WHERE key_id = ? AND at >= ?`,
    ),
    prune: [
      db.prepare<[number]>('DELETE FROM budget_minute WHERE second <= ?'),
      db.prepare<[number]>('DELETE FROM budget_day WHERE day < ?'),
      db.prepare<[number]>('DELETE FROM budget_month WHERE month < ?'),
      db.prepare<[number]>('DELETE FROM budget_open WHERE at < ?'),
    ],
  };
}

function minuteTotals(row: MinuteRow | undefined): MinuteTotals {
  return {
    requests: row?.requests ?? 0,
    tokens: row?.tokens ?? 0,
    oldestRequest: row?.oldest_request ?? -1,
    oldestToken: row?.oldest_token ?? -1,
  };
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
    mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Two processes creating the tables at once: the second waits for the first's lock.
    this.db.transaction(() => this.db.exec(SCHEMA)).immediate();
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
    const d = sql.day.get(keyId, day);
    const counted = {
      day: d?.cost ?? 0,
      month: (sql.month.get(keyId, month) as number | undefined) ?? 0,
      total: (sql.total.get(keyId) as number | undefined) ?? 0,
    };
    const over = budgetOver(limits, counted, cost, { day, month });
    if (over !== undefined) return over;
    const refusal = rateRefusal(
      limits,
      {
        minute: () => minuteTotals(sql.minute.get(keyId, second - MINUTE_SECONDS)),
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
    sql.addMinute.run(keyId, second, tokens);
    sql.addDay.run(keyId, day, tokens, cost);
    sql.addMonth.run(keyId, month, cost);
    sql.addTotal.run(keyId, cost);
    sql.open.run(reservation.id, keyId, now, day, month, tokens, cost);
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
    const open = sql.close.get(reservation.id);
    if (open === undefined) return;
    const keyId = reservation.keyId;
    const tokenDelta = tokens - open.tokens;
    const costDelta = cost - open.cost;
    if (tokenDelta !== 0) sql.fixMinute.run(tokenDelta, keyId, Math.floor(open.at / 1000));
    if (tokenDelta !== 0 || costDelta !== 0) sql.fixDay.run(tokenDelta, costDelta, keyId, open.day);
    if (costDelta !== 0) {
      sql.fixMonth.run(costDelta, keyId, open.month);
      sql.fixTotal.run(costDelta, keyId);
    }
  }

  /** Deletes what no window reads any more; `now` is the caller's clock (tests inject one). */
  private prune(now: number, day: number, month: number): void {
    this.sincePrune = 0;
    const [minute, days, months, open] = this.sql.prune;
    minute!.run(Math.floor(now / 1000) - MINUTE_SECONDS);
    days!.run(day - KEEP_DAYS);
    months!.run(month - 1);
    // Twice the TTL: a key's own reservations are forgotten at its next reservation (as in the
    // other stores); this sweep only bounds the table for keys that stopped coming.
    open!.run(now - 2 * this.reservationTtlMs);
  }

  private readIn(keyId: string, day: number, month: number, now: number): ViewCounts {
    const sql = this.sql;
    return {
      d: sql.day.get(keyId, day),
      costMonth: (sql.month.get(keyId, month) as number | undefined) ?? 0,
      costTotal: (sql.total.get(keyId) as number | undefined) ?? 0,
      minute: minuteTotals(sql.minute.get(keyId, Math.floor(now / 1000) - MINUTE_SECONDS)),
      // Reads change nothing: reservations past their TTL are left out, forgotten at the next reservation.
      open: sql.inFlight.get(day, month, keyId, now - this.reservationTtlMs),
    };
  }

  view(keyId: string, policy: KeyPolicy, now: number): KeyUsageView {
    const day = dayOf(now);
    const month = monthOf(now);
    // One read transaction: the counts and the reservations in flight are of one moment.
    const { d, costMonth, costTotal, minute, open } = this.readTx(keyId, day, month, now);
    const costDay = d?.cost ?? 0;
    const inFlight = { requests: open?.requests ?? 0, tokens: open?.tokens ?? 0, cost: open?.cost ?? 0 };
    return {
      keyId,
      day: dayLabel(day),
      month: monthLabel(month),
      requestsMinute: minute.requests,
      tokensMinute: minute.tokens,
      requestsDay: d?.requests ?? 0,
      tokensDay: d?.tokens ?? 0,
      spentDay: toUsd(Math.max(0, costDay - (open?.cost_day ?? 0))),
      spentMonth: toUsd(Math.max(0, costMonth - (open?.cost_month ?? 0))),
      spentTotal: toUsd(Math.max(0, costTotal - inFlight.cost)),
      inFlight: { requests: inFlight.requests, tokens: inFlight.tokens, cost: toUsd(inFlight.cost) },
      remaining: remainingOf(limitsOf(policy), costDay, costMonth, costTotal),
      dayResetAt: dayEnd(day),
      monthResetAt: monthStart(month + 1),
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
