// What share of a gateway's CPU one part of its code takes, inside the running gateway under load:
// the cost of a feature where two runs cannot resolve it (on a shared VM, req/s of two processes of
// one build differ by up to 20% for their whole life, see ab.mjs). The target runs with V8's perf
// map (--perf-basic-prof-only-functions) so JavaScript frames have names; `perf record -g` samples
// its stacks while the load runs, and a sample counts for a group when any frame of its stack
// matches one of the group's patterns (inclusive: what the code calls counts too). Under CPU
// saturation throughput goes as 1 / CPU per request, so a group's share of the samples is the
// share of throughput it costs.
//
//   node cpu-share.mjs [--target ai-proxy] [--modes non-stream,stream] [--seconds 15] [--warmup 8]
//                      [--connections 16] [--group 'name=pattern|pattern' ...] [--env K=V ...]
// Default groups: metrics (the gateway's metrics code, prom-client, V8's event-loop-delay timer).
// Needs Linux `perf` (Debian: linux-perf) and the root build.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad } from './load.mjs';
import { envPairs, installExitHandlers, shutdown, start, startUpstream } from './procs.mjs';
import { defineTargets } from './targets.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.resolve(process.env.BENCH_ROOT || path.join(benchDir, '..'));
const { values: args } = parseArgs({
  options: {
    target: { type: 'string', default: 'ai-proxy' },
    modes: { type: 'string', default: 'non-stream,stream' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '8' },
    connections: { type: 'string', default: '16' },
    group: { type: 'string', multiple: true, default: [] },
    env: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0]);
  process.exit(0);
}
if (spawnSync('perf', ['--version']).status !== 0) {
  console.error('perf is not installed (Debian: apt-get install linux-perf)');
  process.exit(2);
}
const DEFAULT_GROUPS = [
  'metrics=dist/observability/|/prom-client/|IntervalHistogram|ELDHistogram|GCPerformanceEntry|MarkGarbageCollection',
];
const groups = (args.group.length ? args.group : DEFAULT_GROUPS).map((text) => {
  const at = text.indexOf('=');
  if (at < 1) throw new Error(`--group takes name=pattern|pattern, got ${JSON.stringify(text)}`);
  return {
    name: text.slice(0, at),
    patterns: text
      .slice(at + 1)
      .split('|')
      .filter(Boolean),
  };
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-proxy-share-'));
installExitHandlers(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Samples of `pid`, and how many of them have a frame matching each group. */
async function countSamples(dataFile, pid) {
  const script = spawn('perf', ['script', '-i', dataFile, '--pid', String(pid), '-F', 'pid,ip,sym,dso'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const counts = new Map(groups.map((g) => [g.name, 0]));
  /** Per group, the outermost matching frame of each sample: where the group's time starts. */
  const entries = new Map(groups.map((g) => [g.name, new Map()]));
  let total = 0;
  let frames = [];
  const finish = () => {
    if (frames.length === 0) return;
    total += 1;
    for (const g of groups) {
      const outer = frames.findLast((f) => g.patterns.some((p) => f.includes(p)));
      if (outer === undefined) continue;
      counts.set(g.name, counts.get(g.name) + 1);
      const symbol = outer.trim().split(/\s+/).slice(1, -1).join(' ');
      const byEntry = entries.get(g.name);
      byEntry.set(symbol, (byEntry.get(symbol) ?? 0) + 1);
    }
    frames = [];
  };
  for await (const line of readline.createInterface({ input: script.stdout })) {
    if (line.trim() === '') finish();
    else frames.push(line);
  }
  finish();
  return { total, counts, entries };
}

async function main() {
  const upstream = await startUpstream(benchDir);
  const logDir = path.join(tmp, 'logs');
  const gatewayCwd = path.join(tmp, 'cwd');
  fs.mkdirSync(logDir);
  fs.mkdirSync(gatewayCwd);
  const t = defineTargets({
    benchDir,
    rootDir,
    logDir,
    gatewayCwd,
    upstreamUrl: upstream.origin,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  }).find((x) => x.name === args.target);
  if (t === undefined || t.cmd === undefined) throw new Error(`no target to start named ${args.target}`);
  t.env = { ...t.env, NODE_OPTIONS: '--perf-basic-prof-only-functions', ...envPairs(args.env, 'env') };
  if (t.prepare) await t.prepare(t);
  Object.assign(t, await start(t, benchDir));
  console.log(`cpu-share  ${new Date().toISOString()}  ${t.name}, ${args.connections} connections`);
  for (const mode of args.modes.split(',').filter(Boolean)) {
    const load = (seconds) =>
      runLoad({
        url: t.origin,
        path: t.path,
        headers: t.headers,
        body: Buffer.from(JSON.stringify(t.body(mode))),
        connections: Number(args.connections),
        durationMs: seconds * 1000,
        warmupMs: 0,
        streamEnd: mode === 'stream' ? t.streamEnd : undefined,
      });
    await load(Number(args.warmup));
    const dataFile = path.join(tmp, `perf-${mode}.data`);
    const seconds = Number(args.seconds);
    const recorder = spawn(
      'perf',
      ['record', '-F', '997', '-g', '-p', String(t.pid), '-o', dataFile, '--', 'sleep', String(seconds)],
      { stdio: 'ignore' },
    );
    const measured = await load(seconds);
    await new Promise((resolve) => recorder.once('exit', resolve));
    const { total, counts, entries } = await countSamples(dataFile, t.pid);
    const shares = groups.map((g) => {
      const n = counts.get(g.name);
      const share = total > 0 ? n / total : Number.NaN;
      // A binomial proportion's standard error: how far the share may be off by sampling alone.
      const se = total > 0 ? Math.sqrt((share * (1 - share)) / total) : Number.NaN;
      return `${g.name} ${(share * 100).toFixed(2)}% ±${(se * 196).toFixed(2)} (${n} samples)`;
    });
    console.log(
      `${mode.padEnd(10)}  ${measured.rps.toFixed(0)} req/s, ${total} samples of the gateway: ${shares.join('; ')}`,
    );
    for (const g of groups) {
      const top = [...entries.get(g.name)].sort((x, y) => y[1] - x[1]).slice(0, 5);
      for (const [symbol, n] of top) console.log(`${''.padEnd(12)}${g.name}: ${n} from ${symbol}`);
    }
  }
}

try {
  await main();
} finally {
  await shutdown();
}
