// `ai-proxy logs migrate [--since D] [--to D]`: brings every partition in range to the current
// schema now, rather than on its next write (version 2: the FTS index keeps no second copy of the
// text; 3: hourly usage rollups; 4: derived columns stored only where they differ). Each partition
// migrates in one transaction: safe to stop and run again.
import type { Command } from 'commander';
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

export function registerLogsMigrateCommand(logs: Command): void {
  withRange(
    withStoreOptions(
      logs
        .command('migrate')
        .description('bring each partition in range to the current schema (safe to stop and run again)'),
    ),
  ).action((options: RangeOptions) =>
    runLogsCommand(async () => {
      const { openPartition, readSchemaVersion, SCHEMA_VERSION } = await import('../logstore/schema.js');
      const ctx = logsContext(options);
      const range = dateRange(options);
      const partitions = listPartitions(ctx.dbRoot, range.since, range.to);
      const progress = createProgress({ label: 'migrate', unit: 'partitions', total: partitions.length });
      let migrated = 0;
      for (const partition of partitions) {
        const before = openPartition(partition.path, { readonly: true });
        const version = readSchemaVersion(before);
        before.close();
        if (version < SCHEMA_VERSION) {
          openPartition(partition.path).close();
          migrated += 1;
        }
        progress.add(1);
      }
      progress.done();
      process.stdout.write(
        `${migrated} of ${partitions.length} partitions migrated to schema version ${SCHEMA_VERSION}\n`,
      );
    }),
  );
}
