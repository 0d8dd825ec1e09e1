// The JSON schema of POST /v1/messages (the Anthropic Messages API): checked on the fast path and
// published in /openapi.json. It holds what a 400 must name (a missing max_tokens or messages, a
// role that is not user or assistant, wrong types); fields it does not list travel on untouched
// to an Anthropic upstream, as Anthropic adds new ones often.
import { modelNameSchema } from '../model-name.js';

const textBlock = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'text' }, text: { type: 'string' } },
};

const contentBlock = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1 } },
  allOf: [
    { if: { properties: { type: { const: 'text' } } }, then: textBlock },
    {
      if: { properties: { type: { const: 'tool_use' } } },
      then: {
        required: ['id', 'name', 'input'],
        properties: { id: { type: 'string' }, name: { type: 'string' }, input: { type: 'object' } },
      },
    },
    {
      if: { properties: { type: { const: 'tool_result' } } },
      then: {
        required: ['tool_use_id'],
        properties: {
          tool_use_id: { type: 'string' },
          is_error: { type: 'boolean' },
          content: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
        },
      },
    },
    {
      if: { properties: { type: { enum: ['image', 'document'] } } },
      then: { required: ['source'], properties: { source: { type: 'object' } } },
    },
  ],
};

export const messagesMessageSchema = {
  type: 'object',
  required: ['role', 'content'],
  properties: {
    role: { type: 'string', enum: ['user', 'assistant'] },
    content: { anyOf: [{ type: 'string' }, { type: 'array', items: contentBlock }] },
  },
};

export const messagesRequestSchema = {
  $id: 'MessagesRequest',
  type: 'object',
  required: ['model', 'max_tokens', 'messages'],
  properties: {
    model: { ...modelNameSchema, description: 'A model name the router resolves, as on the chat route' },
    max_tokens: { type: 'integer', minimum: 1 },
    messages: { type: 'array', items: messagesMessageSchema },
    system: { anyOf: [{ type: 'string' }, { type: 'array', items: textBlock }] },
    stream: { type: 'boolean' },
    temperature: { type: 'number', minimum: 0, maximum: 1 },
    top_p: { type: 'number', minimum: 0, maximum: 1 },
    top_k: { type: 'integer', minimum: 0 },
    stop_sequences: { type: 'array', items: { type: 'string' } },
    metadata: {
      type: 'object',
      properties: { user_id: { type: ['string', 'null'] } },
    },
    tools: {
      type: 'array',
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    },
    tool_choice: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { type: 'string', enum: ['auto', 'any', 'tool', 'none'] },
        name: { type: 'string' },
        disable_parallel_tool_use: { type: 'boolean' },
      },
      if: { properties: { type: { const: 'tool' } } },
      then: { required: ['name'] },
    },
    thinking: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string' }, budget_tokens: { type: 'integer', minimum: 0 } },
    },
  },
};

const anthropicErrorSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', const: 'error' },
    error: {
      type: 'object',
      properties: { type: { type: 'string' }, message: { type: 'string' } },
    },
    request_id: { type: 'string' },
  },
};

/** The documented error answers of the Messages routes, in Anthropic's shape. */
export const anthropicErrorResponses = {
  400: { description: 'Invalid request (invalid_request_error)', ...anthropicErrorSchema },
  401: { description: 'Missing or wrong client key (authentication_error)', ...anthropicErrorSchema },
  404: { description: 'Model not found (not_found_error)', ...anthropicErrorSchema },
  413: { description: 'Body too large (request_too_large)', ...anthropicErrorSchema },
  429: { description: 'Rate limited; see Retry-After (rate_limit_error)', ...anthropicErrorSchema },
  502: { description: 'Upstream failed (api_error)', ...anthropicErrorSchema },
  503: { description: 'Shutting down or limit store away (overloaded_error)', ...anthropicErrorSchema },
  504: { description: 'Upstream timed out (timeout_error)', ...anthropicErrorSchema },
};
