// The log store at a year's scale (issue 18): DAYS day files of PER_DAY synthetic records each
// (synth.mjs, each day's records on that day), then the built CLI's long commands, each as its own
// process under /usr/bin/time for its peak RSS (worker threads included): ingest and fts build
// over a week and over the year, dialogs assign, stats, search, bundle create / import and merge
// of a month. Then the store's size against the raw JSONL, and search times over 1 day, 1 month
// and the year: in-process (the work beyond process start, through dist/logstore/search.js) and
// the whole `ai-proxy logs search` command.
// Uses the built product (npm run build in the repository root first).
//
//   node bench/logstore/year.mjs [--days 365] [--per-day 5000] [--dir DIR] [--keep]
//                                [--parallelism 2] [--memory-cap-mb 256]
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { record, rng } from './synth.mjs';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '365' },
    'per-day': { type: 'string', default: '5000' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    parallelism: { type: 'string', default: '2' },
    'memory-cap-mb': { type: 'string', default: '256' },
  },
});
const DAYS = Number(args.days);
const PER_DAY = Number(args['per-day']);
const root = args.dir ?? mkdtempSync(join(tmpdir(), 'logstore-year-'));
const BIN = fileURLToPath(new URL('../../bin/ai-proxy.js', import.meta.url));
const dist = new URL('../../dist/logstore/', import.meta.url);
const FIRST_DAY = Date.UTC(2025, 0, 1);
/** A word planted in a handful of records across the range (one on the first day): a search for it must visit every partition. */
const NEEDLE = 'quetzalcoatl';
const day = (n) => new Date(FIRST_DAY + n * 86_400_000).toISOString().slice(0, 10);

const logDir = join(root, 'logs');
const requests = join(logDir, 'requests');
const dbRoot = join(logDir, 'db');
const weekDb = join(root, 'week-db');
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME ?? '/tmp',
  LOG_DIR: logDir,
  LOGDB_IMPORT_PARALLELISM: args.parallelism,
  LOGDB_MEMORY_CAP_MB: args['memory-cap-mb'],
};

async function writeYear() {
  mkdirSync(requests, { recursive: true });
  const rand = rng(1);
  const stepMs = Math.floor(86_400_000 / PER_DAY);
  const needleEvery = Math.max(1, Math.floor((DAYS * PER_DAY) / 5));
  let bytes = 0;
  let i = 0;
  const t0 = performance.now();
  for (let d = 0; d < DAYS; d++) {
    const path = join(requests, `${day(d)}.jsonl`);
    const out = createWriteStream(path);
    for (let n = 0; n < PER_DAY; n++, i++) {
      const r = record(i, rand, FIRST_DAY + d * 86_400_000, stepMs, n);
      if (i % needleEvery === 17) r.request.messages[1].content += ` ${NEEDLE}`;
      const line = `${JSON.stringify(r)}\n`;
      bytes += Buffer.byteLength(line);
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }
  console.log(
    `wrote ${i} records (${DAYS} days × ${PER_DAY}), ${(bytes / 1e9).toFixed(2)} GB of JSONL in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
}

function folderBytes(dir) {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

const commands = [];
/** One `ai-proxy logs …` process under /usr/bin/time: wall seconds and peak RSS. */
function run(label, cliArgs, extra = {}) {
  const result = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', process.execPath, BIN, 'logs', ...cliArgs], {
    env: { ...env, ...extra },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const match = /TIME ([\d.]+) (\d+)/.exec(result.stderr);
  if (result.status !== 0 || match === null) {
    throw new Error(`${label}: exit ${result.status}\n${result.stderr.slice(-2000)}`);
  }
  const row = { command: label, wall_s: Number(match[1]), peak_rss_mb: Math.round(Number(match[2]) / 1024) };
  commands.push(row);
  console.log(JSON.stringify({ ...row, out: result.stdout.trim().split('\n').at(-1)?.slice(0, 160) }));
  return { ...row, stdout: result.stdout };
}

if (!existsSync(requests)) await writeYear();
const rawBytes = folderBytes(requests);
const records = DAYS * PER_DAY;
const last = DAYS - 1;

// A week (into its own store) and then the year: peak RSS should not grow with the range.
run('ingest, 1 week', ['ingest', '--db', weekDb, '--since', day(last - 6), '--to', day(last)]);
run('fts build, 1 week', ['fts', 'build', '--db', weekDb]);
const ingest = run('ingest, year', ['ingest']);
const fts = run('fts build, year', ['fts', 'build']);
run('ingest, year, nothing new', ['ingest']);
const dbBytes = folderBytes(dbRoot);
run('dialogs assign, year', ['dialogs', 'assign']);
const dbBytesDialogs = folderBytes(dbRoot);
run('stats, year', ['stats', '--json']);
run('search, year (needle, every partition)', ['search', NEEDLE, '--limit', '20']);
const bundle = join(root, 'month.tgz');
rmSync(bundle, { force: true });
run('bundle create, 1 month', ['bundle', 'create', '--since', day(last - 29), '--to', day(last), '--out', bundle]);
const restored = join(root, 'restored-db');
rmSync(restored, { recursive: true, force: true });
run('bundle import, 1 month', ['bundle', 'import', bundle, '--dest', restored]);
rmSync(join(root, 'merged.sqlite3'), { force: true });
run('merge, 1 month', ['merge', '--from', restored, '--to', join(root, 'merged.sqlite3')]);

// Search: in this process, through the built search() (what a query costs beyond start-up).
const { search } = await import(new URL('search.js', dist).href);
const ranges = [
  ['1 day', day(last), day(last)],
  ['1 month', day(last - 29), day(last)],
  ['1 year', day(0), day(last)],
];
const queries = [
  ['needle (in 5 records)', NEEDLE],
  ['rare term', 'zanzibar'],
  ['common term', 'storm'],
  ['phrase', '"light ship"'],
  ['NEAR', 'NEAR(timeout retry, 3)'],
];
const searches = [];
for (const [range, since, to] of ranges) {
  for (const [label, query] of queries) {
    const times = [];
    let result;
    for (let k = 0; k < 7; k++) {
      const t0 = performance.now();
      result = search({ dbRoot, query, since: new Date(`${since}T00:00:00Z`), to: new Date(`${to}T00:00:00Z`), limit: 20 });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const row = {
      range,
      query: label,
      hits: result.hits.length,
      partitions_opened: result.partitionsSearched,
      slowest_ms: times.at(-1).toFixed(1),
      median_ms: times[3].toFixed(1),
    };
    searches.push(row);
    console.log(JSON.stringify(row));
  }
}
const cliSearch = [];
for (const [range, since, to] of ranges) {
  const times = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [BIN, 'logs', 'search', NEEDLE, '--since', since, '--to', to], { env });
    if (r.status !== 0) throw new Error(r.stderr.toString());
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  cliSearch.push({ range, median_s: (times[1] / 1000).toFixed(2) });
}
const t0 = performance.now();
spawnSync(process.execPath, [BIN, '--version'], { env });
const startup = ((performance.now() - t0) / 1000).toFixed(2);

console.log(`\n${records} records in ${DAYS} daily files, ${(rawBytes / 1e9).toFixed(2)} GB JSONL; LOGDB_IMPORT_PARALLELISM=${args.parallelism}, LOGDB_MEMORY_CAP_MB=${args['memory-cap-mb']}`);
console.log('\n| command | wall s | peak RSS MB |\n|---|---:|---:|');
for (const c of commands) console.log(`| ${c.command} | ${c.wall_s} | ${c.peak_rss_mb} |`);
console.log(`\ningest: ${Math.round(records / ingest.wall_s)} records/s; fts build: ${Math.round(records / fts.wall_s)} rows/s (whole commands)`);
console.log(
  `store with FTS: ${(dbBytes / 1e9).toFixed(2)} GB against ${(rawBytes / 1e9).toFixed(2)} GB of JSONL: ${(dbBytes / rawBytes).toFixed(2)}×; after dialogs assign ${(dbBytesDialogs / 1e9).toFixed(2)} GB: ${(dbBytesDialogs / rawBytes).toFixed(2)}×`,
);
console.log('\n| range | query | hits | partitions searched | slowest of 7 ms | median ms |\n|---|---|---:|---:|---:|---:|');
for (const s of searches) {
  console.log(`| ${s.range} | ${s.query} | ${s.hits} | ${s.partitions_opened} | ${s.slowest_ms} | ${s.median_ms} |`);
}
console.log(`\n\`ai-proxy logs search ${NEEDLE}\` (whole command, median of 3); \`ai-proxy --version\` alone: ${startup} s`);
for (const c of cliSearch) console.log(`- ${c.range}: ${c.median_s} s`);
if (!args.keep && args.dir === undefined) rmSync(root, { recursive: true, force: true });
