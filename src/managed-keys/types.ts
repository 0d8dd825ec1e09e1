// The shape of a managed client key (issue 15): its public record and its policy. Shared by the key
// store, the CLI, the admin API and the counters; the key itself is never part of a record, only
// its sha256.

export interface KeyPolicy {
  /** Globs over the model name sent AND over the resolved `provider:model`. Absent: every model. */
  models?: string[];
  rpm?: number;
  rpd?: number;
  tpm?: number;
  tpd?: number;
  /** Dollars; day and month are calendar periods in UTC. */
  budgetDay?: number;
  budgetMonth?: number;
  budgetTotal?: number;
}

export type KeyStatus = 'active' | 'revoked';

export interface ManagedKey {
  /** Public id, e.g. "key_3f9a1c2b": safe to show, log and put in URLs. */
  id: string;
  /** sha256 hex (64) of the key; the key itself is never stored. */
  hash: string;
  /** The first 16 hex of that sha256: the client_key_hash the request logs already use. */
  shortHash: string;
  name: string;
  owner: string | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  status: KeyStatus;
  policy: KeyPolicy;
}
