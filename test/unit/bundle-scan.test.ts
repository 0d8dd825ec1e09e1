// The bundle scanner against hostile or odd archives: paths that climb out, unlisted and missing
// files, and a metadata.json that comes last.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/logstore/bundle/checksum.js';
import { BundleError } from '../../src/logstore/bundle/errors.js';
import { importBundle } from '../../src/logstore/bundle/import.js';
import { BUNDLE_FORMAT, type BundleMetadata, isSafeBundlePath } from '../../src/logstore/bundle/metadata.js';
import { scanBundle, verifyBundle } from '../../src/logstore/bundle/scan.js';
import { type TarInput, writeTarGz } from '../../src/logstore/bundle/tar-writer.js';
import { makeTempDir } from '../support/gateway.js';

const dirs: string[] = [];
function temp(): string {
  const dir = makeTempDir('ai-proxy-scan-');
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function bundleOf(
  dir: string,
  entries: { path: string; text: string }[],
  listed: { path: string; text: string }[],
  metadataLast = false,
  schemaVersion = 1,
): Promise<string> {
  const files: BundleMetadata['files'] = [];
  for (const item of listed) {
    const source = join(dir, `listed-${files.length}`);
    writeFileSync(source, item.text);
    files.push({ path: item.path, ...(await sha256File(source)) });
  }
  const metadata: BundleMetadata = {
    format: BUNDLE_FORMAT,
    bundle_id: 'bnd_test',
    created_at: new Date().toISOString(),
    server_id: 'srv_test',
    schema_version: schemaVersion,
    since: null,
    to: null,
    include_raw: false,
    files,
  };
  const metaFile = join(dir, 'metadata.json');
  writeFileSync(metaFile, JSON.stringify(metadata));
  const inputs: TarInput[] = entries.map((entry, i) => {
    const source = join(dir, `entry-${i}`);
    writeFileSync(source, entry.text);
    return { path: entry.path, source };
  });
  const meta = { path: 'metadata.json', source: metaFile };
  const out = join(dir, 'bundle.tgz');
  await writeTarGz(out, metadataLast ? [...inputs, meta] : [meta, ...inputs]);
  return out;
}

describe('bundle paths', () => {
  it('accepts only relative paths under db/ and raw/', () => {
    expect(isSafeBundlePath('db/2026/11/ai_proxy_20261122.sqlite3')).toBe(true);
    expect(isSafeBundlePath('raw/2026-11-22.jsonl')).toBe(true);
    for (const bad of [
      '/etc/passwd',
      'db/../../evil',
      'db//x',
      'db/./x',
      'other/x',
      'db/',
      'db\\..\\x',
      'raw/a\\b',
    ]) {
      expect(isSafeBundlePath(bad), bad).toBe(false);
    }
  });
});

describe('scanBundle', () => {
  it('verifies a bundle whose metadata.json comes last', async () => {
    const dir = temp();
    const files = [{ path: 'db/a.sqlite3', text: 'alpha' }];
    const out = await bundleOf(dir, files, files, true);
    const result = await verifyBundle(out);
    expect(result.files).toBe(1);
    expect(result.bytes).toBe(5);
  });

  it('never writes an entry whose path climbs out, and reports it', async () => {
    const dir = temp();
    const unpack = join(dir, 'unpack');
    const out = await bundleOf(dir, [{ path: 'db/../../escaped.txt', text: 'x' }], []);
    const result = await scanBundle(out, { extractTo: unpack });
    expect(result.problems.join('\n')).toMatch(/db\/\.\.\/\.\.\/escaped\.txt: unexpected entry/);
    expect(existsSync(join(dir, 'escaped.txt'))).toBe(false);
    expect(existsSync(unpack) ? readdirSync(unpack) : []).toEqual([]);
  });

  it('names missing, unlisted and changed files', async () => {
    const dir = temp();
    const out = await bundleOf(
      dir,
      [
        { path: 'db/changed.sqlite3', text: 'new text' },
        { path: 'raw/extra.jsonl', text: '{}' },
      ],
      [
        { path: 'db/changed.sqlite3', text: 'old text' },
        { path: 'db/missing.sqlite3', text: 'gone' },
      ],
    );
    const unpack = join(dir, 'unpack');
    const result = await scanBundle(out, { extractTo: unpack });
    const text = result.problems.join('\n');
    // What metadata.json (read first) does not list is hashed but never written out.
    expect(existsSync(join(unpack, 'raw', 'extra.jsonl'))).toBe(false);
    expect(existsSync(join(unpack, 'db', 'changed.sqlite3'))).toBe(true);
    expect(text).toMatch(/db\/changed\.sqlite3: checksum mismatch/);
    expect(text).toMatch(/db\/missing\.sqlite3: listed in metadata\.json but missing/);
    expect(text).toMatch(/raw\/extra\.jsonl: in the bundle but not listed/);
    await expect(verifyBundle(out)).rejects.toThrow(BundleError);
  });

  it('rejects metadata.json that lists an unsafe path', async () => {
    const dir = temp();
    const out = await bundleOf(dir, [], [{ path: 'db/../x', text: 'x' }]);
    await expect(scanBundle(out)).rejects.toThrow(/metadata\.json: files\.0\.path/);
  });
});

describe('importBundle', () => {
  it('refuses a bundle from a newer schema before touching the destination', async () => {
    const dir = temp();
    const files = [{ path: 'db/2026/11/ai_proxy_20261122.sqlite3', text: 'not read' }];
    const out = await bundleOf(dir, files, files, false, 99);
    const dest = join(dir, 'dest');
    await expect(importBundle({ bundle: out, dest, granularity: 'daily' })).rejects.toThrow(
      /schema version 99 is newer/,
    );
    expect(readdirSync(dest)).toEqual([]);
  });
});
