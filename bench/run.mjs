// One-command benchmark: canned upstream + baseline proxy + ai-proxy. Every target
// x {non-stream, stream} at N connections (throughput) and 1 connection (latency),
// in interleaved rounds; the table shows medians over the rounds.
//
//   npm run bench [-- --duration 5 --rounds 3 --connections 50 --targets direct,baseline]
//   flags / env:  --duration   BENCH_DURATION     seconds measured per run (5)
//                 --warmup     BENCH_WARMUP       seconds of unmeasured load first (1)
//                 --rounds     BENCH_ROUNDS       interleaved rounds per cell (3)
//                 --connections BENCH_CONNECTIONS throughput run connections (50)
//                 --targets    BENCH_TARGETS      comma list of target names (all)
//                 --modes      BENCH_MODES        non-stream,stream
//                 --json       BENCH_JSON         also write raw runs + rows to a file
//                 --skip-gateway                  bench only direct and the baselines
//                 BENCH_GATEWAY_CMD               run this (shell, in bench/) as the gateway
//                 BENCH_ROOT                      run the gateway of this checkout (its bin/ and
//                                                 dist/; default: the one bench/ is in)
//                 BENCH_KEEP=1                    keep the temp dir (gateway logs)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad } from './load.mjs';
import {
  cpuProbe,
  installExitHandlers,
  machineBusyMs,
  shutdown,
  sleep,
  start,
  startUpstream,
} from './procs.mjs';
import { aggregate, compare, fmt, printTable } from './report.mjs';
import { defineTargets } from './targets.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.resolve(process.env.BENCH_ROOT || path.join(benchDir, '..'));
const MODES = ['non-stream', 'stream'];

const env = process.env;
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: env.BENCH_DURATION ?? '5' },
    warmup: { type: 'string', default: env.BENCH_WARMUP ?? '1' },
    rounds: { type: 'string', default: env.BENCH_ROUNDS ?? '3' },
    connections: { type: 'string', default: env.BENCH_CONNECTIONS ?? '50' },
    targets: { type: 'string', default: env.BENCH_TARGETS ?? '' },
    modes: { type: 'string', default: env.BENCH_MODES ?? MODES.join(',') },
    json: { type: 'string', default: env.BENCH_JSON ?? '' },
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
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const modes = args.modes.split(',').filter(Boolean);
if (
  !(durationMs > 0) ||
  !(warmupMs >= 0) ||
  !Number.isInteger(rounds) ||
  rounds < 1 ||
  !Number.isInteger(connections) ||
  connections < 1 ||
  modes.some((m) => !MODES.includes(m))
) {
  console.error('bad options, see --help');
  process.exit(2);
}

let tmpDir = null;
installExitHandlers(() => {
  if (tmpDir && !env.BENCH_KEEP) fs.rmSync(tmpDir, { recursive: true, force: true });
});

async function header() {
  const cpus = os.cpus();
  // CPU used by anything else right now: on a shared 2-core box this decides
  // how much the numbers can be trusted.
  const busy0 = machineBusyMs();
  await sleep(1000);
  const background = ((machineBusyMs() - busy0) / 1000) * 100;
  console.log(`ai-proxy bench  ${new Date().toISOString()}`);
  console.log(`node ${process.version}  ${os.platform()} ${os.arch()} ${os.release()}`);
  console.log(
    `cpu  ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores; background load before start ${fmt(background)}% (100 = one core)`,
  );
  if (background > 25)
    console.log('WARNING: something else is using the CPU; expect noisy numbers (see cpu% other).');
  console.log(
    `run  ${rounds} interleaved round(s) x ${args.duration} s measured (+${args.warmup} s warm-up) per cell; ${connections} and 1 connection(s)\n`,
  );
}

function dirBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  }
  return n;
}

async function main() {
  await header();
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-proxy-bench-'));
  const logDir = path.join(tmpDir, 'logs');
  const gatewayCwd = path.join(tmpDir, 'cwd'); // empty: no config.yml, no .env
  fs.mkdirSync(logDir);
  fs.mkdirSync(gatewayCwd);

  const upstream = await startUpstream(benchDir);
  const only = args.targets.split(',').filter(Boolean);
  const targets = defineTargets({
    benchDir,
    rootDir,
    logDir,
    gatewayCwd,
    upstreamUrl: upstream.origin,
    gatewayCmd: env.BENCH_GATEWAY_CMD,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  }).filter((t) => (only.length === 0 || only.includes(t.name)) && !(args['skip-gateway'] && t.compare));
  if (targets.length === 0) throw new Error(`no target matches --targets ${args.targets}`);

  if (targets.some((t) => t.isGateway) && !fs.existsSync(path.join(rootDir, 'dist'))) {
    throw new Error(
      `the gateway is not built: ${path.join(rootDir, 'dist')} is missing.\n` +
        `Run \`npm run build\` in ${rootDir} first (or pass --skip-gateway to bench only direct and baseline).`,
    );
  }
  for (const t of targets) {
    if (t.prepare) await t.prepare(t); // e.g. the managed key it sends
    if (t.cmd) Object.assign(t, await start(t, benchDir)); // sets origin, pid, output
    t.url ??= t.origin;
    t.pid ??= upstream.pid; // 'direct': the upstream is the target
    console.error(`${t.name.padEnd(24)} ${t.url}`);
  }

  // Interleaved: for each cell, round 1 of every target, then round 2, ... with
  // the order reversed every other round, so drift hits all targets alike.
  const cells = modes.flatMap((mode) => [...new Set([connections, 1])].map((conns) => ({ mode, conns })));
  const total = cells.length * rounds * targets.length;
  const runs = [];
  for (const { mode, conns } of cells) {
    for (let round = 1; round <= rounds; round++) {
      for (const t of round % 2 ? targets : [...targets].reverse()) {
        process.stderr.write(`[${runs.length + 1}/${total}] ${t.name} ${mode} ${conns}c round ${round} ... `);
        const r = await runLoad({
          url: t.url,
          path: t.path,
          headers: t.headers,
          body: Buffer.from(JSON.stringify(t.body(mode))),
          connections: conns,
          durationMs,
          warmupMs,
          streamEnd: mode === 'stream' ? t.streamEnd : undefined,
          probe: cpuProbe(t.pid, upstream.pid),
        });
        process.stderr.write(`${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 3)} ms\n`);
        runs.push({ target: t.name, mode, connections: conns, round, ...r });
      }
    }
  }

  const rows = aggregate(
    runs,
    targets.map((t) => t.name),
  );
  const verdicts = compare(runs, rows, targets, modes, connections);
  console.log('');
  printTable(rows);
  if (verdicts.length) console.log(`\n${verdicts.join('\n')}`);
  const bad = rows.filter((r) => r.errors + r.non2xx > 0);
  if (bad.length) {
    console.log(
      '\nWARNING: rows with errors / non-2xx / incomplete streams; only complete 2xx answers are counted.',
    );
    for (const t of targets.filter((x) => x.output && bad.some((r) => r.target === x.name))) {
      console.log(`--- last output of ${t.name}:\n${t.output()}`);
    }
  }

  await shutdown(); // the gateway flushes its logs on SIGTERM; then measure them
  if (targets.some((t) => t.compare)) {
    const bytes = dirBytes(logDir);
    console.log(
      `\nrequest logs written to LOG_DIR: ${fmt(bytes / 1024)} KiB` +
        (bytes === 0 ? '  WARNING: nothing logged; was request logging on?' : ''),
    );
  }
  if (args.json) {
    const meta = {
      date: new Date().toISOString(),
      node: process.version,
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
    };
    fs.writeFileSync(
      args.json,
      `${JSON.stringify({ meta, durationMs, warmupMs, rounds, rows, verdicts, runs }, null, 2)}\n`,
    );
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
