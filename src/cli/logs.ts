// `ai-proxy logs …`: the request log store (SPEC §8, §9). One file per subcommand; this one makes
// the group and `init`. Bundle and merge commands register themselves through `extra`.
import type { Command } from 'commander';
import { loadServerIdentity } from '../logs/server-identity.js';
import { formatDay, parseDay, partitionPath } from '../logstore/partitions.js';
import { type LogsOptions, logsContext, runLogsCommand, withStoreOptions } from './logs-context.js';
import { registerLogsDialogsCommand } from './logs-dialogs.js';
import { registerLogsFtsCommand } from './logs-fts.js';
import { registerLogsIngestCommand } from './logs-ingest.js';
import { registerLogsMigrateCommand } from './logs-migrate.js';
import { registerLogsPruneCommand } from './logs-prune.js';
import { registerLogsSearchCommand, registerLogsShowCommand } from './logs-search.js';
import { registerLogsStatsCommand } from './logs-stats.js';

function registerLogsInitCommand(logs: Command): void {
  withStoreOptions(
    logs
      .command('init')
      .description("create the partition for a day (today by default) and record this server's identity")
      .option('--date <YYYY-MM-DD>', 'the day whose partition to create (UTC)'),
  ).action((options: LogsOptions & { date?: string }) =>
    runLogsCommand(async () => {
      const { openPartition, upsertServer } = await import('../logstore/schema.js');
      const ctx = logsContext(options);
      const day =
        options.date === undefined
          ? parseDay(formatDay(new Date()), 'today')
          : parseDay(options.date, '--date');
      const path = partitionPath(ctx.dbRoot, day, ctx.config.logdb.granularity);
      const identity = loadServerIdentity(ctx.config.log.dir, ctx.config.serverId);
      const db = openPartition(path);
      try {
        upsertServer(db, identity, Date.now());
        const ok = db.pragma('integrity_check', { simple: true });
        process.stdout.write(
          `${path}\nserver ${identity.server_id} (${identity.hostname}, ${identity.environment}); integrity ${String(ok)}\n`,
        );
      } finally {
        db.close();
      }
    }),
  );
}

export function registerLogsCommand(program: Command, extra: ((logs: Command) => void)[] = []): Command {
  const logs = program
    .command('logs')
    .description('the request log store: SQLite partitions, full-text search, dialogs, bundles');
  registerLogsInitCommand(logs);
  registerLogsIngestCommand(logs);
  registerLogsFtsCommand(logs);
  registerLogsDialogsCommand(logs);
  registerLogsSearchCommand(logs);
  registerLogsShowCommand(logs);
  registerLogsStatsCommand(logs);
  registerLogsPruneCommand(logs);
  registerLogsMigrateCommand(logs);
  for (const register of extra) register(logs);
  return logs;
}
