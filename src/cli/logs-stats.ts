// `ai-proxy logs stats [--since --to --json]`: what the log store holds.
import type { Command } from 'commander';
import { storeStats } from '../logstore/stats.js';
import {
  dateRange,
  logsContext,
  type RangeOptions,
  runLogsCommand,
  withRange,
  withStoreOptions,
} from './logs-context.js';

export function registerLogsStatsCommand(logs: Command): void {
  withRange(
    withStoreOptions(
      logs
        .command('stats')
        .description('partitions, rows, sizes, servers and models')
        .option('--json', 'print JSON'),
    ),
  ).action((options: RangeOptions & { json?: boolean }) =>
    runLogsCommand(() => {
      const ctx = logsContext(options);
      const range = dateRange(options);
      const stats = storeStats(ctx.dbRoot, range.since, range.to);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
        return;
      }
      const out: string[] = [
        `log store ${stats.root}: ${stats.partitions.length} partitions, ${stats.total_rows} requests, ${(stats.total_bytes / 1_048_576).toFixed(1)} MB`,
      ];
      for (const p of stats.partitions) {
        out.push(
          `  ${p.key.padEnd(9)} ${String(p.rows).padStart(9)} rows  ${(p.bytes / 1_048_576).toFixed(1).padStart(7)} MB  fts ${p.fts ? 'yes' : 'no '}  dialogs ${p.dialogs}`,
        );
      }
      if (stats.servers.length > 0) out.push('servers:');
      for (const s of stats.servers)
        out.push(`  ${s.server_id} ${s.hostname ?? '?'} ${s.environment ?? '?'}: ${s.rows} requests`);
      if (stats.models.length > 0) out.push('models:');
      for (const m of stats.models)
        out.push(
          `  ${(m.model ?? '-').padEnd(30)} ${String(m.rows).padStart(9)} requests  ${m.tokens} tokens  cost ${m.cost.toFixed(4)}`,
        );
      process.stdout.write(`${out.join('\n')}\n`);
    }),
  );
}
