// Small closed-loop load generator on undici's Pool: `connections` workers, each
// sending its next request as soon as the previous response body has been read
// to the end. Only complete 2xx answers count towards req/s and latency, so a
// target that fails fast cannot look fast.
import { Pool } from 'undici';

/**
 * @param {object} o
 * @param {string} o.url         origin, e.g. http://127.0.0.1:8080
 * @param {string} o.path        request path
 * @param {object} o.headers     request headers
 * @param {Buffer} o.body        request body (sent as is)
 * @param {number} o.connections concurrent connections = concurrent requests
 * @param {number} o.durationMs  measured time
 * @param {number} [o.warmupMs]  unmeasured load first, on the same connections
 * @param {string} [o.streamEnd] marker a complete stream body must end with
 * @param {() => () => object} [o.probe] called when the measured phase starts; the
 *        function it returns is called when it ends, and its result is merged in
 */
export async function runLoad(o) {
  const pool = new Pool(o.url, {
    connections: o.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    // A hung target must not hang the benchmark.
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const req = { path: o.path, method: 'POST', headers: o.headers, body: o.body };
  const marker = o.streamEnd ? Buffer.from(o.streamEnd) : null;
  try {
    if (o.warmupMs > 0) await phase(pool, req, marker, o.connections, o.warmupMs);
    const stopProbe = o.probe?.();
    const result = await phase(pool, req, marker, o.connections, o.durationMs);
    return { ...result, ...stopProbe?.() };
  } finally {
    await pool.destroy();
  }
}

async function phase(pool, req, marker, connections, durationMs) {
  const latencies = [];
  let errors = 0; // network errors, timeouts
  let non2xx = 0;
  let incomplete = 0; // 2xx stream that did not end with the marker
  const start = performance.now();
  const end = start + durationMs;

  async function worker() {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const { statusCode, body } = await pool.request(req);
        let prev = null;
        let last = null;
        for await (const chunk of body) {
          prev = last;
          last = chunk;
        }
        const t1 = performance.now();
        if (statusCode < 200 || statusCode > 299) non2xx++;
        else if (marker && !endsWithMarker(prev, last, marker)) incomplete++;
        else latencies.push(t1 - t0);
      } catch {
        errors++;
        await new Promise((r) => setTimeout(r, 10)); // no hot loop on ECONNREFUSED
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsedMs = performance.now() - start;

  const sorted = Float64Array.from(latencies).sort();
  return {
    connections,
    requests: sorted.length,
    rps: sorted.length / (elapsedMs / 1000),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors,
    non2xx,
    incomplete,
    elapsedMs,
  };
}

// The marker may straddle the last two chunks; SSE ends it with blank lines.
function endsWithMarker(prev, last, marker) {
  if (!last) return false;
  const tail = last.length >= marker.length + 8 || !prev ? last : Buffer.concat([prev, last]);
  return tail.subarray(-(marker.length + 8)).includes(marker);
}

// Nearest-rank percentile of an ascending array; NaN when empty.
function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}
