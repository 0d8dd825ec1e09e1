// Reads a tar.gz as a stream of entries without unpacking it first: verify hashes each body as it
// passes, import writes them out. Every body must be consumed or skipped before the next entry;
// `readTarGz` skips whatever the caller left.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { BundleError } from './errors.js';
import { BLOCK, decodeHeader, padding, paxPath } from './tar-header.js';

/** Pulls exact byte counts out of a stream of chunks. */
class ByteReader {
  private head: Buffer = Buffer.alloc(0);
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Up to `max` bytes (at least one), or undefined when the stream has ended. */
  async some(max: number): Promise<Buffer | undefined> {
    if (this.head.length === 0) {
      const next = await this.source.next();
      if (next.done) return undefined;
      this.head = next.value;
    }
    const take = this.head.subarray(0, Math.min(max, this.head.length));
    this.head = this.head.subarray(take.length);
    return take;
  }

  async exact(length: number, what: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < length) {
      const part = await this.some(length - got);
      if (part === undefined) throw new BundleError(`tar: archive ends inside ${what}`);
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }
}

export interface TarEntry {
  path: string;
  size: number;
  type: 'file' | 'directory' | 'other';
  /** The body in chunks; read at most once. */
  body(): AsyncGenerator<Buffer>;
}

/** Wraps gzip's own errors (bad header, CRC, truncation) in a message a user can act on. */
async function* gunzipped(file: string): AsyncGenerator<Buffer> {
  try {
    const input = createReadStream(file);
    const gunzip = createGunzip();
    // pipe() does not forward a read error (EISDIR, EACCES); without this it would go unhandled.
    input.on('error', (error) => gunzip.destroy(error));
    for await (const chunk of input.pipe(gunzip)) yield chunk as Buffer;
  } catch (error) {
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('Z_')) {
      throw new BundleError(`${file}: not a valid gzip stream (${error.message}); the bundle is damaged`);
    }
    throw error;
  }
}

export async function* readTarGz(file: string): AsyncGenerator<TarEntry> {
  const source = gunzipped(file);
  try {
    yield* entries(file, new ByteReader(source));
  } finally {
    // A caller that stops early (a bad entry, an error) must not leave the file open.
    await source.return(undefined);
  }
}

async function* entries(file: string, reader: ByteReader): AsyncGenerator<TarEntry> {
  let longPath: string | undefined;
  for (;;) {
    const block = await reader.some(BLOCK);
    if (block === undefined) throw new BundleError(`${file}: tar archive has no end marker (truncated)`);
    const full =
      block.length === BLOCK
        ? block
        : Buffer.concat([block, await reader.exact(BLOCK - block.length, 'a header')]);
    const header = decodeHeader(full);
    if (header === undefined) {
      // Read to the end so gunzip checks its CRC and length; only zero padding may follow.
      for (let rest = await reader.some(65_536); rest !== undefined; rest = await reader.some(65_536)) {
        if (!rest.every((byte) => byte === 0))
          throw new BundleError(`${file}: data after the end of the tar archive`);
      }
      return;
    }
    if (header.type === 'pax' || header.type === 'gnu-long-name' || header.type === 'pax-global') {
      const body = await reader.exact(header.size, `a ${header.type} header`);
      await reader.exact(padding(header.size), 'padding');
      if (header.type === 'pax') longPath = paxPath(body) ?? longPath;
      if (header.type === 'gnu-long-name') longPath = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const path = longPath ?? header.path;
    longPath = undefined;
    let left = header.size;
    const entry: TarEntry = {
      path,
      size: header.size,
      type: header.type === 'directory' ? 'directory' : header.type === 'file' ? 'file' : 'other',
      async *body() {
        while (left > 0) {
          const chunk = await reader.some(left);
          if (chunk === undefined) throw new BundleError(`${file}: archive ends inside ${path}`);
          left -= chunk.length;
          yield chunk;
        }
      },
    };
    yield entry;
    while (left > 0) {
      const chunk = await reader.some(left);
      if (chunk === undefined) throw new BundleError(`${file}: archive ends inside ${path}`);
      left -= chunk.length;
    }
    await reader.exact(padding(header.size), 'padding');
  }
}
