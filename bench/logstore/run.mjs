// Log store benchmark (SPEC §8, issue 6): ingest rate for 100k synthetic request-log records and
// search latency over 1M stored requests, plus how long the in-server ingest holds the event loop.
// Uses the built product (npm run build in the repository root first).
//
//   node bench/logstore/run.mjs [--records 100000] [--search-rows 1000000] [--keep DIR]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { rng, record, writeLogs } from './synth.mjs';

const dist = new URL('../../dist/logstore/', import.meta.url);
const { ingest } = await import(new URL('ingest.js', dist).href);
const { search } = await import(new URL('search.js', dist).href);
const { openPartition, insertRequestRowid, rowFromRecord } = await import(new URL('schema.js', dist).href);
const { buildFts, createFts, indexRequest } = await import(new URL('fts.js', dist).href);
const { partitionPath } = await import(new URL('partitions.js', dist).href);
const { BackgroundIngest } = await import(new URL('background-ingest.js', dist).href);

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    'search-rows': { type: 'string', default: '1000000' },
    keep: { type: 'string' },
    'skip-search': { type: 'boolean', default: false },
  },
});
const RECORDS = Number(args.records);
const SEARCH_ROWS = Number(args['search-rows']);
const root = args.keep ?? mkdtempSync(join(tmpdir(), 'logstore-bench-'));

function cpuSeconds(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

async function timeIngest(label, logDir, dbRoot, options) {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await ingest({ from: logDir, dbRoot, granularity: 'daily', memoryCapMb: 256, ...options });
  const wall = (performance.now() - wall0) / 1000;
  const cpu = cpuSeconds(cpu0);
  const row = {
    run: label,
    records: result.inserted,
    wall_s: wall.toFixed(2),
    records_per_s: Math.round(result.inserted / wall),
    cpu_s: cpu.toFixed(2),
    records_per_cpu_s: Math.round(result.inserted / cpu),
  };
  console.log(JSON.stringify(row));
  return row;
}

// 1. Ingest: RECORDS records in 4 day files (~1.6 KB per record, like a short chat with its answer).
const logDir = join(root, 'logs');
mkdirSync(join(logDir, 'requests'), { recursive: true });
const bytes = await writeLogs(join(logDir, 'requests'), RECORDS, 4);
console.log(`wrote ${RECORDS} records, ${(bytes / 1_048_576).toFixed(1)} MB, in 4 day files`);
const ingestRows = [];
ingestRows.push(await timeIngest('1 thread', logDir, join(root, 'db-1'), { parallelism: 1 }));
ingestRows.push(await timeIngest('2 threads', logDir, join(root, 'db-2'), { parallelism: 2 }));
ingestRows.push(await timeIngest('2 threads + FTS', logDir, join(root, 'db-3'), { parallelism: 2, fts: true }));
const again = await timeIngest('re-run (nothing new)', logDir, join(root, 'db-2'), { parallelism: 2 });
{
  // `logs fts build` over what the 2-thread run stored (one thread, partition by partition).
  const { listPartitions } = await import(new URL('partitions.js', dist).href);
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  let rows = 0;
  for (const p of listPartitions(join(root, 'db-2'))) {
    const db = openPartition(p.path);
    rows += buildFts(db);
    db.close();
  }
  const wall = (performance.now() - wall0) / 1000;
  const cpu = cpuSeconds(cpu0);
  const row = {
    run: 'fts build (separate step)',
    records: rows,
    wall_s: wall.toFixed(2),
    records_per_s: Math.round(rows / wall),
    cpu_s: cpu.toFixed(2),
    records_per_cpu_s: Math.round(rows / cpu),
  };
  console.log(JSON.stringify(row));
  ingestRows.push(row);
}

// 2. The in-server ingest: how long is the gateway's event loop held (what a request may wait)?
//    In a worker thread (the default from the built product) against the same loop left idle, and
//    the in-thread fallback for comparison. Each catches up on all RECORDS with FTS and dialogs.
const loopRows = [];
async function loopDelay(label, body) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const t0 = performance.now();
  const inserted = await body();
  const seconds = (performance.now() - t0) / 1000;
  histogram.disable();
  const row = {
    run: label,
    records: inserted,
    wall_s: seconds.toFixed(2),
    loop_delay_p50_ms: (histogram.percentile(50) / 1e6).toFixed(2),
    loop_delay_p99_ms: (histogram.percentile(99) / 1e6).toFixed(2),
    loop_delay_max_ms: (histogram.max / 1e6).toFixed(2),
  };
  loopRows.push(row);
  console.log(JSON.stringify(row));
  return seconds;
}
const loopConfig = {
  enabled: true,
  ftsEnabled: true,
  groupingEnabled: true,
  granularity: 'daily',
  bundleIncludeRaw: false,
  importParallelism: 1,
  memoryCapMb: 256,
  ingestIntervalMs: 60_000,
  dialogWindowMinutes: 30,
};
let workerSeconds = 0;
for (const mode of ['auto', 'inline']) {
  const background = new BackgroundIngest({ logDir, dbRoot: join(root, `db-bg-${mode}`), config: loopConfig, mode });
  background.start();
  const seconds = await loopDelay(`in-server pass (FTS + dialogs), ${background.mode}`, async () => {
    const summary = await background.runOnce();
    return summary?.inserted;
  });
  if (mode === 'auto') workerSeconds = seconds;
  await background.stop();
}
await loopDelay('idle event loop (baseline)', async () => {
  await new Promise((resolve) => setTimeout(resolve, workerSeconds * 1000));
  return 0;
});

// 3. Search over SEARCH_ROWS stored requests in one partition (the worst case: one busy day).
const searchRoot = join(root, 'db-search');
if (!args['skip-search']) {
  const path = partitionPath(searchRoot, new Date(Date.UTC(2025, 8, 1)), 'daily');
  const db = openPartition(path);
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 10000');
  createFts(db);
  const rand = rng(7);
  const t0 = performance.now();
  const step = Math.floor(86_400_000 / SEARCH_ROWS) || 1;
  const BATCH = 10_000;
  for (let b = 0; b < SEARCH_ROWS; b += BATCH) {
    db.transaction(() => {
      for (let i = b; i < Math.min(b + BATCH, SEARCH_ROWS); i++) {
        const r = record(i, rand, Date.UTC(2025, 8, 1), step);
        const row = rowFromRecord(r);
        const rowid = insertRequestRowid(db, row);
        indexRequest(db, rowid, row.request_id, row.model_original, r.request, r.response);
      }
    })();
  }
  db.exec("INSERT INTO request_text_index (request_text_index) VALUES ('optimize')");
  db.close();
  console.log(`stored ${SEARCH_ROWS} rows with FTS in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const queries = [
  ['common term', 'storm', {}],
  ['two terms AND', 'storm harbour', {}],
  ['phrase', '"light ship"', {}],
  ['prefix', 'typesc*', {}],
  ['NEAR', 'NEAR(timeout retry, 3)', {}],
  ['rare term', 'zanzibar', {}],
  ['rare OR rare', 'quokka OR narwhal', {}],
  ['common + model filter', 'storm', { model: 'gemini-1.5-pro' }],
  ['common + status 500', 'storm', { status: 500 }],
  ['column filter', 'user_text: garden', {}],
  ['no match', 'xylophonist', {}],
];
const searchRows = [];
for (const [label, query, filters] of args['skip-search'] ? [] : queries) {
  const times = [];
  let hits = 0;
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    hits = search({ dbRoot: searchRoot, query, limit: 20, ...filters }).hits.length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const row = {
    query: label,
    fts: query,
    hits,
    median_ms: times[10].toFixed(1),
    p95_ms: times[19].toFixed(1),
    max_ms: times[20].toFixed(1),
  };
  searchRows.push(row);
  console.log(JSON.stringify(row));
}

console.log('\n| ingest run | records | wall s | records/s | CPU s | records per CPU s |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of [...ingestRows, again]) {
  console.log(`| ${r.run} | ${r.records} | ${r.wall_s} | ${r.records_per_s} | ${r.cpu_s} | ${r.records_per_cpu_s} |`);
}
console.log(`\n| search over ${SEARCH_ROWS} rows (limit 20) | query | hits | median ms | p95 ms | max ms |`);
console.log('|---|---|---:|---:|---:|---:|');
for (const r of searchRows) {
  console.log(`| ${r.query} | \`${r.fts}\` | ${r.hits} | ${r.median_ms} | ${r.p95_ms} | ${r.max_ms} |`);
}
console.log('\n| in-server ingest | records | wall s | loop delay p50 ms | p99 ms | max ms |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of loopRows) {
  console.log(
    `| ${r.run} | ${r.records} | ${r.wall_s} | ${r.loop_delay_p50_ms} | ${r.loop_delay_p99_ms} | ${r.loop_delay_max_ms} |`,
  );
}
if (args.keep === undefined) rmSync(root, { recursive: true, force: true });
