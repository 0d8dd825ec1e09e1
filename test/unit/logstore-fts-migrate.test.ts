// Schema version 2: the FTS index keeps no copy of the text. A version 1 partition (its index
// holding the text a second time) is migrated when first opened for writing; every search gives
// the same hits, snippets and highlights before and after, the file shrinks, a store with some
// partitions migrated and some not searches as one. (A migration killed half-way:
// test/integration/logstore-migrate-kill.test.ts.)
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { hasLegacyFts } from '../../src/logstore/fts-content.js';
import { FTS_TABLE, openPartition, readSchemaVersion, SCHEMA_VERSION } from '../../src/logstore/schema.js';
import { runAll, writeV1Partition } from '../support/logstore-v1.js';

function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // no side file
    }
  }
  return total;
}

describe('FTS without a second copy of the text (schema version 2)', () => {
  it('migrates a version 1 partition with identical search results, and a smaller file', () => {
    const root = mkdtempSync(join(tmpdir(), 'logstore-migrate-'));
    const a = writeV1Partition(root, '2025-09-01', 600);
    const b = writeV1Partition(root, '2025-09-02', 600);
    const before = runAll(root);
    expect(before.flat().length).toBeGreaterThan(200);
    expect(before[0]![0]!.snippet).toMatch(/\[lighthouse\]/i);
    const sizeBefore = fileBytes(a);

    // One partition migrated, one not: the store searches as one.
    const db = openPartition(a);
    expect(readSchemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(hasLegacyFts(db)).toBe(false);
    // VACUUMed into incremental auto-vacuum: no free pages left, later rebuilds give theirs back.
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    db.close();
    expect(runAll(root)).toEqual(before);

    const other = openPartition(b);
    other.close();
    expect(runAll(root)).toEqual(before);
    expect(fileBytes(a)).toBeLessThan(sizeBefore * 0.85);

    // Opening again is a no-op; the sqlite3 shell's view of the file is still consistent.
    openPartition(a).close();
    const raw = new Database(a, { readonly: true });
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      const n = raw
        .prepare(`SELECT COUNT(*) AS n FROM ${FTS_TABLE} WHERE ${FTS_TABLE} MATCH 'lighthouse'`)
        .get() as { n: number };
      expect(n.n).toBeGreaterThan(0);
    } finally {
      raw.close();
    }
  });
});
