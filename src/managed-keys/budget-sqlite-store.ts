// Client-key limits and budgets in one SQLite file that several processes share (the workers of
// `serve --workers N` without Redis): every reservation, and every settlement or release, is one
// `BEGIN IMMEDIATE` transaction, which takes the file's write lock before it reads, so no two
// processes decide on the same counts and the limits hold across them exactly. The rule is the
// memory store's (budgetOver, rateRefusal); each commit is in the WAL, so a crash loses nothing
// committed (synchronous=NORMAL: only a power cut can lose the last commits).
//
// Two tables, each keyed by the key id first so that one key's rows share a page: a commit writes
// every page it changed to the WAL, and one page per table measured a third of the time of one per
// counter (35 against 110 µs for six upserts). budget_counts holds a row per (key, period): the
// lifetime (period 0), each UTC month and day, and each second of the sliding minute, told apart by
// the range their period number falls in; budget_open holds the reservations in flight. A key's
// seconds past the minute and its reservations past their TTL go at each of its reservations; old
// days, months and whatever keys that stopped coming left behind, every PRUNE_EVERY-th.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MINUTE_SECONDS } from '../keys/limit-store.js';
import type { MinuteTotals } from '../keys/minute-window.js';
import { type BudgetSnapshot, newReservationId } from './budget-memory-store.js';
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
  /**
   * Counts to start a new file with (the memory store's snapshots, so a switch to this store
   * forgets no spend); read only by the one process that creates the tables, inside that step.
   */
  seed?: () => BudgetSnapshot[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_counts (
  key_id TEXT NOT NULL, period INTEGER NOT NULL, requests INTEGER NOT NULL, tokens INTEGER NOT NULL,
  cost INTEGER NOT NULL, PRIMARY KEY (key_id, period)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_open (
  key_id TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, day INTEGER NOT NULL,
  month INTEGER NOT NULL, tokens INTEGER NOT NULL, cost INTEGER NOT NULL,
  PRIMARY KEY (key_id, id)) WITHOUT ROWID;
`;

/** Period numbers: 0 the lifetime, then months, days and seconds (until the year 2286) in turn. */
const TOTAL = 0;
const MONTH_BASE = 1_000_000;
const DAY_BASE = 2_000_000;
const SECOND_BASE = 10_000_000_000;

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
  return {
    day: db.prepare<[string, number], DayRow>(
      'SELECT requests, tokens, cost FROM budget_counts WHERE key_id = ? AND period = ?',
    ),
    cost: db
      .prepare<[string, number], number>('SELECT cost FROM budget_counts WHERE key_id = ? AND period = ?')
      .pluck(),
    minute: db.prepare<[number, number, string, number, number], MinuteRow>(
      `SELECT sum(requests) AS requests, sum(tokens) AS tokens,
         min(CASE WHEN requests > 0 THEN period END) - ? AS oldest_request,
         min(CASE WHEN tokens > 0 THEN period END) - ? AS oldest_token
       FROM budget_counts WHERE key_id = ? AND period > ? + ?`,
    ),
    add: db.prepare<[string, number, number, number, number]>(
      `INSERT INTO budget_counts (key_id, period, requests, tokens, cost) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET requests = requests + excluded.requests,
         tokens = tokens + excluded.tokens, cost = cost + excluded.cost`,
    ),
    // A correction never takes a count below 0 (the memory store's and the Lua's rule).
    fix: db.prepare<[number, number, string, number]>(
      'UPDATE budget_counts SET tokens = max(0, tokens + ?), cost = max(0, cost + ?) WHERE key_id = ? AND period = ?',
    ),
    forgetSeconds: db.prepare<[string, number, number]>(
      'DELETE FROM budget_counts WHERE key_id = ? AND period >= ? AND period <= ?',
    ),
    forgetOpen: db.prepare<[string, number]>('DELETE FROM budget_open WHERE key_id = ? AND at < ?'),
    open: db.prepare<[string, string, number, number, number, number, number]>(
      'INSERT INTO budget_open (key_id, id, at, day, month, tokens, cost) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    close: db.prepare<[string, string], OpenRow>(
      'DELETE FROM budget_open WHERE key_id = ? AND id = ? RETURNING at, day, month, tokens, cost',
    ),
    inFlight: db.prepare<[number, number, string, number], InFlightRow>(
      `SELECT count(*) AS requests, sum(tokens) AS tokens, sum(cost) AS cost,
         sum(CASE WHEN day = ? THEN cost END) AS cost_day,
         sum(CASE WHEN month = ? THEN cost END) AS cost_month
       FROM budget_open WHERE key_id = ? AND at >= ?`,
    ),
    pruneCounts: db.prepare<[number, number]>('DELETE FROM budget_counts WHERE period >= ? AND period < ?'),
    pruneOpen: db.prepare<[number]>('DELETE FROM budget_open WHERE at < ?'),
  };
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Opens the file in WAL mode with the tables made. Workers started together open a new file at
 * once, and SQLite answers "busy" at once (without its busy timeout) to a connection that asks for
 * WAL while another is switching the file to it: such a start is tried again after a short pause.
 */
function openShared(path: string, busyTimeoutMs: number, seed?: () => BudgetSnapshot[]): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + busyTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    const db = new Database(path, { timeout: busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.transaction(() => {
        const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'budget_counts'").get();
        db.exec(SCHEMA);
        if (exists === undefined && seed !== undefined)
          for (const snapshot of seed()) addSnapshot(db, snapshot);
      }).immediate();
      return db;
    } catch (error) {
      db.close();
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      // A synchronous pause: this runs once, in a constructor.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(100, 5 * attempt));
    }
  }
}

/** Adds a memory store's snapshot to the counts (several workers' snapshots add up). */
function addSnapshot(db: Database.Database, snapshot: BudgetSnapshot): void {
  const add = prepare(db).add;
  for (const [keyId, c] of Object.entries(snapshot.keys)) {
    add.run(keyId, TOTAL, 0, 0, c.costTotal);
    add.run(keyId, MONTH_BASE + c.month, 0, 0, c.costMonth);
    add.run(keyId, DAY_BASE + c.day, c.requestsDay, c.tokensDay, c.costDay);
    for (const [second, requests, tokens] of c.buckets)
      add.run(keyId, SECOND_BASE + second, requests, tokens, 0);
  }
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
