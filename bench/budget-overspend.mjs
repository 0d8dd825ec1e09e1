// How far a client key can overspend its budget when several gateway instances share one Redis
// (issue 15, point 3). N store instances (each its own Redis connection, as N gateways have)
// run concurrent reserve → simulated call → settle pairs against one small lifetime budget, for
// estimates equal to, below and above the real cost, and print per scenario: admitted requests,
// real spend, overspend, and the bound the design promises (most reservations in flight at once ×
// what each under-reserved). With exact estimates the overspend must be 0. --store sqlite runs the
// same against N connections to one SQLite file (what `serve --workers` uses without Redis).
//
//   npm run build   (in the repository root: the stores are imported from dist/)
//   node bench/budget-overspend.mjs [--requests 200] [--instances 2] [--budget 1] [--real 0.05]
//        [--arrival-ms 40] [--call-ms 15] [--redis-url redis://127.0.0.1:6379] [--dist ../dist]
//        [--store redis|sqlite]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    instances: { type: 'string', default: '2' },
    budget: { type: 'string', default: '1' },
    real: { type: 'string', default: '0.05' },
    'arrival-ms': { type: 'string', default: '40' },
    'call-ms': { type: 'string', default: '15' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    dist: { type: 'string', default: '../dist' },
    store: { type: 'string', default: 'redis' },
  },
});

const dist = new URL(`${args.dist.replace(/\/$/, '')}/managed-keys/`, import.meta.url);
const { RedisBudgetStore } = await import(new URL('budget-redis-store.js', dist).href);
const { SqliteBudgetStore } = await import(new URL('budget-sqlite-store.js', dist).href);
const { toNanos, NANOS_PER_USD } = await import(new URL('budget-store.js', dist).href);

const requests = Number(args.requests);
const instances = Number(args.instances);
const budget = Number(args.budget);
const real = Number(args.real);
const arrivalMs = Number(args['arrival-ms']);
const callMs = Number(args['call-ms']);
const prefix = `ai-proxy-bench:budget:${randomBytes(4).toString('hex')}:`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Most intervals open at one instant (an end at a start's instant counts as still open). */
function peakOverlap(intervals) {
  const events = intervals.flatMap(([start, end]) => [
    [start, 1],
    [end, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let open = 0;
  let peak = 0;
  for (const [, step] of events) {
    open += step;
    peak = Math.max(peak, open);
  }
  return peak;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function scenario(stores, name, estimate) {
  const keyId = `key_${name}`;
  const policy = { budgetTotal: budget };
  const intervals = [];
  const reserveMs = [];
  let admitted = 0;
  let spentNanos = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: requests }, async (_, i) => {
      await sleep(Math.random() * arrivalMs);
      const store = stores[i % stores.length];
      const start = performance.now();
      const result = await store.reserve({ keyId, policy, tokens: 100, cost: estimate, now: Date.now() });
      reserveMs.push(performance.now() - start);
      if (!result.ok) return;
      admitted += 1;
      await sleep(Math.random() * callMs);
      await store.settle(result.reservation, { tokens: 100, cost: real });
      spentNanos += toNanos(real);
      intervals.push([start, performance.now()]);
    }),
  );
  const elapsed = performance.now() - started;
  const view = await stores[0].view(keyId, policy, Date.now());
  const peak = peakOverlap(intervals);
  reserveMs.sort((a, b) => a - b);
  return {
    scenario: name,
    estimate,
    admitted,
    refused: requests - admitted,
    spent: spentNanos / NANOS_PER_USD,
    storeSpent: view.spentTotal,
    overspend: Math.max(0, spentNanos - toNanos(budget)) / NANOS_PER_USD,
    peakInFlight: peak,
    bound: (peak * Math.max(0, toNanos(real) - toNanos(estimate))) / NANOS_PER_USD,
    reserveP50: percentile(reserveMs, 50),
    reserveP99: percentile(reserveMs, 99),
    ms: elapsed,
  };
}

const sqliteDir = args.store === 'sqlite' ? mkdtempSync(join(tmpdir(), 'ai-proxy-bench-budget-')) : '';
const stores = Array.from({ length: instances }, () =>
  args.store === 'sqlite'
    ? new SqliteBudgetStore({ path: join(sqliteDir, 'budgets.sqlite3') })
    : new RedisBudgetStore({
        url: args['redis-url'],
        prefix,
        commandTimeoutMs: 5000,
        onError: () => {},
      }),
);
for (const store of args.store === 'sqlite' ? [] : stores) {
  if (!(await store.connect(3000))) {
    console.error(`No Redis answers at ${args['redis-url']}`);
    process.exit(1);
  }
}

const rows = [];
try {
  for (const [name, factor] of [
    ['exact', 1],
    ['under-20%', 0.8],
    ['under-50%', 0.5],
    ['over-60%', 1.6],
  ]) {
    rows.push(await scenario(stores, name, real * factor));
  }
} finally {
  if (args.store === 'sqlite') {
    await Promise.all(stores.map((store) => store.close()));
    rmSync(sqliteDir, { recursive: true, force: true });
  } else {
    const client = stores[0].client;
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await Promise.all(stores.map((store) => store.close()));
  }
}

const usd = (n) => `$${n.toFixed(4)}`;
console.log(
  `${instances} instances sharing ${args.store === 'sqlite' ? 'one SQLite file' : 'Redis'}, ${requests} concurrent requests (arrivals within ${arrivalMs} ms, calls 0-${callMs} ms), lifetime budget ${usd(budget)}, real cost ${usd(real)} each\n`,
);
console.log(
  '| scenario | estimate | admitted | refused | spent | overspend | peak in flight | bound (peak × shortfall) | within bound | reserve p50 / p99 ms (this process) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const within = r.overspend <= r.bound + 1e-12 && Math.abs(r.storeSpent - r.spent) < 1e-9;
  console.log(
    `| ${r.scenario} | ${usd(r.estimate)} | ${r.admitted} | ${r.refused} | ${usd(r.spent)} | ${usd(r.overspend)} | ${r.peakInFlight} | ${usd(r.bound)} | ${within ? 'yes' : 'NO'} | ${r.reserveP50.toFixed(2)} / ${r.reserveP99.toFixed(2)} |`,
  );
}
if (rows.some((r) => r.overspend > r.bound + 1e-12)) process.exitCode = 1;
