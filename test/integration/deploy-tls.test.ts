// Native TLS: TLS_CERT_FILE and TLS_KEY_FILE with certificates made here by openssl. The gateway
// serves the openai SDK over HTTPS with HSTS; a missing, unreadable or mismatched key stops the
// start with a message naming the file; SIGHUP swaps a renewed certificate in for new connections
// while a keep-alive connection and a stream in flight go on, and a bad renewal keeps the old one.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/server/start.js';
import { caSigned, selfSigned } from '../support/certificates.js';
import { BIN, spawnServe } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { CLIENT_KEY, makeTempDir } from '../support/gateway.js';

let upstream: ProviderEmulator;
const dirs: string[] = [];
function tempDir(): string {
  const dir = makeTempDir('ai-proxy-tls-');
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  upstream = await ProviderEmulator.start();
});
afterAll(async () => {
  await upstream.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function gatewayEnv(dir: string, tls: { cert: string; key: string }): Record<string, string> {
  return {
    API_KEYS: CLIENT_KEY,
    OPENAI_API_KEY: 'sk-tls-test-0001',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    LOG_DIR: join(dir, 'logs'),
    TLS_CERT_FILE: tls.cert,
    TLS_KEY_FILE: tls.key,
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  socket: TLSSocket;
  fingerprint: string;
}

/** One GET over HTTPS with `agent`, telling which socket and which server certificate it used. */
function get(url: string, agent: HttpsAgent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { agent }, (res) => {
      const socket = res.socket as TLSSocket;
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          socket,
          fingerprint: socket.getPeerCertificate().fingerprint256,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** The CLI run to its end, optionally as another user; its exit code and stderr. */
function serveOnce(
  args: string[],
  options: { cwd: string; env: Record<string, string>; uid?: number; gid?: number },
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.cwd, ...options.env },
      uid: options.uid,
      gid: options.gid,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('native TLS', () => {
  it('serves the openai SDK over HTTPS with a certificate from a private CA, with HSTS', async () => {
    const dir = tempDir();
    const pki = caSigned(dir);
    const gateway = await startGateway({
      cwd: dir,
      env: gatewayEnv(dir, pki),
      flags: { host: '127.0.0.1', port: 0 },
      logDestination: { write: () => undefined },
    });
    try {
      expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const dispatcher = new Agent({ connect: { ca: readFileSync(pki.ca, 'utf8') } });
      const client = new OpenAI({
        baseURL: `https://localhost:${gateway.port}/v1`,
        apiKey: CLIENT_KEY,
        fetch: undiciFetch as unknown as typeof fetch,
        fetchOptions: { dispatcher } as Record<string, unknown>,
      });
      upstream.setDefault({ kind: 'chat', content: 'Hello over TLS' });
      const { data, response } = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
        .withResponse();
      expect(data.choices[0]?.message.content).toBe('Hello over TLS');
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      // Fastify's routes get it too.
      const health = await undiciFetch(`https://localhost:${gateway.port}/health`, { dispatcher });
      expect(health.status).toBe(200);
      expect(health.headers.get('strict-transport-security')).toContain('max-age=31536000');
      // A client that does not trust the CA is refused at the handshake.
      await expect(undiciFetch(`https://localhost:${gateway.port}/health`)).rejects.toThrow();
      await dispatcher.close();
    } finally {
      await gateway.stop();
    }
  });

  it('HSTS_MAX_AGE=0 sends no Strict-Transport-Security header', async () => {
    const dir = tempDir();
    const pair = selfSigned(dir);
    const gateway = await startGateway({
      cwd: dir,
      env: { ...gatewayEnv(dir, pair), HSTS_MAX_AGE: '0' },
      flags: { host: '127.0.0.1', port: 0 },
      logDestination: { write: () => undefined },
    });
    try {
      const agent = new HttpsAgent({ ca: readFileSync(pair.cert) });
      const answer = await get(`https://localhost:${gateway.port}/health`, agent);
      expect(answer.status).toBe(200);
      expect(answer.headers['strict-transport-security']).toBeUndefined();
      agent.destroy();
    } finally {
      await gateway.stop();
    }
  });

  it('refuses a missing key file, a key of another certificate and a file that is not a certificate', async () => {
    const dir = tempDir();
    const pair = selfSigned(dir);
    const other = selfSigned(dir, 'other');
    const start = (tls: { cert: string; key: string }) =>
      startGateway({
        cwd: dir,
        env: gatewayEnv(dir, tls),
        flags: { host: '127.0.0.1', port: 0 },
        logDestination: { write: () => undefined },
      });
    const missing = join(dir, 'missing.key');
    await expect(start({ cert: pair.cert, key: missing })).rejects.toThrow(
      `TLS_KEY_FILE ${missing}: cannot read it: no such file.`,
    );
    await expect(start({ cert: pair.cert, key: other.key })).rejects.toThrow(
      `TLS_KEY_FILE ${other.key} is not the private key of the certificate in TLS_CERT_FILE ${pair.cert}.`,
    );
    await expect(start({ cert: pair.key, key: pair.key })).rejects.toThrow(
      `TLS_CERT_FILE ${pair.key}: not a PEM certificate`,
    );
  });

  it('refuses an unreadable key file from the CLI, naming the file and the user', async () => {
    const dir = tempDir();
    const pair = selfSigned(dir);
    chmodSync(pair.key, 0o600);
    const asRoot = process.getuid?.() === 0;
    // root reads any file: the gateway is run as nobody instead, as a container's user would be.
    if (asRoot) chmodSync(dir, 0o755);
    else chmodSync(pair.key, 0o000);
    const port = await freePort();
    const result = await serveOnce(['serve', '--port', String(port)], {
      cwd: dir,
      env: { API_KEYS: CLIENT_KEY, TLS_CERT_FILE: pair.cert, TLS_KEY_FILE: pair.key },
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`TLS_KEY_FILE ${pair.key}: cannot read it: permission denied`);
    expect(result.stderr).toContain(`the gateway runs as uid ${asRoot ? 65534 : process.getuid?.()}`);
  });

  it('reloads a renewed certificate on SIGHUP without dropping a keep-alive connection or a stream', async () => {
    const dir = tempDir();
    const first = selfSigned(dir, 'first');
    const renewed = selfSigned(dir, 'renewed');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(first.cert, live.cert);
    copyFileSync(first.key, live.key);
    const port = await freePort();
    const server = spawnServe(['--port', String(port)], { cwd: dir, env: gatewayEnv(dir, live) });
    try {
      await server.waitForLine((line) => line.includes('serving TLS certificate'), 30_000);
      const url = `https://localhost:${port}`;
      const trustBoth = [readFileSync(first.cert), readFileSync(renewed.cert)];
      const kept = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: trustBoth });
      const before = await get(`${url}/health`, kept);
      expect(before.fingerprint).toBe(fingerprintOf(first.cert));

      // A stream in flight across the reload.
      upstream.setDefault({
        kind: 'chat',
        content: Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '),
        chunkDelayMs: 100,
      });
      const dispatcher = new Agent({ connect: { ca: trustBoth.map((b) => b.toString()) } });
      const stream = undiciFetch(`${url}/v1/chat/completions`, {
        dispatcher,
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'Hi' }],
        }),
      }).then((response) => response.text());

      copyFileSync(renewed.cert, live.cert);
      copyFileSync(renewed.key, live.key);
      server.child.kill('SIGHUP');
      const reloaded = await server.waitForLine((line) => line.includes('TLS certificate reloaded'));
      expect(JSON.parse(reloaded).sha256).toBe(fingerprintOf(renewed.cert));

      // The open connection goes on with the certificate it was made with.
      const again = await get(`${url}/health`, kept);
      expect(again.socket).toBe(before.socket);
      expect(again.status).toBe(200);
      expect(again.fingerprint).toBe(fingerprintOf(first.cert));
      // A new connection gets the renewed one.
      const fresh = new HttpsAgent({ ca: trustBoth });
      const after = await get(`${url}/health`, fresh);
      expect(after.fingerprint).toBe(fingerprintOf(renewed.cert));
      const body = await stream;
      expect(body).toContain('w19');
      expect(body).toContain('[DONE]');

      // A bad renewal (a key that is not the certificate's) is refused; the renewed one stays.
      copyFileSync(first.key, live.key);
      server.child.kill('SIGHUP');
      const refused = await server.waitForLine((line) => line.includes('reload failed'));
      expect(refused).toContain('is not the private key of the certificate');
      const still = await get(`${url}/health`, new HttpsAgent({ ca: trustBoth }));
      expect(still.fingerprint).toBe(fingerprintOf(renewed.cert));

      kept.destroy();
      fresh.destroy();
      await dispatcher.close();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);
});
