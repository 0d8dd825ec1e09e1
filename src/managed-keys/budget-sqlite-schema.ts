// The SQLite budget store's file: its tables, the statements the store runs on them, and the
// open that makes the file (WAL, the tables, the memory store's snapshots taken over once). Two
// tables, each keyed by the key id first so that one key's rows share a page: a commit writes every
// page it changed to the WAL, and one page per table measured a third of the time of one per
// counter (35 against 110 µs for six upserts). budget_counts holds a row per (key, period): the
// lifetime (period 0), each UTC month and day, and each second of the sliding minute, told apart by
// the range their period number falls in; budget_open holds the reservations in flight.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { MinuteTotals } from '../keys/minute-window.js';
import type { BudgetSnapshot } from './budget-memory-store.js';

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
export const TOTAL = 0;
export const MONTH_BASE = 1_000_000;
export const DAY_BASE = 2_000_000;
export const SECOND_BASE = 10_000_000_000;

export interface DayRow {
  requests: number;
  tokens: number;
  cost: number;
}

export interface MinuteRow {
  requests: number | null;
  tokens: number | null;
  oldest_request: number | null;
  oldest_token: number | null;
}

export interface OpenRow {
  at: number;
  day: number;
  month: number;
  tokens: number;
  cost: number;
}

export interface InFlightRow {
  requests: number;
  tokens: number | null;
  cost: number | null;
  cost_day: number | null;
  cost_month: number | null;
}
export type Statements = ReturnType<typeof prepare>;

export function prepare(db: Database.Database) {
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
export function openShared(
  path: string,
  busyTimeoutMs: number,
  seed?: () => BudgetSnapshot[],
): Database.Database {
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

export function minuteTotals(row: MinuteRow | undefined): MinuteTotals {
  return {
    requests: row?.requests ?? 0,
    tokens: row?.tokens ?? 0,
    oldestRequest: row?.oldest_request ?? -1,
    oldestToken: row?.oldest_token ?? -1,
  };
}
