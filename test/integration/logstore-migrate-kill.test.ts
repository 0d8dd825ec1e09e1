// A process killed while it migrates a version 1 partition (schema version 2: the FTS index
// without its own copy of the text) leaves the partition exactly as it was: still version 1,
// still searchable with the same results; `ai-proxy logs migrate` finishes the migration.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { hasLegacyFts } from '../../src/logstore/fts-content.js';
import { openPartition, readSchemaVersion, SCHEMA_VERSION } from '../../src/logstore/schema.js';
import { runCli } from '../support/cli.js';
import { runAll, writeV1Partition } from '../support/logstore-v1.js';

/** The built product's openPartition (npm run build), run in a child process we can kill. */
const BUILT_SCHEMA = new URL('../../dist/logstore/schema.js', import.meta.url).href;

describe('migrating a partition to schema version 2', () => {
  it('leaves it as it was when killed half-way, and finishes it next time', async () => {
    const root = mkdtempSync(join(tmpdir(), 'logstore-migrate-kill-'));
    // Large enough that the migration's one transaction runs for a good while after its first pages
    // reach the WAL, so a poll delayed by a busy test runner still kills it before its commit.
    const path = writeV1Partition(root, '2025-09-03', 60_000);
    const before = runAll(root);
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(BUILT_SCHEMA)}); m.openPartition(${JSON.stringify(path)}).close();`,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Killed once the rebuilt index has started to reach the WAL: mid-transaction.
    const deadline = Date.now() + 20_000;
    let walBytes = 0;
    while (Date.now() < deadline && walBytes < 1_000_000) {
      await new Promise((r) => setTimeout(r, 2));
      walBytes = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
    }
    const stillRunning = child.exitCode === null && child.signalCode === null;
    child.kill('SIGKILL');
    await exited;
    expect(stillRunning).toBe(true);
    expect(walBytes).toBeGreaterThanOrEqual(1_000_000);

    const check = new Database(path, { readonly: true });
    try {
      expect(readSchemaVersion(check)).toBe(1);
      expect(hasLegacyFts(check)).toBe(true);
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      check.close();
    }
    expect(runAll(root)).toEqual(before);

    // `ai-proxy logs migrate` finishes it (and has nothing left to do the second time).
    const finish = await runCli(['logs', 'migrate', '--db', root], { cwd: root, env: { LOG_DIR: root } });
    expect(finish.code, finish.stderr).toBe(0);
    expect(finish.stdout).toMatch(
      new RegExp(`^1 of 1 partitions migrated to schema version ${SCHEMA_VERSION}`, 'm'),
    );
    const again = await runCli(['logs', 'migrate', '--db', root], { cwd: root, env: { LOG_DIR: root } });
    expect(again.stdout).toMatch(/^0 of 1 partitions migrated/m);
    const after = openPartition(path, { readonly: true });
    try {
      expect(readSchemaVersion(after)).toBe(SCHEMA_VERSION);
      expect(hasLegacyFts(after)).toBe(false);
    } finally {
      after.close();
    }
    expect(runAll(root)).toEqual(before);
  }, 60_000);
});
