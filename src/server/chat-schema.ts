// The JSON schema of POST /v1/chat/completions: validated by Fastify's compiled validator (fast,
// and the error names the field) and published in /openapi.json. Fields it does not list travel on
// untouched, as OpenAI adds new ones often.
import { modelNameSchema } from './model-name.js';

const stringOrNull = { type: ['string', 'null'] };

const contentPart = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' } },
};

const content = {
  anyOf: [{ type: 'string' }, { type: 'array', items: contentPart }, { type: 'null' }],
};

const toolCall = {
  type: 'object',
  required: ['function'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    function: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, arguments: { type: 'string' } },
    },
  },
};

export const chatMessageSchema = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
    content,
    name: { type: 'string' },
    tool_calls: { type: 'array', items: toolCall },
    tool_call_id: { type: 'string' },
  },
  allOf: [
    {
      if: { properties: { role: { const: 'tool' } } },
      then: { required: ['tool_call_id', 'content'] },
    },
    {
      if: { properties: { role: { enum: ['system', 'developer', 'user'] } } },
      then: { required: ['content'], properties: { content: { type: ['string', 'array'] } } },
    },
  ],
};

export const chatRequestSchema = {
  $id: 'ChatCompletionRequest',
  type: 'object',
  required: ['messages'],
  properties: {
    model: {
      ...modelNameSchema,
      description:
        'A model alias, `provider:model`, a catalog model or `auto-model`; omit it to use PROVIDERS_PRIORITY.',
    },
    models: {
      type: 'array',
      items: modelNameSchema,
      description: 'OpenRouter-style fallback chain tried after `model`.',
    },
    messages: { type: 'array', minItems: 1, items: chatMessageSchema },
    stream: { type: 'boolean' },
    stream_options: {
      anyOf: [{ type: 'object', properties: { include_usage: { type: 'boolean' } } }, { type: 'null' }],
    },
    temperature: { anyOf: [{ type: 'number', minimum: 0, maximum: 2 }, { type: 'null' }] },
    top_p: { anyOf: [{ type: 'number', minimum: 0, maximum: 1 }, { type: 'null' }] },
    n: { anyOf: [{ type: 'integer', minimum: 1, maximum: 128 }, { type: 'null' }] },
    max_tokens: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] },
    max_completion_tokens: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] },
    stop: {
      anyOf: [
        { type: 'string' },
        { type: 'array', items: { type: 'string' }, maxItems: 4 },
        { type: 'null' },
      ],
    },
    presence_penalty: { anyOf: [{ type: 'number', minimum: -2, maximum: 2 }, { type: 'null' }] },
    frequency_penalty: { anyOf: [{ type: 'number', minimum: -2, maximum: 2 }, { type: 'null' }] },
    seed: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
    user: { type: 'string' },
    tools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { type: 'string' },
          function: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string', minLength: 1 },
              description: { type: 'string' },
              parameters: { type: 'object' },
              strict: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
            },
          },
        },
      },
    },
    tool_choice: { anyOf: [{ type: 'string', enum: ['none', 'auto', 'required'] }, { type: 'object' }] },
    parallel_tool_calls: { type: 'boolean' },
    response_format: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] } },
    },
    logprobs: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
    top_logprobs: { anyOf: [{ type: 'integer', minimum: 0, maximum: 20 }, { type: 'null' }] },
    metadata: { anyOf: [{ type: 'object' }, { type: 'null' }] },
    extra_body: { type: 'object', description: 'Merged verbatim into the upstream body.' },
  },
};

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        param: stringOrNull,
        code: stringOrNull,
      },
    },
  },
};

export const errorResponses = {
  400: { description: 'Invalid request', ...errorSchema },
  401: { description: 'Missing or wrong client key', ...errorSchema },
  404: { description: 'Model not found', ...errorSchema },
  413: { description: 'Body too large', ...errorSchema },
  429: { description: 'Rate limited; see Retry-After', ...errorSchema },
  502: { description: 'Upstream failed', ...errorSchema },
  504: { description: 'Upstream timed out', ...errorSchema },
};
