import { describe, expect, it } from 'vitest';
import { headerValue, MAX_HEADER_VALUE_LENGTH, setHeaderValue } from '../../src/server/header-value.js';

describe('headerValue', () => {
  it('sends printable ASCII unchanged, % included', () => {
    expect(headerValue('gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(headerValue('models/gemini 1.5 (50%)')).toBe('models/gemini 1.5 (50%)');
  });

  it('percent-encodes anything else as encodeURIComponent does', () => {
    for (const value of ['модель-😀', '模型-α', 'café', 'a\r\nb', 'nul\u0000', 'tab\there', '50% off é']) {
      const sent = headerValue(value);
      expect(sent).toBe(encodeURIComponent(value));
      expect(decodeURIComponent(sent ?? '')).toBe(value);
    }
  });

  it('does not throw on an unpaired surrogate', () => {
    expect(headerValue('x\ud800')).toBe('x%EF%BF%BD');
  });

  it('leaves out values past the limit, encoded or not', () => {
    expect(headerValue('g'.repeat(MAX_HEADER_VALUE_LENGTH))).toHaveLength(MAX_HEADER_VALUE_LENGTH);
    expect(headerValue('g'.repeat(MAX_HEADER_VALUE_LENGTH + 1))).toBeUndefined();
    expect(headerValue('模'.repeat(100_000))).toBeUndefined();
    const headers: Record<string, string> = {};
    setHeaderValue(headers, 'x-ai-proxy-model', 'g'.repeat(100_000));
    setHeaderValue(headers, 'x-ai-proxy-provider', 'openai');
    expect(headers).toEqual({ 'x-ai-proxy-provider': 'openai' });
  });
});
