// The primary of `serve --workers N`: forks the workers, forwards SIGHUP and SIGTERM/SIGINT, and
// replaces a worker that dies. A worker that dies soon after it was started (it cannot listen, its
// start-up fails, it crashes at once) is replaced after a growing pause, and after a few such
// deaths in a row the primary gives up and exits non-zero instead of restarting it forever.
import cluster, { type Worker } from 'node:cluster';
import type { Registry } from 'prom-client';
import type { BackgroundIngest } from '../logstore/background-ingest.js';

/** Each worker keeps a slot (its own limit snapshot, in memory mode); a replacement takes it over. */
const SLOT_ENV = 'AI_PROXY_WORKER_SLOT';
/** A worker that dies within this long of its start counts as failing at start-up. */
const QUICK_EXIT_MS = 10_000;
/** Quick deaths in a row of one slot before the primary gives up. */
const MAX_QUICK_EXITS = 3;
const FIRST_BACKOFF_MS = 250;

interface Slot {
  name: string;
  startedAt: number;
  quickExits: number;
}

/** `metrics`: the primary's own registry, when metrics are on; every worker's joins it on a scrape. */
export function runPrimary(workers: number, logStore?: BackgroundIngest, metrics?: Registry): void {
  // Loaded only here: the light commands that import serve.ts need not load prom-client.
  if (metrics !== undefined) {
    void import('../observability/cluster-metrics.js').then(({ serveClusterMetrics }) =>
      serveClusterMetrics(metrics),
    );
  }
  const slots = new Map<Worker, Slot>();
  const pending = new Set<NodeJS.Timeout>();
  let stopping = false;
  let exitCode = 0;

  const fork = (slot: Slot) => {
    slot.startedAt = Date.now();
    slots.set(cluster.fork({ [SLOT_ENV]: slot.name }), slot);
  };
  const forward = (signal: NodeJS.Signals) => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  const finishIfDone = () => {
    if (Object.keys(cluster.workers ?? {}).length > 0) return;
    // The workers flushed their request logs on the way out; the store's last pass takes them in.
    void (logStore?.stop() ?? Promise.resolve()).finally(() => process.exit(exitCode));
  };
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of pending) clearTimeout(timer);
    pending.clear();
    forward('SIGTERM');
    finishIfDone();
  };

  for (let i = 1; i <= workers; i++) fork({ name: String(i), startedAt: 0, quickExits: 0 });
  process.on('SIGHUP', () => forward('SIGHUP'));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(0));

  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.get(worker);
    slots.delete(worker);
    if (stopping || slot === undefined) {
      finishIfDone();
      return;
    }
    const how = signal === null ? `code ${code}` : `signal ${signal}`;
    slot.quickExits = Date.now() - slot.startedAt < QUICK_EXIT_MS ? slot.quickExits + 1 : 0;
    if (slot.quickExits >= MAX_QUICK_EXITS) {
      process.stderr.write(
        `ai-proxy: worker ${slot.name} failed at start-up ${slot.quickExits} times in a row (last: ${how}); giving up\n`,
      );
      stop(1);
      return;
    }
    const delay = slot.quickExits === 0 ? 0 : FIRST_BACKOFF_MS * 2 ** (slot.quickExits - 1);
    process.stderr.write(
      `ai-proxy: worker ${worker.process.pid} exited (${how}); starting another${delay > 0 ? ` in ${delay} ms` : ''}\n`,
    );
    const timer = setTimeout(() => {
      pending.delete(timer);
      fork(slot);
    }, delay);
    pending.add(timer);
  });
}
