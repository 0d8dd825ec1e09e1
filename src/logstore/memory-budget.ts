// How LOGDB_MEMORY_CAP_MB is shared out. The cap covers what the log store itself holds: SQLite
// page caches and the read slices (with their decoded text and parsed rows). Every lane (an ingest
// thread, or a file in flight in one thread) gets an equal share; half of a share goes to the page
// caches of the partitions that lane may hold open at once, and a slice is an eighth of it (a
// slice in flight is held about four times over: bytes, text, lines, rows). Node's own baseline
// (≈ 50 MB, plus ≈ 25 MB per worker thread) comes on top and does not grow with the data.

/** Partitions one lane keeps open (its file's own, plus the days its rows spill into). */
export const OPEN_PARTITIONS_PER_LANE = 4;

export interface MemoryBudget {
  /** Bytes read (and committed) per slice of a source file. */
  sliceBytes: number;
  /** Page cache of one open partition, KiB (PRAGMA cache_size = -N). */
  cacheKib: number;
  /** Partitions one lane holds open at once; older ones are closed first. */
  maxOpen: number;
}

export function memoryBudget(capMb: number, lanes: number): MemoryBudget {
  const share = (capMb * 1_048_576) / Math.max(1, lanes);
  return {
    sliceBytes: Math.floor(Math.max(64 * 1024, Math.min(8 * 1_048_576, share / 8))),
    cacheKib: Math.floor(Math.max(1024, Math.min(65_536, share / 2 / 1024 / OPEN_PARTITIONS_PER_LANE))),
    maxOpen: OPEN_PARTITIONS_PER_LANE,
  };
}

/** The page cache for a command that works through one partition at a time (fts build, merges). */
export function singlePartitionCacheKib(capMb: number): number {
  return Math.floor(Math.max(2048, Math.min(262_144, (capMb * 1024) / 2)));
}
