// `ai-proxy logs merge --from DIR --to FILE`: every partition under DIR in one SQLite file.
import type { Command } from 'commander';
import { mergeDirectory } from '../logstore/bundle/merge-dir.js';
import { cliBundleProgress } from './logs-bundle-progress.js';
import { type LogsOptions, logsContext, runLogsCommand } from './logs-context.js';

/** Same request id, another server: kept out (the schema keys rows by request id), but said. */
export function conflictNote(conflicts: number): string {
  return conflicts === 0
    ? ''
    : `; ${conflicts} rows skipped: their request id is already stored from another server`;
}

interface MergeFlags extends LogsOptions {
  from?: string;
  to: string;
  json?: boolean;
}

export function registerLogsMergeCommand(logs: Command): void {
  logs
    .command('merge')
    .description('merge the partition files under a folder into one SQLite file (no duplicate rows)')
    .option('--from <dir>', 'partition folder (default: LOG_DIR/db)')
    .requiredOption('--to <file>', 'SQLite file to create or add to')
    .option('--config <path>', 'config file (YAML or JSON)')
    .option('--json', 'print the result as JSON')
    .action((options: MergeFlags) =>
      runLogsCommand(() => {
        const from = options.from ?? logsContext(options).dbRoot;
        const result = mergeDirectory(from, options.to, cliBundleProgress('logs'));
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ to: options.to, ...result }, null, 2)}\n`
            : `${options.to}: ${result.inserted} new rows, ${result.rows - result.inserted} already there, from ${result.partitions} partitions${conflictNote(result.conflicts)}\n`,
        );
      }),
    );
}
