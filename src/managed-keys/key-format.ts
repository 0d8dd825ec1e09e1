// What a managed client key looks like and how it is known without being kept: `aip-` and 40
// base62 characters (about 238 bits), its sha256 (the only thing stored), the 16-hex short hash the
// request logs carry, and the public id (`key_` + 12 hex) that names it everywhere else.
import { hash, randomBytes } from 'node:crypto';

export const KEY_PREFIX = 'aip-';
const KEY_BODY_LENGTH = 40;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const KEY_PATTERN = /^aip-[A-Za-z0-9]{40}$/;
const ID_PATTERN = /^key_[0-9a-f]{12}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** A new key: characters drawn uniformly from [A-Za-z0-9] (rejection sampling, no modulo bias). */
export function generateManagedKey(): string {
  let out = '';
  while (out.length < KEY_BODY_LENGTH) {
    for (const byte of randomBytes(KEY_BODY_LENGTH * 2)) {
      if (byte < 248 && out.length < KEY_BODY_LENGTH) out += ALPHABET[byte % 62];
    }
  }
  return KEY_PREFIX + out;
}

export function isManagedKeyFormat(text: string): boolean {
  return KEY_PATTERN.test(text);
}

/** sha256 hex of the key: the same digest client-auth.ts compares, as hex. */
export function keyHash(key: string): string {
  return hash('sha256', key, 'hex');
}

/** The first 16 hex of the sha256: what the request log's client_key_hash holds. */
export function shortHashOf(sha256hex: string): string {
  return sha256hex.slice(0, 16);
}

export function isKeyHash(text: string): boolean {
  return HASH_PATTERN.test(text);
}

export function newKeyId(): string {
  return `key_${randomBytes(6).toString('hex')}`;
}

export function isKeyId(text: string): boolean {
  return ID_PATTERN.test(text);
}
