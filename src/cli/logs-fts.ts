// `ai-proxy logs fts build|drop [--since D] [--to D]`: the FTS5 index of each partition in range.
import type { Command } from 'commander';
import { singlePartitionCacheKib } from '../logstore/memory-budget.js';
import { listPartitions } from '../logstore/partitions.js';
import { createProgress } from '../logstore/progress.js';
import {
  dateRange,
  logsContext,
  type RangeOptions,
  runLogsCommand,
  withRange,
  withStoreOptions,
} from './logs-context.js';

export function registerLogsFtsCommand(logs: Command): void {
  const fts = logs.command('fts').description('the full-text index (FTS5 request_text_index)');
  withRange(
    withStoreOptions(
      fts.command('build').description('build (or rebuild) the index of each partition in range'),
    ),
  ).action((options: RangeOptions) =>
    runLogsCommand(async () => {
      const { buildFts } = await import('../logstore/fts.js');
      const { openPartition } = await import('../logstore/schema.js');
      const ctx = logsContext(options);
      const range = dateRange(options);
      const partitions = listPartitions(ctx.dbRoot, range.since, range.to);
      const progress = createProgress({ label: 'fts build', unit: 'rows' });
      // One partition open at a time, whatever the range: memory follows LOGDB_MEMORY_CAP_MB.
      let total = 0;
      for (const partition of partitions) {
        const db = openPartition(partition.path, { readonly: true });
        try {
          total += (db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
        } finally {
          db.close();
        }
      }
      progress.setTotal(total);
      const cacheKib = singlePartitionCacheKib(ctx.config.logdb.memoryCapMb);
      let rows = 0;
      for (const partition of partitions) {
        const db = openPartition(partition.path);
        try {
          db.pragma(`cache_size = -${cacheKib}`);
          rows += buildFts(db, (n) => progress.add(n));
        } finally {
          db.close();
        }
      }
      progress.done(`${rows} rows in ${partitions.length} partitions`);
      process.stdout.write(`indexed ${rows} requests in ${partitions.length} partitions\n`);
    }),
  );
  withRange(
    withStoreOptions(fts.command('drop').description('drop the index of each partition in range')),
  ).action((options: RangeOptions) =>
    runLogsCommand(async () => {
      const { dropFts } = await import('../logstore/fts.js');
      const { openPartition } = await import('../logstore/schema.js');
      const ctx = logsContext(options);
      const range = dateRange(options);
      let dropped = 0;
      for (const partition of listPartitions(ctx.dbRoot, range.since, range.to)) {
        const db = openPartition(partition.path);
        try {
          if (dropFts(db)) dropped += 1;
        } finally {
          db.close();
        }
      }
      process.stdout.write(`dropped the index of ${dropped} partitions\n`);
    }),
  );
}
