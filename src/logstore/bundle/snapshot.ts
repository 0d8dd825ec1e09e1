// A consistent copy of a live partition: VACUUM INTO reads one snapshot of the database (WAL
// included) and writes a compact standalone file, where copying the file could catch a half-written
// WAL. The copy is switched to a rollback journal so it is one self-contained file.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { openPartition } from '../schema.js';

export function snapshotPartition(source: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  if (existsSync(target)) throw new Error(`snapshot target exists: ${target}`);
  const db = openPartition(source, { readonly: true });
  try {
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  const copy = new Database(target);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}
