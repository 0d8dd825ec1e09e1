// Every configured provider's own model list (OpenAI-protocol /models, Anthropic /v1/models, Gemini
// models, Cohere /v1/models, Ollama's tags), fetched at start and every MODELS_REFRESH_SECONDS on one
// unref'd timer, all providers at once. A provider whose list fails keeps its last good list (or
// none) and still routes; health() says the list is stale. One instance lives on the Runtime and
// survives reloads: a provider whose settings are unchanged keeps its list.
import type { Logger } from 'pino';
import type { ProviderConfig, ProviderKey } from '../config/types.js';
import type { UpstreamPools } from '../gateway/upstream-pools.js';
import { fetchModelList, ListStatusError } from './fetch-model-list.js';
import { type FetchedModel, type ModelListProtocol, modelListProtocolOf } from './model-list-protocols.js';

export type ModelListState = 'loading' | 'ok' | 'stale' | 'error';

/** One provider's list as /health shows it. */
export interface ModelListHealth {
  /** loading: no answer yet; ok: the last fetch worked; stale: it failed, the last list serves; error: no list. */
  state: ModelListState;
  /** The list shown is not the provider's current one (its last fetch failed). */
  stale: boolean;
  models: number;
  last_success_at: string | null;
  last_attempt_at: string | null;
  last_error: string | null;
  refresh_seconds: number;
}

/** A provider model as /v1/models lists it, before the router picks the id a client sends. */
export interface ProviderListing {
  provider: string;
  model: string;
  created?: number;
}

/** Whether a provider lists a model: yes, no, or it cannot say (no list, or none fetched yet). */
export type ListedAnswer = 'listed' | 'absent' | 'unknown';

export type ProviderModelsLogger = Pick<Logger, 'info' | 'warn' | 'debug'>;

export interface ProviderModelsOptions {
  pools: UpstreamPools;
  logger: ProviderModelsLogger;
  now?: () => number;
}

export interface ModelListSettings {
  /** Seconds between rounds; 0 turns fetching off. */
  refreshSeconds: number;
  /** Bound on one page, first byte to last. */
  timeoutMs: number;
}

interface Slot {
  provider: ProviderConfig;
  protocol: ModelListProtocol;
  signature: string;
  models: FetchedModel[] | undefined;
  names: Set<string>;
  fetchedAt: number | undefined;
  lastAttemptAt: number | undefined;
  lastError: string | undefined;
  attempted: boolean;
  /** Which key starts the next fetch: any key of the pool does, so they take turns. */
  keyTurn: number;
}

/** After a 401/403 another key is tried, up to this many keys per fetch. */
const MAX_KEYS_PER_FETCH = 3;

export class ProviderModels {
  private slots = new Map<string, Slot>();
  private refreshSeconds = 0;
  private timeoutMs = 10_000;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private abort: AbortController | undefined;
  /** Bumped by a restart and close(): answers for an older round are dropped. */
  private generation = 0;
  private listing: ProviderListing[] | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ProviderModelsOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * At start and on every reload. Unchanged providers keep their lists; a new or changed provider
   * (or a new period) starts a round now. A period of 0 turns fetching off and forgets the lists.
   */
  configure(providers: Iterable<ProviderConfig>, settings: ModelListSettings): void {
    const { refreshSeconds } = settings;
    this.timeoutMs = settings.timeoutMs;
    const next = new Map<string, Slot>();
    let changed = refreshSeconds !== this.refreshSeconds;
    if (refreshSeconds > 0) {
      for (const provider of providers) {
        const protocol = provider.configured ? modelListProtocolOf(provider) : undefined;
        if (protocol === undefined) continue;
        const signature = signatureOf(provider);
        const kept = this.slots.get(provider.name);
        if (kept !== undefined && kept.signature === signature) {
          // The same object: a round in flight writes its answer where it is read.
          kept.provider = provider;
          kept.protocol = protocol;
          next.set(provider.name, kept);
        } else {
          changed = true;
          next.set(provider.name, newSlot(provider, protocol, signature));
        }
      }
    }
    if (next.size !== this.slots.size) changed = true;
    this.slots = next;
    this.listing = undefined;
    this.refreshSeconds = refreshSeconds;
    if (!changed) return;
    this.stop();
    if (this.slots.size > 0) void this.refresh();
  }

  /** Fetches every list now; resolves when all have answered. Concurrent calls share one round. */
  refresh(): Promise<void> {
    if (this.slots.size === 0) return Promise.resolve();
    if (this.inFlight !== undefined) return this.inFlight;
    const round: Promise<void> = this.round(this.generation).finally(() => {
      if (this.inFlight === round) this.inFlight = undefined;
    });
    this.inFlight = round;
    return round;
  }

  /** Waits for the round in flight (the first one at start), at most `timeoutMs`. */
  async whenSettled(timeoutMs: number): Promise<void> {
    if (this.inFlight === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.inFlight,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Every fetched model of every provider, in provider then list order. */
  listed(): readonly ProviderListing[] {
    if (this.listing === undefined) {
      const listing: ProviderListing[] = [];
      for (const slot of this.slots.values()) {
        for (const model of slot.models ?? []) {
          listing.push({ provider: slot.provider.name, model: model.id, created: model.created });
        }
      }
      this.listing = listing;
    }
    return this.listing;
  }

  /** Whether `provider` lists `model`; 'unknown' when there is no list to ask. */
  lists(provider: string, model: string): ListedAnswer {
    const slot = this.slots.get(provider);
    if (slot?.models === undefined) return 'unknown';
    return slot.names.has(model) ? 'listed' : 'absent';
  }

  /** The list's state for /health; null when this provider's models are not fetched. */
  health(provider: string): ModelListHealth | null {
    const slot = this.slots.get(provider);
    if (slot === undefined) return null;
    let state: ModelListState;
    if (!slot.attempted) state = 'loading';
    else if (slot.lastError === undefined) state = 'ok';
    else state = slot.models === undefined ? 'error' : 'stale';
    return {
      state,
      stale: state === 'stale' || state === 'error',
      models: slot.models?.length ?? 0,
      last_success_at: slot.fetchedAt === undefined ? null : new Date(slot.fetchedAt).toISOString(),
      last_attempt_at: slot.lastAttemptAt === undefined ? null : new Date(slot.lastAttemptAt).toISOString(),
      last_error: slot.lastError ?? null,
      refresh_seconds: this.refreshSeconds,
    };
  }

  /** Stops the timer and any fetch in flight; the lists in use stay readable. */
  close(): void {
    this.stop();
  }

  private stop(): void {
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    this.abort = undefined;
    this.inFlight = undefined;
  }

  private async round(generation: number): Promise<void> {
    clearTimeout(this.timer);
    const abort = new AbortController();
    this.abort = abort;
    await Promise.all([...this.slots.values()].map((slot) => this.load(slot, generation, abort.signal)));
    if (generation !== this.generation) return;
    if (this.abort === abort) this.abort = undefined;
    this.listing = undefined;
    this.timer = setTimeout(() => void this.refresh(), this.refreshSeconds * 1000);
    // The timer never keeps a process alive on its own.
    this.timer.unref();
  }

  private async load(slot: Slot, generation: number, signal: AbortSignal): Promise<void> {
    const started = this.now();
    const { provider } = slot;
    try {
      const models = await this.fetchWithSomeKey(slot, signal);
      if (generation !== this.generation) return;
      slot.models = models;
      slot.names = new Set(models.map((model) => model.id));
      slot.fetchedAt = this.now();
      slot.lastError = undefined;
      this.options.logger.debug(
        { provider: provider.name, models: models.length },
        'provider model list loaded',
      );
    } catch (error) {
      if (generation !== this.generation) return;
      slot.lastError = redact(error instanceof Error ? error.message : String(error), provider.keys);
      const kept = slot.models?.length;
      this.options.logger.warn(
        { provider: provider.name, error: slot.lastError },
        kept === undefined
          ? `model list of ${provider.name} unavailable; its models still route but are not listed`
          : `model list of ${provider.name} could not be refreshed; keeping the last list of ${kept} models`,
      );
    } finally {
      if (generation === this.generation) {
        slot.attempted = true;
        slot.lastAttemptAt = started;
      }
    }
  }

  /** Any key of the provider's pool; after a refusal (401/403) the next one, a few at most. */
  private async fetchWithSomeKey(slot: Slot, signal: AbortSignal): Promise<FetchedModel[]> {
    const { provider } = slot;
    const url = new URL(provider.baseUrl);
    const keys: Array<ProviderKey | undefined> = provider.keys.length === 0 ? [undefined] : provider.keys;
    const start = slot.keyTurn++ % keys.length;
    const tries = Math.min(keys.length, MAX_KEYS_PER_FETCH);
    let lastError: unknown;
    for (let i = 0; i < tries; i++) {
      try {
        return await fetchModelList({
          pool: this.options.pools.get(url.origin),
          basePath: url.pathname.replace(/\/+$/, ''),
          provider,
          key: keys[(start + i) % keys.length],
          protocol: slot.protocol,
          timeoutMs: this.timeoutMs,
          signal,
        });
      } catch (error) {
        lastError = error;
        if (!(error instanceof ListStatusError) || (error.status !== 401 && error.status !== 403)) break;
      }
    }
    throw lastError;
  }
}

function newSlot(provider: ProviderConfig, protocol: ModelListProtocol, signature: string): Slot {
  return {
    provider,
    protocol,
    signature,
    models: undefined,
    names: new Set(),
    fetchedAt: undefined,
    lastAttemptAt: undefined,
    lastError: undefined,
    attempted: false,
    keyTurn: 0,
  };
}

/** What the list depends on: where it is, how it is asked for, with which keys (by id). */
function signatureOf(provider: ProviderConfig): string {
  return JSON.stringify([
    provider.protocol,
    provider.baseUrl,
    provider.auth,
    provider.headers,
    provider.keys.map((key) => key.id),
  ]);
}

/** Error texts are ours, but a socket message could in theory hold anything: no key leaves here. */
function redact(message: string, keys: readonly ProviderKey[]): string {
  let text = message;
  for (const key of keys) if (key.key !== '') text = text.replaceAll(key.key, `[key ${key.id}]`);
  return text;
}
