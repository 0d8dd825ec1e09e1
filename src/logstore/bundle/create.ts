// `logs bundle create`: snapshots the partitions that overlap [since, to] (and, with include_raw,
// the request-log files of those days), hashes each, and writes metadata.json first, then db/ and
// raw/, into one tar.gz. Nothing is read from a live file twice: the staged copies are what is
// hashed and what is archived.
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { DAY_MS, formatDay, listPartitions, parseDay } from '../partitions.js';
import { SCHEMA_VERSION } from '../schema.js';
import { sha256File } from './checksum.js';
import { BundleError } from './errors.js';
import { BUNDLE_FORMAT, type BundleFile, type BundleMetadata, METADATA_PATH } from './metadata.js';
import { type BundleProgress, silentProgress } from './progress.js';
import { snapshotPartition } from './snapshot.js';
import { type TarInput, writeTarGz } from './tar-writer.js';

export interface CreateOptions {
  /** The partitions' root (LOG_DIR/db). */
  dbRoot: string;
  /** Folder of the JSONL request log (LOG_DIR/requests), for include_raw. */
  rawDir: string;
  serverId: string;
  since?: string;
  to?: string;
  out: string;
  includeRaw: boolean;
  progress?: BundleProgress;
}

export interface CreateResult {
  metadata: BundleMetadata;
  out: string;
  bytes: number;
}

const RAW_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

function rawFiles(rawDir: string, since: Date | undefined, to: Date | undefined): string[] {
  if (!existsSync(rawDir)) return [];
  return readdirSync(rawDir)
    .filter((name) => {
      const match = RAW_FILE.exec(name);
      if (match === null) return false;
      const day = Date.parse(`${match[1]}T00:00:00Z`);
      return (
        (since === undefined || day >= since.getTime()) && (to === undefined || day < to.getTime() + DAY_MS)
      );
    })
    .sort();
}

function toBundlePath(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}

export async function createBundle(options: CreateOptions): Promise<CreateResult> {
  const progress = options.progress ?? silentProgress;
  const since = options.since === undefined ? undefined : parseDay(options.since, '--since');
  const to = options.to === undefined ? undefined : parseDay(options.to, '--to');
  if (since !== undefined && to !== undefined && since.getTime() > to.getTime()) {
    throw new BundleError(`--since ${options.since} is after --to ${options.to}`);
  }
  const partitions = listPartitions(options.dbRoot, since, to);
  const raw = options.includeRaw ? rawFiles(options.rawDir, since, to) : [];
  if (partitions.length === 0 && raw.length === 0) {
    const range = `${options.since ?? 'the beginning'} to ${options.to ?? 'now'}`;
    throw new BundleError(
      `no log partitions under ${options.dbRoot} from ${range}; run \`ai-proxy logs ingest\` first`,
    );
  }
  // Staged beside the output: the space the bundle needs is there, /tmp may be small.
  mkdirSync(dirname(options.out), { recursive: true });
  const stage = mkdtempSync(join(dirname(options.out), '.ai-proxy-bundle-'));
  try {
    const staged: { path: string; source: string }[] = [];
    progress.start('snapshot', partitions.length + raw.length, 'files');
    for (const partition of partitions) {
      const path = `db/${toBundlePath(options.dbRoot, partition.path)}`;
      const target = join(stage, ...path.split('/'));
      snapshotPartition(partition.path, target);
      staged.push({ path, source: target });
      progress.add(1);
    }
    for (const name of raw) {
      const path = `raw/${name}`;
      const target = join(stage, 'raw', name);
      mkdirSync(join(stage, 'raw'), { recursive: true });
      copyFileSync(join(options.rawDir, name), target);
      staged.push({ path, source: target });
      progress.add(1);
    }
    progress.finish();

    const files: BundleFile[] = [];
    progress.start(
      'checksum',
      staged.reduce((n, f) => n + statSync(f.source).size, 0),
      'bytes',
    );
    for (const file of staged) {
      files.push({ path: file.path, ...(await sha256File(file.source, (n) => progress.add(n))) });
    }
    progress.finish();

    const metadata: BundleMetadata = {
      format: BUNDLE_FORMAT,
      bundle_id: `bnd_${randomUUID().replace(/-/g, '')}`,
      created_at: new Date().toISOString(),
      server_id: options.serverId,
      schema_version: SCHEMA_VERSION,
      since: since === undefined ? null : formatDay(since),
      to: to === undefined ? null : formatDay(to),
      include_raw: options.includeRaw,
      files,
    };
    const metadataFile = join(stage, METADATA_PATH);
    writeFileSync(metadataFile, `${JSON.stringify(metadata, null, 2)}\n`);
    const inputs: TarInput[] = [{ path: METADATA_PATH, source: metadataFile }, ...staged];
    progress.start(
      'write',
      inputs.reduce((n, input) => n + statSync(input.source).size, 0),
      'bytes',
    );
    await writeTarGz(options.out, inputs, (n) => progress.add(n));
    progress.finish();
    return { metadata, out: options.out, bytes: statSync(options.out).size };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
