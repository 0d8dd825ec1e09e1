// The console's reads of the log store and the request log, as a table of plain functions: each
// takes and returns structured-clone-able data, so the same call runs in the console's query thread
// (console-query-thread.ts) or, without a compiled thread, in the caller's (console-query-runner.ts).
// An exchange or a dialog comes back as its JSON text: a stored exchange can be megabytes, and text
// crosses the thread as one copy and goes out as the body, where an object tree would be rebuilt on
// the gateway's thread and stringified there again.
import { findRequest } from '../logstore/search.js';
import {
  dialogRows,
  exchangeView,
  type LogFilters,
  LogQueryError,
  searchLogs,
} from './routes/console-api-logs.js';
import { tailRequestLog } from './routes/console-api-tail.js';
import type { Bucket, LogHit, LogPage, UsageHistory } from './routes/console-api-types.js';
import { usageHistory } from './routes/console-api-usage.js';

export interface UsageArgs {
  dbRoot: string;
  since: number;
  until: number;
  bucket: Bucket;
}

export interface SearchArgs {
  dbRoot: string;
  filters: LogFilters;
  limit: number;
  cursor: string | undefined;
}

export const CONSOLE_QUERIES = {
  usage: (args: UsageArgs): UsageHistory => usageHistory(args.dbRoot, args.since, args.until, args.bucket),
  search: (args: SearchArgs): LogPage => searchLogs(args.dbRoot, args.filters, args.limit, args.cursor),
  /** The exchange as JSON text, null when no partition holds it. */
  exchange: (args: { dbRoot: string; id: string }): string | null => {
    const found = findRequest(args.dbRoot, args.id);
    return found === undefined ? null : JSON.stringify(exchangeView(found.row));
  },
  /** The dialog as JSON text, null when it has no exchange. */
  dialog: (args: { dbRoot: string; id: string; limit: number }): string | null => {
    const rows = dialogRows(args.dbRoot, args.id, args.limit);
    if (rows.length === 0) return null;
    return JSON.stringify({ dialog_id: args.id, exchanges: rows.map(exchangeView) });
  },
  tail: (args: { logDir: string; limit: number }): LogHit[] => tailRequestLog(args.logDir, args.limit),
};

export type ConsoleQueries = typeof CONSOLE_QUERIES;
export type QueryName = keyof ConsoleQueries;
export type QueryArgs<N extends QueryName> = Parameters<ConsoleQueries[N]>[0];
export type QueryResult<N extends QueryName> = ReturnType<ConsoleQueries[N]>;

/** Runs one query in this thread; its errors are thrown as they are. */
export function runQuery<N extends QueryName>(name: N, args: QueryArgs<N>): QueryResult<N> {
  const query = CONSOLE_QUERIES[name] as (args: QueryArgs<N>) => QueryResult<N>;
  return query(args);
}

export interface QueryRequest {
  id: number;
  name: QueryName;
  args: unknown;
}

/**
 * An error as it crosses the thread: a query the user got wrong keeps its kind (the route answers
 * 400 naming `q`); anything else keeps its name, message and stack for the process log.
 */
export interface QueryFailure {
  kind: 'log_query' | 'error';
  name: string;
  message: string;
  stack: string | undefined;
}

export type QueryReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; value: unknown }
  | { type: 'failed'; id: number; error: QueryFailure };

export function encodeFailure(error: unknown): QueryFailure {
  if (error instanceof LogQueryError) {
    return { kind: 'log_query', name: error.name, message: error.message, stack: error.stack };
  }
  if (error instanceof Error)
    return { kind: 'error', name: error.name, message: error.message, stack: error.stack };
  return { kind: 'error', name: 'Error', message: String(error), stack: undefined };
}

export function decodeFailure(failure: QueryFailure): Error {
  const error =
    failure.kind === 'log_query' ? new LogQueryError(failure.message) : new Error(failure.message);
  if (failure.kind === 'error') error.name = failure.name;
  if (failure.stack !== undefined) error.stack = failure.stack;
  return error;
}

/** What the thread answers to one request. */
export function answerRequest(request: QueryRequest): QueryReply {
  try {
    return {
      type: 'done',
      id: request.id,
      value: runQuery(request.name, request.args as QueryArgs<QueryName>),
    };
  } catch (error) {
    return { type: 'failed', id: request.id, error: encodeFailure(error) };
  }
}
