// A request validator for the fast path: the same JSON schema Fastify publishes in /openapi.json,
// compiled once by Ajv with the same strictness (no coercion, nothing removed).
import { Ajv } from 'ajv';
import type { ValidationIssue } from './validation-error.js';

export type RequestValidator = (body: unknown) => ValidationIssue[] | undefined;

export function compileValidator(schema: object): RequestValidator {
  const ajv = new Ajv({
    allowUnionTypes: true,
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: false,
    allErrors: false,
    strict: false,
  });
  const validate = ajv.compile(schema);
  return (body) => (validate(body) ? undefined : ((validate.errors ?? []) as ValidationIssue[]));
}
