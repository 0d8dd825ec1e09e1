// What a managed key's budget costs per request in each local store: the time of one reserve +
// settle pair (the two calls a budgeted request makes) in the memory store and in the SQLite store,
// in one process, then with P processes reserving on one SQLite file at once (the workers of
// `serve --workers P` without Redis), where every pair waits for the file's write lock.
//
//   npm run build   (in the repository root: the stores are imported from dist/)
//   node bench/budget-store-cost.mjs [--pairs 20000] [--processes 2] [--keys 50] [--dist ../dist]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pairs: { type: 'string', default: '20000' },
    processes: { type: 'string', default: '2' },
    keys: { type: 'string', default: '50' },
    dist: { type: 'string', default: '../dist' },
  },
});

const dist = new URL(`${args.dist.replace(/\/$/, '')}/managed-keys/`, import.meta.url);
const { MemoryBudgetStore } = await import(new URL('budget-memory-store.js', dist).href);
const { SqliteBudgetStore } = await import(new URL('budget-sqlite-store.js', dist).href);
const pairs = Number(args.pairs);
const keys = Number(args.keys);
// Every limit and budget set, so every check runs (the minute too).
const policy = {
  rpm: 1e9,
  rpd: 1e9,
  tpm: 1e12,
  tpd: 1e12,
  budgetDay: 1e6,
  budgetMonth: 1e6,
  budgetTotal: 1e6,
};

/** Microseconds per reserve + settle pair, over `pairs` pairs on `keys` keys. */
function run(store) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) {
    const result = store.reserve({
      keyId: `key_${i % keys}`,
      policy,
      tokens: 300,
      cost: 0.001,
      now: Date.now(),
    });
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
    store.settle(result.reservation, { tokens: 250, cost: 0.0008 });
  }
  return Number(process.hrtime.bigint() - started) / 1000 / pairs;
}

if (positionals[0] === 'child') {
  // One of P processes on the shared file: start when told, report µs per pair.
  const store = new SqliteBudgetStore({ path: positionals[1] });
  process.send('ready');
  process.once('message', async () => {
    const us = run(store);
    await store.close();
    process.send(us);
  });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'ai-proxy-bench-budget-cost-'));
  try {
    const memory = new MemoryBudgetStore();
    run(memory); // warm-up
    const memoryUs = run(memory);
    const sqlite = new SqliteBudgetStore({ path: join(dir, 'one.sqlite3') });
    run(sqlite);
    const sqliteUs = run(sqlite);
    await sqlite.close();

    const processes = Number(args.processes);
    const file = join(dir, 'shared.sqlite3');
    const children = Array.from({ length: processes }, () =>
      fork(new URL(import.meta.url).pathname, ['child', file, ...process.argv.slice(2)]),
    );
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
    const started = performance.now();
    const results = await Promise.all(
      children.map((child) => {
        const done = new Promise((resolve) => child.once('message', resolve));
        child.send('go');
        return done;
      }),
    );
    const seconds = (performance.now() - started) / 1000;

    console.log(`reserve + settle, ${pairs} pairs over ${keys} keys, every limit and budget set\n`);
    console.log('| store | µs per pair | pairs/s |');
    console.log('|---|---|---|');
    console.log(`| memory, 1 process | ${memoryUs.toFixed(2)} | ${Math.round(1e6 / memoryUs)} |`);
    console.log(`| SQLite, 1 process | ${sqliteUs.toFixed(2)} | ${Math.round(1e6 / sqliteUs)} |`);
    console.log(
      `| SQLite, ${processes} processes on one file | ${results.map((us) => us.toFixed(2)).join(' / ')} | ${Math.round((processes * pairs) / seconds)} (all together) |`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
