// One-command benchmark: canned upstream + baseline proxy + ai-proxy, each target
// x {non-stream, stream} at N connections (throughput) and 1 connection (latency).
//
//   npm run bench [-- --duration 5 --connections 50 --targets direct,baseline]
//   env: BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_TARGETS, BENCH_MODES,
//        BENCH_JSON, BENCH_KEEP=1 (keep temp dir), BENCH_GATEWAY_CMD (see README)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { runLoad } from './load.mjs';
import { defineTargets } from './targets.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.resolve(benchDir, '..');
const MODES = ['non-stream', 'stream'];
const BAR = { throughputPct: 80, addedP50Ms: 0.5 }; // from the spec

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '10' },
    warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '2' },
    connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '50' },
    targets: { type: 'string', default: process.env.BENCH_TARGETS ?? '' },
    modes: { type: 'string', default: process.env.BENCH_MODES ?? MODES.join(',') },
    json: { type: 'string', default: process.env.BENCH_JSON ?? '' },
    'skip-gateway': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0]);
  process.exit(0);
}
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const connections = Number(args.connections);
const modes = args.modes.split(',').filter(Boolean);
if (!(durationMs > 0) || !(warmupMs >= 0) || !(connections >= 1) || modes.some((m) => !MODES.includes(m))) {
  console.error('bad options: --duration/--warmup are seconds, --connections >= 1, --modes non-stream,stream');
  process.exit(2);
}

// ---- child processes: every one is killed on exit, error or Ctrl-C ----------
const children = new Set();
let tmpDir = null;

function killAll(signal) {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}
async function shutdown() {
  killAll('SIGTERM');
  const deadline = Date.now() + 3000;
  while ([...children].some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) {
    await sleep(50);
  }
  killAll('SIGKILL');
  children.clear();
}
process.on('exit', () => {
  killAll('SIGKILL'); // last resort; shutdown() normally got there first
  if (tmpDir && !process.env.BENCH_KEEP) fs.rmSync(tmpDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.error(`\n${sig}: stopping`);
    await shutdown();
    process.exit(130);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Start t.cmd on a free port; resolve with its origin once GET t.health is 200.
async function start(t) {
  const port = String(await freePort());
  const sub = (s) => s.replaceAll('{port}', port);
  // A minimal environment: the developer's own OPENAI_API_KEY, REDIS_URL etc.
  // must not change what is measured.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(t.env ?? {})) env[k] = sub(v);
  const child = spawn(t.cmd[0], t.cmd.slice(1).map(sub), {
    cwd: t.cwd ?? benchDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe', ...(t.ipc ? ['ipc'] : [])],
  });
  children.add(child);
  // Keep the output's tail for error messages; reading it also stops a chatty
  // child from blocking on a full pipe.
  let tail = '';
  const keep = (d) => {
    tail = (tail + d).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (e) => keep(`spawn error: ${e.message}\n`));

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${t.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail}`);
    }
    try {
      const res = await request(`${origin}${t.health}`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return { origin, child, output: () => tail };
    } catch {}
    if (Date.now() > deadline) throw new Error(`${t.name} not healthy on ${origin}${t.health} after 30 s:\n${tail}`);
    await sleep(100);
  }
}

// CPU time of a process, from /proc (Linux), in ms; NaN elsewhere. Includes all
// its threads (GC, libuv pool). USER_HZ is 100 on Linux, so 10 ms per tick.
function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime + stime
  } catch {
    return Number.NaN;
  }
}

// Throughput on 2 cores shared by 3 busy processes is noisy; CPU per request of
// the target is a steadier measure of its cost, and the three CPU% tell which
// process was the bottleneck (~100% = saturated one core).
function cpuProbe(targetPid, upstreamPid) {
  return () => {
    const t0 = performance.now();
    const [tgt0, up0, gen0] = [cpuMs(targetPid), cpuMs(upstreamPid), process.cpuUsage()];
    return () => {
      const wall = performance.now() - t0;
      const gen = process.cpuUsage(gen0);
      const tgtMs = cpuMs(targetPid) - tgt0;
      return {
        cpuTargetMs: tgtMs,
        cpuPct: {
          target: (tgtMs / wall) * 100,
          upstream: ((cpuMs(upstreamPid) - up0) / wall) * 100,
          loadgen: ((gen.user + gen.system) / 1000 / wall) * 100,
        },
      };
    };
  };
}

// ---- reporting ---------------------------------------------------------------
function header() {
  const cpus = os.cpus();
  console.log(`ai-proxy bench  ${new Date().toISOString()}`);
  console.log(`node ${process.version}  ${os.platform()} ${os.arch()}  ${os.release()}`);
  console.log(`cpu  ${cpus[0]?.model ?? 'unknown'} x ${cpus.length} (available parallelism ${os.availableParallelism()})`);
  console.log(`run  ${args.duration} s measured (+${args.warmup} s warm-up) per row, ${connections} and 1 connection(s)\n`);
}

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');

function table(results) {
  const head = ['target', 'mode', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'cpu us/req', 'cpu% tgt/up/gen', 'vs baseline'];
  const rows = [head];
  for (const r of results) {
    const c = r.cpuPct;
    rows.push([
      r.target, r.mode, String(r.connections), fmt(r.rps), fmt(r.p50, 3), fmt(r.p99, 3),
      String(r.errors + r.incomplete), String(r.non2xx), fmt((r.cpuTargetMs * 1000) / r.requests),
      c ? `${fmt(c.target)}/${fmt(c.upstream)}/${fmt(c.loadgen)}` : '-', r.vs ?? '',
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => row.map((c, i) => (i < 2 || i === head.length - 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(rows[0]).trimEnd());
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const row of rows.slice(1)) console.log(line(row).trimEnd());
}

// Fill r.vs for targets with `compare`, and return verdict lines against the bar.
function compare(results, targets) {
  const find = (t, m, c) => results.find((r) => r.target === t && r.mode === m && r.connections === c);
  const verdicts = [];
  for (const t of targets.filter((x) => x.compare)) {
    for (const mode of modes) {
      const [gN, bN, g1, b1] = [
        find(t.name, mode, connections), find(t.compare, mode, connections),
        find(t.name, mode, 1), find(t.compare, mode, 1),
      ];
      if (!gN || !bN || !g1 || !b1) continue;
      const pct = (gN.rps / bN.rps) * 100;
      const added = g1.p50 - b1.p50;
      gN.vs = `${fmt(pct)}% of req/s`;
      g1.vs = `${added >= 0 ? '+' : ''}${fmt(added, 3)} ms p50`;
      const ok = (b) => (b ? 'PASS' : 'FAIL');
      verdicts.push(
        `${t.name} ${mode}: throughput ${fmt(pct, 1)}% of ${t.compare} (bar >= ${BAR.throughputPct}%) ${ok(pct >= BAR.throughputPct)}; ` +
          `added p50 ${fmt(added, 3)} ms at 1 conn (bar < ${BAR.addedP50Ms} ms) ${ok(added < BAR.addedP50Ms)}`,
      );
    }
  }
  return verdicts;
}

function dirBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  }
  return n;
}

// ---- main --------------------------------------------------------------------
async function main() {
  header();
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-proxy-bench-'));
  const logDir = path.join(tmpDir, 'logs');
  const gatewayCwd = path.join(tmpDir, 'cwd');
  fs.mkdirSync(logDir);
  fs.mkdirSync(gatewayCwd);

  const upstream = await start({
    name: 'canned upstream',
    cmd: [process.execPath, path.join(benchDir, 'canned-upstream.mjs'), '--port', '{port}'],
    ipc: true,
    health: '/health',
  });
  const ctx = { benchDir, rootDir, upstreamUrl: upstream.origin, logDir, gatewayCwd, gatewayCmd: process.env.BENCH_GATEWAY_CMD };
  const only = args.targets.split(',').filter(Boolean);
  const targets = defineTargets(ctx).filter(
    (t) => (only.length === 0 || only.includes(t.name)) && !(args['skip-gateway'] && t.compare),
  );

  if (targets.some((t) => t.isGateway) && !fs.existsSync(path.join(rootDir, 'dist'))) {
    throw new Error(
      `the gateway is not built: ${path.join(rootDir, 'dist')} is missing.\n` +
        `Run \`npm run build\` in ${rootDir} first (or pass --skip-gateway to bench only direct and baseline).`,
    );
  }

  for (const t of targets) {
    if (t.cmd) {
      const s = await start(t);
      t.url = s.origin;
      t.output = s.output;
      t.pid = s.child.pid;
    }
    console.error(`${t.name.padEnd(10)} ${t.url}`);
  }
  console.error('');

  const results = [];
  for (const t of targets) {
    for (const mode of modes) {
      const body = Buffer.from(JSON.stringify(t.body(mode)));
      for (const conns of [...new Set([connections, 1])]) {
        process.stderr.write(`running ${t.name} ${mode} ${conns}c ... `);
        const r = await runLoad({
          url: t.url,
          path: t.path,
          headers: t.headers,
          body,
          connections: conns,
          durationMs,
          warmupMs,
          streamEnd: mode === 'stream' ? t.streamEnd : undefined,
          probe: cpuProbe(t.pid ?? upstream.child.pid, upstream.child.pid),
        });
        process.stderr.write(`${fmt(r.rps)} req/s\n`);
        results.push({ target: t.name, mode, ...r });
      }
    }
  }

  const verdicts = compare(results, targets);
  console.log('');
  table(results);
  if (verdicts.length) console.log(`\n${verdicts.join('\n')}`);
  const failed = results.filter((r) => r.errors + r.non2xx + r.incomplete > 0);
  if (failed.length) {
    console.log('\nWARNING: some rows had errors / non-2xx / incomplete streams; their numbers are suspect.');
    for (const t of targets.filter((x) => x.output && failed.some((r) => r.target === x.name))) {
      console.log(`--- last output of ${t.name}:\n${t.output()}`);
    }
  }

  await shutdown(); // gateway flushes its logs on SIGTERM, then we measure them
  if (targets.some((t) => t.compare)) {
    const bytes = dirBytes(logDir);
    console.log(`\nrequest logs written by the gateway: ${(bytes / 1024).toFixed(0)} KiB in LOG_DIR` +
      (bytes === 0 ? '  WARNING: nothing logged, was request logging on?' : ''));
  }
  if (args.json) {
    const meta = { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length };
    fs.writeFileSync(args.json, `${JSON.stringify({ meta, durationMs, warmupMs, results, verdicts }, null, 2)}\n`);
    console.log(`results written to ${args.json}`);
  }
}

main().then(
  () => process.exit(0),
  async (err) => {
    console.error(`\nbench failed: ${err.message}`);
    await shutdown();
    process.exit(1);
  },
);
