// `ai-proxy logs prune [--before D] [--archive DIR] [--dry-run]`: retention. Whole partitions
// older than D go with the request-log files they came from; --archive bundles each first.
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadServerIdentity } from '../logs/server-identity.js';
import { parseDay } from '../logstore/partitions.js';
import { type LogsOptions, logsContext, runLogsCommand, withStoreOptions } from './logs-context.js';
import { fail } from './parse.js';

interface PruneFlags extends LogsOptions {
  before?: string;
  archive?: string;
  from?: string;
  dryRun?: boolean;
  json?: boolean;
}

const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

export function registerLogsPruneCommand(logs: Command): void {
  withStoreOptions(
    logs
      .command('prune')
      .description(
        'delete (or with --archive, bundle then delete) whole partitions before a day, with their request-log files',
      )
      .option(
        '--before <YYYY-MM-DD>',
        'partitions whose days are all before this day go (default: LOGDB_RETENTION_DAYS)',
      )
      .option('--archive <dir>', 'write each partition and its raw files to DIR/ai_proxy_KEY.tgz first')
      .option('--from <dir>', 'log folder holding requests/ and server.json (default: LOG_DIR)')
      .option('--dry-run', 'list what would go, change nothing')
      .option('--json', 'print the result as JSON'),
  ).action((options: PruneFlags) =>
    runLogsCommand(async () => {
      const { prune, retentionCutoff } = await import('../logstore/prune.js');
      const ctx = logsContext(options);
      const days = ctx.config.logdb.retentionDays;
      let before: Date;
      if (options.before !== undefined) before = parseDay(options.before, '--before');
      else if (days !== undefined) before = retentionCutoff(days);
      else fail('give --before YYYY-MM-DD (or set LOGDB_RETENTION_DAYS)');
      const logDir = options.from ?? ctx.config.log.dir;
      const archiveDir = options.archive ?? ctx.config.logdb.retentionArchiveDir;
      const result = await prune({
        dbRoot: ctx.dbRoot,
        rawDir: join(logDir, 'requests'),
        before,
        archiveDir,
        serverId:
          archiveDir === undefined ? undefined : loadServerIdentity(logDir, ctx.config.serverId).server_id,
        dryRun: options.dryRun === true,
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const verb = result.dryRun ? 'would delete' : 'deleted';
      const out: string[] = [];
      for (const p of result.pruned) {
        out.push(
          `${verb} ${p.key}: ${mb(p.bytes)} partition, ${p.rawFiles.length} request-log files (${mb(p.rawBytes)})${p.archive === undefined ? '' : `, archived to ${p.archive}`}`,
        );
      }
      for (const p of result.kept) out.push(`kept ${p.key}: ${p.kept}`);
      out.push(
        `${result.dryRun ? 'dry run: ' : ''}${result.pruned.length} partitions before ${result.before} ${verb} (${mb(result.bytesFreed)}), ${result.kept.length} kept`,
      );
      process.stdout.write(`${out.join('\n')}\n`);
    }),
  );
}
