// Prices without configuration: the maintained multi-provider table of @pydantic/genai-prices,
// whose data ships inside the package (it is never refreshed at run time: nothing here calls its
// updatePrices, so no request ever leaves the machine). A model is found by the name of the
// provider the request went to (`gemini` finds Google's table, a custom provider named `deepseek`
// or `mistral` finds theirs; a provider the table does not know, such as `ollama`, has no price)
// and the upstream model name, dated Anthropic names included. The table's entry becomes a Price:
// per-million rates to per-1k, the rate set that holds now (DeepSeek's off-peak hours, dated
// price changes), long-prompt tiers (Gemini 2.5 Pro and Claude past 200k input tokens).
import { type ConditionalPrice, calcPrice, type ModelInfo, type ModelPrice } from '@pydantic/genai-prices';
import type { Price, PriceRates, PriceTier } from '../config/types.js';
import type { PriceSource } from './pricing.js';

/** The table's price keys (dollars per million tokens) and the rates they become. */
const RATE_KEYS: ReadonlyArray<readonly [string, keyof PriceRates]> = [
  ['input_mtok', 'prompt1k'],
  ['output_mtok', 'completion1k'],
  ['cache_read_mtok', 'cacheRead1k'],
  ['cache_write_mtok', 'cacheWrite1k'],
  ['output_reasoning_mtok', 'reasoning1k'],
];

/** Model names come from clients: the lookups remembered are bounded. */
const MAX_REMEMBERED = 10_000;

interface Tiered {
  base: number;
  tiers: Array<{ start: number; price: number }>;
}

function isTiered(value: unknown): value is Tiered {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Tiered).base === 'number' &&
    Array.isArray((value as Tiered).tiers)
  );
}

/** A rate for prompts past `above` tokens (undefined: the base rate); undefined when not priced. */
function rateOf(value: unknown, above: number | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (!isTiered(value)) return undefined;
  let rate = value.base;
  // A tier applies to prompts with more tokens than its start.
  if (above !== undefined) for (const tier of value.tiers) if (above >= tier.start) rate = tier.price;
  return rate;
}

/** The rates of a table entry for prompts past `above` tokens; undefined without input or output. */
function ratesOf(prices: ModelPrice, above: number | undefined): PriceRates | undefined {
  const perMillion = new Map<keyof PriceRates, number>();
  for (const [key, field] of RATE_KEYS) {
    const rate = rateOf(prices[key], above);
    if (rate !== undefined) perMillion.set(field, rate);
  }
  if (!perMillion.has('prompt1k') && !perMillion.has('completion1k')) return undefined;
  const rates: PriceRates = {
    prompt1k: (perMillion.get('prompt1k') ?? 0) / 1000,
    completion1k: (perMillion.get('completion1k') ?? 0) / 1000,
  };
  for (const [field, rate] of perMillion)
    if (field !== 'prompt1k' && field !== 'completion1k') rates[field] = rate / 1000;
  return rates;
}

/** A table entry as a Price, its tiers at every start any of its rates has. */
export function priceOfEntry(prices: ModelPrice): Price | undefined {
  const base = ratesOf(prices, undefined);
  if (base === undefined) return undefined;
  const starts = new Set<number>();
  for (const [key] of RATE_KEYS) {
    const value = prices[key];
    if (isTiered(value)) for (const tier of value.tiers) starts.add(tier.start);
  }
  if (starts.size === 0) return base;
  const tiers: PriceTier[] = [...starts]
    .sort((a, b) => a - b)
    .map((above) => ({ above, ...(ratesOf(prices, above) as PriceRates) }));
  return { ...base, tiers };
}

/** Seconds after midnight UTC of a time like `16:30:00Z` or `08:00:00+08:00`; undefined if unreadable. */
function secondsOfDay(time: string): number | undefined {
  const match = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/.exec(time);
  if (match === null) return undefined;
  const local = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
  const offset = match[4] === 'Z' ? 0 : (Number(match[6]) * 60 + Number(match[7])) * 60;
  const sign = match[5] === '-' ? -1 : 1;
  return (((local - sign * offset) % 86_400) + 86_400) % 86_400;
}

function holds(constraint: ConditionalPrice['constraint'], now: Date): boolean {
  if (constraint === undefined) return true;
  if (constraint.type === 'start_date')
    return now.getTime() >= Date.parse(`${constraint.start_date}T00:00:00Z`);
  const start = secondsOfDay(constraint.start_time);
  const end = secondsOfDay(constraint.end_time);
  if (start === undefined || end === undefined) return false;
  const at = now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds();
  // A window that wraps past midnight (16:30 to 00:30) holds on either side of it.
  return end < start ? at >= start || at < end : at >= start && at < end;
}

/** The rate set that holds at `now`: the last one whose condition holds, else the first. */
export function activePrices(model: ModelInfo, now: Date): ModelPrice | undefined {
  if (!Array.isArray(model.prices)) return model.prices;
  for (let i = model.prices.length - 1; i >= 0; i--) {
    const entry = model.prices[i]!;
    if (holds(entry.constraint, now)) return entry.prices;
  }
  return model.prices[0]?.prices;
}

export class PriceTable implements PriceSource {
  readonly hasModels = true;
  /** `provider\nmodel` → the table's entry, or null where it has none. */
  private readonly models = new Map<string, ModelInfo | null>();
  private readonly prices = new WeakMap<ModelPrice, Price | null>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  priceOf(model: string, provider?: string): Price | undefined {
    if (provider === undefined) return undefined;
    const entry = this.entryOf(provider, model);
    if (entry === null) return undefined;
    const prices = activePrices(entry, this.now());
    if (prices === undefined) return undefined;
    let price = this.prices.get(prices);
    if (price === undefined) {
      price = priceOfEntry(prices) ?? null;
      this.prices.set(prices, price);
    }
    return price ?? undefined;
  }

  private entryOf(provider: string, model: string): ModelInfo | null {
    const key = `${provider}\n${model}`;
    let entry = this.models.get(key);
    if (entry !== undefined) return entry;
    entry = lookUp(provider, model);
    if (this.models.size >= MAX_REMEMBERED) this.models.clear();
    this.models.set(key, entry);
    return entry;
  }
}

/**
 * The table's entry for a model at a provider. The package finds it through calcPrice (its one
 * lookup that names the provider); an empty usage costs nothing and only the entry is kept.
 */
function lookUp(provider: string, model: string): ModelInfo | null {
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  try {
    return calcPrice({}, name, { providerId: provider })?.model ?? null;
  } catch {
    // An entry the package itself cannot price (inconsistent data): no price rather than a throw.
    return null;
  }
}
