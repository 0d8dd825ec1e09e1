// Who is calling: a presented key is a configured (unlimited) client key, checked by ClientAuth in
// constant time, or a managed key (issue 15), found by its sha256 in the key store's in-memory
// index and refused when revoked or expired. Each is known by its short hash in the log.
import { hash } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { KeyStore } from '../managed-keys/key-store.js';
import type { ManagedKey } from '../managed-keys/types.js';
import type { ClientAuth } from './client-auth.js';

export interface ClientIdentity {
  /** The short hash the request log and /v1/usage know the client by. */
  shortHash: string;
  /** The managed key's record (its policy), when it is one. */
  key: ManagedKey | undefined;
}

const NO_KEY = 'No API key provided: send Authorization: Bearer YOUR_KEY or x-api-key: YOUR_KEY.';

/** A managed key as it stands now: usable, or the 401 its status or expiry calls for. */
export function checkManagedKey(key: ManagedKey, now: number): ClientIdentity | GatewayError {
  if (key.status === 'revoked') {
    return new GatewayError('invalid_api_key', `This API key (${key.id}) has been revoked.`);
  }
  if (key.expiresAt !== null && key.expiresAt <= now) {
    return new GatewayError(
      'invalid_api_key',
      `This API key (${key.id}) expired at ${new Date(key.expiresAt).toISOString()}.`,
    );
  }
  return { shortHash: key.shortHash, key };
}

export function identifyClient(
  auth: ClientAuth,
  keys: KeyStore,
  presented: string | undefined,
  now: number,
): ClientIdentity | GatewayError {
  if (presented === undefined) return new GatewayError('invalid_api_key', NO_KEY);
  const staticHash = auth.verify(presented);
  if (staticHash !== undefined) return { shortHash: staticHash, key: undefined };
  const managed = keys.findByHash(hash('sha256', presented, 'hex'));
  if (managed === undefined) return new GatewayError('invalid_api_key', 'Incorrect API key provided.');
  return checkManagedKey(managed, now);
}

/**
 * Whether a request needs a key at all: a gateway with neither configured client keys nor managed
 * keys is open (loopback only); one managed key is enough to close it.
 */
export function keysRequired(auth: ClientAuth, managedKeyCount: number): boolean {
  return !auth.open || managedKeyCount > 0;
}
