// One 512-byte ustar header, encoded and decoded. A plain file or directory is all a bundle holds;
// PAX ('x') and GNU long-name ('L') headers are read so an archive repacked by another tar still
// opens, but never written: bundle paths fit ustar's 100 + 155 bytes.
import { BundleError } from './errors.js';

export const BLOCK = 512;

export type EntryType = 'file' | 'directory' | 'pax' | 'pax-global' | 'gnu-long-name' | 'other';

export interface TarHeader {
  path: string;
  size: number;
  mtime: number;
  type: EntryType;
}

function writeString(block: Buffer, value: string, offset: number, length: number): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new BundleError(`tar: field too long: ${value}`);
  bytes.copy(block, offset);
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) {
    // GNU base-256 for values past the octal field (files of 8 GiB and more).
    block[offset] = 0x80;
    let rest = value;
    for (let i = offset + length - 1; i > offset; i--) {
      block[i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
    return;
  }
  writeString(block, `${digits.padStart(length - 1, '0')}\0`, offset, length);
}

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readNumber(block: Buffer, offset: number, length: number, what: string): number {
  const first = block[offset] ?? 0;
  if (first & 0x80) {
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + (block[i] ?? 0);
    return value;
  }
  const text = readString(block, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new BundleError(`tar: bad ${what} field ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return sum;
}

/** Splits a path into ustar's prefix and name fields. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  throw new BundleError(`tar: path too long for a ustar header: ${path}`);
}

export function encodeHeader(header: {
  path: string;
  size: number;
  mtime: number;
  type: 'file' | 'directory';
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  const { prefix, name } = splitPath(header.path);
  writeString(block, name, 0, 100);
  writeOctal(block, header.type === 'directory' ? 0o755 : 0o644, 100, 8);
  writeOctal(block, 0, 108, 8);
  writeOctal(block, 0, 116, 8);
  writeOctal(block, header.size, 124, 12);
  writeOctal(block, Math.floor(header.mtime), 136, 12);
  block[156] = header.type === 'directory' ? 0x35 : 0x30;
  writeString(block, 'ustar\0', 257, 6);
  writeString(block, '00', 263, 2);
  writeString(block, prefix, 345, 155);
  writeString(block, `${checksum(block).toString(8).padStart(6, '0')}\0 `, 148, 8);
  return block;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '5': 'directory',
  x: 'pax',
  g: 'pax-global',
  L: 'gnu-long-name',
};

/** Decodes a header block; undefined for an all-zero block (the end of the archive). */
export function decodeHeader(block: Buffer): TarHeader | undefined {
  if (block.every((byte) => byte === 0)) return undefined;
  const stored = readNumber(block, 148, 8, 'checksum');
  if (stored !== checksum(block)) throw new BundleError('tar: header checksum mismatch (corrupt archive)');
  const name = readString(block, 0, 100);
  const magic = readString(block, 257, 6);
  const prefix = magic.startsWith('ustar') ? readString(block, 345, 155) : '';
  return {
    path: prefix === '' ? name : `${prefix}/${name}`,
    size: readNumber(block, 124, 12, 'size'),
    mtime: readNumber(block, 136, 12, 'mtime'),
    type: TYPES[String.fromCharCode(block[156] ?? 0)] ?? 'other',
  };
}

/** Zero bytes that pad an entry's body to a whole block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The `path` record of a PAX extended header, if any. */
export function paxPath(body: Buffer): string | undefined {
  let offset = 0;
  let path: string | undefined;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number.parseInt(body.subarray(offset, space).toString('utf8'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq !== -1 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    offset += length;
  }
  return path;
}
