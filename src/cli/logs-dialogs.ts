// `ai-proxy logs dialogs assign|clear [--since D] [--to D] [--window MINUTES]`.
import type { Command } from 'commander';
import { assignDialogs, clearDialogs } from '../logstore/dialogs.js';
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

export function registerLogsDialogsCommand(logs: Command): void {
  const dialogs = logs
    .command('dialogs')
    .description('group requests into dialogs (client key, endpoint, model, time window)');
  withRange(
    withStoreOptions(
      dialogs
        .command('assign')
        .description('assign dialog ids; an X-Dialog-Id sent by the client always wins; re-running is stable')
        .option(
          '--window <minutes>',
          'longest pause inside one dialog (default 30)',
          parseInteger(1, 10_080),
        ),
    ),
  ).action((options: RangeOptions & { window?: number }) =>
    runLogsCommand(() => {
      const ctx = logsContext(options);
      const range = dateRange(options);
      const progress = createProgress({ label: 'dialogs', unit: 'partitions' });
      const result = assignDialogs({
        dbRoot: ctx.dbRoot,
        ...range,
        windowMinutes: options.window ?? ctx.config.logdb.dialogWindowMinutes,
        onPartition: () => progress.add(1),
      });
      progress.done();
      process.stdout.write(
        `assigned dialogs in ${result.partitions} partitions; ${result.changed} requests changed\n`,
      );
    }),
  );
  withRange(
    withStoreOptions(dialogs.command('clear').description('remove automatically assigned dialog ids')),
  ).action((options: RangeOptions) =>
    runLogsCommand(() => {
      const ctx = logsContext(options);
      const result = clearDialogs({ dbRoot: ctx.dbRoot, ...dateRange(options) });
      process.stdout.write(`cleared ${result.changed} dialog ids in ${result.partitions} partitions\n`);
    }),
  );
}
