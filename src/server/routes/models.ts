// GET /v1/models and GET /v1/models/{id}, in OpenAI's list and model shapes, or in Anthropic's
// (anthropic-models.ts) when the client sends anthropic-version.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError } from '../../errors.js';
import { type ListedModel, listModels } from '../../routing/model-list.js';
import type { Router } from '../../routing/router.js';
import { errorResponses } from '../chat-schema.js';
import type { Runtime } from '../runtime.js';
import { anthropicModel, anthropicPage, readPageQuery, wantsAnthropicShape } from './anthropic-models.js';

const modelSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string', const: 'model' },
    created: { type: 'integer' },
    owned_by: { type: 'string' },
  },
};

/**
 * An answer in Anthropic's shape, which is not the route schema's (OpenAI's): sent as its own JSON
 * text, which Fastify passes on without the schema's serializer.
 */
function sendUnshaped(reply: FastifyReply, value: unknown): FastifyReply {
  return reply.type('application/json').send(JSON.stringify(value));
}

export function registerModelRoutes(app: FastifyInstance, runtime: Runtime): void {
  const created = Math.floor(runtime.startedAt / 1000);
  // The list is rebuilt only when the router (a reload), the catalog's list or a provider's list
  // changed: each upstream model costs a router lookup to pick the id a client must send.
  let cache:
    | {
        router: Router;
        catalog: readonly unknown[];
        upstream: readonly unknown[];
        list: ListedModel[];
        byId: Map<string, ListedModel>;
      }
    | undefined;
  // No catalog answers a fresh empty array each time; two empty lists are the same list.
  const same = (a: readonly unknown[], b: readonly unknown[]) =>
    a === b || (a.length === 0 && b.length === 0);
  const current = () => {
    const { config, router } = runtime.state;
    const catalog = runtime.catalog.listed();
    const upstream = runtime.providerModels.listed();
    if (cache?.router !== router || !same(cache.catalog, catalog) || !same(cache.upstream, upstream)) {
      const list = listModels(config, created, catalog, { models: upstream, router });
      cache = { router, catalog, upstream, list, byId: new Map(list.map((model) => [model.id, model])) };
    }
    return cache;
  };

  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'List the models this gateway can route',
        description:
          'With an `anthropic-version` header the answer is in Anthropic\'s shape instead: `{data:[{type:"model", id, display_name, created_at}], has_more, first_id, last_id}`, paged by the `limit` (1–1000, default 20), `after_id` and `before_id` query parameters.',
        tags: ['OpenAI API'],
        security: [{ bearerAuth: [] }],
        response: {
          200: {
            type: 'object',
            properties: { object: { type: 'string' }, data: { type: 'array', items: modelSchema } },
          },
          401: errorResponses[401],
        },
      },
    },
    async (request, reply) => {
      if (!wantsAnthropicShape(request.headers)) return { object: 'list', data: current().list };
      return sendUnshaped(reply, anthropicPage(current().list, readPageQuery(request.query)));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/models/*',
    {
      schema: {
        summary: 'Describe one model (ids may contain `/` and `:`)',
        description:
          'With an `anthropic-version` header: `{type:"model", id, display_name, created_at}` (Anthropic\'s shape).',
        tags: ['OpenAI API'],
        security: [{ bearerAuth: [] }],
        response: { 200: modelSchema, 401: errorResponses[401], 404: errorResponses[404] },
      },
      config: {
        // Fastify can only call a wildcard `*` (ids hold slashes, so it must be one); the document
        // names the route as OpenAI and SPEC §3 do, GET /v1/models/{id}.
        swaggerTransform: ({ schema, url }) => ({
          schema: {
            ...schema,
            params: {
              type: 'object',
              properties: { id: { type: 'string', description: 'A model id; may contain `/` and `:`' } },
              required: ['id'],
            },
          },
          url: url.replace(/\*$/, ':id'),
        }),
      },
    },
    async (request, reply) => {
      const shaped = (model: { id: string; object: 'model'; created: number; owned_by: string }) =>
        wantsAnthropicShape(request.headers) ? sendUnshaped(reply, anthropicModel(model)) : model;
      // The router has already decoded the wildcard (%2F included); decoding again would turn a
      // literal `%` in an id into a URIError (a 500) and `%252F` into `/`.
      const id = (request.params as Record<string, string>)['*'] ?? '';
      // A blank id would otherwise "route" to the default provider and be described as a model.
      if (id.trim() === '') {
        throw new GatewayError(
          'model_not_found',
          'No model id given: GET /v1/models/{id}, or /v1/models for the list.',
          {
            param: 'model',
          },
        );
      }
      const listed = current().byId.get(id);
      if (listed !== undefined) return shaped(listed);
      // Another spelling of a listed model (`openai:gpt-4o` for `gpt-4o`), or a model of a provider
      // whose list is not known (never fetched, or none to fetch): routable then counts as existing.
      try {
        const [target] = runtime.state.router.resolve(id);
        if (
          target !== undefined &&
          runtime.providerModels.lists(target.provider.name, target.model) !== 'absent'
        ) {
          return shaped({ id, object: 'model', created, owned_by: target.provider.name });
        }
      } catch {
        // fall through to the 404 below
      }
      throw new GatewayError(
        'model_not_found',
        `The model ${JSON.stringify(id)} does not exist or cannot be routed.`,
        {
          param: 'model',
        },
      );
    },
  );
}
