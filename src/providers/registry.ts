// Built-in providers as plain data. Adding a provider that speaks an existing protocol is one entry
// here (or a `providers.<name>` block in config); nothing in the core tests provider names.

export type Protocol = 'openai' | 'anthropic' | 'gemini' | 'cohere' | 'ideogram';

/** How the provider key travels: a header name and a value template where `{key}` is the key. */
export interface AuthStyle {
  header: string;
  prefix: string;
}

export interface ProviderDescriptor {
  name: string;
  protocol: Protocol;
  baseUrl: string;
  auth: AuthStyle;
  /** Env names holding the key (first set wins). */
  keyEnv: string[];
  /** A key is optional (Ollama): the provider counts as configured without one. */
  keyOptional?: boolean;
  /** Fixed headers every call carries (anthropic-version). */
  headers?: Record<string, string>;
  /** Name families (rule 6): globs that route here when this provider is configured. */
  families?: string[];
  /** Alternative names accepted as `alias:model` prefixes and in PROVIDERS_PRIORITY. */
  aliases?: string[];
  /** Path the API lives under, appended to a base URL that lacks it (Ollama's `/v1`). */
  apiPath?: string;
  /**
   * Where /v1/models learns this provider's models when not from its protocol's list endpoint:
   * Ollama's own `/api/tags`, or none (no list endpoint at all).
   */
  modelList?: 'ollama-tags' | 'none';
  /** Serves the OpenAI Responses API itself (OpenAI): /v1/responses passes through. */
  responses?: boolean;
}

const bearer: AuthStyle = { header: 'authorization', prefix: 'Bearer ' };

export const BUILTIN_PROVIDERS: readonly ProviderDescriptor[] = [
  {
    name: 'openai',
    protocol: 'openai',
    baseUrl: 'https://api.openai.com/v1',
    auth: bearer,
    keyEnv: ['OPENAI_API_KEY'],
    families: ['gpt-*', 'o1*', 'o3*', 'o4*', 'chatgpt-*', 'dall-e-*', 'text-embedding-*'],
    responses: true,
  },
  {
    name: 'anthropic',
    protocol: 'anthropic',
    baseUrl: 'https://api.anthropic.com/v1',
    auth: { header: 'x-api-key', prefix: '' },
    keyEnv: ['ANTHROPIC_API_KEY'],
    headers: { 'anthropic-version': '2023-06-01' },
    families: ['claude-*'],
  },
  {
    name: 'gemini',
    protocol: 'gemini',
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
    auth: { header: 'x-goog-api-key', prefix: '' },
    keyEnv: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    families: ['gemini*'],
    aliases: ['google'],
  },
  {
    name: 'cohere',
    protocol: 'cohere',
    baseUrl: 'https://api.cohere.com',
    auth: bearer,
    keyEnv: ['COHERE_API_KEY'],
    families: ['command*', 'embed-*'],
  },
  {
    name: 'groq',
    protocol: 'openai',
    baseUrl: 'https://api.groq.com/openai/v1',
    auth: bearer,
    keyEnv: ['GROQ_API_KEY'],
  },
  {
    name: 'openrouter',
    protocol: 'openai',
    baseUrl: 'https://openrouter.ai/api/v1',
    auth: bearer,
    keyEnv: ['OPENROUTER_API_KEY'],
  },
  {
    name: 'ollama',
    protocol: 'openai',
    // OLLAMA_BASE_URL is the server root as Ollama documents it; its OpenAI API is under /v1.
    baseUrl: 'http://localhost:11434',
    apiPath: '/v1',
    auth: bearer,
    keyEnv: ['OLLAMA_API_KEY'],
    keyOptional: true,
    modelList: 'ollama-tags',
  },
  {
    name: 'ideogram',
    protocol: 'ideogram',
    baseUrl: 'https://api.ideogram.ai',
    auth: { header: 'api-key', prefix: '' },
    keyEnv: ['IDEOGRAM_API_KEY'],
  },
  {
    name: 'recraft',
    protocol: 'openai',
    baseUrl: 'https://external.api.recraft.ai/v1',
    auth: bearer,
    keyEnv: ['RECRAFT_API_KEY'],
    modelList: 'none',
  },
];

/** The env prefix of a provider name: `my-llm` → `MY_LLM`. */
export function envPrefix(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** Auth header style for a protocol, for providers declared in config. */
export function authForProtocol(protocol: Protocol): AuthStyle {
  switch (protocol) {
    case 'anthropic':
      return { header: 'x-api-key', prefix: '' };
    case 'gemini':
      return { header: 'x-goog-api-key', prefix: '' };
    case 'ideogram':
      return { header: 'api-key', prefix: '' };
    default:
      return bearer;
  }
}

/** Fixed headers a protocol needs, for providers declared in config. */
export function headersForProtocol(protocol: Protocol): Record<string, string> {
  return protocol === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {};
}
