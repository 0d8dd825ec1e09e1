// Client-key checks. Keys are kept as SHA-256 digests and compared in constant time against every
// configured key, so neither timing nor the number of keys tells an attacker anything.
import { hash, timingSafeEqual } from 'node:crypto';

export function digest(key: string): Buffer {
  // The one-shot hash is about twice as fast as createHash().update().digest().
  return hash('sha256', key, 'buffer');
}

export class ClientAuth {
  private readonly digests: Buffer[];
  private readonly adminDigests: Buffer[];

  /** `keys` holds every accepted key, admin keys included. */
  constructor(keys: readonly string[], adminKeys: readonly string[] = []) {
    this.digests = keys.map(digest);
    this.adminDigests = adminKeys.map(digest);
  }

  /** An admin key (ADMIN_KEYS): it sees what concerns every client, such as all clients' usage. */
  isAdmin(presented: string | undefined): boolean {
    if (presented === undefined) return false;
    const candidate = digest(presented);
    let found = false;
    for (const known of this.adminDigests) {
      if (timingSafeEqual(candidate, known)) found = true;
    }
    return found;
  }

  /** No client key configured: the gateway is open (allowed on loopback only). */
  get open(): boolean {
    return this.digests.length === 0;
  }

  get size(): number {
    return this.digests.length;
  }

  /** The key's short hash (what logs carry instead of it) when it is a configured key, else undefined. */
  verify(presented: string): string | undefined {
    const candidate = digest(presented);
    let found = false;
    for (const known of this.digests) {
      // No early exit: the time taken does not depend on which key matched.
      if (timingSafeEqual(candidate, known)) found = true;
    }
    return found ? candidate.toString('hex').slice(0, 16) : undefined;
  }
}

/** `Authorization: Bearer KEY` or `x-api-key: KEY`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^\s*Bearer\s+(.+?)\s*$/i.exec(authorization);
    if (match?.[1] !== undefined) return match[1];
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  return undefined;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host.replace(/^\[|\]$/g, ''));
}
