// The chat request validator for the fast path: the same JSON schema Fastify publishes in
// /openapi.json, compiled once by Ajv with the same strictness (no coercion, nothing removed).
import { Ajv } from 'ajv';
import type { ChatRequestBody } from '../translators/types.js';
import { chatRequestSchema } from './chat-schema.js';
import type { ValidationIssue } from './validation-error.js';

export type ChatValidator = (body: unknown) => ValidationIssue[] | undefined;

export function compileChatValidator(): ChatValidator {
  const ajv = new Ajv({
    allowUnionTypes: true,
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: false,
    allErrors: false,
    strict: false,
  });
  const validate = ajv.compile<ChatRequestBody>(chatRequestSchema);
  return (body) => (validate(body) ? undefined : ((validate.errors ?? []) as ValidationIssue[]));
}
