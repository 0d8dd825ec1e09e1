// The models a client can ask for, as /v1/models and `ai-proxy models` list them, each with where
// it comes from: an alias in model_mappings, a provider's configured models, or auto-model.
import type { Config } from '../config/types.js';

export type ModelSource = 'alias' | 'provider' | 'auto' | 'catalog';

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

export function listModels(
  config: Config,
  created: number,
  catalog: readonly CatalogListing[] = [],
): ListedModel[] {
  const models = new Map<string, ListedModel>();
  const add = (id: string, ownedBy: string, source: ModelSource) => {
    if (!models.has(id)) models.set(id, { id, object: 'model', created, owned_by: ownedBy, source });
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
  for (const provider of config.providers.values()) {
    if (!provider.configured) continue;
    const names =
      provider.defaultModel === undefined ? provider.models : [provider.defaultModel, ...provider.models];
    for (const name of names) add(`${provider.name}:${name}`, provider.name, 'provider');
  }
  return [...models.values()];
}
