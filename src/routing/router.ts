// resolve(model) → ordered list of targets, first rule wins (SPEC §4). The router is built once per
// configuration load; every lookup on the request path is a map hit or a precompiled regex.
import { canonicalProviderName } from '../config/build-providers.js';
import type { Config, ProviderConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import { type CompiledGlob, compileGlob, fillGlob, matchGlob } from './glob.js';

export type RouteRule =
  | 'auto'
  | 'prefix'
  | 'alias'
  | 'catalog'
  | 'wildcard'
  | 'family'
  | 'default'
  | 'priority';

export interface Target {
  provider: ProviderConfig;
  /** The model name sent upstream. */
  model: string;
  rule: RouteRule;
}

/** Sources later issues plug in: the remote catalog (rule 4) and auto-model headroom (rule 1). */
export interface RoutingExtensions {
  catalog?: (model: string) => Target[] | undefined;
  /** Whether a provider has a key with headroom now; auto-model skips those without. */
  hasHeadroom?: (provider: ProviderConfig) => boolean;
}

const AUTO_NAMES = new Set(['auto', 'auto-model']);

export class Router {
  private readonly wildcards: { glob: CompiledGlob; targets: string[] }[];
  private readonly families: { glob: CompiledGlob; provider: ProviderConfig }[];

  constructor(
    private readonly config: Config,
    private readonly extensions: RoutingExtensions = {},
  ) {
    this.wildcards = config.wildcardMappings.map((rule) => ({
      glob: compileGlob(rule.pattern),
      targets: rule.targets,
    }));
    this.families = [];
    for (const provider of config.providers.values()) {
      for (const family of provider.families) this.families.push({ glob: compileGlob(family), provider });
    }
  }

  /** The chain for a request: `model`, then an OpenRouter-style `models` array, deduplicated. */
  resolveRequest(model: string | undefined, models: string[] | undefined): Target[] {
    if (model === undefined && (models === undefined || models.length === 0)) return this.priorityChain();
    const chain: Target[] = model === undefined ? [] : this.resolve(model);
    let firstError: unknown;
    for (const extra of models ?? []) {
      try {
        chain.push(...this.resolve(extra));
      } catch (error) {
        // A fallback entry that cannot be routed is skipped; the chain fails only when empty.
        firstError ??= error;
      }
    }
    if (chain.length === 0) throw firstError;
    return dedupe(chain);
  }

  resolve(model: string): Target[] {
    if (AUTO_NAMES.has(model) && this.config.autoModels.length > 0) return this.autoChain();

    const colon = model.indexOf(':');
    if (colon > 0) {
      const providerName = canonicalProviderName(this.config.providers, model.slice(0, colon));
      if (providerName !== undefined) {
        const provider = this.config.providers.get(providerName)!;
        return [this.configuredTarget(provider, model.slice(colon + 1), 'prefix', model)];
      }
    }

    const exact = this.config.exactMappings.get(model);
    if (exact !== undefined) return this.fromSpecs(exact, 'alias', model);

    const fromCatalog = this.extensions.catalog?.(model);
    if (fromCatalog !== undefined && fromCatalog.length > 0) return fromCatalog;

    for (const { glob, targets } of this.wildcards) {
      const captures = matchGlob(glob, model);
      if (captures === undefined) continue;
      const specs = targets.map((t) => (t === '*' ? model : fillGlob(t, captures)));
      return this.fromSpecs(specs, 'wildcard', model);
    }

    const family = this.familyTarget(model);
    if (family !== undefined) return [family];

    const fallback = this.defaultTarget(model);
    if (fallback !== undefined) return [fallback];
    throw notRoutable(model);
  }

  /** No model at all: PROVIDERS_PRIORITY, each provider with its default model. */
  priorityChain(): Target[] {
    const chain: Target[] = [];
    for (const name of this.config.providersPriority) {
      const provider = this.config.providers.get(name);
      if (provider?.configured && provider.defaultModel !== undefined) {
        chain.push({ provider, model: provider.defaultModel, rule: 'priority' });
      }
    }
    if (chain.length === 0) {
      throw new GatewayError(
        'invalid_request',
        'The request has no `model`, and no provider fallback is configured: send a model, or set PROVIDERS_PRIORITY and a <PROVIDER>_MODEL for each provider in it.',
        { param: 'model' },
      );
    }
    return chain;
  }

  private autoChain(): Target[] {
    const chain: Target[] = [];
    for (const name of this.config.autoModels) {
      let targets: Target[];
      try {
        targets = this.resolve(name);
      } catch {
        continue;
      }
      for (const target of targets) chain.push({ ...target, rule: 'auto' });
    }
    const hasHeadroom = this.extensions.hasHeadroom;
    // Providers with headroom first, in list order; the rest stay as later fallbacks.
    const ordered =
      hasHeadroom === undefined
        ? chain
        : [...chain.filter((t) => hasHeadroom(t.provider)), ...chain.filter((t) => !hasHeadroom(t.provider))];
    if (ordered.length === 0) throw notRoutable('auto-model');
    return dedupe(ordered);
  }

  private fromSpecs(specs: string[], rule: RouteRule, asked: string): Target[] {
    const targets: Target[] = [];
    let firstError: GatewayError | undefined;
    for (const spec of specs) {
      try {
        targets.push(this.fromSpec(spec, rule, asked));
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        firstError ??= error;
      }
    }
    if (targets.length === 0) throw firstError ?? notRoutable(asked);
    return targets;
  }

  /** A mapping value: `provider:model`, else a bare model for the default provider (or its family). */
  private fromSpec(spec: string, rule: RouteRule, asked: string): Target {
    const colon = spec.indexOf(':');
    if (colon > 0) {
      const providerName = canonicalProviderName(this.config.providers, spec.slice(0, colon));
      if (providerName !== undefined) {
        return this.configuredTarget(
          this.config.providers.get(providerName)!,
          spec.slice(colon + 1),
          rule,
          asked,
        );
      }
    }
    const fallback = this.defaultTarget(spec) ?? this.familyTarget(spec);
    if (fallback === undefined) throw notRoutable(asked);
    return { ...fallback, rule };
  }

  private familyTarget(model: string): Target | undefined {
    for (const { glob, provider } of this.families) {
      if (provider.configured && matchGlob(glob, model) !== undefined)
        return { provider, model, rule: 'family' };
    }
    return undefined;
  }

  private defaultTarget(model: string): Target | undefined {
    const name = this.config.defaultProvider;
    const provider = name === undefined ? undefined : this.config.providers.get(name);
    if (provider === undefined || !provider.configured) return undefined;
    return { provider, model, rule: 'default' };
  }

  private configuredTarget(provider: ProviderConfig, model: string, rule: RouteRule, asked: string): Target {
    if (!provider.configured) {
      const envName = `${provider.name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_API_KEY`;
      throw new GatewayError(
        'model_not_found',
        `The model ${JSON.stringify(asked)} needs provider ${provider.name}, which is not configured: set ${envName} or add providers.${provider.name} to the config.`,
        { param: 'model' },
      );
    }
    if (model === '') {
      throw new GatewayError(
        'invalid_request',
        `The model ${JSON.stringify(asked)} names no model after the provider prefix.`,
        {
          param: 'model',
        },
      );
    }
    return { provider, model, rule };
  }
}

function dedupe(chain: Target[]): Target[] {
  // Most chains are one target: nothing to compare, nothing to allocate.
  if (chain.length < 2) return chain;
  const seen = new Set<string>();
  return chain.filter((target) => {
    const key = `${target.provider.name}\u0000${target.model}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function notRoutable(model: string): GatewayError {
  return new GatewayError(
    'model_not_found',
    `The model ${JSON.stringify(model)} does not exist or cannot be routed: add it to model_mappings in config.yml (for example "${model}": "openrouter:${model}"), use a provider prefix such as openai:${model}, or configure a default provider.`,
    { param: 'model' },
  );
}
