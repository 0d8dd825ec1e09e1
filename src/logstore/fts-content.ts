// The FTS5 index keeps no copy of the text (schema version 2). It is an external-content table
// (SQLite's FTS5 documentation, "External Content Tables") over the view `request_text`, whose
// columns are computed from each request's own JSON by the SQL function ai_proxy_fts_text, the
// same extraction (fts-text.ts) that filled the index. Snippets and highlights read the view for
// the rows they show; matching reads only the index. Version 1 partitions stored the text a second
// time (≈ 30% of a partition); migrateFts rebuilds their index in one transaction, so a partition
// is either old or new, and a run killed in the middle resumes with the partitions not yet done.
//
// Every connection that reads the index's text needs the function: openPartition registers it.
// Tools outside ai-proxy (the sqlite3 shell) can still MATCH and read rowids, not the text columns.
import type Database from 'better-sqlite3';
import { extractRequestText, type RequestText } from './fts-text.js';

type Db = Database.Database;

export const FTS_TABLE = 'request_text_index';
export const FTS_VIEW = 'request_text';
export const FTS_FUNCTION = 'ai_proxy_fts_text';

const COLUMNS: readonly (keyof RequestText)[] = [
  'system_text',
  'user_text',
  'assistant_text',
  'tool_text',
  'answer_text',
];

/**
 * The view the index reads its text from, and the index. Column by who wrote the text, so
 * `user_text: france` narrows a query; a bare MATCH searches them all. The request id and model
 * ride along unindexed (read from the row) to map back. columnsize = 0: the index keeps no token
 * count per row and column (a tenth of its size), which only bm25() ranking would read; search
 * orders by rowid, and snippets and highlights do not need them. Indexes built before keep theirs.
 */
export const FTS_DDL = `
CREATE VIEW IF NOT EXISTS ${FTS_VIEW} AS SELECT rowid AS row_id, request_id, model_original,
  ${COLUMNS.map((c, i) => `${FTS_FUNCTION}(request_json, response_json, ${i}) AS ${c}`).join(',\n  ')}
  FROM requests;
CREATE VIRTUAL TABLE IF NOT EXISTS ${FTS_TABLE} USING fts5(
  request_id UNINDEXED,
  model_original UNINDEXED,
  system_text,
  user_text,
  assistant_text,
  tool_text,
  answer_text,
  content = '${FTS_VIEW}',
  content_rowid = 'row_id',
  columnsize = 0,
  tokenize = 'unicode61 remove_diacritics 2'
);
`;

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * SQLite asks for a row's five columns one after another: the last row's extraction is kept, so
 * the JSON is parsed once per row, not five times.
 */
function textFunction(): (request: unknown, response: unknown, column: unknown) => string {
  let lastRequest: unknown;
  let lastResponse: unknown;
  let last: RequestText | undefined;
  return (request, response, column) => {
    if (last === undefined || request !== lastRequest || response !== lastResponse) {
      last = extractRequestText(parseJson(request), parseJson(response));
      lastRequest = request;
      lastResponse = response;
    }
    return last[COLUMNS[Number(column)] ?? 'user_text'];
  };
}

export function registerFtsContent(db: Db): void {
  db.function(FTS_FUNCTION, { deterministic: true }, textFunction());
}

/** Whether the partition's index is the version 1 kind, with its own copy of the text. */
export function hasLegacyFts(db: Db): boolean {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(FTS_TABLE) as
    | { sql: string | null }
    | undefined;
  return row !== undefined && !/content\s*=/i.test(row.sql ?? '');
}

/**
 * Replaces a version 1 index by the external-content one, inside the caller's transaction:
 * same rows, same tokenizer, so the same queries find the same requests.
 */
export function migrateFts(db: Db): void {
  db.exec(`DROP TABLE ${FTS_TABLE}`);
  db.exec(FTS_DDL);
  db.exec(`INSERT INTO ${FTS_TABLE} (${FTS_TABLE}) VALUES ('rebuild')`);
  db.exec(`INSERT INTO ${FTS_TABLE} (${FTS_TABLE}) VALUES ('optimize')`);
}
