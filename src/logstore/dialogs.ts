// Dialog grouping (SPEC §8): requests of one client key hash, endpoint and mapped model, each
// within the window (30 minutes by default) of the one before, form a dialog. A dialog id sent by
// the client (X-Dialog-Id, dialog_source 'header') always wins and is never touched here.
//
// The id of an automatic dialog is derived from its group and its first request id, so running
// the assignment again (or on another machine, or after a merge) gives the same ids. Partitions are
// walked in time order carrying each group's open dialog across partition boundaries; the
// partition just before the range seeds that state, so a dialog that began before --since keeps
// its id.
import { createHash } from 'node:crypto';
import { listPartitions, type PartitionInfo } from './partitions.js';
import { type Db, openPartition } from './schema.js';

export interface DialogOptions {
  dbRoot: string;
  since?: Date;
  to?: Date;
  windowMinutes: number;
  onPartition?: (partition: PartitionInfo, changed: number) => void;
}

interface OpenDialog {
  id: string;
  lastTs: number;
}

interface Row {
  rowid: number;
  request_id: string;
  ts: number;
  api_key_hash: string | null;
  endpoint: string;
  model_mapped: string | null;
  model_original: string | null;
  dialog_id: string | null;
  dialog_source: string | null;
}

export function groupKey(
  row: Pick<Row, 'api_key_hash' | 'endpoint' | 'model_mapped' | 'model_original'>,
): string {
  return `${row.api_key_hash ?? ''}\u0000${row.endpoint}\u0000${row.model_mapped ?? row.model_original ?? ''}`;
}

export function dialogIdFor(key: string, firstRequestId: string): string {
  return `dlg_${createHash('sha256').update(key).update('\u0000').update(firstRequestId).digest('hex').slice(0, 20)}`;
}

const PAGE = 5000;

function* rowsInOrder(db: Db, fromTs: number): Generator<Row[]> {
  const page = db.prepare(
    `SELECT rowid, request_id, ts, api_key_hash, endpoint, model_mapped, model_original, dialog_id, dialog_source
     FROM requests WHERE (ts, request_id) > (?, ?) ORDER BY ts, request_id LIMIT ${PAGE}`,
  );
  let ts = fromTs;
  let id = '';
  for (;;) {
    const rows = page.all(ts, id) as Row[];
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    ts = last.ts;
    id = last.request_id;
  }
}

/** Walks one partition's rows from `fromTs`, assigning ids; returns how many rows changed. */
function assignPartition(db: Db, state: Map<string, OpenDialog>, windowMs: number, fromTs: number): number {
  const update = db.prepare("UPDATE requests SET dialog_id = ?, dialog_source = 'auto' WHERE rowid = ?");
  let changed = 0;
  for (const rows of rowsInOrder(db, fromTs)) {
    db.transaction(() => {
      for (const row of rows) {
        if (row.dialog_source === 'header') continue;
        const key = groupKey(row);
        const open = state.get(key);
        let id: string;
        if (open !== undefined && row.ts - open.lastTs <= windowMs) {
          id = open.id;
          open.lastTs = row.ts;
        } else {
          id = dialogIdFor(key, row.request_id);
          state.set(key, { id, lastTs: row.ts });
        }
        if (row.dialog_id !== id || row.dialog_source !== 'auto') {
          update.run(id, row.rowid);
          changed += 1;
        }
      }
    })();
  }
  return changed;
}

/** Seeds the open dialogs from the partition before the range: each group's last auto row. */
function seedFrom(
  db: Db,
  state: Map<string, OpenDialog>,
  windowMs: number,
  fromTs = Number.MIN_SAFE_INTEGER,
): void {
  const seeded = new Map<string, OpenDialog>();
  for (const rows of rowsInOrder(db, fromTs)) {
    for (const row of rows) {
      if (row.dialog_source === 'header') continue;
      const key = groupKey(row);
      const open = seeded.get(key);
      if (row.dialog_id !== null && row.dialog_source === 'auto') {
        seeded.set(key, { id: row.dialog_id, lastTs: row.ts });
      } else if (open !== undefined && row.ts - open.lastTs <= windowMs) {
        open.lastTs = row.ts;
      } else {
        seeded.set(key, { id: dialogIdFor(key, row.request_id), lastTs: row.ts });
      }
    }
  }
  for (const [key, open] of seeded) state.set(key, open);
}

export interface DialogResult {
  partitions: number;
  changed: number;
}

export function assignDialogs(options: DialogOptions): DialogResult {
  const windowMs = options.windowMinutes * 60_000;
  const all = listPartitions(options.dbRoot);
  const inRange = listPartitions(options.dbRoot, options.since, options.to);
  const state = new Map<string, OpenDialog>();
  const first = inRange[0];
  if (first !== undefined) {
    const before = all.filter((p) => p.end.getTime() <= first.start.getTime()).at(-1);
    if (before !== undefined) {
      const db = openPartition(before.path);
      try {
        seedFrom(db, state, windowMs);
      } finally {
        db.close();
      }
    }
  }
  let changed = 0;
  for (const partition of inRange) {
    const db = openPartition(partition.path);
    try {
      const n = assignPartition(db, state, windowMs, Number.MIN_SAFE_INTEGER);
      changed += n;
      options.onPartition?.(partition, n);
    } finally {
      db.close();
    }
  }
  return { partitions: inRange.length, changed };
}

/**
 * The in-server step after an ingest: assigns rows without a dialog in one partition, starting
 * from the open dialogs its earlier rows (and the previous partition) leave.
 */
export function assignNewDialogs(db: Db, windowMinutes: number, previous?: Db): number {
  const windowMs = windowMinutes * 60_000;
  const first = db
    .prepare(
      "SELECT MIN(ts) AS ts FROM requests WHERE dialog_id IS NULL AND (dialog_source IS NULL OR dialog_source <> 'header')",
    )
    .get() as { ts: number | null };
  if (first.ts === null) return 0;
  const state = new Map<string, OpenDialog>();
  // Only a dialog whose last request is within the window of the first new row can continue, so
  // the look-back reads one window, not the whole earlier day.
  const lookBack = first.ts - windowMs;
  if (previous !== undefined) seedFrom(previous, state, windowMs, lookBack);
  // The open dialogs just before the first unassigned row: the last assigned row of each group.
  const seeds = db
    .prepare(
      `SELECT api_key_hash, endpoint, model_mapped, model_original, dialog_id, MAX(ts) AS ts FROM requests
       WHERE ts < ? AND ts >= ? AND dialog_source = 'auto'
       GROUP BY api_key_hash, endpoint, COALESCE(model_mapped, model_original)`,
    )
    .all(first.ts, lookBack) as (Row & { ts: number })[];
  for (const seed of seeds) {
    if (seed.dialog_id !== null) state.set(groupKey(seed), { id: seed.dialog_id, lastTs: seed.ts });
  }
  return assignPartition(db, state, windowMs, first.ts);
}

export function clearDialogs(options: { dbRoot: string; since?: Date; to?: Date }): DialogResult {
  let changed = 0;
  const partitions = listPartitions(options.dbRoot, options.since, options.to);
  for (const partition of partitions) {
    const db = openPartition(partition.path);
    try {
      changed += db
        .prepare("UPDATE requests SET dialog_id = NULL, dialog_source = NULL WHERE dialog_source = 'auto'")
        .run().changes;
    } finally {
      db.close();
    }
  }
  return { partitions: partitions.length, changed };
}
