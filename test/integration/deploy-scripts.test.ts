// The deployment scripts, run as a user runs them: shellcheck (Debian's package) passes on each;
// setup-https.sh, run non-interactively in a fresh checkout, writes the expected .env from
// .env.example and completes an existing one without losing a value; test-https.sh passes against
// a real HTTPS gateway (native TLS with a private CA's certificate, and a redirecting HTTP port)
// and fails, naming the check, when the certificate is not trusted or HTTP does not redirect;
// deploy-production.sh with a local folder as DEPLOY_HOST updates the code, keeps what the server
// owns, restarts the gateway and waits for /health, and its --dry-run changes nothing.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type RunningGateway, startGateway } from '../../src/server/start.js';
import { caSigned } from '../support/certificates.js';
import { BIN } from '../support/cli.js';
import { freePort } from '../support/free-port.js';
import { CLIENT_KEY, makeTempDir, writeFiles } from '../support/gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPTS = ['scripts/setup-https.sh', 'scripts/test-https.sh', 'scripts/deploy-production.sh'];
const ENV_EXAMPLE = readFileSync(join(ROOT, '.env.example'), 'utf8');

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script with only the given environment (and PATH), stdin closed: not a terminal. */
function runScript(script: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh checkout holding the given repository files. */
function checkout(files: string[]): string {
  const dir = tempDir('ai-proxy-scripts-');
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  return dir;
}

const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
const requireShellcheck = process.env.REQUIRE_SHELLCHECK === '1';

describe('shellcheck', () => {
  it.skipIf(!shellcheck && !requireShellcheck)(
    `passes on ${SCRIPTS.join(', ')}${shellcheck ? '' : ' (SKIPPED: shellcheck is not installed; apt-get install shellcheck, and REQUIRE_SHELLCHECK=1 forbids this skip)'}`,
    () => {
      expect(shellcheck, 'shellcheck is not installed (REQUIRE_SHELLCHECK=1)').toBe(true);
      const result = spawnSync('shellcheck', SCRIPTS, { cwd: ROOT, encoding: 'utf8' });
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );

  it('the scripts are executable, as the README runs them', () => {
    for (const script of SCRIPTS) expect(statSync(join(ROOT, script)).mode & 0o111, script).toBe(0o111);
  });
});

describe('scripts/setup-https.sh', () => {
  const files = ['scripts/setup-https.sh', '.env.example'];

  it('writes .env from .env.example with what it is given, a dashboard login and a client key', async () => {
    const dir = checkout(files);
    const run = await runScript(
      'scripts/setup-https.sh',
      [],
      {
        DOMAIN: 'ai.example.com',
        ACME_EMAIL: 'ops@example.com',
        HTTPS_PORT: '8443',
        TRAEFIK_DASHBOARD_PASSWORD: 's3cret',
      },
      dir,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Wrote');
    expect(run.stdout).toContain('docker compose -f docker-compose.https.yml up -d');
    expect(run.stdout).not.toContain('Still to set');
    const text = readFileSync(join(dir, '.env'), 'utf8');
    const lines = text.split('\n');
    // Every line of the example is still there, the filled-in ones uncommented in place.
    expect(lines).toHaveLength(ENV_EXAMPLE.split('\n').length);
    const live = lines.filter((line) => line !== '' && !line.startsWith('#'));
    expect(live.map((line) => line.split('=')[0]).sort()).toEqual(
      ['ACME_EMAIL', 'API_KEYS', 'DOMAIN', 'HTTPS_PORT', 'HTTP_PORT', 'TRAEFIK_DASHBOARD_AUTH'].sort(),
    );
    const env = parseDotenv(text);
    expect(env).toMatchObject({
      DOMAIN: 'ai.example.com',
      ACME_EMAIL: 'ops@example.com',
      HTTP_PORT: '80',
      HTTPS_PORT: '8443',
    });
    expect(env.API_KEYS).toMatch(/^sk-aiproxy-[0-9a-f]{48}$/);
    expect(run.stdout).toContain(env.API_KEYS);
    // The dashboard's htpasswd line, single-quoted in the file so Compose keeps its $ signs.
    expect(text).toMatch(/^TRAEFIK_DASHBOARD_AUTH='admin:\$apr1\$[^']+'$/m);
    const [, salt] = /^admin:\$apr1\$([^$]+)\$/.exec(env.TRAEFIK_DASHBOARD_AUTH ?? '') ?? [];
    const again = execFileSync('openssl', ['passwd', '-apr1', '-salt', salt ?? '', 's3cret'], {
      encoding: 'utf8',
    });
    expect(`admin:${again.trim()}`).toBe(env.TRAEFIK_DASHBOARD_AUTH);
    expect(run.stdout).not.toContain('s3cret');
    // Private files, and the folders the containers write.
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'letsencrypt/acme.json')).mode & 0o777).toBe(0o600);
    for (const folder of ['logs', 'keys', 'data']) {
      expect(statSync(join(dir, folder)).isDirectory()).toBe(true);
      if (process.getuid?.() === 0) expect(statSync(join(dir, folder)).uid).toBe(1000);
    }
    // The gateway reads the same .env: the client key is accepted.
    expect(loadConfig({ cwd: dir, env: {} }).clientKeys).toEqual([env.API_KEYS]);
  });

  it('completes an existing .env, keeping its values, and generates a dashboard password when none is given', async () => {
    const dir = checkout(files);
    writeFileSync(
      join(dir, '.env'),
      'API_KEYS=my-own-key\nOPENROUTER_API_KEY=sk-or-fake\nDOMAIN=old.example.com\n',
    );
    const run = await runScript(
      'scripts/setup-https.sh',
      ['--non-interactive'],
      { ACME_EMAIL: 'me@example.com' },
      dir,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Completing the existing');
    const text = readFileSync(join(dir, '.env'), 'utf8');
    const env = parseDotenv(text);
    expect(env).toMatchObject({
      API_KEYS: 'my-own-key',
      OPENROUTER_API_KEY: 'sk-or-fake',
      DOMAIN: 'old.example.com',
      ACME_EMAIL: 'me@example.com',
      HTTP_PORT: '80',
      HTTPS_PORT: '443',
    });
    const [, password] = /Traefik dashboard login: admin \/ (\S+)/.exec(run.stdout) ?? [];
    expect(password).toMatch(/^[A-Za-z0-9]{16,}$/);
    // Run again: the same file, each name once.
    const before = readFileSync(join(dir, '.env'), 'utf8');
    expect((await runScript('scripts/setup-https.sh', [], {}, dir)).code).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(before);
    for (const name of [
      'DOMAIN',
      'ACME_EMAIL',
      'HTTP_PORT',
      'HTTPS_PORT',
      'TRAEFIK_DASHBOARD_AUTH',
      'API_KEYS',
    ]) {
      expect(before.match(new RegExp(`^${name}=`, 'gm')), name).toHaveLength(1);
    }
  });

  it('leaves what it was not given for .env, and refuses a value that cannot be right', async () => {
    const dir = checkout(files);
    const run = await runScript('scripts/setup-https.sh', [], { TRAEFIK_DASHBOARD_PASSWORD: 'x' }, dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Still to set in .env: DOMAIN ACME_EMAIL');
    expect(parseDotenv(readFileSync(join(dir, '.env'), 'utf8')).DOMAIN).toBeUndefined();

    const bad = await runScript(
      'scripts/setup-https.sh',
      [],
      { DOMAIN: 'https://x.example.com/' },
      checkout(files),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('DOMAIN "https://x.example.com/" is not a host name');
    const port = await runScript('scripts/setup-https.sh', [], { HTTPS_PORT: '99999' }, checkout(files));
    expect(port.code).toBe(1);
    expect(port.stderr).toContain('HTTPS_PORT "99999" is not a port number');
  });
});

describe('scripts/test-https.sh', () => {
  let dir: string;
  let pki: { ca: string; cert: string; key: string };
  let gateway: RunningGateway;
  let redirect: Server;
  let httpPort: number;
  let redirectStatus = 308;

  beforeAll(async () => {
    dir = checkout(['scripts/test-https.sh']);
    pki = caSigned(dir);
    gateway = await startGateway({
      cwd: dir,
      env: {
        API_KEYS: CLIENT_KEY,
        LOG_DIR: join(dir, 'logs'),
        TLS_CERT_FILE: pki.cert,
        TLS_KEY_FILE: pki.key,
      },
      flags: { host: '127.0.0.1', port: 0 },
      logDestination: { write: () => undefined },
    });
    // Plain HTTP that redirects to HTTPS, as Traefik's web entry point does.
    redirect = createServer((req, res) => {
      res.writeHead(
        redirectStatus,
        redirectStatus === 200 ? {} : { location: `https://localhost:${gateway.port}${req.url}` },
      );
      res.end();
    });
    httpPort = await new Promise<number>((resolve) =>
      redirect.listen(0, '127.0.0.1', () => resolve((redirect.address() as { port: number }).port)),
    );
  });
  afterAll(async () => {
    await gateway.stop();
    await new Promise((resolve) => redirect.close(resolve));
  });

  const settings = () => ({
    DOMAIN: 'localhost',
    HTTP_PORT: String(httpPort),
    HTTPS_PORT: String(gateway.port),
  });

  it('passes: the certificate, /health over HTTPS with HSTS, the redirect', async () => {
    redirectStatus = 308;
    const run = await runScript(
      'scripts/test-https.sh',
      ['--ca-file', pki.ca, '--no-dashboard'],
      settings(),
      dir,
    );
    expect(run.stdout).toContain('ok    certificate for localhost, valid now');
    expect(run.stdout).toContain(`ok    GET https://localhost:${gateway.port}/health: 200`);
    expect(run.stdout).toContain(
      'ok    HSTS: strict-transport-security: max-age=31536000; includeSubDomains',
    );
    expect(run.stdout).toContain(`ok    http redirect: 308 to https://localhost:${gateway.port}/health`);
    expect(run.stdout).toContain('All HTTPS checks passed');
    expect(run.code).toBe(0);
  });

  it('reads DOMAIN and the ports from .env when the environment has none', async () => {
    const envFile = join(dir, 'settings.env');
    writeFileSync(
      envFile,
      Object.entries(settings())
        .map(([name, value]) => `${name}=${value}`)
        .join('\n'),
    );
    const run = await runScript(
      'scripts/test-https.sh',
      ['--ca-file', pki.ca, '--no-dashboard'],
      { ENV_FILE: envFile },
      dir,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Checking https://localhost:${gateway.port}`);
  });

  it('fails, naming the check, for an untrusted certificate, a missing redirect, or nothing listening', async () => {
    redirectStatus = 200;
    const run = await runScript('scripts/test-https.sh', ['--no-dashboard'], settings(), dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}GET https:\/\/localhost:\d+\/health: curl: \(60\)/);
    expect(run.stdout).toContain('FAIL  http redirect: GET');
    expect(run.stdout).toContain('answered 200, expected a redirect to HTTPS');
    expect(run.stdout).toContain('2 check(s) failed');

    const closed = await freePort();
    const nothing = await runScript(
      'scripts/test-https.sh',
      ['--insecure', '--no-dashboard', '--no-redirect'],
      { DOMAIN: 'localhost', HTTPS_PORT: String(closed) },
      dir,
    );
    expect(nothing.code).toBe(1);
    expect(nothing.stdout).toContain(`FAIL  no certificate from localhost:${closed}`);

    const unset = await runScript('scripts/test-https.sh', [], { ENV_FILE: join(dir, 'none.env') }, dir);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('DOMAIN is not set');
  });
});

describe('scripts/deploy-production.sh', () => {
  /** Every file under `dir` with a hash of its content (symlinks and folders left out). */
  function tree(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (sub: string) => {
      for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
        const path = sub === '' ? entry.name : `${sub}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile())
          out[path] = createHash('sha256')
            .update(readFileSync(join(dir, path)))
            .digest('hex');
      }
    };
    walk('');
    return out;
  }

  function setUp() {
    const source = checkout([
      'scripts/deploy-production.sh',
      'Dockerfile',
      'docker-compose.yml',
      '.env.example',
    ]);
    writeFiles(source, {
      'src/app.ts': 'export const version = 2;\n',
      '.env': 'API_KEYS=the-developers-own-key\n',
      'node_modules/some-package/index.js': '',
      'logs/requests/2026-01-01.jsonl': '{"local":true}\n',
    });
    const target = tempDir('ai-proxy-deploy-target-');
    writeFiles(target, {
      '.env': `API_KEYS=${CLIENT_KEY}\nDOMAIN=ai.example.com\n`,
      'keys/forwarder_api_keys.txt': 'fwd_server_key\n',
      'logs/requests/2026-11-01.jsonl': '{"server":true}\n',
      'data/keys.sqlite3': 'sqlite',
      'letsencrypt/acme.json': '{}',
      'certs/fullchain.pem': 'cert',
      'src/stale.ts': 'old\n',
      Dockerfile: 'FROM old\n',
    });
    chmodSync(join(target, 'letsencrypt/acme.json'), 0o600);
    return { source, target };
  }

  const KEPT = [
    '.env',
    'keys/forwarder_api_keys.txt',
    'logs/requests/2026-11-01.jsonl',
    'data/keys.sqlite3',
    'letsencrypt/acme.json',
    'certs/fullchain.pem',
  ];

  it('--dry-run shows what it would copy and run, and changes nothing', async () => {
    const { source, target } = setUp();
    const before = tree(target);
    const run = await runScript(
      'scripts/deploy-production.sh',
      ['--dry-run'],
      { DEPLOY_HOST: target },
      source,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(tree(target)).toEqual(before);
    expect(run.stdout).toContain('*deleting   src/stale.ts');
    expect(run.stdout).toMatch(/>f\S* +src\/app\.ts/);
    expect(run.stdout).not.toMatch(/ \.env$/m);
    // The server's .env sets DOMAIN: the HTTPS compose file.
    expect(run.stdout).toContain('docker compose -f docker-compose.https.yml up -d --build');
    expect(run.stdout).toContain(
      'docker compose -f docker-compose.https.yml exec -T ai-proxy node scripts/healthcheck.mjs',
    );
  });

  it('updates the code, keeps what the server owns, restarts the gateway and waits for /health', async () => {
    const { source, target } = setUp();
    const before = tree(target);
    const port = await freePort();
    const run = await runScript(
      'scripts/deploy-production.sh',
      [],
      {
        DEPLOY_HOST: target,
        // Here the gateway is started from this checkout's build instead of Docker Compose.
        DEPLOY_RESTART: `nohup ${process.execPath} ${BIN} serve --port ${port} >serve.log 2>&1 & echo $! >gateway.pid`,
        DEPLOY_HEALTH_URL: `http://127.0.0.1:${port}/health`,
        DEPLOY_HEALTH_TIMEOUT: '60',
      },
      source,
    );
    const pid = existsSync(join(target, 'gateway.pid'))
      ? Number(readFileSync(join(target, 'gateway.pid'), 'utf8'))
      : 0;
    try {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Deployed: /health answers');
      const after = tree(target);
      for (const kept of KEPT) expect(after[kept], kept).toBe(before[kept]);
      expect(statSync(join(target, 'letsencrypt/acme.json')).mode & 0o777).toBe(0o600);
      expect(after['src/stale.ts']).toBeUndefined();
      expect(readFileSync(join(target, 'src/app.ts'), 'utf8')).toBe('export const version = 2;\n');
      expect(readFileSync(join(target, 'Dockerfile'), 'utf8')).toBe(
        readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
      );
      expect(existsSync(join(target, '.env.example'))).toBe(true);
      expect(existsSync(join(target, 'node_modules'))).toBe(false);
      expect(existsSync(join(target, 'logs/requests/2026-01-01.jsonl'))).toBe(false);
      // The restarted gateway runs in the target with the server's own .env.
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      const models = await fetch(`http://127.0.0.1:${port}/v1/models`, {
        headers: { authorization: `Bearer ${CLIENT_KEY}` },
      });
      expect(models.status).toBe(200);
    } finally {
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
  }, 90_000);

  it('fails when /health never answers, and without DEPLOY_HOST', async () => {
    const { source, target } = setUp();
    const port = await freePort();
    const run = await runScript(
      'scripts/deploy-production.sh',
      [],
      {
        DEPLOY_HOST: target,
        DEPLOY_RESTART: 'true',
        DEPLOY_HEALTH_URL: `http://127.0.0.1:${port}/health`,
        DEPLOY_HEALTH_TIMEOUT: '2',
      },
      source,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no healthy answer within 2s');

    const none = await runScript('scripts/deploy-production.sh', [], {}, source);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('set DEPLOY_HOST');
  }, 30_000);
});
