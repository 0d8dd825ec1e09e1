// A catalog entry as something the attempt loop can call: a provider description whose base URL is
// the catalog's scheme and host, whose path is the entry's handle exactly, and whose one "key" is
// the catalog's OAuth token (or none). Built once per catalog load, never per request.
import { providerKeyId } from '../config/build-providers.js';
import type { ProviderConfig, ProviderKey } from '../config/types.js';
import { type AuthStyle, headersForProtocol } from '../providers/registry.js';
import type { CatalogEntry } from './catalog-entry.js';
import { isImageFamily, protocolForEntry } from './handle.js';

/** The provider name catalog models carry in headers, logs and the request log. */
export const CATALOG_PROVIDER = 'catalog';

/** Seed 001 sends the catalog's token on to every model: `Authorization: OAuth <token>`. */
export const OAUTH_AUTH: AuthStyle = { header: 'authorization', prefix: 'OAuth ' };

export function catalogKey(authToken: string | undefined): ProviderKey | undefined {
  if (authToken === undefined) return undefined;
  return { id: providerKeyId(CATALOG_PROVIDER, authToken), key: authToken, limits: {} };
}

export function catalogProvider(
  entry: CatalogEntry,
  origin: string,
  key: ProviderKey | undefined,
): ProviderConfig {
  const protocol = protocolForEntry(entry.handle, entry.family);
  return {
    name: CATALOG_PROVIDER,
    protocol,
    baseUrl: origin,
    auth: OAUTH_AUTH,
    headers: headersForProtocol(protocol),
    families: [],
    aliases: [],
    keys: key === undefined ? [] : [key],
    // Without MODEL_LIST_AUTH_TOKEN the seed sends no Authorization header at all.
    keyOptional: true,
    configured: true,
    defaultModel: undefined,
    models: [],
    builtin: false,
    fixedPath: entry.handle,
    imagesOnly: isImageFamily(entry.family),
  };
}
