// A child process for the multi-process budget test: opens the built SqliteBudgetStore on a file
// other processes also use, says "ready", waits for a line on stdin (sent to every child at once),
// then runs concurrent reserve →
// (simulated call) → settle pairs against one key's lifetime budget, and prints one JSON line:
// { admitted, spentNanos } (spentNanos: the real cost of what it was allowed to send).
//
//   node budget-hammer.mjs <dist dir> <db file> <key id> <budget $> <estimate $> <real $> <requests>
import { once } from 'node:events';

const [distDir, dbFile, keyId, budget, estimate, real, requests] = process.argv.slice(2);
const { SqliteBudgetStore } = await import(`${distDir}/managed-keys/budget-sqlite-store.js`);
const { toNanos } = await import(`${distDir}/managed-keys/budget-store.js`);

const store = new SqliteBudgetStore({
  path: dbFile,
  onError: (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  },
});
const policy = { budgetTotal: Number(budget) };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let admitted = 0;
let spentNanos = 0;

process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();
await Promise.all(
  Array.from({ length: Number(requests) }, async (_, i) => {
    // Arrivals spread over 40 ms and calls of 0-15 ms, so reservations of every process meet
    // settlements of the others.
    await sleep((i * 13) % 40);
    const result = store.reserve({ keyId, policy, tokens: 100, cost: Number(estimate), now: Date.now() });
    if (!result.ok) return;
    admitted += 1;
    await sleep((i * 7) % 16);
    store.settle(result.reservation, { tokens: 100, cost: Number(real) });
    spentNanos += toNanos(Number(real));
  }),
);
await store.close();
process.stdout.write(`${JSON.stringify({ admitted, spentNanos })}\n`);
