// What a new user meets at the CLI (issue 12 §6): the built bin as a child process in a fresh
// folder, with only the environment given.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli, type ServeProcess, spawnServe } from '../support/cli.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

const dirs: string[] = [];
const servers: ServeProcess[] = [];
function folder(files: Record<string, string> = {}): string {
  const dir = makeTempDir('ai-proxy-cli-new-');
  dirs.push(dir);
  writeFiles(dir, files);
  return dir;
}
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop('SIGKILL');
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Every object key in a JSON value, except the keys of maps whose keys are data (names, models). */
function fieldNames(value: unknown, dataMaps: ReadonlySet<string>, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) fieldNames(item, dataMaps, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      out.push(key);
      if (dataMaps.has(key) && typeof inner === 'object' && inner !== null) {
        for (const entry of Object.values(inner)) fieldNames(entry, dataMaps, out);
      } else {
        fieldNames(inner, dataMaps, out);
      }
    }
  }
  return out;
}

describe('the CLI for a new user', () => {
  it('serve --help names every config path read by default', async () => {
    const help = await runCli(['serve', '--help'], { cwd: folder() });
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const path of ['./config.yml', './config.yaml', './config.json', 'CONFIG_PATH']) {
      expect(text).toContain(path);
    }
  });

  it('config check prints the config file’s snake_case names, never camelCase', async () => {
    const dir = folder({
      'config.yml':
        'timeouts:\n  connect_ms: 5000\nretry:\n  max_attempts: 3\nprices:\n  gpt-4o-mini: { prompt_1k: 0.1, completion_1k: 0.2 }\n',
      '.env': 'OPENAI_API_KEY=sk-fake\n',
    });
    const json = await runCli(['config', 'check', '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as Record<string, Record<string, unknown>>;
    expect(summary.timeouts).toMatchObject({ connect_ms: 5000, first_byte_ms: 120_000 });
    expect(summary.retry).toMatchObject({ max_attempts: 3, retries_per_target: 1 });
    expect(summary.prices).toEqual({ 'gpt-4o-mini': { prompt_1k: 0.1, completion_1k: 0.2 } });
    expect(summary).toMatchObject({ log_level: 'info', log_bodies: true });
    const camel = fieldNames(summary, new Set(['providers', 'model_mappings', 'prices'])).filter((key) =>
      /[a-z][A-Z]|[a-z]\d/.test(key),
    );
    expect(camel).toEqual([]);
    const text = await runCli(['config', 'check'], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^timeouts: /m);
    expect(text.stdout).not.toMatch(/"[a-z]+[A-Z]\w*":|^[a-z]+[A-Z]\w*:/m);
  });

  it('a bad value in .env is reported as coming from the .env file, with its path', async () => {
    const dir = folder({ '.env': 'OPENAI_API_KEY=sk-fake\nTIMEOUT_TOTAL_MS=soon\n' });
    const fromFile = await runCli(['config', 'check'], { cwd: dir });
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr).toContain(
      `.env file ${join(dir, '.env')}: TIMEOUT_TOTAL_MS: expected an integer`,
    );
    expect(fromFile.stderr).not.toContain('environment variable');
    // The same bad value from the real environment (which wins over .env) is named as such.
    const fromEnv = await runCli(['config', 'check'], { cwd: dir, env: { TIMEOUT_TOTAL_MS: 'later' } });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain('environment variable TIMEOUT_TOTAL_MS: expected an integer');
    expect(fromEnv.stderr).toContain('"later"');
  });

  it('a key from generate-key works against a running server (no --reload) within ~2 s', async () => {
    const dir = folder();
    const port = await freePort();
    const server = spawnServe(['--port', String(port)], {
      cwd: dir,
      env: { API_KEYS: 'first-client-key', LOG_DIR: join(dir, 'logs') },
    });
    servers.push(server);
    await server.waitForLine((line) => line.includes('ai-proxy listening'));
    const models = (key: string) =>
      fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${key}` } });

    const generated = await runCli(['generate-key'], { cwd: dir });
    expect(generated.code).toBe(0);
    expect(generated.stderr).toMatch(/no restart needed/);
    const key = generated.stdout.trim();
    const appended = Date.now();
    let status = 0;
    while (Date.now() - appended < 2_500) {
      status = (await models(key)).status;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    expect(Date.now() - appended).toBeLessThan(2_500);
    // The keys from the environment still work, and an unknown key still does not.
    expect((await models('first-client-key')).status).toBe(200);
    expect((await models('fwd_not-a-key')).status).toBe(401);
  });

  it('progress without a terminal: a small bundle prints a few lines, not one per 10%', async () => {
    const dir = folder();
    const logDir = join(dir, 'logs');
    mkdirSync(join(logDir, 'requests'), { recursive: true });
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const file = join(logDir, 'requests', `${day}.jsonl`);
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) lines.push(recordLine(i, new Date(now - 60_000 + i)));
    writeFileSync(file, lines.join(''));
    expect(statSync(file).size).toBeGreaterThan(350_000);
    const env = { LOG_DIR: logDir };
    const ingest = await runCli(['logs', 'ingest'], { cwd: dir, env, timeoutMs: 30_000 });
    expect(ingest.code, ingest.stderr).toBe(0);
    const out = join(dir, 'b.tgz');
    const created = await runCli(['logs', 'bundle', 'create', '--include-raw', '--out', out], {
      cwd: dir,
      env,
      timeoutMs: 30_000,
    });
    expect(created.code, created.stderr).toBe(0);
    const stderrLines = created.stderr.split('\n').filter((line) => line !== '');
    // One end line per phase (snapshot, checksum, write), no percent lines for a job this short.
    expect(stderrLines.length, created.stderr).toBeLessThanOrEqual(4);
    expect(created.stderr).toMatch(/bundle write: done/);
    expect(created.stderr).not.toMatch(/\d+% \(/);
    const verified = await runCli(['logs', 'bundle', 'verify', out], { cwd: dir, env, timeoutMs: 30_000 });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr.split('\n').filter((line) => line !== '').length).toBeLessThanOrEqual(2);
  });
});

/** One request-log record of about 1 KB, as the gateway writes them. */
function recordLine(i: number, time: Date): string {
  return `${JSON.stringify({
    id: `req_${String(i).padStart(8, '0')}`,
    client_request_id: null,
    time: time.toISOString(),
    server_id: 'srv_progress',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: 'key1',
    client_ip: '127.0.0.1',
    user_agent: 'test',
    dialog_id: null,
    model_requested: 'gpt-4',
    model_mapped: 'openai/gpt-4',
    provider: 'openrouter',
    key_id: 'openrouter-0001',
    status: 200,
    latency_ms: 12.5,
    ttfb_ms: 4,
    overhead_ms: 0.3,
    stream: false,
    attempts: [{ provider: 'openrouter', status: 200 }],
    usage: { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 },
    cost: 0.0001,
    request: {
      model: 'gpt-4',
      messages: [
        { role: 'system', content: `You are a helpful assistant for record ${i}. ${'Context. '.repeat(60)}` },
        { role: 'user', content: `Question ${i}: how do lighthouses signal ships at night?` },
      ],
    },
    response: { choices: [{ message: { role: 'assistant', content: `Answer ${i}: with beams.` } }] },
    error: null,
  })}\n`;
}
