// `ai-proxy generate-key [--length N]`: a new client key, printed and appended to
// keys/forwarder_api_keys.txt (folder created, file mode 600).
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { FORWARDER_KEYS_FILE } from '../config/client-keys.js';
import { parseInteger } from './parse.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `fwd_` and `length` characters drawn uniformly from [A-Za-z0-9] (rejection sampling, no bias). */
export function generateKey(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return `fwd_${out}`;
}

export function appendKey(cwd: string, key: string): string {
  const path = resolve(cwd, FORWARDER_KEYS_FILE);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  appendFileSync(path, `${key}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export function registerGenerateKeyCommand(program: Command): void {
  program
    .command('generate-key')
    .description(`create a client key and append it to ${FORWARDER_KEYS_FILE}`)
    .option('--length <n>', 'characters after the fwd_ prefix', parseInteger(16, 256), 32)
    .action((options: { length: number }) => {
      const key = generateKey(options.length);
      const path = appendKey(process.cwd(), key);
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `Appended to ${path}. Clients send it as: Authorization: Bearer ${key.slice(0, 8)}…\n` +
          // The server polls the keys file every second (src/cli/serve.ts), --reload or not.
          'A gateway running in this folder accepts it within a couple of seconds, no restart needed.\n',
      );
    });
}
