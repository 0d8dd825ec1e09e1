// GET /v1/models and GET /v1/models/{id}, in OpenAI's list and model shapes.
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import { listModels } from '../../routing/model-list.js';
import { errorResponses } from '../chat-schema.js';
import type { Runtime } from '../runtime.js';

const modelSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string', const: 'model' },
    created: { type: 'integer' },
    owned_by: { type: 'string' },
  },
};

export function registerModelRoutes(app: FastifyInstance, runtime: Runtime): void {
  const created = Math.floor(runtime.startedAt / 1000);

  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'List the models this gateway can route',
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
    async () => ({
      object: 'list',
      data: listModels(runtime.state.config, created, runtime.catalog.listed()),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/models/*',
    {
      schema: {
        summary: 'Describe one model (ids may contain `/` and `:`)',
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
    async (request) => {
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
      const { config, router } = runtime.state;
      const listed = listModels(config, created, runtime.catalog.listed()).find((model) => model.id === id);
      if (listed !== undefined) return listed;
      // Anything routable exists as far as the client is concerned.
      try {
        const [target] = router.resolve(id);
        if (target !== undefined) return { id, object: 'model', created, owned_by: target.provider.name };
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
