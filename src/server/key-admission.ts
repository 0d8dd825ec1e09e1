// What a managed key (issue 15) may do, checked after routing and before any upstream call: its
// allowed models (globs over the name sent and over each resolved provider:model), then one
// reservation of a request, its estimated tokens and its estimated cost against every limit and
// budget (budgets/, atomic per key). The reservation rides on the exchange into its request-log
// record; accounting settles it with the real usage and cost, or releases it when the call failed.
import { GatewayError } from '../errors.js';
import { estimateParts } from '../keys/token-estimate.js';
import type { BudgetRemaining, Reservation } from '../managed-keys/budget-store.js';
import type { KeyPolicy, ManagedKey } from '../managed-keys/types.js';
import { compileGlob, matchGlob } from '../routing/glob.js';
import type { Target } from '../routing/router.js';
import { costOf } from '../usage/pricing.js';
import type { Runtime } from './runtime.js';

export interface Admission {
  targets: Target[];
  reservation: Reservation | undefined;
  remaining: BudgetRemaining | undefined;
}

const globs = new Map<string, ReturnType<typeof compileGlob>>();
function matches(pattern: string, name: string): boolean {
  let glob = globs.get(pattern);
  if (glob === undefined) {
    glob = compileGlob(pattern);
    if (globs.size > 10_000) globs.clear();
    globs.set(pattern, glob);
  }
  return matchGlob(glob, name) !== undefined;
}

/** The targets the key may use: all when the name sent is allowed, else those allowed by provider:model. */
function allowedTargets(key: ManagedKey, requested: string | undefined, targets: Target[]): Target[] {
  const allowed = key.policy.models;
  if (allowed === undefined || allowed.length === 0) return targets;
  if (requested !== undefined && allowed.some((pattern) => matches(pattern, requested))) return targets;
  const kept = targets.filter((target) =>
    allowed.some((pattern) => matches(pattern, `${target.provider.name}:${target.model}`)),
  );
  if (kept.length > 0) return kept;
  const name = requested ?? targets[0]?.model ?? '(none)';
  throw new GatewayError(
    'model_not_allowed',
    `The model '${name}' is not allowed for this key (${key.id}); it may use: ${allowed.join(', ')}.`,
    { param: 'model' },
  );
}

function hasBudget(policy: KeyPolicy): boolean {
  return (
    policy.budgetDay !== undefined || policy.budgetMonth !== undefined || policy.budgetTotal !== undefined
  );
}

function hasLimits(policy: KeyPolicy): boolean {
  return (
    hasBudget(policy) ||
    policy.rpm !== undefined ||
    policy.rpd !== undefined ||
    policy.tpm !== undefined ||
    policy.tpd !== undefined
  );
}

const RATE_NAMES = {
  rpm: 'requests per minute',
  rpd: 'requests per day',
  tpm: 'tokens per minute',
  tpd: 'tokens per day',
} as const;

const BUDGET_NAMES = { day: 'daily', month: 'monthly', total: 'lifetime' } as const;

function dollars(value: number): string {
  return `$${value.toFixed(value >= 100 ? 2 : 4)}`;
}

export async function admitManagedKey(
  runtime: Runtime,
  key: ManagedKey,
  body: Readonly<Record<string, unknown>>,
  rawBody: string,
  targets: Target[],
): Promise<Admission> {
  const requested = typeof body.model === 'string' ? body.model : undefined;
  const kept = allowedTargets(key, requested, targets);
  const { policy } = key;
  if (!hasLimits(policy)) return { targets: kept, reservation: undefined, remaining: undefined };

  const { prompt, output } = estimateParts(rawBody, body);
  let cost = 0;
  if (hasBudget(policy)) {
    // The first target's price: a budget cannot be kept on a model whose answers cost nothing known.
    const first = kept[0];
    const price =
      first === undefined
        ? undefined
        : runtime.pricing.priceFor(first.provider.name, first.model, requested ?? null);
    if (price === undefined) {
      throw new GatewayError(
        'model_not_allowed',
        `No price is known for ${first === undefined ? (requested ?? 'this model') : `${first.provider.name}:${first.model}`}, so this key (${key.id}), which has a budget, cannot use it; add it to \`prices\` in the config.`,
        { param: 'model' },
      );
    }
    cost = costOf(price, { promptTokens: prompt, completionTokens: output, totalTokens: prompt + output });
  }
  const now = Date.now();
  const result = await runtime.budgets.store.reserve({
    keyId: key.id,
    policy,
    tokens: prompt + output,
    cost,
    now,
  });
  if (result.ok) return { targets: kept, reservation: result.reservation, remaining: result.remaining };
  if (result.kind === 'unavailable') {
    throw new GatewayError(
      'no_capacity',
      runtime.budgets.store.kind === 'sqlite'
        ? 'The client-key budget file cannot be written (see the gateway log); retry later.'
        : 'The shared limit store (Redis) is unreachable and REDIS_FAIL_MODE=closed; retry later.',
    );
  }
  if (result.kind === 'rate') {
    const limit = policy[result.limit] ?? 0;
    const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
    const message = result.exceedsLimit
      ? `This request alone is over this key's limit of ${limit} ${RATE_NAMES[result.limit]} (${key.id}).`
      : `This key's limit of ${limit} ${RATE_NAMES[result.limit]} is reached (${key.id}); retry after ${seconds} s.`;
    throw new GatewayError('rate_limit_exceeded', message, { headers: { 'retry-after': String(seconds) } });
  }
  const resets =
    result.resetAt === null
      ? 'it does not reset (a lifetime budget)'
      : `it resets at ${new Date(result.resetAt).toISOString()}`;
  const headers: Record<string, string> =
    result.resetAt === null
      ? {}
      : { 'retry-after': String(Math.max(1, Math.ceil((result.resetAt - now) / 1000))) };
  throw new GatewayError(
    'budget_exceeded',
    `This key's ${BUDGET_NAMES[result.budget]} budget of ${dollars(result.limitUsd)} is spent (${dollars(result.spentUsd)} including requests in flight, this one would cost about ${dollars(cost)}) (${key.id}); ${resets}.`,
    { headers },
  );
}

/** The x-ai-proxy-budget-remaining value: dollars left in the tightest budget, after this request. */
export function budgetRemainingHeader(remaining: BudgetRemaining | undefined): string | undefined {
  if (remaining === undefined) return undefined;
  const values = [remaining.day, remaining.month, remaining.total].filter(
    (value): value is number => value !== undefined,
  );
  if (values.length === 0) return undefined;
  return Math.max(0, Math.min(...values)).toFixed(6);
}

/**
 * A streamed chat completion carries its usage only when the client asks (stream_options); a key
 * with token limits or a budget needs it to settle at the real count, so it is asked for. The client
 * then also gets the usage chunk (choices: []) at the end, as OpenAI sends it.
 */
export function needsStreamUsage(key: ManagedKey, body: Readonly<Record<string, unknown>>): boolean {
  const { policy } = key;
  if (policy.tpm === undefined && policy.tpd === undefined && !hasBudget(policy)) return false;
  const options = body.stream_options;
  return !(
    typeof options === 'object' &&
    options !== null &&
    (options as Record<string, unknown>).include_usage === true
  );
}

export function withStreamUsage<T extends Record<string, unknown>>(body: T): T {
  const options =
    typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options : {};
  return { ...body, stream_options: { ...options, include_usage: true } };
}
