// The remote model catalog (SPEC §7, seed 001): fetched at start and every refresh period on its own
// unref'd timer, validated entry by entry, swapped in whole. A failed refresh keeps the last good
// list; a catalog that is down never stops the gateway. One instance lives on the Runtime and
// survives config reloads; the router asks it for rule 4 on every request (a map lookup).
import type { Logger } from 'pino';
import type { CatalogSettings, Price, ProviderConfig } from '../config/types.js';
import type { CatalogListing } from '../routing/model-list.js';
import type { Target } from '../routing/router.js';
import { type CatalogEntry, parseCatalog } from './catalog-entry.js';
import { catalogKey, catalogProvider } from './catalog-provider.js';
import { describeUrl, fetchCatalog } from './fetch-catalog.js';
import { isImageFamily, ownerOfHandle } from './handle.js';

export type CatalogState = 'loading' | 'ok' | 'stale' | 'error';

export type CatalogLogger = Pick<Logger, 'info' | 'warn' | 'debug'>;

export interface CatalogHealth {
  /** loading: no answer yet; ok: last refresh worked; stale: it failed, the last list serves; error: no list. */
  state: CatalogState;
  source: string;
  models: number;
  /** Seconds since the list in use was fetched; null before the first success. */
  age_seconds: number | null;
  last_success_at: string | null;
  last_attempt_at: string | null;
  last_error: string | null;
  skipped_entries: number;
  refresh_seconds: number;
}

interface CatalogModel {
  entry: CatalogEntry;
  provider: ProviderConfig;
  price: Price | undefined;
}

interface Snapshot {
  models: Map<string, CatalogModel>;
  listed: CatalogListing[];
  fetchedAt: number;
  skipped: number;
}

export interface CatalogOptions {
  /** Bound on one fetch, connection to last byte. */
  fetchTimeoutMs?: number;
  now?: () => number;
}

const DEFAULT_FETCH_TIMEOUT_MS = 10_000;

export class Catalog {
  private settings: CatalogSettings | undefined;
  private snapshot: Snapshot | undefined;
  private lastAttemptAt: number | undefined;
  private lastError: string | undefined;
  private attempted = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private abort: AbortController | undefined;
  /** Bumped by configure() and close(): an answer for older settings is dropped. */
  private generation = 0;
  private readonly fetchTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly logger: CatalogLogger,
    options: CatalogOptions = {},
  ) {
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.settings !== undefined;
  }

  /**
   * Applies MODEL_LIST_* settings (at start and on every reload). Unchanged settings keep the list
   * and the timer as they are; changed ones start over with a fetch now; none stop the catalog.
   */
  configure(settings: CatalogSettings | undefined): void {
    if (sameSettings(this.settings, settings)) return;
    this.stop();
    this.settings = settings;
    this.snapshot = undefined;
    this.lastAttemptAt = undefined;
    this.lastError = undefined;
    this.attempted = false;
    if (settings !== undefined) void this.refresh();
  }

  /** Fetches now. Resolves true when a new list is in use; concurrent calls share one fetch. */
  refresh(): Promise<boolean> {
    if (this.settings === undefined) return Promise.resolve(false);
    if (this.inFlight !== undefined) return this.inFlight;
    const loading: Promise<boolean> = this.load(this.settings, this.generation).finally(() => {
      if (this.inFlight === loading) this.inFlight = undefined;
    });
    this.inFlight = loading;
    return loading;
  }

  /** Waits until the first fetch has an answer (good or bad), at most `timeoutMs`. */
  async whenSettled(timeoutMs: number): Promise<void> {
    if (this.attempted || this.inFlight === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.inFlight,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Rule 4: the target for a catalog model_version, or undefined. A fresh array each time. */
  targetsFor(model: string): Target[] | undefined {
    const found = this.snapshot?.models.get(model);
    if (found === undefined) return undefined;
    return [{ provider: found.provider, model: found.entry.modelVersion, rule: 'catalog' }];
  }

  /** The models /v1/models lists: every entry but the image families. */
  listed(): readonly CatalogListing[] {
    return this.snapshot?.listed ?? [];
  }

  /** Whether any model is loaded: without one, pricing need not look here (or read any usage). */
  get hasModels(): boolean {
    return (this.snapshot?.models.size ?? 0) > 0;
  }

  /** Catalog prices per 1k tokens, keyed by model_version, for cost accounting. */
  priceOf(model: string): Price | undefined {
    return this.snapshot?.models.get(model)?.price;
  }

  health(): CatalogHealth | null {
    const settings = this.settings;
    if (settings === undefined) return null;
    const snapshot = this.snapshot;
    let state: CatalogState;
    if (!this.attempted) state = 'loading';
    else if (this.lastError === undefined) state = 'ok';
    else state = snapshot === undefined ? 'error' : 'stale';
    return {
      state,
      source: describeUrl(settings.url),
      models: snapshot?.models.size ?? 0,
      age_seconds:
        snapshot === undefined ? null : Math.max(0, Math.round((this.now() - snapshot.fetchedAt) / 1000)),
      last_success_at: snapshot === undefined ? null : new Date(snapshot.fetchedAt).toISOString(),
      last_attempt_at: this.lastAttemptAt === undefined ? null : new Date(this.lastAttemptAt).toISOString(),
      last_error: this.lastError ?? null,
      skipped_entries: snapshot?.skipped ?? 0,
      refresh_seconds: settings.refreshSeconds,
    };
  }

  /** Stops the timer and any fetch in flight; the list in use stays readable. */
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

  private async load(settings: CatalogSettings, generation: number): Promise<boolean> {
    clearTimeout(this.timer);
    const abort = new AbortController();
    this.abort = abort;
    const started = this.now();
    let loaded = false;
    try {
      const document = await fetchCatalog({
        url: settings.url,
        authToken: settings.authToken,
        timeoutMs: this.fetchTimeoutMs,
        signal: abort.signal,
      });
      if (generation !== this.generation) return false;
      const parsed = parseCatalog(document);
      for (const line of parsed.skipped) this.logger.warn(line);
      this.snapshot = buildSnapshot(settings, parsed.entries, this.now(), parsed.skipped.length);
      this.lastError = undefined;
      loaded = true;
      this.logger.info(
        {
          catalog: describeUrl(settings.url),
          models: parsed.entries.length,
          skipped: parsed.skipped.length,
          unavailable: parsed.unavailable,
        },
        'model catalog loaded',
      );
    } catch (error) {
      if (generation !== this.generation) return false;
      this.lastError = error instanceof Error ? error.message : String(error);
      const kept = this.snapshot?.models.size;
      this.logger.warn(
        { catalog: describeUrl(settings.url), error: this.lastError },
        kept === undefined
          ? 'model catalog unavailable; catalog models cannot be routed until a refresh succeeds'
          : `model catalog refresh failed; keeping the last list of ${kept} models`,
      );
    } finally {
      if (generation === this.generation) {
        this.attempted = true;
        this.lastAttemptAt = started;
        if (this.abort === abort) this.abort = undefined;
        this.schedule(settings);
      }
    }
    return loaded;
  }

  private schedule(settings: CatalogSettings): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), settings.refreshSeconds * 1000);
    // The catalog's timer never keeps a process alive on its own.
    this.timer.unref();
  }
}

function buildSnapshot(
  settings: CatalogSettings,
  entries: CatalogEntry[],
  fetchedAt: number,
  skipped: number,
): Snapshot {
  const origin = new URL(settings.url).origin;
  const key = catalogKey(settings.authToken);
  const models = new Map<string, CatalogModel>();
  const listed: CatalogListing[] = [];
  for (const entry of entries) {
    const price =
      entry.promptPrice1k === undefined || entry.completionPrice1k === undefined
        ? undefined
        : { prompt1k: entry.promptPrice1k, completion1k: entry.completionPrice1k };
    models.set(entry.modelVersion, { entry, provider: catalogProvider(entry, origin, key), price });
    if (!isImageFamily(entry.family))
      listed.push({ id: entry.modelVersion, ownedBy: ownerOfHandle(entry.handle) });
  }
  return { models, listed, fetchedAt, skipped };
}

function sameSettings(a: CatalogSettings | undefined, b: CatalogSettings | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.url === b.url && a.authToken === b.authToken && a.refreshSeconds === b.refreshSeconds;
}
