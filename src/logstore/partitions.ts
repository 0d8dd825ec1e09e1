// Where each day's requests live: one SQLite file per UTC day or per ISO week (SPEC §8).
//   daily:  <root>/YYYY/MM/ai_proxy_YYYYMMDD.sqlite3
//   weekly: <root>/YYYY/WNN/ai_proxy_YYYYWNN.sqlite3   (ISO-8601 week and week-year)
// <root> is LOG_DIR/db by default.
//
// API (kept stable; the bundle code builds on it):
//   Granularity                               'daily' | 'weekly'
//   parseDay(text, where) → Date              'YYYY-MM-DD' as UTC midnight; throws DateArgError naming `where`
//   formatDay(date) → 'YYYY-MM-DD'
//   isoWeek(date) → { year, week }
//   partitionKey(date, g) → 'YYYYMMDD' | 'YYYYWNN'
//   partitionPath(root, date, g) → absolute file path of the partition holding that instant
//   partitionRange(key) → { start, end }     the UTC instants [start, end) a key covers
//   listPartitions(root, since?, to?)         the partition files that exist under root (either
//                                             granularity) overlapping the days [since, to],
//                                             sorted by start; each { path, key, granularity, start, end }
//   defaultDbRoot(logDir) → logDir/db
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type Granularity = 'daily' | 'weekly';

export const DAY_MS = 86_400_000;

export interface PartitionInfo {
  path: string;
  key: string;
  granularity: Granularity;
  /** First instant covered (UTC midnight). */
  start: Date;
  /** First instant after the partition. */
  end: Date;
}

export class DateArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DateArgError';
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function defaultDbRoot(logDir: string): string {
  return join(logDir, 'db');
}

export function parseDay(text: string, where: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (match === null)
    throw new DateArgError(`${where}: expected a date as YYYY-MM-DD, got ${JSON.stringify(text)}`);
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  if (formatDay(date) !== text.trim()) {
    throw new DateArgError(`${where}: ${JSON.stringify(text)} is not a calendar date`);
  }
  return date;
}

export function formatDay(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

export function isoWeek(date: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7; // Monday 1 … Sunday 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
  return { year, week };
}

/** Monday 00:00 UTC of ISO week `week` of `year`. */
function isoWeekStart(year: number, week: number): Date {
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const weekday = jan4.getUTCDay() || 7;
  return new Date(jan4.getTime() - (weekday - 1) * DAY_MS + (week - 1) * 7 * DAY_MS);
}

export function partitionKey(date: Date, granularity: Granularity): string {
  if (granularity === 'daily') {
    return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  }
  const { year, week } = isoWeek(date);
  return `${year}W${pad(week)}`;
}

export function partitionPath(root: string, date: Date, granularity: Granularity): string {
  const key = partitionKey(date, granularity);
  const folder = granularity === 'daily' ? pad(date.getUTCMonth() + 1) : key.slice(4);
  return join(root, key.slice(0, 4), folder, `ai_proxy_${key}.sqlite3`);
}

const DAILY_FILE = /^ai_proxy_(\d{4})(\d{2})(\d{2})\.sqlite3$/;
const WEEKLY_FILE = /^ai_proxy_(\d{4})W(\d{2})\.sqlite3$/;

export function partitionRange(key: string): { start: Date; end: Date; granularity: Granularity } {
  const weekly = /^(\d{4})W(\d{2})$/.exec(key);
  if (weekly !== null) {
    const start = isoWeekStart(Number(weekly[1]), Number(weekly[2]));
    return { start, end: new Date(start.getTime() + 7 * DAY_MS), granularity: 'weekly' };
  }
  const daily = /^(\d{4})(\d{2})(\d{2})$/.exec(key);
  if (daily === null) throw new Error(`not a partition key: ${key}`);
  const start = new Date(Date.UTC(Number(daily[1]), Number(daily[2]) - 1, Number(daily[3])));
  return { start, end: new Date(start.getTime() + DAY_MS), granularity: 'daily' };
}

function subdirs(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

/**
 * Every partition file under root whose days overlap [since, to] (both inclusive days; either may
 * be left open). Files in both layouts are found, so a change of granularity loses nothing.
 */
export function listPartitions(root: string, since?: Date, to?: Date): PartitionInfo[] {
  const from = since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const until = to === undefined ? Number.POSITIVE_INFINITY : to.getTime() + DAY_MS;
  const found: PartitionInfo[] = [];
  for (const year of subdirs(root).filter((name) => /^\d{4}$/.test(name))) {
    for (const folder of subdirs(join(root, year)).filter((name) => /^(\d{2}|W\d{2})$/.test(name))) {
      const dir = join(root, year, folder);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const match = DAILY_FILE.exec(entry.name) ?? WEEKLY_FILE.exec(entry.name);
        if (match === null) continue;
        const key = entry.name.slice('ai_proxy_'.length, -'.sqlite3'.length);
        const range = partitionRange(key);
        if (range.end.getTime() <= from || range.start.getTime() >= until) continue;
        found.push({ path: join(dir, entry.name), key, ...range });
      }
    }
  }
  return found.sort((a, b) => a.start.getTime() - b.start.getTime() || a.key.localeCompare(b.key));
}
