// One writer per partition across the ingest threads of a process. A file's rows may belong to
// any day, so two threads can write one partition; SQLite would serialize them too, but only for
// `busy_timeout`, and a deferred transaction that read before writing fails at once with
// "database is locked" when another thread committed in between. Each write transaction therefore
// runs under this lock (and starts with BEGIN IMMEDIATE). The lock words live in a
// SharedArrayBuffer handed to every worker; a partition maps to a word by a hash of its path, so
// two partitions may share a word (a little extra waiting, never a deadlock: a thread holds one
// lock at a time, only for one synchronous transaction).

const SLOTS = 256;

export function createLockBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

function slotOf(path: string): number {
  let h = 2166136261;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % SLOTS;
}

export class PartitionLocks {
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer = createLockBuffer()) {
    this.words = new Int32Array(buffer);
  }

  get buffer(): SharedArrayBuffer {
    return this.words.buffer as SharedArrayBuffer;
  }

  /** Runs `body` (synchronous) while holding the partition's lock. */
  with<T>(path: string, body: () => T): T {
    const slot = slotOf(path);
    while (Atomics.compareExchange(this.words, slot, 0, 1) !== 0) {
      Atomics.wait(this.words, slot, 1, 100);
    }
    try {
      return body();
    } finally {
      Atomics.store(this.words, slot, 0);
      Atomics.notify(this.words, slot, 1);
    }
  }
}
