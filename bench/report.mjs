// Turning interleaved rounds into one table row per (target, mode, connections),
// and the comparison against the bar. Medians, because on a 2-core machine one
// round can be disturbed by anything else that runs.
export const BAR = { throughputPct: 80, addedP50Ms: 0.5 }; // from the spec

function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
export const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** runs: one object per measured run (target, mode, connections, round, runLoad result). */
export function aggregate(runs, targetNames) {
  const groups = new Map();
  for (const r of runs) {
    const key = `${r.target}|${r.mode}|${r.connections}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const rows = [...groups.values()].map((g) => {
    const rps = median(g.map((r) => r.rps));
    const cpu = (k) => median(g.map((r) => r.cpuPct?.[k]));
    return {
      target: g[0].target,
      mode: g[0].mode,
      connections: g[0].connections,
      rounds: g.length,
      rps,
      spreadPct:
        g.length < 2
          ? Number.NaN
          : ((Math.max(...g.map((r) => r.rps)) - Math.min(...g.map((r) => r.rps))) / rps) * 100,
      p50: median(g.map((r) => r.p50)),
      p99: median(g.map((r) => r.p99)),
      errors: sum(g.map((r) => r.errors + r.incomplete)),
      non2xx: sum(g.map((r) => r.non2xx)),
      cpuUsPerReq: median(g.map((r) => (r.cpuTargetMs * 1000) / r.requests)),
      cpuPct: {
        target: cpu('target'),
        upstream: cpu('upstream'),
        loadgen: cpu('loadgen'),
        other: cpu('other'),
      },
    };
  });
  const order = (r) => [targetNames.indexOf(r.target), r.mode === 'stream' ? 1 : 0, -r.connections];
  return rows.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

/**
 * For each target with `compare`: throughput ratio at N connections and added
 * p50 at 1 connection, each the median of per-round pairs (the two targets ran
 * back to back, so slow drift in background load cancels out). Fills row.vs;
 * returns verdict lines.
 */
export function compare(runs, rows, targets, modes, connections) {
  const pairs = (name, base, mode, conns) => {
    const of = (t) => runs.filter((r) => r.target === t && r.mode === mode && r.connections === conns);
    const b = of(base);
    return of(name)
      .map((g) => [g, b.find((x) => x.round === g.round)])
      .filter(([, x]) => x);
  };
  const row = (t, m, c) => rows.find((r) => r.target === t && r.mode === m && r.connections === c);
  const ok = (b) => (b ? 'PASS' : 'FAIL');
  const verdicts = [];
  // `compare` is one name or a list; the first one fills the table's `vs` column.
  const against = (t) => (t.compare ? [t.compare].flat() : []);
  for (const t of targets) {
    for (const [i, base] of against(t).entries()) {
      for (const mode of modes) {
        const thr = pairs(t.name, base, mode, connections).map(([g, b]) => (g.rps / b.rps) * 100);
        const lat = pairs(t.name, base, mode, 1).map(([g, b]) => g.p50 - b.p50);
        const cpu = pairs(t.name, base, mode, connections).map(
          ([g, b]) => g.cpuTargetMs / g.requests / (b.cpuTargetMs / b.requests),
        );
        if (thr.length === 0 || lat.length === 0) continue;
        const pct = median(thr);
        const added = median(lat);
        if (i === 0) {
          row(t.name, mode, connections).vs = `${fmt(pct)}% req/s`;
          row(t.name, mode, 1).vs = `${added >= 0 ? '+' : ''}${fmt(added, 3)} ms p50`;
        }
        const pad = ' '.repeat(t.name.length + mode.length + 3);
        const range = (xs, d) => `${fmt(Math.min(...xs), d)}..${fmt(Math.max(...xs), d)}`;
        // The bar is for a gateway relay against a baseline ('baseline', 'baseline messages',
        // 'baseline responses'); other comparisons are for information.
        const bar = base.startsWith('baseline');
        verdicts.push(
          `${t.name} ${mode}: throughput ${fmt(pct, 1)}% of ${base} (rounds ${range(thr)}${bar ? `; bar >= ${BAR.throughputPct}%) ${ok(pct >= BAR.throughputPct)}` : ')'}\n` +
            `${pad}added p50 ${fmt(added, 3)} ms at 1 conn (rounds ${range(lat, 3)}${bar ? `; bar < ${BAR.addedP50Ms} ms) ${ok(added < BAR.addedP50Ms)}` : ')'}\n` +
            `${pad}CPU per request ${fmt(median(cpu), 2)}x ${base}'s`,
        );
      }
    }
  }
  return verdicts;
}

export function printTable(rows) {
  const head = [
    'target',
    'mode',
    'conns',
    'req/s',
    '±%',
    'p50 ms',
    'p99 ms',
    'errors',
    'non-2xx',
    'cpu us/req',
    'cpu% tgt/up/gen/other',
    'vs baseline',
  ];
  const cells = rows.map((r) => {
    const c = r.cpuPct;
    return [
      r.target,
      r.mode,
      String(r.connections),
      fmt(r.rps),
      fmt(r.spreadPct),
      fmt(r.p50, 3),
      fmt(r.p99, 3),
      String(r.errors),
      String(r.non2xx),
      fmt(r.cpuUsPerReq),
      [c.target, c.upstream, c.loadgen, c.other].map((x) => fmt(x)).join('/'),
      r.vs ?? '',
    ];
  });
  const all = [head, ...cells];
  const w = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const left = new Set([0, 1, head.length - 1]);
  const line = (row) =>
    row
      .map((c, i) => (left.has(i) ? c.padEnd(w[i]) : c.padStart(w[i])))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const row of cells) console.log(line(row));
}
