// The label values metrics and spans share: the route (a request path folded to its route, so ids
// and unknown paths do not grow the series without bound), the GenAI operation of a route, and a
// provider's name as OpenTelemetry's GenAI conventions spell the well-known ones.

const STATIC_ROUTES = new Set([
  '/v1/chat/completions',
  '/v1/messages',
  '/v1/messages/count_tokens',
  '/v1/responses',
  '/v1/embeddings',
  '/v1/images/generations',
  '/v1/models',
  '/v1/usage',
]);

/** The route a /v1 path belongs to: itself when static, a template for ids, else "other". */
export function routeLabel(endpoint: string): string {
  if (STATIC_ROUTES.has(endpoint)) return endpoint;
  if (endpoint.startsWith('/v1/responses/')) {
    return endpoint.endsWith('/input_items') ? '/v1/responses/{id}/input_items' : '/v1/responses/{id}';
  }
  if (endpoint.startsWith('/v1/models/')) return '/v1/models/{model}';
  return 'other';
}

/** gen_ai.operation.name of an exchange route; undefined for routes that call no model. */
export function operationOf(route: string): string | undefined {
  switch (route) {
    case '/v1/chat/completions':
    case '/v1/messages':
    case '/v1/responses':
      return 'chat';
    case '/v1/embeddings':
      return 'embeddings';
    case '/v1/images/generations':
      return 'generate_content';
    default:
      return undefined;
  }
}

// The conventions' well-known gen_ai.provider.name values that differ from our provider names;
// every other provider is named as configured.
const CONVENTION_NAMES: Record<string, string> = {
  gemini: 'gcp.gemini',
  google: 'gcp.gemini',
  vertex: 'gcp.vertex_ai',
  mistral: 'mistral_ai',
  xai: 'x_ai',
  bedrock: 'aws.bedrock',
  azure: 'azure.ai.openai',
};

export function genAiProviderName(provider: string): string {
  return CONVENTION_NAMES[provider] ?? provider;
}
