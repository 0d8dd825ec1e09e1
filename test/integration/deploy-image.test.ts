// The container image without a container engine: the Dockerfile, read with a real parser, holds
// what issue 17 asks of it (two stages, a slim Node 20 base, a non-root user, HEALTHCHECK on
// /health, Node as PID 1 in exec form, volumes for logs/ and keys/), and .dockerignore keeps
// secrets and state out. Then the image's exact start command is run outside a container the way
// the image would run it: as its unprivileged user, in a fresh folder holding only what the
// runtime stage copies, with the image's environment. It serves /health (the HEALTHCHECK command
// itself says so) and drains on SIGTERM with every request-log record written.
import { spawn } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerStage, instructionsOf, readDockerfile } from '../support/dockerfile.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { CLIENT_KEY, makeTempDir, readRequestLog } from '../support/gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readDockerfile(join(ROOT, 'Dockerfile'));
const build = dockerfile.stages[0] as DockerStage;
const runtime = dockerfile.stages.at(-1) as DockerStage;
/** The image's `node` user (uid 1000 in the official Node images). */
const IMAGE_UID = 1000;

function only(stage: DockerStage, keyword: string) {
  const found = instructionsOf(stage, keyword);
  expect(found, `${keyword} in stage ${stage.name}`).toHaveLength(1);
  return found[0] as NonNullable<(typeof found)[0]>;
}

describe('the Dockerfile', () => {
  it('builds in one stage and runs from a slim Node 20 base holding only the production pieces', () => {
    expect(dockerfile.stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
    for (const stage of dockerfile.stages) expect(stage.image).toMatch(/^node:20[-.\w]*-slim$/);
    const runs = instructionsOf(build, 'RUN').map((run) => run.args.join(' '));
    expect(runs.some((run) => run.includes('npm ci'))).toBe(true);
    // better-sqlite3 compiles when no prebuilt binary fits: the toolchain is in the build stage only.
    expect(runs.some((run) => /python3/.test(run) && /g\+\+/.test(run))).toBe(true);
    expect(runs.some((run) => run.includes('npm run build') && run.includes('npm prune --omit=dev'))).toBe(
      true,
    );
    expect(instructionsOf(runtime, 'RUN').some((run) => run.args.join(' ').includes('apt-get'))).toBe(false);
    const copies = instructionsOf(runtime, 'COPY').map((copy) => ({
      from: copy.flags.from,
      src: copy.args[0],
    }));
    expect(copies).toEqual([
      { from: 'build', src: '/app/node_modules' },
      { from: 'build', src: '/app/dist' },
      { from: 'build', src: '/app/package.json' },
      { from: undefined, src: 'bin' },
      { from: undefined, src: 'scripts/healthcheck.mjs' },
      { from: undefined, src: 'config.yml' },
    ]);
  });

  it('runs as a non-root user, Node as PID 1, with a health check on /health and volumes for logs and keys', () => {
    const user = only(runtime, 'USER').args[0];
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(user).toBe('node');
    // Exec form: Node is PID 1 and gets SIGTERM itself (a shell would swallow it).
    expect(only(runtime, 'CMD').exec).toEqual(['node', 'bin/ai-proxy.js', 'serve']);
    expect(instructionsOf(runtime, 'ENTRYPOINT')).toEqual([]);
    expect(only(runtime, 'STOPSIGNAL').args).toEqual(['SIGTERM']);
    const health = only(runtime, 'HEALTHCHECK');
    expect(health.exec).toEqual(['node', 'scripts/healthcheck.mjs']);
    expect(readFileSync(join(ROOT, 'scripts/healthcheck.mjs'), 'utf8')).toContain("path: '/health'");
    expect(Object.keys(health.flags).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
    expect(only(runtime, 'VOLUME').exec).toEqual(['/app/logs', '/app/keys', '/app/data']);
    expect(only(runtime, 'EXPOSE').args).toEqual(['8123']);
    expect(only(runtime, 'ENV').properties).toEqual({
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '8123',
    });
    expect(only(runtime, 'WORKDIR').args).toEqual(['/app']);
  });

  it('.dockerignore keeps secrets, state and local builds out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const entry of ['.env', 'node_modules', 'dist', 'logs', 'keys', 'data', '.git', 'letsencrypt']) {
      expect(ignored).toContain(entry);
    }
    // What the Dockerfile copies from the context is not ignored.
    for (const needed of ['package.json', 'package-lock.json', 'src', 'bin', 'config.yml', 'scripts']) {
      expect(ignored).not.toContain(needed);
    }
  });
});

describe("the image's start command, outside a container", () => {
  let upstream: ProviderEmulator;
  let app: string;
  const asRoot = process.getuid?.() === 0;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    // A fresh folder laid out as the runtime stage lays /app out: only what it copies.
    app = makeTempDir('ai-proxy-image-');
    for (const copy of instructionsOf(runtime, 'COPY')) {
      const [src, dest] = copy.args as [string, string];
      const from = copy.flags.from === 'build' ? join(ROOT, posix.relative('/app', src)) : join(ROOT, src);
      const to = join(app, dest);
      mkdirSync(dirname(to), { recursive: true });
      // The build stage's node_modules and dist are this checkout's (npm ci + npm run build).
      if (statSync(from).isDirectory()) symlinkSync(from, to.replace(/\/$/, ''));
      else copyFileSync(from, to);
    }
    for (const volume of only(runtime, 'VOLUME').exec ?? [])
      mkdirSync(join(app, posix.relative('/app', volume)));
    if (asRoot) {
      for (const path of ['', 'logs', 'keys', 'data']) chownSync(join(app, path), IMAGE_UID, IMAGE_UID);
    }
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(app, { recursive: true, force: true });
  });

  function imageEnv(port: number): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: app,
      ...only(runtime, 'ENV').properties,
      PORT: String(port),
      API_KEYS: CLIENT_KEY,
      OPENAI_API_KEY: 'sk-image-test-0001',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
    };
  }

  function run(argv: string[], env: Record<string, string>) {
    const [command, ...args] = argv as [string, ...string[]];
    return spawn(command, args, {
      cwd: app,
      env,
      ...(asRoot ? { uid: IMAGE_UID, gid: IMAGE_UID } : {}),
    });
  }

  /** Runs the HEALTHCHECK command as Docker would; its exit code. */
  function healthcheck(env: Record<string, string>): Promise<number | null> {
    return new Promise((resolve) => run(only(runtime, 'HEALTHCHECK').exec ?? [], env).on('close', resolve));
  }

  it('serves /health as its user, and drains on SIGTERM with no request-log record lost', async () => {
    const port = await freePort();
    const env = imageEnv(port);
    const gateway = run(only(runtime, 'CMD').exec ?? [], env);
    let output = '';
    gateway.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    gateway.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => gateway.on('exit', resolve));
    try {
      // As Docker does: the health check, again and again within the start period, until it passes.
      let healthy = false;
      for (let i = 0; i < 60 && !healthy && gateway.exitCode === null; i++) {
        healthy = (await healthcheck(env)) === 0;
        if (!healthy) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(healthy, output).toBe(true);
      expect(output).toContain(`"pid":${gateway.pid}`);

      const base = `http://127.0.0.1:${port}`;
      const post = (body: Record<string, unknown>) =>
        fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'Hi' }],
            ...body,
          }),
        });
      const ids: string[] = [];
      upstream.setDefault({ kind: 'chat', content: 'quick' });
      for (let i = 0; i < 5; i++) {
        const response = await post({});
        expect(response.status).toBe(200);
        ids.push(response.headers.get('x-request-id') ?? '');
        await response.text();
      }
      // A stream that is still going when SIGTERM arrives: about 2 s of chunks.
      const words = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
      upstream.setDefault({ kind: 'chat', content: words, chunkDelayMs: 100 });
      const stream = await post({ stream: true });
      ids.push(stream.headers.get('x-request-id') ?? '');
      const reader = stream.body?.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader?.read())?.value);
      const signal = only(runtime, 'STOPSIGNAL').args[0] as NodeJS.Signals;
      gateway.kill(signal);
      for (;;) {
        const chunk = await reader?.read();
        if (chunk === undefined || chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      expect(text).toContain('w19');
      expect(text).toContain('[DONE]');
      expect(await exited).toBe(0);
      expect(output).toContain('request log flushed');

      const records = readRequestLog(join(app, 'logs'));
      expect(records.map((record) => record.id).sort()).toEqual([...ids].sort());
      expect(records.every((record) => record.status === 200 && record.error === null)).toBe(true);
      if (asRoot) {
        // Written by the image's user, not root.
        expect(statSync(join(app, 'logs', 'requests')).uid).toBe(IMAGE_UID);
      }
      // Nothing answers any more: the health check says so.
      expect(await healthcheck(env)).toBe(1);
    } finally {
      if (gateway.exitCode === null) gateway.kill('SIGKILL');
    }
  }, 90_000);
});
