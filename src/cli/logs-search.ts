// `ai-proxy logs search QUERY [--since --to --model --status --limit --json]` and
// `ai-proxy logs show REQUEST_ID`: find requests by their text, then read one in full.
import type { Command } from 'commander';
import { findRequest, search } from '../logstore/search.js';
import {
  dateRange,
  type LogsOptions,
  logsContext,
  type RangeOptions,
  runLogsCommand,
  withRange,
  withStoreOptions,
} from './logs-context.js';
import { fail, parseInteger } from './parse.js';

interface SearchFlags extends RangeOptions {
  model?: string;
  status?: number;
  limit: number;
  json?: boolean;
}

export function registerLogsSearchCommand(logs: Command): void {
  withRange(
    withStoreOptions(
      logs
        .command('search')
        .description(
          'full-text search (FTS5: terms, "phrases", prefix*, NEAR(a b, 5), AND/OR/NOT), newest first',
        )
        .argument('<query>', 'FTS5 query')
        .option('--model <name>', 'only this model (as asked or as mapped)')
        .option('--status <code>', 'only this HTTP status', parseInteger(100, 599))
        .option('--limit <n>', 'most results', parseInteger(1, 10_000), 20)
        .option('--json', 'print JSON'),
    ),
  ).action((query: string, options: SearchFlags) =>
    runLogsCommand(() => {
      const ctx = logsContext(options);
      const tty = process.stdout.isTTY === true && options.json !== true;
      const result = search({
        dbRoot: ctx.dbRoot,
        query,
        ...dateRange(options),
        model: options.model,
        status: options.status,
        limit: options.limit,
        highlight: tty ? ['\x1b[1;33m', '\x1b[0m'] : ['[', ']'],
      });
      if (result.partitionsWithoutIndex.length > 0) {
        process.stderr.write(
          `note: ${result.partitionsWithoutIndex.length} partitions in range have no full-text index; run \`ai-proxy logs fts build\`\n`,
        );
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      for (const hit of result.hits) {
        process.stdout.write(
          `${hit.time}  ${hit.status}  ${hit.model ?? '-'}  ${hit.request_id}\n    ${hit.snippet.replace(/\s+/g, ' ')}\n`,
        );
      }
      process.stdout.write(`${result.hits.length} results\n`);
    }),
  );
}

export function registerLogsShowCommand(logs: Command): void {
  withStoreOptions(
    logs
      .command('show')
      .description('print one stored request in full (JSON)')
      .argument('<request-id>', 'request id from search'),
  ).action((requestId: string, options: LogsOptions) =>
    runLogsCommand(() => {
      const ctx = logsContext(options);
      const found = findRequest(ctx.dbRoot, requestId);
      if (found === undefined) fail(`no stored request with id ${JSON.stringify(requestId)}`);
      const { row, partition } = found;
      const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
      const out = {
        ...row,
        stream: row.stream === 1,
        request_json: undefined,
        response_json: undefined,
        error_json: undefined,
        attempts_json: undefined,
        usage_json: undefined,
        request: parse(row.request_json),
        response: parse(row.response_json),
        error: parse(row.error_json),
        attempts: parse(row.attempts_json),
        usage: parse(row.usage_json),
        partition,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    }),
  );
}
