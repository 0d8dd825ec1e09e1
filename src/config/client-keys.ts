// Client keys (the keys clients use to call the gateway) from every source the seeds used.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `generate-key` appends and the server reads, relative to the working directory. */
export const FORWARDER_KEYS_FILE = join('keys', 'forwarder_api_keys.txt');

/** One key a line; blank lines and `#` comments skipped. */
export function readKeysFile(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export function collectClientKeys(sources: {
  envKeys: string[] | undefined;
  accessKey: string | undefined;
  apiKeys: string[] | undefined;
  /** An admin key is a client key too. */
  adminKeys: string[] | undefined;
  cwd: string;
}): string[] {
  const keys = new Set<string>();
  for (const key of sources.envKeys ?? []) keys.add(key);
  if (sources.accessKey !== undefined) keys.add(sources.accessKey);
  for (const key of sources.apiKeys ?? []) keys.add(key);
  for (const key of sources.adminKeys ?? []) keys.add(key);
  for (const key of readKeysFile(join(sources.cwd, FORWARDER_KEYS_FILE))) keys.add(key);
  return [...keys];
}
