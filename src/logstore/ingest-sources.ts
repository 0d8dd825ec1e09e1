// The source side of ingest: the request-log files to read, the identity file beside them, and
// the hash of a file's already-consumed bytes (to tell a grown file from a replaced one).
import { createHash, type Hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDay } from './partitions.js';

export class IngestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestError';
  }
}

const SOURCE_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

export interface SourceFile {
  path: string;
  day: Date;
  size: number;
}

export function sourceDir(from: string): string {
  const requests = join(from, 'requests');
  return existsSync(requests) ? requests : from;
}

export function listSourceFiles(from: string, since?: Date, to?: Date): SourceFile[] {
  const dir = resolve(sourceDir(from));
  if (!existsSync(dir)) throw new IngestError(`--from ${from}: no such folder`);
  const files: SourceFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const match = SOURCE_FILE.exec(name);
    if (match === null) continue;
    const day = parseDay(match[1]!, name);
    if (since !== undefined && day < since) continue;
    if (to !== undefined && day > to) continue;
    const path = join(dir, name);
    files.push({ path, day, size: statSync(path).size });
  }
  return files;
}

export interface ServerInfo {
  server_id: string;
  hostname: string | null;
  environment: string | null;
  created_at: string | null;
}

/** The identity file next to the request log, when the source is a gateway's log folder. */
export function readIdentity(from: string): ServerInfo | undefined {
  const path = join(from, 'server.json');
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServerInfo>;
    if (typeof parsed.server_id !== 'string') return undefined;
    return {
      server_id: parsed.server_id,
      hostname: parsed.hostname ?? null,
      environment: parsed.environment ?? null,
      created_at: parsed.created_at ?? null,
    };
  } catch {
    return undefined;
  }
}

export interface Checkpoint {
  bytes_consumed: number;
  mtime_ms: number;
  sha256: string;
  records: number;
}

export async function hashPrefix(path: string, bytes: number, chunk: number): Promise<Hash> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(chunk, Math.max(bytes, 1)));
    let position = 0;
    while (position < bytes) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, bytes - position), position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return hash;
}
