// Instructions per request, counted by valgrind's callgrind: the same figure run after run, whatever
// else the machine is doing, where req/s on a shared 2-core VM moves by a quarter between two runs
// of one build. Each target runs under callgrind (all its threads, user space; the kernel's share
// of a syscall is not counted), is warmed with unmeasured requests until V8 has compiled its hot
// code, then its counters are zeroed, N requests are sent at 4 connections, and the counters are
// dumped. Reported per request: every instruction, those of V8's optimizing compiler threads left
// out (JIT warm-up still in progress, not the request's own work), and the log writer thread's.
// One window of one process can sit 10% off its neighbours (V8 still settling, a GC landing in it):
// --windows measures several windows in a row, --repeat starts several processes per target, and the
// table gives the median window with the range.
//
//   node instructions.mjs [--targets 'baseline,ai-proxy'] [--requests 2000] [--warmup 6000]
//                         [--modes non-stream,stream] [--parallel 2] [--windows 1] [--repeat 1]
//                         [--env K=V ...]   (added to every target's environment, e.g.
//                                            LOGDB_ENABLED=false: no ingest passes in the windows)
// Needs `valgrind` (callgrind_control and callgrind_annotate come with it) and the root build.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { envPairs, freePort, median, sleep } from './procs.mjs';
import { defineTargets } from './targets.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.resolve(process.env.BENCH_ROOT || path.join(benchDir, '..'));
const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: 'baseline,ai-proxy,ai-proxy metrics off' },
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '6000' },
    modes: { type: 'string', default: 'non-stream' },
    parallel: { type: 'string', default: '2' },
    windows: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '1' },
    env: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0]);
  process.exit(0);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('valgrind is not installed (Debian: apt-get install valgrind)');
  process.exit(2);
}
const requests = Number(args.requests);
const warmup = Number(args.warmup);
const windows = Number(args.windows);
const repeat = Number(args.repeat);
for (const [name, n] of Object.entries({ requests, warmup, windows, repeat })) {
  if (!Number.isInteger(n) || n < (name === 'warmup' ? 0 : 1)) {
    console.error(`--${name} must be a whole number`);
    process.exit(2);
  }
}

/** Closed-loop requests at 4 connections; returns how many answered 2xx. */
async function send(origin, t, mode, count) {
  const pool = new Pool(origin, { connections: 4, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const body = JSON.stringify(t.body(mode));
  let left = count;
  let ok = 0;
  const worker = async () => {
    while (left-- > 0) {
      const res = await pool.request({ path: t.path, method: 'POST', headers: t.headers, body });
      await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) ok += 1;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await pool.close();
  return ok;
}

/** PROGRAM TOTALS and the inclusive count of the first function matching each pattern. */
function countsOf(file, patterns) {
  const out = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  }).stdout;
  const number = (line) => Number(line.trim().split(/\s+/)[0].replaceAll(',', ''));
  const total = number(out.split('\n').find((l) => l.includes('PROGRAM TOTALS')) ?? '0');
  const found = patterns.map((p) => {
    const line = out.split('\n').find((l) => l.includes(p));
    return line === undefined ? 0 : number(line);
  });
  return { total, found };
}

/** One callgrind dump's counts per request. */
function perRequestOf(file) {
  const { total, found } = countsOf(file, [
    'OptimizingCompileDispatcher::CompileTask::RunInternal',
    'node::worker::Worker::Run',
  ]);
  return {
    perRequest: total / requests,
    withoutCompiler: (total - found[0]) / requests,
    logThread: found[1] / requests,
  };
}

async function measure(t, mode, dir, run) {
  const port = String(await freePort());
  const sub = (s) => s.replaceAll('{port}', port);
  const out = path.join(dir, `cg-${t.name.replaceAll(' ', '-')}-${mode}-${run}.out`);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(t.env ?? {})) env[k] = sub(v);
  Object.assign(env, envPairs(args.env, 'env'));
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, ...t.cmd.map(sub)], {
    cwd: t.cwd ?? benchDir,
    env,
    stdio: 'ignore',
  });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      const res = await fetch(`${origin}${t.health}`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${t.name} did not start`);
    await sleep(500);
  }
  await send(origin, t, mode, warmup);
  const answered = [];
  for (let w = 0; w < windows; w++) {
    spawnSync('callgrind_control', ['-z', String(child.pid)]);
    answered.push(await send(origin, t, mode, requests));
    spawnSync('callgrind_control', ['-d', String(child.pid)]);
  }
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  // callgrind numbers its dumps: <out>.<pid>.1, .2, ... (the final one at exit has no number)
  const dumps = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(`${path.basename(out)}.`))
    .map((f) => ({ f, n: Number(f.split('.').at(-1)) }))
    .filter((d) => Number.isInteger(d.n) && d.n >= 1 && d.n <= windows)
    .sort((a, b) => a.n - b.n);
  if (dumps.length !== windows) throw new Error(`${t.name}: ${dumps.length} callgrind dumps of ${windows}`);
  return dumps.map(({ f }, i) => ({
    target: t.name,
    mode,
    ok: answered[i],
    ...perRequestOf(path.join(dir, f)),
  }));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-proxy-instr-'));
const logDir = path.join(tmp, 'logs');
const gatewayCwd = path.join(tmp, 'cwd');
fs.mkdirSync(logDir);
fs.mkdirSync(gatewayCwd);
const upPort = await freePort();
const upstream = spawn(process.execPath, ['canned-upstream.mjs', '--port', String(upPort)], {
  cwd: benchDir,
  stdio: 'ignore',
});
await sleep(500);
const only = args.targets.split(',').filter(Boolean);
const targets = defineTargets({
  benchDir,
  rootDir,
  logDir,
  gatewayCwd,
  upstreamUrl: `http://127.0.0.1:${upPort}`,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
}).filter((t) => only.includes(t.name) && t.cmd !== undefined);
for (const t of targets) if (t.prepare) await t.prepare(t);

const jobs = [];
for (let run = 1; run <= repeat; run++)
  for (const mode of args.modes.split(',')) for (const t of targets) jobs.push({ t, mode, run });
const rows = [];
const runOne = async () => {
  for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
    process.stderr.write(`${job.t.name} ${job.mode} run ${job.run} ...\n`);
    rows.push(...(await measure(job.t, job.mode, tmp, job.run)));
  }
};
try {
  await Promise.all(Array.from({ length: Number(args.parallel) }, runOne));
} finally {
  upstream.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}

const k = (n) => `${(n / 1000).toFixed(1)}k`;
/** The median of a field over a target's windows, with the range when there are several. */
function summary(target, mode) {
  const mine = rows.filter((r) => r.target === target && r.mode === mode);
  if (mine.length === 0) return undefined;
  const pick = (field) => {
    const xs = mine.map((r) => r[field]);
    return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
  };
  return {
    failed: mine.reduce((n, r) => n + (requests - r.ok), 0),
    windows: mine.length,
    perRequest: pick('perRequest'),
    withoutCompiler: pick('withoutCompiler'),
    logThread: pick('logThread'),
  };
}
const cell = (v) => (v.min === v.max ? k(v.median) : `${k(v.median)} (${k(v.min)}–${k(v.max)})`);
console.log(
  `instructions per request (callgrind), ${requests} requests per window after ${warmup} warm-up, ` +
    `${windows} window(s) x ${repeat} process(es) per target${args.env.length ? `, ${args.env.join(' ')}` : ''}, ${new Date().toISOString()}`,
);
console.log(
  '| target | mode | windows | non-2xx | all | without JIT compiler | log thread | vs its baseline |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const mode of args.modes.split(',')) {
  for (const t of targets) {
    const row = summary(t.name, mode);
    if (row === undefined) continue;
    const compareTo = Array.isArray(t.compare) ? t.compare[0] : t.compare;
    const base = summary(compareTo, mode);
    const ratio =
      base === undefined
        ? ''
        : `${((row.withoutCompiler.median / base.withoutCompiler.median) * 100).toFixed(1)}%`;
    console.log(
      `| ${t.name} | ${mode} | ${row.windows} | ${row.failed} | ${cell(row.perRequest)} | ${cell(row.withoutCompiler)} | ${cell(row.logThread)} | ${ratio} |`,
    );
  }
}
