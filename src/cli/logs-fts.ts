// `ai-proxy logs fts build|drop [--since D] [--to D]`: the FTS5 index of each partition in range.
import type { Command } from 'commander';
import { buildFts, dropFts } from '../logstore/fts.js';
import { listPartitions } from '../logstore/partitions.js';
import { createProgress } from '../logstore/progress.js';
import { openPartition } from '../logstore/schema.js';
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
    runLogsCommand(() => {
      const ctx = logsContext(options);
      const range = dateRange(options);
      const partitions = listPartitions(ctx.dbRoot, range.since, range.to);
      const progress = createProgress({ label: 'fts build', unit: 'rows' });
      const dbs = partitions.map((p) => openPartition(p.path));
      try {
        const total = dbs.reduce(
          (sum, db) => sum + (db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n,
          0,
        );
        progress.setTotal(total);
        let rows = 0;
        for (const db of dbs) rows += buildFts(db, (n) => progress.add(n));
        progress.done(`${rows} rows in ${partitions.length} partitions`);
        process.stdout.write(`indexed ${rows} requests in ${partitions.length} partitions\n`);
      } finally {
        for (const db of dbs) db.close();
      }
    }),
  );
  withRange(
    withStoreOptions(fts.command('drop').description('drop the index of each partition in range')),
  ).action((options: RangeOptions) =>
    runLogsCommand(() => {
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
