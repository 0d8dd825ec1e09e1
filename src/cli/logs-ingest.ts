// `ai-proxy logs ingest [--from DIR] [--since D] [--to D]`: reads new request-log lines into the
// partitions; safe to stop at any moment and run again.
import type { Command } from 'commander';
import { ingest } from '../logstore/ingest.js';
import { createProgress } from '../logstore/progress.js';
import {
  dateRange,
  logsContext,
  type RangeOptions,
  runLogsCommand,
  withRange,
  withStoreOptions,
} from './logs-context.js';
import { parseInteger } from './parse.js';

interface IngestFlags extends RangeOptions {
  from?: string;
  parallelism?: number;
  fts?: boolean;
  json?: boolean;
}

export function registerLogsIngestCommand(logs: Command): void {
  withRange(
    withStoreOptions(
      logs
        .command('ingest')
        .description(
          'read new request-log lines (LOG_DIR/requests/*.jsonl) into the partitions, incrementally',
        )
        .option('--from <dir>', 'log folder holding requests/ (default: LOG_DIR)')
        .option(
          '--parallelism <n>',
          'files read at once (default: LOGDB_IMPORT_PARALLELISM)',
          parseInteger(1, 64),
        )
        .option('--fts', 'also build the full-text index for new rows (default: where one exists)')
        .option('--json', 'print the result as JSON'),
    ),
  ).action((options: IngestFlags) =>
    runLogsCommand(async () => {
      const ctx = logsContext(options);
      const range = dateRange(options);
      const progress = createProgress({ label: 'ingest', unit: 'bytes' });
      const result = await ingest({
        from: options.from ?? ctx.config.log.dir,
        dbRoot: ctx.dbRoot,
        granularity: ctx.config.logdb.granularity,
        ...range,
        parallelism: options.parallelism ?? ctx.config.logdb.importParallelism,
        memoryCapMb: ctx.config.logdb.memoryCapMb,
        fts: options.fts === true || ctx.config.logdb.ftsEnabled ? true : undefined,
        progress,
      });
      progress.done(`${result.inserted} new, ${result.duplicates} already stored`);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `ingested ${result.inserted} new records (${result.duplicates} already stored, ${result.badLines} unreadable lines) from ${result.filesRead} of ${result.files} files into ${result.touched.length} partitions\n`,
      );
    }),
  );
}
