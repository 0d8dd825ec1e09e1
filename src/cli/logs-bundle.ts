// `ai-proxy logs bundle create | verify | import | transfer`: portable tar.gz bundles of the log
// store (SPEC §8, seed 002). Registered under the `logs` group by registerBundleCommands.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadServerIdentity } from '../logs/server-identity.js';
import { createBundle } from '../logstore/bundle/create.js';
import { BundleError } from '../logstore/bundle/errors.js';
import { importBundle } from '../logstore/bundle/import.js';
import { verifyBundle } from '../logstore/bundle/scan.js';
import { transferBundle } from '../logstore/bundle/transfer.js';
import { cliBundleProgress } from './logs-bundle-progress.js';
import {
  type LogsOptions,
  logsContext,
  type RangeOptions,
  runLogsCommand,
  withRange,
  withStoreOptions,
} from './logs-context.js';
import { conflictNote, registerLogsMergeCommand } from './logs-merge.js';

/** File-system failures (no such file, permission) become one clear line like any bad input. */
export function runBundleCommand(body: () => Promise<void> | void): Promise<void> {
  return runLogsCommand(async () => {
    try {
      await body();
    } catch (error) {
      if (error instanceof Error && 'syscall' in error && 'code' in error)
        throw new BundleError(error.message);
      throw error;
    }
  });
}

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

interface CreateFlags extends RangeOptions {
  out?: string;
  includeRaw?: boolean;
  from?: string;
  force?: boolean;
  json?: boolean;
}

/** `srv_…_2026-11-01_2026-11-07_20261122T231500Z.tgz`: whose, which days, when made. */
function generatedName(serverId: string, options: RangeOptions): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return `${serverId}_${options.since ?? 'start'}_${options.to ?? 'now'}_${stamp}.tgz`;
}

function registerCreate(bundle: Command): void {
  withRange(
    withStoreOptions(
      bundle
        .command('create')
        .description(
          'pack the partitions of [--since, --to] (and with --include-raw the request-log files) into a tar.gz',
        )
        .option('--out <file>', 'bundle file to write; a folder gets a generated name (default: bundles/)')
        .option('--include-raw', 'also pack the JSONL request-log files (default: LOGDB_BUNDLE_INCLUDE_RAW)')
        .option('--from <dir>', 'log folder holding requests/ and server.json (default: LOG_DIR)')
        .option('--force', 'overwrite an existing --out file')
        .option('--json', 'print the result as JSON'),
    ),
  ).action((options: CreateFlags) =>
    runBundleCommand(async () => {
      const ctx = logsContext(options);
      const logDir = options.from ?? ctx.config.log.dir;
      const identity = loadServerIdentity(logDir, ctx.config.serverId);
      let out = options.out ?? 'bundles/';
      if (out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory())) {
        out = join(out, generatedName(identity.server_id, options));
      } else if (existsSync(out) && options.force !== true) {
        throw new BundleError(`--out ${out}: file exists (use --force to overwrite)`);
      }
      const result = await createBundle({
        dbRoot: ctx.dbRoot,
        rawDir: join(logDir, 'requests'),
        serverId: identity.server_id,
        since: options.since,
        to: options.to,
        out,
        includeRaw: options.includeRaw === true || ctx.config.logdb.bundleIncludeRaw,
        progress: cliBundleProgress('bundle'),
      });
      const { metadata } = result;
      print(
        options.json,
        { out: result.out, bytes: result.bytes, ...metadata },
        `${result.out}: bundle ${metadata.bundle_id} from server ${metadata.server_id}, ${metadata.files.length} files, ${result.bytes} bytes`,
      );
    }),
  );
}

function registerVerify(bundle: Command): void {
  bundle
    .command('verify')
    .description('recompute every checksum in a bundle against its metadata.json; non-zero on any difference')
    .argument('<file>', 'bundle file')
    .option('--json', 'print the result as JSON')
    .action((file: string, options: { json?: boolean }) =>
      runBundleCommand(async () => {
        if (!existsSync(file)) throw new BundleError(`${file}: no such file`);
        const result = await verifyBundle(file, cliBundleProgress('bundle'));
        const { metadata } = result;
        print(
          options.json,
          { ok: true, files: result.files, bytes: result.bytes, metadata },
          `${file}: OK, ${result.files} files (${result.bytes} bytes) match metadata.json; bundle ${metadata.bundle_id}, server ${metadata.server_id}, schema ${metadata.schema_version}`,
        );
      }),
    );
}

interface ImportFlags extends LogsOptions {
  dest?: string;
  rawDest?: string;
  json?: boolean;
}

function registerImport(bundle: Command): void {
  withStoreOptions(
    bundle
      .command('import')
      .description('verify a bundle and merge its rows into the partitions under --dest, without duplicates')
      .argument('<file>', 'bundle file')
      .option('--dest <dir>', 'partition folder to merge into (default: --db, else LOG_DIR/db)')
      .option('--raw-dest <dir>', "where to copy the bundle's raw/ request-log files (default: not copied)")
      .option('--json', 'print the result as JSON'),
  ).action((file: string, options: ImportFlags) =>
    runBundleCommand(async () => {
      const ctx = logsContext(options);
      const result = await importBundle({
        bundle: file,
        dest: options.dest ?? ctx.dbRoot,
        granularity: ctx.config.logdb.granularity,
        rawDest: options.rawDest,
        progress: cliBundleProgress('import'),
      });
      print(
        options.json,
        result,
        `imported bundle ${result.metadata.bundle_id} (server ${result.metadata.server_id}): ${result.inserted} new rows, ${result.rows - result.inserted} already stored, into ${result.partitions.length} partitions${conflictNote(result.conflicts)}`,
      );
    }),
  );
}

function registerTransfer(bundle: Command): void {
  bundle
    .command('transfer')
    .description(
      'verify a bundle, copy it to DEST (a path, or host:path through rsync or scp) and check the copy',
    )
    .argument('<file>', 'bundle file')
    .argument('<dest>', 'destination file or folder, or host:path')
    .option('--json', 'print the result as JSON')
    .action((file: string, dest: string, options: { json?: boolean }) =>
      runBundleCommand(async () => {
        const result = await transferBundle(file, dest, cliBundleProgress('transfer'));
        print(
          options.json,
          result,
          `${file} -> ${result.target} (${result.via}, ${result.bytes} bytes, sha256 ${result.sha256}): ${result.check}`,
        );
      }),
    );
}

/** Adds `bundle …` and `merge` to the `logs` group. */
export function registerBundleCommands(logs: Command): void {
  const bundle = logs.command('bundle').description('portable tar.gz bundles of the log store');
  registerCreate(bundle);
  registerVerify(bundle);
  registerImport(bundle);
  registerTransfer(bundle);
  registerLogsMergeCommand(logs);
}
