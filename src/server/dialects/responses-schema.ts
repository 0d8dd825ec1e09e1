// The JSON schema of POST /v1/responses (the OpenAI Responses API): checked on the fast path and
// published in /openapi.json. It holds what a 400 must name (wrong types, an unknown role or item
// shape, a bad tool_choice); fields it does not list travel on untouched to a native upstream, as
// OpenAI adds new ones often.
import { modelNameSchema } from '../model-name.js';

const inputPart = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1 } },
  allOf: [
    {
      if: { properties: { type: { enum: ['input_text', 'output_text'] } } },
      then: { required: ['text'], properties: { text: { type: 'string' } } },
    },
  ],
};

const inputItem = {
  type: 'object',
  properties: {
    type: { type: 'string', minLength: 1 },
    role: { type: 'string', enum: ['user', 'assistant', 'system', 'developer'] },
    content: { anyOf: [{ type: 'string' }, { type: 'array', items: inputPart }] },
  },
  allOf: [
    // A message (typed, or an "easy" message with only a role): role and content.
    {
      if: { anyOf: [{ not: { required: ['type'] } }, { properties: { type: { const: 'message' } } }] },
      then: { required: ['role', 'content'] },
    },
    {
      if: { required: ['type'], properties: { type: { const: 'function_call' } } },
      then: {
        required: ['call_id', 'name', 'arguments'],
        properties: { call_id: { type: 'string' }, name: { type: 'string' }, arguments: { type: 'string' } },
      },
    },
    {
      if: { required: ['type'], properties: { type: { const: 'function_call_output' } } },
      then: {
        required: ['call_id', 'output'],
        properties: {
          call_id: { type: 'string' },
          output: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
        },
      },
    },
  ],
};

export const responsesRequestSchema = {
  $id: 'ResponsesRequest',
  type: 'object',
  properties: {
    model: { ...modelNameSchema, description: 'A model name the router resolves, as on the chat route' },
    input: { anyOf: [{ type: 'string' }, { type: 'array', items: inputItem }] },
    instructions: { type: ['string', 'null'] },
    stream: { type: 'boolean' },
    store: { type: 'boolean' },
    previous_response_id: { type: ['string', 'null'], minLength: 1 },
    max_output_tokens: { type: ['integer', 'null'], minimum: 1 },
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    parallel_tool_calls: { type: ['boolean', 'null'] },
    metadata: { type: ['object', 'null'] },
    user: { type: 'string' },
    safety_identifier: { type: 'string' },
    include: { type: ['array', 'null'], items: { type: 'string' } },
    truncation: { type: ['string', 'null'], enum: ['auto', 'disabled', null] },
    tools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: { type: { type: 'string' } },
        if: { properties: { type: { const: 'function' } } },
        then: {
          required: ['name'],
          properties: { name: { type: 'string' }, parameters: { type: ['object', 'null'] } },
        },
      },
    },
    tool_choice: {
      anyOf: [
        { type: 'string', enum: ['auto', 'none', 'required'] },
        { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
      ],
    },
    text: {
      type: 'object',
      properties: {
        format: {
          type: 'object',
          required: ['type'],
          properties: { type: { type: 'string', enum: ['text', 'json_schema', 'json_object'] } },
          if: { properties: { type: { const: 'json_schema' } } },
          then: { required: ['name', 'schema'] },
        },
      },
    },
    reasoning: {
      type: ['object', 'null'],
      properties: { effort: { type: ['string', 'null'] } },
    },
  },
};
