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
 * @param {string | {event: string}} [o.streamEnd] what a complete stream body ends with: a
 *        marker (its last bytes), or `{ event }`: its last SSE event is whole and named so (for a
 *        last event whose bytes vary, e.g. the gateway's own response.completed)
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
  const marker =
    typeof o.streamEnd === 'string'
      ? Buffer.from(o.streamEnd)
      : o.streamEnd
        ? lastEventCheck(o.streamEnd.event)
        : null;
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
        const kept = typeof marker === 'function' ? [] : null;
        for await (const chunk of body) {
          prev = last;
          last = chunk;
          kept?.push(chunk);
        }
        const t1 = performance.now();
        if (statusCode < 200 || statusCode > 299) non2xx++;
        else if (kept && !marker(kept)) incomplete++;
        else if (marker && !kept && !endsWithMarker(prev, last, marker)) incomplete++;
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

// A check of a stream's last event: the body ends with a blank line, and the text from the
// previous blank line on is `event: <name>` with a data line that is one JSON object of that type.
// It looks at the last 16 KB only (the chunks that hold them, joined once per answer).
function lastEventCheck(name) {
  const head = `event: ${name}\ndata: {`;
  const type = `"type":"${name}"`;
  return (chunks) => {
    let i = chunks.length;
    let bytes = 0;
    while (i > 0 && bytes < 16384) bytes += chunks[--i].length;
    const text = Buffer.concat(chunks.slice(i)).toString('utf8');
    if (!text.endsWith('}\n\n')) return false;
    const start = text.lastIndexOf('\n\n', text.length - 3) + 2; // 1 when the stream is one event
    const event = text.slice(start > 1 ? start : 0);
    return event.startsWith(head) && event.includes(type) && event.indexOf('\n\n') === event.length - 2;
  };
}

// Nearest-rank percentile of an ascending array; NaN when empty.
function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}
