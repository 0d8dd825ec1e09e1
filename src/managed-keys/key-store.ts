// The managed key store's interface, and the in-memory index both stores (SQLite, Redis) keep:
// every record by id and by sha256, so the hot path (findByHash) never waits on I/O. The stores
// reload the index when another process (the CLI, another instance) changed the records, and bump
// `version` and call the onChange listeners when they do.
import { generateManagedKey, keyHash, newKeyId, shortHashOf } from './key-format.js';
import { applyPatch, checkCreate, type KeyCreateInput, type KeyPatch } from './key-input.js';
import type { KeyPolicy, ManagedKey } from './types.js';

export interface CreatedKey {
  /** The key itself: shown once, never stored. */
  key: string;
  record: ManagedKey;
}

export interface KeyStore {
  readonly kind: 'sqlite' | 'redis';
  /** Resolves once the records were first read (or that read failed, which onError reported). */
  ready(): Promise<void>;
  create(input: KeyCreateInput): Promise<CreatedKey>;
  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ManagedKey[]>;
  get(id: string): Promise<ManagedKey | undefined>;
  /** The record whose key has this sha256 hex; from memory, no I/O. Revoked and expired too. */
  findByHash(sha256hex: string): ManagedKey | undefined;
  update(id: string, patch: KeyPatch): Promise<ManagedKey | undefined>;
  /** Marks it revoked (idempotent); its key stops working on every instance within a second. */
  revoke(id: string): Promise<ManagedKey | undefined>;
  /** A new key for the same id, policy and counters; the old key stops working. */
  rotate(id: string): Promise<CreatedKey | undefined>;
  /** Grows whenever the records this process sees changed (its own writes or another's). */
  readonly version: number;
  /** How many records are in memory, revoked and expired included (0: no managed keys at all). */
  readonly size: number;
  /** Called after each change seen; returns the function that unsubscribes. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

/** A revoked key cannot be rotated (and so brought back to life). */
export class KeyRevokedError extends Error {
  constructor(readonly id: string) {
    super(`key ${id} is revoked; create a new key instead`);
    this.name = 'KeyRevokedError';
  }
}

/** A new record from checked input. */
export function newRecord(input: KeyCreateInput, now: number): CreatedKey {
  const checked = checkCreate(input, now);
  const key = generateManagedKey();
  const hash = keyHash(key);
  return {
    key,
    record: {
      id: newKeyId(),
      hash,
      shortHash: shortHashOf(hash),
      name: checked.name,
      owner: checked.owner,
      createdAt: now,
      updatedAt: now,
      expiresAt: checked.expiresAt,
      status: 'active',
      policy: checked.policy,
    },
  };
}

/** The record with a fresh key; throws KeyRevokedError for a revoked one. */
export function rotatedRecord(record: ManagedKey, now: number): CreatedKey {
  if (record.status === 'revoked') throw new KeyRevokedError(record.id);
  const key = generateManagedKey();
  const hash = keyHash(key);
  return { key, record: { ...record, hash, shortHash: shortHashOf(hash), updatedAt: now } };
}

export function revokedRecord(record: ManagedKey, now: number): ManagedKey {
  return record.status === 'revoked' ? record : { ...record, status: 'revoked', updatedAt: now };
}

export function patchedRecord(record: ManagedKey, patch: KeyPatch, now: number): ManagedKey {
  return applyPatch(record, patch, now);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** A policy read back from storage; undefined when it is damaged (the key is then left out). */
function storedPolicy(value: unknown): KeyPolicy | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const source = value as Record<string, unknown>;
  const policy: KeyPolicy = {};
  for (const [field, item] of Object.entries(source)) {
    if (field === 'models') {
      if (!Array.isArray(item) || !item.every((m) => typeof m === 'string')) return undefined;
      policy.models = item as string[];
    } else if (['rpm', 'rpd', 'tpm', 'tpd', 'budgetDay', 'budgetMonth', 'budgetTotal'].includes(field)) {
      if (!isCount(item)) return undefined;
      (policy as Record<string, number>)[field] = item;
    } else return undefined;
  }
  return policy;
}

/**
 * A record as stored (SQLite row fields or Redis JSON), checked. A record that does not read back
 * whole is refused rather than half-used: a lost policy must not make a key unlimited.
 */
export function storedRecord(value: Record<string, unknown>): ManagedKey | undefined {
  const { id, hash, name, owner, createdAt, updatedAt, expiresAt, status } = value;
  const policy = storedPolicy(value.policy);
  if (
    typeof id !== 'string' ||
    typeof hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(hash) ||
    typeof name !== 'string' ||
    (owner !== null && typeof owner !== 'string') ||
    typeof createdAt !== 'number' ||
    typeof updatedAt !== 'number' ||
    (expiresAt !== null && typeof expiresAt !== 'number') ||
    (status !== 'active' && status !== 'revoked') ||
    policy === undefined
  ) {
    return undefined;
  }
  return {
    id,
    hash,
    shortHash: shortHashOf(hash),
    name,
    owner,
    createdAt,
    updatedAt,
    expiresAt,
    status,
    policy,
  };
}

/** The in-memory maps, swapped whole on reload so a reader never sees half of one. */
export class KeyIndex {
  private byId = new Map<string, ManagedKey>();
  private byHash = new Map<string, ManagedKey>();
  private listeners = new Set<() => void>();
  version = 0;

  replaceAll(records: readonly ManagedKey[]): void {
    const byId = new Map<string, ManagedKey>();
    const byHash = new Map<string, ManagedKey>();
    for (const record of records) {
      byId.set(record.id, record);
      byHash.set(record.hash, record);
    }
    this.byId = byId;
    this.byHash = byHash;
    this.changed();
  }

  /** One record written by this process: in the index at once, before the next poll. */
  put(record: ManagedKey): void {
    const previous = this.byId.get(record.id);
    if (previous !== undefined) this.byHash.delete(previous.hash);
    this.byId.set(record.id, record);
    this.byHash.set(record.hash, record);
    this.changed();
  }

  get(id: string): ManagedKey | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  findByHash(hash: string): ManagedKey | undefined {
    return this.byHash.get(hash);
  }

  list(): ManagedKey[] {
    return [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }
}
