// One pass over a bundle: hashes every entry as it streams by and, when given a folder, writes
// each listed file there. The result is checked against metadata.json afterwards, so a bundle whose
// metadata comes last (repacked by another tar) verifies the same as one whose metadata comes first.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BundleError } from './errors.js';
import { type BundleMetadata, isSafeBundlePath, METADATA_PATH, parseMetadata } from './metadata.js';
import { type BundleProgress, silentProgress } from './progress.js';
import { readTarGz } from './tar-reader.js';

export interface ScanResult {
  metadata: BundleMetadata;
  /** One line per file that is missing, changed, unlisted or unsafe; empty when the bundle is intact. */
  problems: string[];
  files: number;
  bytes: number;
}

const METADATA_LIMIT = 64 * 1024 * 1024;

async function hashEntry(
  body: AsyncGenerator<Buffer>,
  out: string | undefined,
  onBytes: (n: number) => void,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of body) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes(chunk.length);
      yield chunk;
    }
  }
  if (out === undefined) {
    for await (const _ of hashed());
  } else {
    await pipeline(hashed(), createWriteStream(out));
  }
  return { sha256: hash.digest('hex'), bytes };
}

export async function scanBundle(
  bundle: string,
  options: { extractTo?: string; progress?: BundleProgress } = {},
): Promise<ScanResult> {
  const progress = options.progress ?? silentProgress;
  if (!existsSync(bundle)) throw new BundleError(`${bundle}: no such file`);
  if (!statSync(bundle).isFile()) throw new BundleError(`${bundle}: not a file`);
  let metadataText: string | undefined;
  const seen = new Map<string, { sha256: string; bytes: number }>();
  const problems: string[] = [];
  let started = false;
  // Once metadata.json is read, only what it lists (at the size it lists) is written to disk.
  let listed: Map<string, number> | undefined;
  for await (const entry of readTarGz(bundle)) {
    if (entry.type === 'directory') continue;
    if (entry.path === METADATA_PATH) {
      if (metadataText !== undefined) throw new BundleError(`${bundle}: two metadata.json entries`);
      if (entry.size > METADATA_LIMIT) throw new BundleError(`${bundle}: metadata.json is implausibly large`);
      const parts: Buffer[] = [];
      for await (const chunk of entry.body()) parts.push(chunk);
      metadataText = Buffer.concat(parts).toString('utf8');
      const metadata = parseMetadata(metadataText, bundle);
      const total = metadata.files.reduce((n, f) => n + f.bytes, 0);
      progress.start(options.extractTo === undefined ? 'verify' : 'unpack', total, 'bytes');
      listed = new Map(metadata.files.map((f) => [f.path, f.bytes]));
      started = true;
      continue;
    }
    if (entry.type !== 'file' || !isSafeBundlePath(entry.path)) {
      problems.push(
        `${entry.path}: unexpected entry (only metadata.json, db/ and raw/ files belong in a bundle)`,
      );
      continue;
    }
    if (seen.has(entry.path)) {
      problems.push(`${entry.path}: appears twice in the archive`);
      continue;
    }
    let out: string | undefined;
    if (options.extractTo !== undefined && (listed === undefined || listed.get(entry.path) === entry.size)) {
      out = join(options.extractTo, ...entry.path.split('/'));
      mkdirSync(dirname(out), { recursive: true });
    }
    seen.set(
      entry.path,
      await hashEntry(entry.body(), out, (n) => {
        if (started) progress.add(n);
      }),
    );
  }
  if (started) progress.finish();
  if (metadataText === undefined)
    throw new BundleError(`${bundle}: no metadata.json; not an ai-proxy log bundle`);
  const metadata = parseMetadata(metadataText, bundle);
  let bytes = 0;
  for (const file of metadata.files) {
    const got = seen.get(file.path);
    if (got === undefined) {
      problems.push(`${file.path}: listed in metadata.json but missing from the bundle`);
      continue;
    }
    seen.delete(file.path);
    bytes += got.bytes;
    if (got.bytes !== file.bytes) {
      problems.push(`${file.path}: size ${got.bytes} bytes, metadata.json says ${file.bytes}`);
    } else if (got.sha256 !== file.sha256) {
      problems.push(
        `${file.path}: checksum mismatch (sha256 ${got.sha256}, metadata.json says ${file.sha256})`,
      );
    }
  }
  for (const path of seen.keys()) problems.push(`${path}: in the bundle but not listed in metadata.json`);
  return { metadata, problems, files: metadata.files.length, bytes };
}

/** Verifies a bundle, throwing a BundleError that names every bad file. */
export async function verifyBundle(bundle: string, progress?: BundleProgress): Promise<ScanResult> {
  const result = await scanBundle(bundle, { progress });
  if (result.problems.length > 0) {
    throw new BundleError(`${bundle}: verification failed:\n  ${result.problems.join('\n  ')}`);
  }
  return result;
}
