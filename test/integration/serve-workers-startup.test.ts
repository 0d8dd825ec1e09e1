// `serve --workers N` refuses what the single process refuses, before forking, with the same
// message; and workers that cannot start are not restarted forever: the primary backs off and
// gives up with a non-zero exit.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir } from '../support/gateway.js';

const dirs: string[] = [];
function folder(): string {
  const dir = makeTempDir('ai-proxy-workers-');
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('serve --workers at start-up', () => {
  it('with no client key off loopback: refused before forking, with the single process message', async () => {
    const port = String(await freePort());
    const single = await runCli(['serve', '--host', '0.0.0.0', '--port', port], {
      cwd: folder(),
      timeoutMs: 15_000,
    });
    expect(single.code).not.toBe(0);
    expect(single.stderr).toContain('No client key is configured');

    const workers = await runCli(['serve', '--workers', '2', '--host', '0.0.0.0', '--port', port], {
      cwd: folder(),
      timeoutMs: 15_000,
    });
    expect(workers.code).toBe(single.code);
    expect(workers.stderr).toBe(single.stderr);
    // No worker was ever started.
    expect(workers.stderr).not.toContain('worker');
    expect(workers.stdout).toBe('');
  }, 40_000);

  it('workers that cannot listen are retried with a pause, then the primary gives up non-zero', async () => {
    // The port is taken, so every worker's listen fails (EADDRINUSE) right after it starts.
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const started = Date.now();
      const result = await runCli(['serve', '--workers', '2', '--port', String(port)], {
        cwd: folder(),
        env: { API_KEYS: 'k', LOG_LEVEL: 'none' },
        timeoutMs: 30_000,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/worker \d failed at start-up 3 times in a row .*; giving up/);
      // Backed off between attempts: 250 ms then 500 ms at least.
      expect(Date.now() - started).toBeGreaterThanOrEqual(750);
      expect(result.stderr).toContain('starting another in 250 ms');
      expect(result.stderr).toContain('starting another in 500 ms');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 40_000);
});
