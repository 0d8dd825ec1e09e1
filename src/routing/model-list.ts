// The models a client can ask for, as /v1/models and `ai-proxy models` list them, each with where
// it comes from: an alias in model_mappings, a provider's configured models, a provider's own model
// list (upstream), or auto-model.
import type { Config } from '../config/types.js';
import type { ProviderListing } from './provider-models.js';
import type { Target } from './router.js';

export type ModelSource = 'alias' | 'provider' | 'auto' | 'catalog' | 'upstream';

export interface ListedModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  source: ModelSource;
}

/** A remote catalog model as listed: its model_version and the owner its handle names. */
export interface CatalogListing {
  id: string;
  ownedBy: string;
}

/** What resolves a model name to targets: the Router. */
export interface ModelResolver {
  resolve(model: string): Target[];
}

/** The providers' own lists, and the router that decides how each id must be written. */
export interface UpstreamListings {
  models: readonly ProviderListing[];
  router: ModelResolver;
}

/**
 * The id a client sends to reach `model` at `provider`: the bare name when the router already sends
 * it there (a family such as gpt-* or claude-*, the default provider, a wildcard), else
 * `provider:model`, which the prefix rule always routes there.
 */
export function clientModelId(router: ModelResolver, provider: string, model: string): string {
  try {
    const [first] = router.resolve(model);
    if (
      first !== undefined &&
      first.rule !== 'auto' &&
      first.provider.name === provider &&
      first.model === model
    )
      return model;
  } catch {
    // Not routable by its bare name: the prefixed id below is.
  }
  return `${provider}:${model}`;
}

export function listModels(
  config: Config,
  created: number,
  catalog: readonly CatalogListing[] = [],
  upstream?: UpstreamListings,
): ListedModel[] {
  const models = new Map<string, ListedModel>();
  const add = (id: string, ownedBy: string, source: ModelSource, at = created) => {
    if (!models.has(id)) models.set(id, { id, object: 'model', created: at, owned_by: ownedBy, source });
  };
  if (config.autoModels.length > 0) {
    add('auto-model', 'ai-proxy', 'auto');
  }
  for (const [alias, targets] of config.exactMappings) {
    const first = targets[0] ?? '';
    const colon = first.indexOf(':');
    const owner =
      colon > 0 && config.providers.has(first.slice(0, colon))
        ? first.slice(0, colon)
        : (config.defaultProvider ?? 'ai-proxy');
    add(alias, owner, 'alias');
  }
  for (const model of catalog) add(model.id, model.ownedBy, 'catalog');
  const configured = new Set<string>();
  for (const provider of config.providers.values()) {
    if (!provider.configured) continue;
    const names =
      provider.defaultModel === undefined ? provider.models : [provider.defaultModel, ...provider.models];
    for (const name of names) {
      add(`${provider.name}:${name}`, provider.name, 'provider');
      configured.add(`${provider.name}\u0000${name}`);
    }
  }
  if (upstream !== undefined) {
    for (const listing of upstream.models) {
      // A model the config already names is listed once, as the config names it.
      if (configured.has(`${listing.provider}\u0000${listing.model}`)) continue;
      const id = clientModelId(upstream.router, listing.provider, listing.model);
      add(id, listing.provider, 'upstream', listing.created);
    }
  }
  return [...models.values()];
}
