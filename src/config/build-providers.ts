// Builds every provider's runtime description from the registry, the config file and the
// environment (later wins): base URL, keys (with limits), default model, extra headers.
import { createHash } from 'node:crypto';
import {
  authForProtocol,
  BUILTIN_PROVIDERS,
  envPrefix,
  headersForProtocol,
  type ProviderDescriptor,
} from '../providers/registry.js';
import { ConfigError, type Env, envString } from './env-values.js';
import type { FileConfig, KeyLimits, ProviderFileConfig } from './file-schema.js';
import type { ProviderConfig, ProviderKey } from './types.js';

/** A key id reveals nothing usable of the key: the provider name and a short digest. */
export function providerKeyId(provider: string, key: string): string {
  return `${provider}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

function pickLimits(source: KeyLimits | undefined): KeyLimits {
  const limits: KeyLimits = {};
  if (source?.max_request_min !== undefined) limits.max_request_min = source.max_request_min;
  if (source?.max_request_day !== undefined) limits.max_request_day = source.max_request_day;
  if (source?.max_token_min !== undefined) limits.max_token_min = source.max_token_min;
  if (source?.max_token_day !== undefined) limits.max_token_day = source.max_token_day;
  return limits;
}

function makeKey(provider: string, key: string, limits: KeyLimits, id?: string): ProviderKey {
  return { id: id ?? providerKeyId(provider, key), key, limits };
}

function withApiPath(baseUrl: string, apiPath: string | undefined): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  if (apiPath === undefined || trimmed.endsWith(apiPath)) return trimmed;
  return trimmed + apiPath;
}

function validateUrl(url: string, where: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(`${where}: expected an http(s) URL, got ${JSON.stringify(url)}`);
  }
  return url;
}

/** Removes `name:` or `alias:` from a default model (seed 004 writes `GROQ_MODEL=groq:gemma2-9b-it`). */
function stripOwnPrefix(model: string, names: string[]): string {
  for (const name of names) {
    if (model.startsWith(`${name}:`)) return model.slice(name.length + 1);
  }
  return model;
}

interface BuildContext {
  file: FileConfig;
  fileName: string;
  env: Env;
  priority: Set<string>;
}

function buildOne(
  descriptor: ProviderDescriptor,
  fileEntry: ProviderFileConfig | undefined,
  ctx: BuildContext,
): ProviderConfig {
  const name = descriptor.name;
  const prefix = envPrefix(name);
  const names = [name, ...(descriptor.aliases ?? [])];
  const providerLimits = pickLimits(fileEntry);

  let keys: ProviderKey[] = [];
  if (fileEntry?.api_key) keys.push(makeKey(name, fileEntry.api_key, providerLimits));
  for (const entry of fileEntry?.keys ?? []) {
    if (typeof entry === 'string') keys.push(makeKey(name, entry, providerLimits));
    else keys.push(makeKey(name, entry.key, { ...providerLimits, ...pickLimits(entry) }, entry.id));
  }
  for (const seed of ctx.file.provider_keys ?? []) {
    if (!names.includes(seed.provider.toLowerCase())) continue;
    const list = Array.isArray(seed.key) ? seed.key : [seed.key];
    for (const key of list) keys.push(makeKey(name, key, { ...providerLimits, ...pickLimits(seed) }));
  }
  // Environment keys replace file keys (later source wins) but keep the provider's limits.
  const envKeyName = [`${prefix}_API_KEY`, ...descriptor.keyEnv].find((n) => envString(ctx.env, n));
  if (envKeyName !== undefined) {
    const envKeys = (envString(ctx.env, envKeyName) ?? '').split(',').map((k) => k.trim());
    const fileLimits = new Map(keys.map((k) => [k.key, k]));
    keys = envKeys.filter((k) => k !== '').map((k) => fileLimits.get(k) ?? makeKey(name, k, providerLimits));
  }
  // The same key listed twice would be counted twice against one upstream limit.
  keys = [...new Map(keys.map((k) => [k.key, k])).values()];

  const envBase = envString(ctx.env, `${prefix}_BASE_URL`);
  const rawBase = envBase ?? fileEntry?.base_url ?? descriptor.baseUrl;
  const baseUrl = withApiPath(
    validateUrl(
      rawBase,
      envBase ? `environment variable ${prefix}_BASE_URL` : `${ctx.fileName}: providers.${name}.base_url`,
    ),
    descriptor.apiPath,
  );

  const rawModel = envString(ctx.env, `${prefix}_MODEL`) ?? fileEntry?.model;
  const asked = fileEntry !== undefined || envBase !== undefined || ctx.priority.has(name);
  const configured =
    fileEntry?.enabled !== false && (keys.length > 0 || (descriptor.keyOptional === true && asked));

  return {
    name,
    protocol: fileEntry?.protocol ?? descriptor.protocol,
    baseUrl,
    auth: descriptor.auth,
    headers: { ...(descriptor.headers ?? {}), ...(fileEntry?.headers ?? {}) },
    families: descriptor.families ?? [],
    aliases: descriptor.aliases ?? [],
    keys,
    keyOptional: descriptor.keyOptional === true,
    configured,
    defaultModel: rawModel === undefined ? undefined : stripOwnPrefix(rawModel, names),
    models: fileEntry?.models ?? [],
    builtin: true,
    responses: (fileEntry?.responses ?? descriptor.responses) === true,
  };
}

export function buildProviders(ctx: BuildContext): Map<string, ProviderConfig> {
  const providers = new Map<string, ProviderConfig>();
  const fileProviders = ctx.file.providers ?? {};
  const builtinNames = new Set<string>();
  for (const descriptor of BUILTIN_PROVIDERS) {
    builtinNames.add(descriptor.name);
    for (const alias of descriptor.aliases ?? []) builtinNames.add(alias);
    const entry = fileProviders[descriptor.name] ?? findAliasEntry(fileProviders, descriptor.aliases);
    providers.set(descriptor.name, buildOne(descriptor, entry, ctx));
  }
  for (const [name, entry] of Object.entries(fileProviders)) {
    if (builtinNames.has(name)) continue;
    if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) {
      throw new ConfigError(
        `${ctx.fileName}: providers.${name}: expected a provider name of letters, digits, '-', '_' or '.'`,
      );
    }
    if (entry.base_url === undefined && envString(ctx.env, `${envPrefix(name)}_BASE_URL`) === undefined) {
      throw new ConfigError(
        `${ctx.fileName}: providers.${name}.base_url: expected the base URL of this custom provider (or ${envPrefix(name)}_BASE_URL)`,
      );
    }
    const protocol = entry.protocol ?? 'openai';
    const descriptor: ProviderDescriptor = {
      name,
      protocol,
      baseUrl: entry.base_url ?? '',
      auth: authForProtocol(protocol),
      headers: headersForProtocol(protocol),
      keyEnv: [],
      // A custom server (a local vLLM, say) often needs no key.
      keyOptional: true,
    };
    providers.set(name, { ...buildOne(descriptor, entry, ctx), builtin: false });
  }
  return providers;
}

function findAliasEntry(
  entries: Record<string, ProviderFileConfig>,
  aliases: string[] | undefined,
): ProviderFileConfig | undefined {
  for (const alias of aliases ?? []) {
    const entry = entries[alias];
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/** Maps a provider name or alias (`google`) to its canonical name, or undefined. */
export function canonicalProviderName(
  providers: Map<string, ProviderConfig>,
  name: string,
): string | undefined {
  const lower = name.toLowerCase();
  if (providers.has(lower)) return lower;
  if (providers.has(name)) return name;
  for (const provider of providers.values()) {
    if (provider.aliases.includes(lower)) return provider.name;
  }
  return undefined;
}
