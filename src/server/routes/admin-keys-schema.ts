// JSON schemas of the admin key API: the bodies Fastify validates (a 400 naming the field) and the
// answers /openapi.json documents under the tag "Admin". The store checks the same rules again
// (the CLI does not come through here), so the two cannot drift into accepting different things.
import { errorResponses as errors } from '../chat-schema.js';

const COUNT = { type: 'integer', minimum: 1, maximum: 1e12 };
const DOLLARS = { type: 'number', minimum: 0, maximum: 1e9 };
const TEXT = { type: 'string', minLength: 1, maxLength: 200 };
const MODELS = {
  type: 'array',
  minItems: 1,
  maxItems: 100,
  items: { type: 'string', minLength: 1, maxLength: 256, pattern: '^\\S+$' },
  description:
    'Globs over the model name sent and over the resolved provider:model, e.g. "gpt-4o*", "anthropic:*".',
};

function nullable(schema: Record<string, unknown>): Record<string, unknown> {
  return { ...schema, type: [schema.type, 'null'] };
}

const POLICY_DOCS: Record<string, string> = {
  rpm: 'Requests per minute.',
  rpd: 'Requests per UTC day.',
  tpm: 'Tokens per minute.',
  tpd: 'Tokens per UTC day.',
  budget_day: 'Dollars per calendar day (UTC).',
  budget_month: 'Dollars per calendar month (UTC).',
  budget_total: 'Dollars over the key’s lifetime.',
};

function policyProperties(orNull: boolean): Record<string, unknown> {
  const plain: Record<string, Record<string, unknown>> = {
    models: MODELS,
    rpm: COUNT,
    rpd: COUNT,
    tpm: COUNT,
    tpd: COUNT,
    budget_day: DOLLARS,
    budget_month: DOLLARS,
    budget_total: DOLLARS,
  };
  return Object.fromEntries(
    Object.entries(plain).map(([name, schema]) => {
      const documented =
        POLICY_DOCS[name] === undefined ? schema : { ...schema, description: POLICY_DOCS[name] };
      return [name, orNull ? nullable(documented) : documented];
    }),
  );
}

const EXPIRES = {
  type: ['string', 'null'],
  minLength: 1,
  maxLength: 64,
  description:
    'An ISO date (midnight UTC) or date-time (UTC unless it has an offset), or a duration from now such as "30d", "12h", "2w"; null: never.',
};

const createBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { ...TEXT, description: 'What the key is for.' },
    owner: { ...nullable(TEXT), description: 'A person or team label.' },
    expires_at: EXPIRES,
    policy: {
      type: 'object',
      additionalProperties: false,
      description: 'Limits; a field left out is unlimited.',
      properties: policyProperties(false),
    },
  },
};

const updateBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: TEXT,
    owner: nullable(TEXT),
    expires_at: EXPIRES,
    policy: {
      type: 'object',
      additionalProperties: false,
      description: 'A value sets a limit, null removes it, a field left out stays as it is.',
      properties: policyProperties(true),
    },
  },
};

const keyProperties = {
  id: { type: 'string', description: 'The public id, e.g. key_3f9a1c2b04de.' },
  object: { type: 'string', enum: ['managed_key'] },
  name: { type: 'string' },
  owner: { type: ['string', 'null'] },
  status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
  key_hash: { type: 'string', description: "The key's short hash: client_key_hash in the request log." },
  created_at: { type: 'string', format: 'date-time' },
  updated_at: { type: 'string', format: 'date-time' },
  expires_at: { type: ['string', 'null'], format: 'date-time' },
  policy: { type: 'object', properties: policyProperties(false) },
  usage: {
    type: 'object',
    additionalProperties: true,
    description: 'Spend and remaining budget, when counted.',
  },
};

const managedKey = { type: 'object', properties: keyProperties };
const managedKeyWithSecret = {
  type: 'object',
  properties: {
    ...keyProperties,
    key: { type: 'string', description: 'The key itself: shown in this answer only, never again.' },
  },
};

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
};

const refused = {
  401: { ...errors[401], description: 'No key, or a key that is not known' },
  403: { ...errors[401], description: 'A client key: only an admin key (ADMIN_KEYS) may manage keys' },
  503: { ...errors[502], description: 'The key store (Redis or the SQLite file) cannot be reached' },
};
const missing = { 404: { ...errors[404], description: 'No managed key with this id' } };
const common = { tags: ['Admin'], security: [{ bearerAuth: [] }] };
export const ADMIN_KEY_SCHEMAS = {
  list: {
    ...common,
    summary: 'List managed client keys (never the keys themselves)',
    response: {
      200: {
        type: 'object',
        properties: { object: { type: 'string' }, data: { type: 'array', items: managedKey } },
      },
      ...refused,
    },
  },
  create: {
    ...common,
    summary: 'Create a managed client key; the answer carries the key, this once',
    body: createBody,
    response: { 201: managedKeyWithSecret, 400: errors[400], ...refused },
  },
  get: {
    ...common,
    summary: 'One managed client key',
    params: idParams,
    response: { 200: managedKey, ...refused, ...missing },
  },
  update: {
    ...common,
    summary: "Change a key's name, owner, expiry or policy (null removes a limit)",
    params: idParams,
    body: updateBody,
    response: { 200: managedKey, 400: errors[400], ...refused, ...missing },
  },
  revoke: {
    ...common,
    summary: 'Revoke a key: every instance refuses it within a second',
    params: idParams,
    response: { 200: managedKey, ...refused, ...missing },
  },
  rotate: {
    ...common,
    summary: 'A new key for the same id, policy and counters; the old key stops working',
    params: idParams,
    response: {
      200: managedKeyWithSecret,
      409: { ...errors[400], description: 'The key is revoked' },
      ...refused,
      ...missing,
    },
  },
};
