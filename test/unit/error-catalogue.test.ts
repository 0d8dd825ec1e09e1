import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, type ErrorCode, errorBody, GatewayError } from '../../src/errors.js';

const README = new URL('../../README.md', import.meta.url);
const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
const OPENAI_TYPES = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  // OpenAI's own type for a spent quota (its 429 "You exceeded your current quota"): budget_exceeded.
  'insufficient_quota',
]);

describe('the error catalogue', () => {
  it('is not empty and uses snake_case codes', () => {
    expect(CODES.length).toBeGreaterThan(5);
    for (const code of CODES) expect(code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
  });

  it.each(CODES)('%s has an HTTP error status, an OpenAI type and a description', (code) => {
    const spec = ERROR_CATALOGUE[code];
    expect(Number.isInteger(spec.status)).toBe(true);
    expect(spec.status).toBeGreaterThanOrEqual(400);
    expect(spec.status).toBeLessThanOrEqual(599);
    expect(OPENAI_TYPES.has(spec.type), `${code}: unexpected type ${spec.type}`).toBe(true);
    expect(spec.description.trim().length).toBeGreaterThan(10);
  });

  it('has the statuses SPEC §3 names', () => {
    expect(ERROR_CATALOGUE.invalid_request.status).toBe(400);
    expect(ERROR_CATALOGUE.invalid_api_key.status).toBe(401);
    expect(ERROR_CATALOGUE.model_not_found.status).toBe(404);
    expect(ERROR_CATALOGUE.body_too_large.status).toBe(413);
    expect(ERROR_CATALOGUE.rate_limit_exceeded.status).toBe(429);
    expect(ERROR_CATALOGUE.upstream_error.status).toBe(502);
    expect(ERROR_CATALOGUE.no_capacity.status).toBe(503);
    expect(ERROR_CATALOGUE.upstream_timeout.status).toBe(504);
  });

  it.each(CODES)('GatewayError(%s) has the OpenAI error shape with the catalogue values', (code) => {
    const error = new GatewayError(code, 'something went wrong', { param: 'messages' });
    expect(error.status).toBe(ERROR_CATALOGUE[code].status);
    expect(error.toBody()).toEqual({
      error: { message: 'something went wrong', type: ERROR_CATALOGUE[code].type, param: 'messages', code },
    });
    expect(errorBody(code, 'x')).toEqual({
      error: { message: 'x', type: ERROR_CATALOGUE[code].type, param: null, code },
    });
  });

  it('every error code is documented in README.md', () => {
    // The README's error table is written separately; until it exists this test fails on purpose.
    expect(existsSync(README), 'README.md is missing').toBe(true);
    const lines = readFileSync(README, 'utf8').split('\n');
    const undocumented = CODES.filter((code) => {
      const word = new RegExp(`\\b${code}\\b`);
      // Documented means: named on a line (a table row) that also gives its HTTP status.
      return !lines.some((line) => word.test(line) && line.includes(String(ERROR_CATALOGUE[code].status)));
    });
    expect(undocumented, 'codes missing from README.md (name and status on one line)').toEqual([]);
  });
});
