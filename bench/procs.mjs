// Child processes of the runner (started on free ports, all killed on exit,
// error or Ctrl-C) and CPU accounting from /proc (Linux; NaN elsewhere).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { request } from 'undici';

const children = new Set();
const alive = (c) => c.exitCode === null && c.signalCode === null;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function killAll(signal) {
  for (const c of children) if (alive(c)) c.kill(signal);
}

/** SIGTERM every child (lets the gateway flush its logs), SIGKILL after 3 s. */
export async function shutdown() {
  killAll('SIGTERM');
  const deadline = Date.now() + 3000;
  while ([...children].some(alive) && Date.now() < deadline) await sleep(50);
  killAll('SIGKILL');
  children.clear();
}

/** SIGTERM one child started here (by pid), SIGKILL after 3 s; resolves once it has exited. */
export async function stop(pid) {
  const child = [...children].find((c) => c.pid === pid);
  if (child === undefined) return;
  child.kill('SIGTERM');
  const deadline = Date.now() + 3000;
  while (alive(child) && Date.now() < deadline) await sleep(50);
  if (alive(child)) child.kill('SIGKILL');
  children.delete(child);
}

/** Kill children however the runner ends; `onExit` runs last (sync). */
export function installExitHandlers(onExit) {
  process.on('exit', () => {
    killAll('SIGKILL'); // last resort; shutdown() normally got there first
    onExit();
  });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
      console.error(`\n${sig}: stopping`);
      await shutdown();
      process.exit(130);
    });
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start t.cmd ('{port}' in argv and env replaced by a free port) and wait until
 * GET t.health answers 200. Resolves { origin, pid, output() }.
 */
export async function start(t, defaultCwd) {
  const port = String(await freePort());
  const sub = (s) => s.replaceAll('{port}', port);
  // A minimal environment: the developer's own OPENAI_API_KEY, REDIS_URL etc.
  // must not change what is measured.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(t.env ?? {})) env[k] = sub(v);
  const child = spawn(t.cmd[0], t.cmd.slice(1).map(sub), {
    cwd: t.cwd ?? defaultCwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe', ...(t.ipc ? ['ipc'] : [])],
  });
  children.add(child);
  // Keep the output's tail for error messages; reading it also keeps a chatty
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
    if (!alive(child)) {
      throw new Error(
        `${t.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail}`,
      );
    }
    try {
      const res = await request(`${origin}${t.health}`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return { origin, pid: child.pid, output: () => tail };
    } catch {}
    if (Date.now() > deadline)
      throw new Error(`${t.name} not healthy on ${origin}${t.health} after 30 s:\n${tail}`);
    await sleep(100);
  }
}

/** The canned upstream on a free port (`prefix`: e.g. a `taskset` to pin it). */
export function startUpstream(benchDir, prefix = []) {
  return start(
    {
      name: 'canned upstream',
      cmd: [...prefix, process.execPath, 'canned-upstream.mjs', '--port', '{port}'],
      ipc: true,
      health: '/health',
    },
    benchDir,
  );
}

/** `KEY=VALUE` command-line pairs (of `--flag`) as an environment object. */
export function envPairs(pairs, flag) {
  const env = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--${flag} takes KEY=VALUE, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

export function median(xs) {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// USER_HZ is 100 on Linux: 10 ms per tick.
function procCpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, all threads
  } catch {
    return Number.NaN;
  }
}

// Busy CPU time of the whole machine (all cores), in ms.
export function machineBusyMs() {
  try {
    const [user, nice, system, , , irq, softirq, steal] = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * A probe for runLoad: CPU% (100 = one core) of the target, the upstream, the
 * load generator (this process) and everything else on the machine over the
 * measured phase. On 2 shared cores req/s is noisy; these say who was the
 * bottleneck and whether something outside the benchmark took CPU.
 */
export function cpuProbe(targetPid, upstreamPid) {
  return () => {
    const t0 = performance.now();
    const tgt0 = procCpuMs(targetPid);
    const up0 = procCpuMs(upstreamPid);
    const gen0 = process.cpuUsage();
    const all0 = machineBusyMs();
    return () => {
      const wall = performance.now() - t0;
      const tgt = procCpuMs(targetPid) - tgt0;
      const same = targetPid === upstreamPid; // the 'direct' target
      const up = same ? 0 : procCpuMs(upstreamPid) - up0;
      const g = process.cpuUsage(gen0);
      const gen = (g.user + g.system) / 1000;
      const other = machineBusyMs() - all0 - tgt - up - gen;
      const pct = (ms) => (ms / wall) * 100;
      return {
        cpuTargetMs: tgt,
        cpuPct: {
          target: pct(tgt),
          upstream: same ? Number.NaN : pct(up),
          loadgen: pct(gen),
          other: Math.max(0, pct(other)),
        },
      };
    };
  };
}
