// Writes a tar.gz from files on disk, streaming: one header, the file's bytes, padding, then the
// two zero blocks that end an archive, all through gzip into the output file. The file is written
// beside its final name and renamed, so a failed run never leaves a half bundle under that name.
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BLOCK, encodeHeader, padding } from './tar-header.js';

export interface TarInput {
  /** Path inside the archive (forward slashes, relative). */
  path: string;
  /** The file whose bytes become the entry's body. */
  source: string;
}

async function* archive(inputs: TarInput[], onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  for (const input of inputs) {
    const stat = statSync(input.source);
    yield encodeHeader({ path: input.path, size: stat.size, mtime: stat.mtimeMs / 1000, type: 'file' });
    let written = 0;
    for await (const chunk of createReadStream(input.source)) {
      written += (chunk as Buffer).length;
      onBytes?.((chunk as Buffer).length);
      yield chunk as Buffer;
    }
    if (written !== stat.size) throw new Error(`${input.source} changed while it was archived`);
    const pad = padding(stat.size);
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(BLOCK * 2);
}

export async function writeTarGz(
  out: string,
  inputs: TarInput[],
  /** Called with each body chunk's size as it is archived. */
  onBytes?: (n: number) => void,
): Promise<void> {
  const partial = `${out}.partial`;
  try {
    await pipeline(archive(inputs, onBytes), createGzip({ level: 6 }), createWriteStream(partial));
    renameSync(partial, out);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}
