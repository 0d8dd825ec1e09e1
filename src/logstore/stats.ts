// What the log store holds: per partition rows, size, time span, FTS and dialogs; totals, servers
// and the busiest models.
import { statSync } from 'node:fs';
import { listPartitions } from './partitions.js';
import { hasFtsIndex, openPartition, readSchemaVersion } from './schema.js';

export interface PartitionStats {
  key: string;
  path: string;
  bytes: number;
  schema_version: number;
  rows: number;
  first_time: string | null;
  last_time: string | null;
  fts: boolean;
  dialogs: number;
  sources: number;
}

export interface StoreStats {
  root: string;
  partitions: PartitionStats[];
  total_rows: number;
  total_bytes: number;
  servers: { server_id: string; hostname: string | null; environment: string | null; rows: number }[];
  models: { model: string | null; rows: number; tokens: number; cost: number }[];
}

function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // no such side file
    }
  }
  return total;
}

export function storeStats(root: string, since?: Date, to?: Date): StoreStats {
  const partitions: PartitionStats[] = [];
  const servers = new Map<string, StoreStats['servers'][number]>();
  const models = new Map<string, StoreStats['models'][number]>();
  for (const partition of listPartitions(root, since, to)) {
    const db = openPartition(partition.path, { readonly: true });
    try {
      const summary = db
        .prepare(
          // The first and last rows by ts, through its index: MIN(time) read every row (and time
          // is derived from ts for most rows since schema version 4).
          `SELECT COUNT(*) AS rows, (SELECT time FROM requests ORDER BY ts, request_id LIMIT 1) AS first_time,
             (SELECT time FROM requests ORDER BY ts DESC, request_id DESC LIMIT 1) AS last_time,
             COUNT(DISTINCT dialog_id) AS dialogs FROM requests`,
        )
        .get() as { rows: number; first_time: string | null; last_time: string | null; dialogs: number };
      const sources = (db.prepare('SELECT COUNT(*) AS n FROM ingest_sources').get() as { n: number }).n;
      partitions.push({
        key: partition.key,
        path: partition.path,
        bytes: fileBytes(partition.path),
        schema_version: readSchemaVersion(db),
        rows: summary.rows,
        first_time: summary.first_time,
        last_time: summary.last_time,
        fts: hasFtsIndex(db),
        dialogs: summary.dialogs,
        sources,
      });
      const perServer = db
        .prepare(
          `SELECT r.server_id, s.hostname, s.environment, COUNT(*) AS rows FROM requests r
           LEFT JOIN servers s ON s.server_id = r.server_id GROUP BY r.server_id`,
        )
        .all() as StoreStats['servers'];
      for (const s of perServer) {
        const known = servers.get(s.server_id);
        if (known === undefined) servers.set(s.server_id, { ...s });
        else {
          known.rows += s.rows;
          known.hostname ??= s.hostname;
          known.environment ??= s.environment;
        }
      }
      const perModel = db
        .prepare(
          `SELECT model_original AS model, COUNT(*) AS rows, COALESCE(SUM(total_tokens), 0) AS tokens,
             COALESCE(SUM(cost), 0) AS cost FROM requests GROUP BY model_original`,
        )
        .all() as StoreStats['models'];
      for (const m of perModel) {
        const key = m.model ?? '';
        const known = models.get(key);
        if (known === undefined) models.set(key, { ...m });
        else {
          known.rows += m.rows;
          known.tokens += m.tokens;
          known.cost += m.cost;
        }
      }
    } finally {
      db.close();
    }
  }
  return {
    root,
    partitions,
    total_rows: partitions.reduce((sum, p) => sum + p.rows, 0),
    total_bytes: partitions.reduce((sum, p) => sum + p.bytes, 0),
    servers: [...servers.values()].sort((a, b) => b.rows - a.rows),
    models: [...models.values()].sort((a, b) => b.rows - a.rows).slice(0, 20),
  };
}
