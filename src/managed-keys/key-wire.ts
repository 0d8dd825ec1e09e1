// A managed key as the admin API and `ai-proxy keys --json` show it (snake_case, ISO times, the
// state an expired key is in), and a policy read back from that shape. Never the key itself, nor
// its full hash: `key_hash` is the 16-hex short hash the request log's client_key_hash holds.
import { keyState, type PolicyPatch } from './key-input.js';
import type { KeyPolicy, ManagedKey } from './types.js';

export interface WirePolicy {
  models?: string[];
  rpm?: number;
  rpd?: number;
  tpm?: number;
  tpd?: number;
  budget_day?: number;
  budget_month?: number;
  budget_total?: number;
}

export interface WireKey {
  id: string;
  object: 'managed_key';
  name: string;
  owner: string | null;
  /** `expired` is an active key past its expires_at. */
  status: 'active' | 'revoked' | 'expired';
  key_hash: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  policy: WirePolicy;
  /** Filled by the counters when they are wired (spend, remaining budget). */
  usage?: Record<string, unknown>;
}

/** The policy fields, camelCase inside and snake_case on the wire. */
export const POLICY_WIRE_NAMES = {
  models: 'models',
  rpm: 'rpm',
  rpd: 'rpd',
  tpm: 'tpm',
  tpd: 'tpd',
  budgetDay: 'budget_day',
  budgetMonth: 'budget_month',
  budgetTotal: 'budget_total',
} as const satisfies Record<keyof KeyPolicy, keyof WirePolicy>;

export function policyToWire(policy: KeyPolicy): WirePolicy {
  const out: Record<string, unknown> = {};
  for (const [field, wire] of Object.entries(POLICY_WIRE_NAMES)) {
    const value = policy[field as keyof KeyPolicy];
    if (value !== undefined) out[wire] = value;
  }
  return out as WirePolicy;
}

/** Wire names to the policy's; a value of null is kept (a patch removes that field with it). */
export function policyFromWire(wire: Readonly<Record<string, unknown>>): PolicyPatch {
  const out: Record<string, unknown> = {};
  for (const [field, name] of Object.entries(POLICY_WIRE_NAMES)) {
    if (name in wire) out[field] = wire[name];
  }
  // The store checks every value (type and range) before it keeps any.
  return out as PolicyPatch;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function toWire(record: ManagedKey, now: number, usage?: Record<string, unknown>): WireKey {
  const wire: WireKey = {
    id: record.id,
    object: 'managed_key',
    name: record.name,
    owner: record.owner,
    status: keyState(record, now),
    key_hash: record.shortHash,
    created_at: iso(record.createdAt),
    updated_at: iso(record.updatedAt),
    expires_at: record.expiresAt === null ? null : iso(record.expiresAt),
    policy: policyToWire(record.policy),
  };
  if (usage !== undefined) wire.usage = usage;
  return wire;
}

/** How a policy reads in one line: `models=gpt-*,claude-* rpm=60 budget_day=$5`. */
export function describePolicy(policy: KeyPolicy): string {
  const parts: string[] = [];
  for (const [field, wire] of Object.entries(POLICY_WIRE_NAMES)) {
    const value = policy[field as keyof KeyPolicy];
    if (value === undefined) continue;
    if (Array.isArray(value)) parts.push(`${wire}=${value.join(',')}`);
    else parts.push(`${wire}=${field.startsWith('budget') ? `$${value}` : value}`);
  }
  return parts.length === 0 ? 'unlimited' : parts.join(' ');
}
