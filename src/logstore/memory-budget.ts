// How LOGDB_MEMORY_CAP_MB is shared out. The cap covers what the log store itself holds: SQLite
// page caches and the read slices (with their decoded text and parsed rows). Every lane (an ingest
// thread, or a file in flight in one thread) gets an equal share; half of a share goes to the page
// caches of the partitions that lane may hold open at once (at most INGEST_CACHE_KIB each), and a
// slice is an eighth of it (a slice in flight is held about four times over: bytes, text, lines,
// rows). Node's own baseline (≈ 50 MB, plus ≈ 25 MB per worker thread) comes on top and does not
// grow with the data.

/** Partitions one lane keeps open (its file's own, plus the days its rows spill into). */
export const OPEN_PARTITIONS_PER_LANE = 4;

/**
 * The most page cache an ingest gives one partition. Ingest appends: rows arrive in time order, so
 * the writes touch the right edge of each b-tree and a few index leaves, never the whole file. Over
 * a month of 5,000-record days 16, 4 and 2 MiB per partition cost the same CPU (±2%, with and
 * without the FTS index), while 16 MiB let every lane's open partitions fill their caches with
 * pages already written: that was what grew peak RSS from a week's run (272 MB) to a month's (339).
 */
export const INGEST_CACHE_KIB = 2048;

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
    cacheKib: Math.floor(
      Math.max(1024, Math.min(INGEST_CACHE_KIB, share / 2 / 1024 / OPEN_PARTITIONS_PER_LANE)),
    ),
    maxOpen: OPEN_PARTITIONS_PER_LANE,
  };
}

/** The page cache for a command that works through one partition at a time (fts build, merges). */
export function singlePartitionCacheKib(capMb: number): number {
  return Math.floor(Math.max(2048, Math.min(262_144, (capMb * 1024) / 2)));
}
