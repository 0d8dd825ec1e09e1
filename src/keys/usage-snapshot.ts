// Keeps the in-memory limit counts across restarts: restored at start, written every few seconds
// when something changed, and once more on a graceful stop. Written to a temporary file and
// renamed, so a crash mid-write leaves the previous snapshot whole. Any state with a snapshot and
// a restore can use it (the client-key budgets do too).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { MemorySnapshot } from './memory-limit-store.js';

/** What can be snapshotted: counts marked dirty on change, written as version-1 JSON. */
export interface SnapshotSource<S extends { version: number }> {
  dirty: boolean;
  snapshot(now: number): S;
  /** Takes a parsed snapshot; throws (leaving the state as it was) when it is damaged. */
  restore(snapshot: S): void;
}

export class UsageSnapshots<S extends { version: number } = MemorySnapshot> {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: SnapshotSource<S>,
    private readonly file: string,
    private readonly logger: Logger,
    /** Names the state in log lines. */
    private readonly what = 'key usage',
  ) {}

  /** Restores the last snapshot, if there is one; a damaged file is reported and ignored. */
  restore(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    try {
      const snapshot = JSON.parse(text) as S;
      if (snapshot.version !== 1) throw new Error(`unknown snapshot version ${String(snapshot.version)}`);
      this.store.restore(snapshot);
      this.logger.info({ file: this.file }, `${this.what} restored from snapshot`);
    } catch (error) {
      this.logger.warn({ file: this.file, err: (error as Error).message }, `${this.what} snapshot ignored`);
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.store.dirty) this.save();
    }, intervalMs);
    this.timer.unref();
  }

  save(): void {
    this.store.dirty = false;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(this.store.snapshot(Date.now())));
      renameSync(temporary, this.file);
    } catch (error) {
      this.store.dirty = true;
      this.logger.error({ file: this.file, err: (error as Error).message }, `${this.what} snapshot failed`);
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.save();
  }
}
