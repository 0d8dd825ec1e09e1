// What may go into a managed key, checked once for every way in (CLI, admin API, store): a name,
// an owner, an expiry in the future, and a policy whose limits are positive integers and whose
// budgets are dollar amounts. A bad value is refused with the field it came from, never clamped.
import type { KeyPolicy, ManagedKey } from './types.js';

export interface KeyCreateInput {
  name: string;
  owner?: string | null;
  /** Milliseconds since the epoch; null or absent: never expires. */
  expiresAt?: number | null;
  policy?: KeyPolicy;
}

/** Each policy field: a value sets it, null removes it, absent leaves it. */
export type PolicyPatch = { [K in keyof KeyPolicy]?: KeyPolicy[K] | null };

export interface KeyPatch {
  name?: string;
  owner?: string | null;
  expiresAt?: number | null;
  policy?: PolicyPatch;
}

/** Input that cannot be used; `field` names it as the caller wrote it (snake_case on the wire). */
export class KeyInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'KeyInputError';
  }
}

export const COUNT_FIELDS = ['rpm', 'rpd', 'tpm', 'tpd'] as const;
export const BUDGET_FIELDS = ['budgetDay', 'budgetMonth', 'budgetTotal'] as const;
export type CountField = (typeof COUNT_FIELDS)[number];
export type BudgetField = (typeof BUDGET_FIELDS)[number];

/** budgetDay → budget_day: how the API, the CLI's --json and error messages name a field. */
export function wireName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const MAX_TEXT = 200;
const MAX_MODELS = 100;
const MAX_PATTERN = 256;
const MAX_COUNT = 1e12;
const MAX_BUDGET = 1e9;

function checkText(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new KeyInputError(field, `${field} must be a string`);
  const text = value.trim();
  if (text === '') throw new KeyInputError(field, `${field} must not be empty`);
  if (text.length > MAX_TEXT)
    throw new KeyInputError(field, `${field} is longer than ${MAX_TEXT} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    throw new KeyInputError(field, `${field} must not contain control characters`);
  }
  return text;
}

function checkModels(value: unknown): string[] {
  if (!Array.isArray(value)) throw new KeyInputError('models', 'models must be a list of model globs');
  if (value.length === 0) {
    throw new KeyInputError(
      'models',
      'models must name at least one model glob (omit it to allow every model)',
    );
  }
  if (value.length > MAX_MODELS)
    throw new KeyInputError('models', `models has more than ${MAX_MODELS} globs`);
  const seen = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string' || item.trim() === '' || /\s/.test(item.trim())) {
      throw new KeyInputError('models', `models: ${JSON.stringify(item)} is not a model glob`);
    }
    if (item.length > MAX_PATTERN) {
      throw new KeyInputError('models', `models: a glob is longer than ${MAX_PATTERN} characters`);
    }
    seen.add(item.trim());
  }
  return [...seen];
}

function checkCount(field: CountField, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_COUNT) {
    throw new KeyInputError(field, `${field} must be a whole number from 1 to ${MAX_COUNT}`);
  }
  return value;
}

function checkBudget(field: BudgetField, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_BUDGET) {
    throw new KeyInputError(
      wireName(field),
      `${wireName(field)} must be an amount in dollars from 0 to ${MAX_BUDGET}`,
    );
  }
  return value;
}

function checkExpiry(value: unknown, now: number): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new KeyInputError('expires_at', 'expires_at must be a time');
  }
  if (value <= now) throw new KeyInputError('expires_at', 'expires_at is in the past');
  return value;
}

/** A whole policy, each field checked; unknown fields are refused. */
export function checkPolicy(policy: KeyPolicy): KeyPolicy {
  const out: KeyPolicy = {};
  for (const field of Object.keys(policy)) {
    const value = policy[field as keyof KeyPolicy];
    if (value === undefined) continue;
    if (field === 'models') out.models = checkModels(value);
    else if ((COUNT_FIELDS as readonly string[]).includes(field)) {
      out[field as CountField] = checkCount(field as CountField, value);
    } else if ((BUDGET_FIELDS as readonly string[]).includes(field)) {
      out[field as BudgetField] = checkBudget(field as BudgetField, value);
    } else throw new KeyInputError(wireName(field), `unknown policy field ${wireName(field)}`);
  }
  return out;
}

export function checkCreate(input: KeyCreateInput, now: number): Required<KeyCreateInput> {
  return {
    name: checkText('name', input.name),
    owner: input.owner == null ? null : checkText('owner', input.owner),
    expiresAt: input.expiresAt === undefined ? null : checkExpiry(input.expiresAt, now),
    policy: checkPolicy(input.policy ?? {}),
  };
}

/** The record with the patch applied (and checked); `updatedAt` set to `now`. */
export function applyPatch(record: ManagedKey, patch: KeyPatch, now: number): ManagedKey {
  const next: ManagedKey = { ...record, policy: { ...record.policy }, updatedAt: now };
  if (patch.name !== undefined) next.name = checkText('name', patch.name);
  if (patch.owner !== undefined) next.owner = patch.owner === null ? null : checkText('owner', patch.owner);
  if (patch.expiresAt !== undefined) next.expiresAt = checkExpiry(patch.expiresAt, now);
  const policy = patch.policy ?? {};
  const set: KeyPolicy = {};
  for (const field of Object.keys(policy) as (keyof KeyPolicy)[]) {
    const value = policy[field];
    if (value === undefined) continue;
    if (value === null) delete next.policy[field];
    else (set as Record<string, unknown>)[field] = value;
  }
  Object.assign(next.policy, checkPolicy(set));
  return next;
}

/** What a key can do now: revoked and expired keys are refused (401). */
export function keyState(record: ManagedKey, now: number): 'active' | 'revoked' | 'expired' {
  if (record.status === 'revoked') return 'revoked';
  if (record.expiresAt !== null && record.expiresAt <= now) return 'expired';
  return 'active';
}

const DURATION = /^(\d{1,6})\s*(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An expiry as people write it: a duration from now (`30d`, `12h`, `90m`, `2w`, `45s`) or an ISO
 * date (`2026-01-31`, midnight UTC) or date-time (`2026-01-31T18:00`, UTC unless it names an
 * offset). Returns milliseconds since the epoch; throws KeyInputError naming `field`.
 */
export function parseExpiry(text: string, now: number, field = 'expires'): number {
  const trimmed = text.trim();
  const duration = DURATION.exec(trimmed);
  if (duration !== null) {
    const amount = Number(duration[1]);
    if (amount === 0) throw new KeyInputError(field, `${field}: a duration must be longer than 0`);
    return now + amount * (UNIT_MS[duration[2] as string] as number);
  }
  const iso = ISO.exec(trimmed);
  if (iso === null) {
    throw new KeyInputError(
      field,
      `${field}: expected an ISO date or date-time (2026-01-31, 2026-01-31T18:00Z) or a duration (30d, 12h, 90m, 2w)`,
    );
  }
  const [, year, month, day, hour, minute, second, zone] = iso;
  // Date.parse rolls 2026-02-30 over to March: the calendar date must exist as written.
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const validDate =
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() + 1 === Number(month) &&
    date.getUTCDate() === Number(day);
  const validTime = Number(hour ?? 0) <= 23 && Number(minute ?? 0) <= 59 && Number(second ?? 0) <= 59;
  const zoned = hour === undefined ? `${trimmed}T00:00:00Z` : zone === undefined ? `${trimmed}Z` : trimmed;
  const ms = Date.parse(zoned.replace(' ', 'T'));
  if (!validDate || !validTime || Number.isNaN(ms)) {
    throw new KeyInputError(field, `${field}: ${trimmed} is not a valid date`);
  }
  return ms;
}
