// A graceful stop keeps the record of every exchange that got a response: a stream that outlives
// the grace period is cut (the client gets an error event and the end) and its record says so; a
// stream that ends within it is recorded complete. The records are read from the JSONL files under
// the data dir after the stop, as an operator would.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/server/start.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, makeTempDir, readRequestLog } from '../support/gateway.js';

const WORDS = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

describe('a graceful stop and streams in flight', () => {
  let upstream: ProviderEmulator;
  const dirs: string[] = [];

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await upstream.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function start(graceMs: number) {
    const dir = makeTempDir('ai-proxy-stop-');
    dirs.push(dir);
    const processLog: string[] = [];
    const gateway = await startGateway({
      cwd: dir,
      env: {
        API_KEYS: CLIENT_KEY,
        OPENAI_API_KEY: 'sk-stop-test-0001',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        LOG_DIR: join(dir, 'logs'),
      },
      flags: { host: '127.0.0.1', port: 0 },
      logDestination: { write: (line: string) => void processLog.push(line) },
      shutdownTimeoutMs: graceMs,
    });
    return { gateway, logDir: join(dir, 'logs'), processLog };
  }

  /** Starts a stream, waits for its first bytes, and returns the request id and the rest of the body. */
  async function openStream(url: string): Promise<{ id: string; rest: Promise<string>; first: string }> {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = decoder.decode((await reader.read()).value);
    const rest = (async () => {
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    })();
    return { id: response.headers.get('x-request-id')!, rest, first };
  }

  it('a stream that outlives the grace period is cut, and its record says it was cut', async () => {
    // ~60 chunks 100 ms apart: about 6 s, far past a 300 ms grace period.
    upstream.setDefault({ kind: 'chat', content: WORDS(60), chunkDelayMs: 100 });
    const { gateway, logDir, processLog } = await start(300);
    const stream = await openStream(gateway.url);
    const started = Date.now();
    await gateway.stop();
    // The stop kept to its grace period (plus the moment the cut takes), not the stream's 6 s.
    expect(Date.now() - started).toBeLessThan(3_000);
    const body = stream.first + (await stream.rest);
    expect(body).toContain('"code":"shutting_down"');
    expect(body).not.toContain('[DONE]');
    expect(processLog.some((line) => line.includes('grace period over'))).toBe(true);

    const records = readRequestLog(logDir).filter((r) => r.id === stream.id);
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record.stream).toBe(true);
    expect(record.status).toBe(200);
    expect(record.error).toMatchObject({ code: 'shutting_down' });
    expect(String((record.error as { message: string }).message)).toContain('cut before its end');
  }, 20_000);

  it('a stream that ends within the grace period is recorded complete', async () => {
    upstream.setDefault({ kind: 'chat', content: WORDS(8), chunkDelayMs: 50 });
    const { gateway, logDir } = await start(5_000);
    const stream = await openStream(gateway.url);
    await gateway.stop();
    const body = stream.first + (await stream.rest);
    expect(body).toContain('[DONE]');
    const records = readRequestLog(logDir).filter((r) => r.id === stream.id);
    expect(records).toHaveLength(1);
    expect(records[0]!.error).toBeNull();
    expect(records[0]!.status).toBe(200);
    expect(
      (records[0]!.response as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
    ).toBe(WORDS(8));
  }, 20_000);
});
