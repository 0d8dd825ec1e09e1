// The FTS5 index of one partition: created, filled and dropped here. Each FTS row shares its
// request's rowid, so a match maps straight back to the full request and rowid order is
// ingest (≈ time) order, which lets a search read the newest matches first without sorting. The
// index stores no text of its own (fts-content.ts): an insert here only adds the words.
import { FTS_VIEW } from './fts-content.js';
import { extractRequestText } from './fts-text.js';
import { compactFile, type Db, FTS_DDL, FTS_TABLE, hasFtsIndex } from './schema.js';

const insertStatements = new WeakMap<Db, ReturnType<Db['prepare']>>();

export function createFts(db: Db): void {
  db.exec(FTS_DDL);
}

/** Adds one request's text; the caller holds the transaction. */
export function indexRequest(
  db: Db,
  rowid: number,
  requestId: string,
  model: string | null,
  request: unknown,
  response: unknown,
): void {
  let statement = insertStatements.get(db);
  if (statement === undefined) {
    statement = db.prepare(
      `INSERT INTO ${FTS_TABLE} (rowid, request_id, model_original, system_text, user_text, assistant_text, tool_text, answer_text)
       VALUES (@rowid, @request_id, @model_original, @system_text, @user_text, @assistant_text, @tool_text, @answer_text)`,
    );
    insertStatements.set(db, statement);
  }
  statement.run({
    rowid,
    request_id: requestId,
    model_original: model,
    ...extractRequestText(request, response),
  });
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Indexes every request of `table` whose rowid is above `afterRowid`, in pages (better-sqlite3
 * cannot write while a statement iterates); the caller holds the transaction. Returns the count.
 */
export function indexRowsAfter(
  db: Db,
  afterRowid: number,
  table = 'requests',
  onRows?: (n: number) => void,
): number {
  const page = db.prepare(
    `SELECT rowid, request_id, model_original, request_json, response_json FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT 2000`,
  );
  let after = afterRowid;
  let count = 0;
  for (;;) {
    const rows = page.all(after) as {
      rowid: number;
      request_id: string;
      model_original: string | null;
      request_json: string | null;
      response_json: string | null;
    }[];
    if (rows.length === 0) return count;
    for (const row of rows) {
      indexRequest(
        db,
        row.rowid,
        row.request_id,
        row.model_original,
        parseJson(row.request_json),
        parseJson(row.response_json),
      );
    }
    after = rows[rows.length - 1]!.rowid;
    count += rows.length;
    onRows?.(rows.length);
  }
}

/**
 * (Re)builds the index from the partition's requests, in slices so a caller can report progress.
 * Idempotent: the old index is emptied first, in the same transaction.
 */
export function buildFts(db: Db, onRows?: (n: number) => void): number {
  createFts(db);
  let count = 0;
  db.transaction(() => {
    // An external-content index is emptied by command; DELETE would read the text back.
    db.exec(`INSERT INTO ${FTS_TABLE} (${FTS_TABLE}) VALUES ('delete-all')`);
    count = indexRowsAfter(db, 0, 'requests', onRows);
  })();
  db.exec(`INSERT INTO ${FTS_TABLE} (${FTS_TABLE}) VALUES ('optimize')`);
  compactFile(db);
  return count;
}

export function dropFts(db: Db): boolean {
  if (!hasFtsIndex(db)) return false;
  db.exec(`DROP TABLE ${FTS_TABLE}`);
  db.exec(`DROP VIEW IF EXISTS ${FTS_VIEW}`);
  compactFile(db);
  return true;
}

/**
 * How many requests the index holds, read from FTS5's own totals record (the `averages` row of its
 * %_data table, id 1, which starts with the row count as a varint). Counting the index table
 * itself would read the rows' text back through the view; there is no per-row size table
 * (columnsize = 0) to count either.
 */
export function indexedDocuments(db: Db): number {
  const row = db.prepare(`SELECT block FROM ${FTS_TABLE}_data WHERE id = 1`).get() as
    | { block: Buffer }
    | undefined;
  if (row === undefined) return 0;
  // An SQLite varint: 7 bits a byte, high bit set on all but the last (9 bytes at most).
  let value = 0;
  for (let i = 0; i < Math.min(row.block.length, 9); i++) {
    const byte = row.block[i]!;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  return value;
}
