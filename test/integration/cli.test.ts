// The CLI as users run it: the built bin in a fresh folder, with only the environment given.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selfSigned } from '../support/certificates.js';
import { BIN, runCli, type ServeProcess, spawnServe, waitForHealth } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir, readRequestLog, writeFiles } from '../support/gateway.js';

const dirs: string[] = [];
const servers: ServeProcess[] = [];
function folder(files: Record<string, string> = {}): string {
  const dir = makeTempDir('ai-proxy-cli-');
  dirs.push(dir);
  writeFiles(dir, files);
  return dir;
}

let upstream: ProviderEmulator;
beforeAll(async () => {
  upstream = await ProviderEmulator.start();
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop('SIGKILL');
  upstream.reset();
});
afterAll(async () => {
  await upstream.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function serve(
  dir: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ server: ServeProcess; port: number }> {
  const port = await freePort();
  const server = spawnServe(['--port', String(port), ...args], { cwd: dir, env });
  servers.push(server);
  await server.waitForLine((line) => line.includes('ai-proxy listening'));
  return { server, port };
}

describe('ai-proxy CLI', () => {
  it('--help lists every command and --version prints the package version', async () => {
    const dir = folder();
    const help = await runCli(['--help'], { cwd: dir });
    expect(help.code).toBe(0);
    for (const command of ['serve|run-server', 'generate-key', 'call', 'models', 'config'])
      expect(help.stdout).toContain(command);
    const serveHelp = await runCli(['serve', '--help'], { cwd: dir });
    for (const flag of ['--host', '--port', '--config', '--reload', '--log-level', '--workers'])
      expect(serveHelp.stdout).toContain(flag);
    const version = await runCli(['--version'], { cwd: dir });
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it('generate-key --length appends a new key each time', async () => {
    const dir = folder();
    const first = await runCli(['generate-key', '--length', '48'], { cwd: dir });
    const second = await runCli(['generate-key'], { cwd: dir });
    expect(first.stdout.trim()).toMatch(/^fwd_[A-Za-z0-9]{48}$/);
    expect(second.stdout.trim()).toMatch(/^fwd_[A-Za-z0-9]{32}$/);
    const lines = readFileSync(join(dir, 'keys', 'forwarder_api_keys.txt'), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toEqual([first.stdout.trim(), second.stdout.trim()]);
    const bad = await runCli(['generate-key', '--length', 'ten'], { cwd: dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--length.*expected an integer/);
  });

  it('config check prints the resolved set-up without secrets, and fails on a bad value', async () => {
    const dir = folder({
      'config.yml': 'model_mappings:\n  fast: groq:llama3-8b-8192\n',
      '.env': 'GROQ_API_KEY=gsk_secret_value\nAPI_KEYS=client-secret-key\n',
    });
    const ok = await runCli(['config', 'check', '--json'], { cwd: dir });
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout) as {
      providers: Record<string, { keys: { id: string }[] }>;
      model_mappings: object;
      client_keys: number;
    };
    expect(summary.providers.groq?.keys[0]?.id).toMatch(/^groq-/);
    expect(summary.model_mappings).toEqual({ fast: ['groq:llama3-8b-8192'] });
    expect(summary.client_keys).toBe(1);
    expect(ok.stdout).not.toContain('gsk_secret_value');
    expect(ok.stdout).not.toContain('client-secret-key');

    writeFileSync(join(dir, 'config.yml'), 'retry:\n  max_attempts: many\n');
    const bad = await runCli(['config', 'check'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/config\.yml: retry\.max_attempts: .*expected number/);
  });

  it('stops quietly when the reader of its output goes away (ai-proxy … | head)', async () => {
    const dir = folder({ '.env': 'OPENAI_API_KEY=sk-test\n' });
    const child = spawn(process.execPath, [BIN, 'config', 'check'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    });
    // The pipe is closed before the command writes anything.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });

  it('config check shows where key limits live, never a Redis password', async () => {
    const dir = folder({
      '.env': 'GROQ_API_KEY=gsk_x\nAPI_KEYS=k\nREDIS_URL=redis://:hunter2secret@127.0.0.1:6379/2\n',
    });
    const ok = await runCli(['config', 'check', '--json'], { cwd: dir });
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout) as {
      key_limits: { mode: string; redis: string; redis_fail_mode: string };
    };
    expect(summary.key_limits).toMatchObject({ mode: 'redis', redis_fail_mode: 'open' });
    expect(summary.key_limits.redis).toBe('redis://:***@127.0.0.1:6379/2');
    expect(ok.stdout).not.toContain('hunter2secret');
    writeFileSync(join(dir, '.env'), 'GROQ_API_KEY=gsk_x\nAPI_KEYS=k\nREDIS_FAIL_MODE=sometimes\n');
    const bad = await runCli(['config', 'check'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('REDIS_FAIL_MODE: expected open or closed');
  });

  it('config check reads the TLS certificate and key as serve would: shows the certificate, fails on a bad pair', async () => {
    const dir = folder({ '.env': 'GROQ_API_KEY=gsk_x\nAPI_KEYS=k\n' });
    const good = selfSigned(dir, 'good');
    const other = selfSigned(dir, 'other');
    writeFileSync(
      join(dir, '.env'),
      `GROQ_API_KEY=gsk_x\nAPI_KEYS=k\nTLS_CERT_FILE=${good.cert}\nTLS_KEY_FILE=${good.key}\n`,
    );
    const ok = await runCli(['config', 'check', '--json'], { cwd: dir });
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout) as { listen: string; tls: Record<string, unknown> };
    expect(summary.listen).toMatch(/^https:\/\//);
    expect(summary.tls).toMatchObject({ cert_file: good.cert, key_file: good.key });
    expect(String(summary.tls.subject)).toContain('CN=localhost');
    expect(ok.stdout).not.toContain(readFileSync(good.key, 'utf8').split('\n')[1]);
    // The key of another certificate: refused here, naming both files, before a serve would fail.
    writeFileSync(
      join(dir, '.env'),
      `GROQ_API_KEY=gsk_x\nAPI_KEYS=k\nTLS_CERT_FILE=${good.cert}\nTLS_KEY_FILE=${other.key}\n`,
    );
    const bad = await runCli(['config', 'check'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`TLS_KEY_FILE ${other.key} is not the private key of the certificate`);
  });

  it('models lists aliases and provider models with their source', async () => {
    const dir = folder({
      'config.yml':
        'model_mappings:\n  smart: openai:gpt-4o\nproviders:\n  groq:\n    models: [llama3-8b-8192]\n',
      '.env': 'OPENAI_API_KEY=sk-x\nGROQ_API_KEY=gsk-x\n',
    });
    const table = await runCli(['models'], { cwd: dir });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/smart\s+alias\s+openai/);
    expect(table.stdout).toMatch(/groq:llama3-8b-8192\s+provider\s+groq/);
    const json = await runCli(['models', '--json'], { cwd: dir });
    const ids = (JSON.parse(json.stdout) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toEqual(['smart', 'groq:llama3-8b-8192']);
  });

  it('serve stops with a clear message on a bad configuration, and refuses to run open off loopback', async () => {
    const dir = folder({ 'config.yml': 'port: "not a port"\n' });
    const bad = await runCli(['serve'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/config\.yml: port: .*expected number/);
    const open = await runCli(['run-server', '--host', '0.0.0.0', '--port', '0'], { cwd: folder() });
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(/No client key is configured.*not a loopback address/);
  });

  it('--log-level none (and LOG_LEVEL=NONE) prints nothing', async () => {
    const dir = folder({ '.env': `API_KEYS=k\nOPENAI_API_KEY=sk-x\nOPENAI_BASE_URL=${upstream.url}/v1\n` });
    const port = await freePort();
    const server = spawnServe(['--port', String(port), '--log-level', 'none'], {
      cwd: dir,
      env: { LOG_LEVEL: 'info' },
    });
    servers.push(server);
    await waitForHealth(server, `http://127.0.0.1:${port}`);
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'k', maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    await server.stop('SIGTERM');
    expect(server.stdoutLines.filter((l) => l !== '')).toEqual([]);
    expect(server.stderr()).toBe('');
  });

  it('SIGTERM finishes the request in flight and flushes every record', async () => {
    const dir = folder({ '.env': `API_KEYS=k\nOPENAI_API_KEY=sk-x\nOPENAI_BASE_URL=${upstream.url}/v1\n` });
    const { server, port } = await serve(dir);
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'k', maxRetries: 0 });
    for (let i = 0; i < 5; i++)
      await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: `q${i}` }],
      });
    upstream.enqueue({ kind: 'chat', delayMs: 500, content: 'slow answer' });
    const slow = client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'slow' }],
    });
    await upstream.waitForRequests(6);
    const code = await server.stop('SIGTERM');
    expect((await slow).choices[0]?.message.content).toBe('slow answer');
    expect(code).toBe(0);
    expect(readRequestLog(join(dir, 'logs')).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('SIGHUP reloads the configuration without a restart; --reload watches the file', async () => {
    const dir = folder({
      '.env': `API_KEYS=k\nOPENAI_API_KEY=sk-x\nOPENAI_BASE_URL=${upstream.url}/v1\n`,
      'config.yml': 'model_mappings:\n  house: openai:gpt-4o-mini\n',
    });
    const { server, port } = await serve(dir, ['--reload']);
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'k', maxRetries: 0 });
    const before = await client.chat.completions.create({
      model: 'house',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(before.model).toBe('gpt-4o-mini');

    writeFileSync(join(dir, 'config.yml'), 'model_mappings:\n  house: openai:gpt-4o\n');
    server.child.kill('SIGHUP');
    await server.waitForLine((line) => line.includes('configuration reloaded'));
    const after = await client.chat.completions.create({
      model: 'house',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(after.model).toBe('gpt-4o');

    writeFileSync(join(dir, 'config.yml'), 'model_mappings:\n  house: openai:o3-mini\n');
    const reloads = () => server.stdoutLines.filter((l) => l.includes('configuration reloaded')).length;
    const seen = reloads();
    for (let i = 0; i < 50 && reloads() === seen; i++) await new Promise((r) => setTimeout(r, 100));
    const watched = await client.chat.completions.create({
      model: 'house',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(watched.model).toBe('o3-mini');
  });
});

describe('serve --workers', () => {
  it('runs N worker processes on one port and stops them all on SIGTERM', async () => {
    const dir = folder({ '.env': `API_KEYS=k\nOPENAI_API_KEY=sk-x\nOPENAI_BASE_URL=${upstream.url}/v1\n` });
    const port = await freePort();
    const server = spawnServe(['--port', String(port), '--workers', '2'], { cwd: dir });
    servers.push(server);
    const listening = () => server.stdoutLines.filter((l) => l.includes('ai-proxy listening'));
    await server.waitForLine((line) => line.includes('ai-proxy listening') && listening().length >= 2);
    const pids = new Set(listening().map((l) => (JSON.parse(l) as { pid: number }).pid));
    expect(pids.size).toBe(2);
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'k', maxRetries: 0 });
    for (let i = 0; i < 4; i++) {
      const answer = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(answer.choices[0]?.message.content).toContain('gpt-4o');
    }
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(readRequestLog(join(dir, 'logs')).length).toBe(4);
  });
});
