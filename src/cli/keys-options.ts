// The options `ai-proxy keys create` and `keys update` share, their parsers (each refuses a bad
// value naming it), and the store input they make. On update the value `none` removes a limit,
// an owner or an expiry.
import { type Command, InvalidArgumentError } from 'commander';
import {
  type KeyCreateInput,
  type KeyPatch,
  type PolicyPatch,
  parseExpiry,
} from '../managed-keys/key-input.js';

/** `none` as given: commander turns a parser's null into '', so the marker stays a string until here. */
const NONE = 'none';
type None = typeof NONE;

export interface KeyOptions {
  config?: string;
  json?: boolean;
  name?: string;
  owner?: string | None;
  models?: string[] | None;
  rpm?: number | None;
  rpd?: number | None;
  tpm?: number | None;
  tpd?: number | None;
  budgetDay?: number | None;
  budgetMonth?: number | None;
  budgetTotal?: number | None;
  /** Milliseconds since the epoch, or none (never). */
  expires?: number | None;
}

/** undefined: not given; null: none (remove); else the value. */
function given<T>(value: T | None | undefined): T | null | undefined {
  return value === NONE ? null : value;
}

function count(value: string): number | None {
  if (value === NONE) return NONE;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number of at least 1 (or none)');
  }
  return Number(value);
}

function dollars(value: string): number | None {
  if (value === NONE) return NONE;
  const amount = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(amount)) {
    throw new InvalidArgumentError('expected an amount in dollars such as 5 or 12.50 (or none)');
  }
  return amount;
}

function globs(value: string): string[] | None {
  if (value === NONE) return NONE;
  const list = value.split(',').map((item) => item.trim());
  if (list.some((item) => item === '' || /\s/.test(item))) {
    throw new InvalidArgumentError(
      'expected a comma-separated list of model globs, e.g. gpt-4o*,anthropic:*',
    );
  }
  return list;
}

function expiry(value: string): number | None {
  if (value === NONE || value === 'never') return NONE;
  try {
    return parseExpiry(value, Date.now(), '--expires');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--expires: /, ''));
  }
}

function owner(value: string): string | None {
  return value.trim() === '' ? NONE : value;
}

export function addKeyOptions(command: Command): Command {
  return command
    .option('--owner <owner>', 'who holds the key: a person or team label (none: clear)', owner)
    .option(
      '--models <globs>',
      'allowed models, comma-separated globs over the name sent or provider:model',
      globs,
    )
    .option('--rpm <n>', 'requests per minute', count)
    .option('--rpd <n>', 'requests per day (UTC)', count)
    .option('--tpm <n>', 'tokens per minute', count)
    .option('--tpd <n>', 'tokens per day (UTC)', count)
    .option('--budget-day <usd>', 'dollars per calendar day (UTC)', dollars)
    .option('--budget-month <usd>', 'dollars per calendar month (UTC)', dollars)
    .option('--budget-total <usd>', 'dollars over the key’s lifetime', dollars)
    .option(
      '--expires <when>',
      'ISO date or date-time (UTC unless an offset is given), or a duration: 30d, 12h, 2w',
      expiry,
    )
    .option('--json', 'print JSON')
    .option('--config <path>', 'config file (YAML or JSON)');
}

function policyOf(options: KeyOptions): PolicyPatch {
  const policy: PolicyPatch = {
    models: given(options.models),
    rpm: given(options.rpm),
    rpd: given(options.rpd),
    tpm: given(options.tpm),
    tpd: given(options.tpd),
    budgetDay: given(options.budgetDay),
    budgetMonth: given(options.budgetMonth),
    budgetTotal: given(options.budgetTotal),
  };
  for (const field of Object.keys(policy) as (keyof PolicyPatch)[]) {
    if (policy[field] === undefined) delete policy[field];
  }
  return policy;
}

/** On create, `none` is the same as leaving the option out. */
export function createInput(options: KeyOptions & { name: string }): KeyCreateInput {
  const policy = Object.fromEntries(Object.entries(policyOf(options)).filter(([, value]) => value !== null));
  return {
    name: options.name,
    owner: given(options.owner) ?? null,
    expiresAt: given(options.expires) ?? null,
    policy,
  };
}

/** Undefined when no option asks for a change. */
export function patchInput(options: KeyOptions): KeyPatch | undefined {
  const patch: KeyPatch = {};
  if (options.name !== undefined) patch.name = options.name;
  if (options.owner !== undefined) patch.owner = given(options.owner);
  if (options.expires !== undefined) patch.expiresAt = given(options.expires);
  const policy = policyOf(options);
  if (Object.keys(policy).length > 0) patch.policy = policy;
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** A field named by the store (snake_case) as the option that sets it. */
export function optionFor(field: string): string {
  if (field === 'expires_at' || field === '--expires') return '--expires';
  return `--${field.replace(/_/g, '-')}`;
}
