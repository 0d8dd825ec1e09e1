// C002's log part (SPEC §10): with the seed's set-up (GEMINI_API_KEY, gemini-pro mapped to the
// native Gemini API), the seed's log-store workflow runs on the gateway's real request log:
// `logs init`, `logs ingest --from ./logs --since D --to D`, `logs fts build --since D --to D`,
// then search. (Bundle create, transfer and import are the bundle commands' own tests.)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServeProcess, spawnServe } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

describe('C002: the seed log-store workflow on real request logs', () => {
  let gemini: ProviderEmulator;
  let dir: string;
  let server: ServeProcess;
  let port: number;

  beforeAll(async () => {
    gemini = await ProviderEmulator.start();
    dir = makeTempDir('ai-proxy-c002-logs-');
    port = await freePort();
    writeFiles(dir, {
      '.env': [
        'API_KEYS=your-secret-key-1',
        'GEMINI_API_KEY=AIza-c002-secret',
        `GEMINI_BASE_URL=${gemini.url}/v1beta`,
        'LOGDB_PARTITION_GRANULARITY=daily',
      ].join('\n'),
      'config.yml': 'model_mappings:\n  "gemini-pro": "gemini:gemini-1.5-pro-latest"\n',
    });
    server = spawnServe(['--port', String(port)], { cwd: dir });
    await server.waitForLine((line) => line.includes('ai-proxy listening'));
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await gemini?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('init, ingest, fts build and search work on the gateway log', async () => {
    const ask = (content: string, stream: boolean) =>
      fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer your-secret-key-1', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-pro', stream, messages: [{ role: 'user', content }] }),
      }).then(async (r) => {
        expect(r.status).toBe(200);
        await r.text();
      });
    gemini.enqueue({ kind: 'chat', content: 'The capital of France is Paris.' });
    await ask('What is the capital of France?', false);
    gemini.enqueue({ kind: 'chat', content: 'Gemini streams its answer about volcanoes.' });
    await ask('Tell me about volcanoes', true);
    // The request log is written off the request path; a graceful stop flushes it.
    expect(await server.stop('SIGTERM')).toBe(0);

    const today = new Date().toISOString().slice(0, 10);
    const cli = (args: string[]) => runCli(['logs', ...args], { cwd: dir, timeoutMs: 30_000 });
    const init = await cli(['init']);
    expect(init.code, init.stderr).toBe(0);
    const ingest = await cli(['ingest', '--from', './logs', '--since', today, '--to', today]);
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stdout).toContain('ingested 2 new records');
    const fts = await cli(['fts', 'build', '--since', today, '--to', today]);
    expect(fts.code, fts.stderr).toBe(0);
    expect(fts.stdout).toContain('indexed 2 requests in 1 partitions');

    const found = JSON.parse((await cli(['search', 'capital NEAR/3 France', '--json'])).stdout);
    expect(found.hits).toHaveLength(1);
    expect(found.hits[0]).toMatchObject({ model: 'gemini-pro', status: 200 });
    const streamed = JSON.parse((await cli(['search', 'volcan*', '--json'])).stdout);
    expect(streamed.hits).toHaveLength(1);
    const shown = JSON.parse((await cli(['show', streamed.hits[0].request_id])).stdout);
    expect(shown).toMatchObject({ stream: true, provider: 'gemini', model_mapped: 'gemini-1.5-pro-latest' });
    expect(shown.response.choices[0].message.content).toBe('Gemini streams its answer about volcanoes.');
    expect(shown.partition).toBe(
      join(
        dir,
        'logs',
        'db',
        today.slice(0, 4),
        today.slice(5, 7),
        `ai_proxy_${today.replace(/-/g, '')}.sqlite3`,
      ),
    );
  });
});
