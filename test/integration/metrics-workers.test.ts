// Under `serve --workers 2` one scrape shows the whole server: requests spread over both workers
// (a new connection each, which the cluster hands out in turn) are all counted whichever worker
// answers GET /metrics, and the primary's own metrics (the log store's ingest) appear once.
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir } from '../support/gateway.js';
import { parsePrometheus, samplesOf, sampleValue } from '../support/prometheus-text.js';

const CLIENT_KEY = 'workers-metrics-client-key-0001';
const REQUESTS = 12;

/** One request on its own connection, so the cluster may give it to either worker. */
function send(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${url}${path}`,
      {
        method,
        agent: false,
        headers: {
          connection: 'close',
          authorization: `Bearer ${CLIENT_KEY}`,
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

describe('/metrics under serve --workers', () => {
  let openai: ProviderEmulator;
  let server: ServeProcess;
  let url: string;
  const dir = makeTempDir('ai-proxy-metrics-workers-');

  beforeAll(async () => {
    openai = await ProviderEmulator.start();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawnServe(['--workers', '2', '--port', String(port)], {
      cwd: dir,
      env: {
        API_KEYS: CLIENT_KEY,
        OPENAI_API_KEY: 'sk-workers-metrics-secret',
        OPENAI_BASE_URL: `${openai.url}/v1`,
        LOGDB_ENABLED: 'true',
        LOGDB_INGEST_INTERVAL_MS: '100',
      },
    });
    // Both workers listen before any traffic.
    const deadline = Date.now() + 20_000;
    while (server.stdoutLines.filter((line) => line.includes('ai-proxy listening on')).length < 2) {
      if (Date.now() > deadline || server.child.exitCode !== null) {
        throw new Error(`the workers did not come up; stderr: ${server.stderr()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    await openai?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every scrape counts every request, whichever worker served it and whichever answers', async () => {
    openai.setDefault({ kind: 'chat', usage: { prompt_tokens: 10, completion_tokens: 2 } });
    for (let i = 0; i < REQUESTS; i++) {
      const answer = await send(url, 'POST', '/v1/chat/completions', {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `Hi ${i}` }],
      });
      expect(answer.status).toBe(200);
    }
    // The request logs are written and accounted within ~50 ms of each answer.
    await new Promise((resolve) => setTimeout(resolve, 500));

    for (let scrape = 0; scrape < 6; scrape++) {
      const { status, text } = await send(url, 'GET', '/metrics');
      expect(status).toBe(200);
      const samples = parsePrometheus(text);
      const labels = {
        route: '/v1/chat/completions',
        provider: 'openai',
        model: 'gpt-4o-mini',
        status: '200',
      };
      const requests = samplesOf(samples, 'ai_proxy_requests_total', labels);
      expect(requests).toHaveLength(1);
      expect(requests[0]!.value).toBe(REQUESTS);
      const tokens = samplesOf(samples, 'ai_proxy_tokens_total', { provider: 'openai', type: 'input' });
      expect(tokens.reduce((sum, s) => sum + s.value, 0)).toBe(10 * REQUESTS);
      expect(
        sampleValue(samples, 'gen_ai_client_operation_duration_seconds_count', {
          gen_ai_operation_name: 'chat',
          gen_ai_provider_name: 'openai',
          gen_ai_request_model: 'gpt-4o-mini',
        }),
      ).toBe(REQUESTS);
      // The primary's ingest metrics, once.
      expect(samplesOf(samples, 'ai_proxy_logstore_ingest_passes_total')).toHaveLength(1);
      // Process metrics are the workers' summed.
      expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    }
    expect(server.stderr()).not.toContain('metrics could not be gathered');
  }, 60_000);
});
