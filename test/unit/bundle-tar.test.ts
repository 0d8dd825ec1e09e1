// The ustar writer and reader: round trips, and interchange with GNU tar both ways.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleError } from '../../src/logstore/bundle/errors.js';
import { readTarGz } from '../../src/logstore/bundle/tar-reader.js';
import { writeTarGz } from '../../src/logstore/bundle/tar-writer.js';
import { makeTempDir } from '../support/gateway.js';

const dirs: string[] = [];
function temp(): string {
  const dir = makeTempDir('ai-proxy-tar-');
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function readAll(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const entry of readTarGz(file)) {
    if (entry.type !== 'file') continue;
    const parts: Buffer[] = [];
    for await (const chunk of entry.body()) parts.push(chunk);
    out.set(entry.path, Buffer.concat(parts));
  }
  return out;
}

/** Bodies of awkward sizes: empty, one byte, exactly a block, a block and one, ~1 MB. */
function samples(dir: string): { path: string; source: string; bytes: Buffer }[] {
  const sizes = [0, 1, 512, 513, 1_000_003];
  return sizes.map((size, i) => {
    const bytes = Buffer.alloc(size);
    for (let j = 0; j < size; j++) bytes[j] = (j * 31 + i) % 251;
    const source = join(dir, `src-${i}`);
    writeFileSync(source, bytes);
    const path = i === 4 ? `db/${'deep/'.repeat(30)}big.sqlite3` : `db/2026/11/file-${i}.bin`;
    return { path, source, bytes };
  });
}

describe('tar.gz writer and reader', () => {
  it('round-trips files of every awkward size, long paths included', async () => {
    const dir = temp();
    const files = samples(dir);
    const out = join(dir, 'a.tar.gz');
    await writeTarGz(out, files);
    const read = await readAll(out);
    expect([...read.keys()]).toEqual(files.map((f) => f.path));
    for (const file of files) expect(read.get(file.path)?.equals(file.bytes), file.path).toBe(true);
  });

  it('writes archives GNU tar lists and unpacks byte for byte', async () => {
    const dir = temp();
    const files = samples(dir);
    const out = join(dir, 'b.tar.gz');
    await writeTarGz(out, files);
    const listed = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(files.map((f) => f.path));
    const unpack = join(dir, 'unpacked');
    mkdirSync(unpack);
    execFileSync('tar', ['-xzf', out, '-C', unpack]);
    for (const file of files) expect(readFileSync(join(unpack, file.path)).equals(file.bytes)).toBe(true);
  });

  it('reads archives GNU tar wrote, directories and PAX long names included', async () => {
    const dir = temp();
    const tree = join(dir, 'tree');
    const longDir = join(tree, 'db', 'x'.repeat(120));
    mkdirSync(longDir, { recursive: true });
    writeFileSync(join(longDir, `${'y'.repeat(120)}.txt`), 'long');
    writeFileSync(join(tree, 'metadata.json'), '{}');
    const out = join(dir, 'gnu.tar.gz');
    execFileSync('tar', ['--format=pax', '-czf', out, '-C', tree, 'metadata.json', 'db']);
    const read = await readAll(out);
    expect(read.get('metadata.json')?.toString()).toBe('{}');
    expect(read.get(`db/${'x'.repeat(120)}/${'y'.repeat(120)}.txt`)?.toString()).toBe('long');
  });

  it('rejects a truncated archive and a file that is not gzip, naming the file', async () => {
    const dir = temp();
    const files = samples(dir);
    const out = join(dir, 'c.tar.gz');
    await writeTarGz(out, files);
    const whole = readFileSync(out);
    const cut = join(dir, 'cut.tar.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(readAll(cut)).rejects.toThrow(BundleError);
    await expect(readAll(cut)).rejects.toThrow(cut);
    const plain = join(dir, 'plain.tar.gz');
    writeFileSync(plain, 'this is not gzip at all');
    await expect(readAll(plain)).rejects.toThrow(/not a valid gzip stream/);
  });
});

describe('the end of an archive', () => {
  it("fails on a changed byte in gzip's trailer (CRC) and on data after the end marker", async () => {
    const dir = temp();
    const source = join(dir, 'one');
    writeFileSync(source, 'some bytes');
    const out = join(dir, 'd.tar.gz');
    await writeTarGz(out, [{ path: 'db/one', source }]);
    const whole = readFileSync(out);
    const crc = Buffer.from(whole);
    const at = crc.length - 6;
    crc[at] = (crc[at] ?? 0) ^ 0x01;
    const badCrc = join(dir, 'crc.tar.gz');
    writeFileSync(badCrc, crc);
    await expect(readAll(badCrc)).rejects.toThrow(/not a valid gzip stream/);

    const tar = gunzipSync(whole);
    const trailing = Buffer.concat([tar, Buffer.from('junk')]);
    const junk = join(dir, 'junk.tar.gz');
    writeFileSync(junk, gzipSync(trailing));
    await expect(readAll(junk)).rejects.toThrow(/data after the end/);
  });
});
