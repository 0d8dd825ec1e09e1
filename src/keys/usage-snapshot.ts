// Keeps the in-memory limit counts across restarts: restored at start, written every few seconds
// when something changed, and once more on a graceful stop. Written to a temporary file and
// renamed, so a crash mid-write leaves the previous snapshot whole.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { MemoryLimitStore, MemorySnapshot } from './memory-limit-store.js';

export class UsageSnapshots {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: MemoryLimitStore,
    private readonly file: string,
    private readonly logger: Logger,
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
      const snapshot = JSON.parse(text) as MemorySnapshot;
      if (snapshot.version !== 1) throw new Error(`unknown snapshot version ${String(snapshot.version)}`);
      this.store.restore(snapshot);
      this.logger.info({ file: this.file }, 'key usage restored from snapshot');
    } catch (error) {
      this.logger.warn({ file: this.file, err: (error as Error).message }, 'key usage snapshot ignored');
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
      this.logger.error({ file: this.file, err: (error as Error).message }, 'key usage snapshot failed');
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.save();
  }
}
