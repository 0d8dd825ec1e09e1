// The console's usage page over a million stored requests (issue 16: "a query over a million rows
// answers in under a second"): DAYS day files of PER_DAY synthetic records (synth.mjs's record(),
// each day's records on that day), ingested with the built CLI, then usageHistory (what
// GET /ui/api/usage answers) over a day and over the whole range, by hour and by day, read from the
// hourly rollups (schema version 3) and by scanning the rows (the path before the rollups, and
// still the one for partitions without them). Both answers are compared; they must be equal.
// Last, the time to fill the rollups of one old partition (its first write open, or logs migrate).
// Uses the built product (npm run build in the repository root first).
//
//   node bench/logstore/usage.mjs [--days 30] [--per-day 33334] [--dir DIR] [--keep] [--repeat 7]
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { record, rng } from './synth.mjs';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    'per-day': { type: 'string', default: '33334' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '7' },
  },
});
const DAYS = Number(args.days);
const PER_DAY = Number(args['per-day']);
const REPEAT = Number(args.repeat);
const root = args.dir ?? mkdtempSync(join(tmpdir(), 'logstore-usage-'));
const BIN = fileURLToPath(new URL('../../bin/ai-proxy.js', import.meta.url));
const dist = new URL('../../dist/', import.meta.url);
const { usageHistory } = await import(new URL('server/routes/console-api-usage.js', dist).href);
const { listPartitions } = await import(new URL('logstore/partitions.js', dist).href);
const { openPartition } = await import(new URL('logstore/schema.js', dist).href);
const FIRST_DAY = Date.UTC(2025, 8, 1);
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const day = (n) => new Date(FIRST_DAY + n * DAY_MS).toISOString().slice(0, 10);

const logDir = join(root, 'logs');
const requests = join(logDir, 'requests');
const dbRoot = join(logDir, 'db');

async function writeDays() {
  mkdirSync(requests, { recursive: true });
  const rand = rng(1);
  const stepMs = Math.floor(DAY_MS / PER_DAY);
  let i = 0;
  for (let d = 0; d < DAYS; d++) {
    const out = createWriteStream(join(requests, `${day(d)}.jsonl`));
    for (let n = 0; n < PER_DAY; n++, i++) {
      const line = `${JSON.stringify(record(i, rand, FIRST_DAY + d * DAY_MS, stepMs, n))}\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }
  console.log(`wrote ${i} records (${DAYS} days × ${PER_DAY})`);
}

if (!existsSync(dbRoot)) {
  if (!existsSync(requests)) await writeDays();
  const t0 = performance.now();
  const result = spawnSync(process.execPath, [BIN, 'logs', 'ingest'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', LOG_DIR: logDir },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`ingest: exit ${result.status}\n${result.stderr.slice(-2000)}`);
  console.log(`ingest (built CLI): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timed(since, until, bucket, options) {
  const ms = [];
  let answer;
  for (let k = 0; k < REPEAT; k++) {
    const t0 = performance.now();
    answer = usageHistory(dbRoot, since, until, bucket, options);
    ms.push(performance.now() - t0);
  }
  return { answer, median: median(ms), max: Math.max(...ms) };
}

const last = FIRST_DAY + (DAYS - 1) * DAY_MS;
const end = FIRST_DAY + DAYS * DAY_MS;
// The console asks for whole hours (the last N hours up to the next hour); the part-hour cases
// are a range a caller could give.
const cases = [
  ['1 day, hour buckets', last, last + DAY_MS, 'hour'],
  ['1 day from mid-hour, hour buckets', last - 1_234_567, last + DAY_MS - 2_345_678, 'hour'],
  [`${DAYS} days, day buckets`, FIRST_DAY, end, 'day'],
  [`${DAYS} days, hour buckets`, FIRST_DAY, end, 'hour'],
  [`${DAYS} days from mid-hour, day buckets`, FIRST_DAY + 1_234_567, end - 2_345_678, 'day'],
];
const rows = [];
for (const [label, since, until, bucket] of cases) {
  const scan = timed(since, until, bucket, { rollups: false });
  const fast = timed(since, until, bucket, {});
  const row = {
    range: label,
    requests: fast.answer.totals.requests,
    scan_ms: Math.round(scan.median),
    rollups_ms: Math.round(fast.median),
    rollups_max_ms: Math.round(fast.max),
    equal: isDeepStrictEqual(fast.answer, scan.answer),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}

// Filling the rollups of one old partition: a copy made version 2 again (no table, no triggers).
const sample = listPartitions(dbRoot)[0].path;
const copy = join(root, 'old-partition.sqlite3');
rmSync(copy, { force: true });
// VACUUM INTO: a consistent copy, WAL included (a file copy may miss the last transactions).
const snapshot = openPartition(sample, { readonly: true });
snapshot.prepare('VACUUM INTO ?').run(copy);
snapshot.close();
const old = openPartition(copy);
old.exec("DROP TRIGGER IF EXISTS usage_hourly_insert; DROP TABLE usage_hourly; UPDATE meta SET value = '2' WHERE key = 'schema_version'");
old.close();
const t0 = performance.now();
openPartition(copy).close();
const fillMs = Math.round(performance.now() - t0);
rmSync(copy, { force: true });

console.log('\n| range | requests | scan of the rows (before) ms | rollups ms (max) | equal |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) {
  console.log(`| ${r.range} | ${r.requests} | ${r.scan_ms} | ${r.rollups_ms} (${r.rollups_max_ms}) | ${r.equal} |`);
}
console.log(`\nfilling the rollups of one old partition (${PER_DAY} rows): ${fillMs} ms`);
console.log(`median of ${REPEAT} runs each, in-process (dist/server/routes/console-api-usage.js)`);
if (!args.keep && args.dir === undefined) rmSync(root, { recursive: true, force: true });
if (rows.some((r) => !r.equal)) process.exitCode = 1;
