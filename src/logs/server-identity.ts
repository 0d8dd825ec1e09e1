// A stable id for this server, created on first run and kept in the log folder, so records from
// several servers can be merged without collisions.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface ServerIdentity {
  server_id: string;
  hostname: string;
  environment: string;
  created_at: string;
}

export function loadServerIdentity(logDir: string, override?: string): ServerIdentity {
  const path = join(logDir, 'server.json');
  if (existsSync(path)) {
    try {
      const stored = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServerIdentity>;
      if (typeof stored.server_id === 'string' && stored.server_id !== '') {
        return {
          server_id: override ?? stored.server_id,
          hostname: stored.hostname ?? hostname(),
          environment: stored.environment ?? process.env.NODE_ENV ?? 'production',
          created_at: stored.created_at ?? new Date().toISOString(),
        };
      }
    } catch {
      // An unreadable identity file is replaced below.
    }
  }
  const identity: ServerIdentity = {
    server_id: override ?? `srv_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    hostname: hostname(),
    environment: process.env.NODE_ENV ?? 'production',
    created_at: new Date().toISOString(),
  };
  mkdirSync(logDir, { recursive: true });
  writeFileSync(path, `${JSON.stringify(identity, null, 2)}\n`);
  return identity;
}
