// Where a request's price comes from, first found wins: the config's `prices` (by
// `provider:model`, the upstream model, or the model asked for), then the extra sources in the
// order added (the model catalog), then the bundled price table (price-table.ts) unless
// `price_table: false`. No price known: cost is null, never a guess. The cost itself is cost.ts.
import type { Config, Price } from '../config/types.js';
import { PriceTable } from './price-table.js';

export { costOf, readUsage, type TokenUsage } from './cost.js';

export interface PriceSource {
  /**
   * The price of a model. `provider` is given when `model` is the name the request went upstream
   * with at that provider; a source that needs the provider (the table) answers only then.
   */
  priceOf(model: string, provider?: string): Price | undefined;
  /** False while the source has nothing (a catalog not configured or not loaded yet). */
  readonly hasModels: boolean;
}

export class Pricing {
  /** Extra sources (the catalog) consulted after the config's own prices. */
  private readonly sources: PriceSource[] = [];

  constructor(
    private config: Config,
    /** The last source, consulted while config.priceTable is on. */
    private readonly table: PriceSource = new PriceTable(),
  ) {}

  update(config: Config): void {
    this.config = config;
  }

  addSource(source: PriceSource): void {
    this.sources.push(source);
  }

  /** Whether no price could be found at all: lets the hot path skip the lookup and the usage. */
  get empty(): boolean {
    if (this.config.prices.size > 0) return false;
    if (this.config.priceTable && this.table.hasModels) return false;
    for (const source of this.sources) if (source.hasModels) return false;
    return true;
  }

  priceFor(provider: string | null, model: string | null, requested: string | null): Price | undefined {
    if (this.empty) return undefined;
    const prices = this.config.prices;
    const found =
      (provider !== null && model !== null ? prices.get(`${provider}:${model}`) : undefined) ??
      (model !== null ? prices.get(model) : undefined) ??
      (requested !== null ? prices.get(requested) : undefined);
    if (found !== undefined) return found;
    for (const source of this.sources) {
      const price =
        (requested !== null ? source.priceOf(requested) : undefined) ??
        (model !== null ? source.priceOf(model, provider ?? undefined) : undefined);
      if (price !== undefined) return price;
    }
    if (!this.config.priceTable || provider === null || model === null) return undefined;
    return this.table.priceOf(model, provider);
  }
}
