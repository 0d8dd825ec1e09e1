// Anthropic's cursor paging over the model list: the pages after and before a cursor, the ends,
// and the query string's checks.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { anthropicModel, anthropicPage, readPageQuery } from '../../src/server/routes/anthropic-models.js';

const MODELS = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ id, created: 1_700_000_000 + i }));
const ids = (page: { data: Array<{ id: string }> }) => page.data.map((model) => model.id);

describe('anthropicPage', () => {
  it('pages from the start, after a cursor and before one', () => {
    expect(anthropicPage(MODELS, { limit: 2 })).toMatchObject({
      has_more: true,
      first_id: 'a',
      last_id: 'b',
    });
    expect(ids(anthropicPage(MODELS, { limit: 2, afterId: 'b' }))).toEqual(['c', 'd']);
    const end = anthropicPage(MODELS, { limit: 2, afterId: 'c' });
    expect(ids(end)).toEqual(['d', 'e']);
    expect(end.has_more).toBe(false);
    const before = anthropicPage(MODELS, { limit: 2, beforeId: 'e' });
    expect(ids(before)).toEqual(['c', 'd']);
    expect(before.has_more).toBe(true);
    const start = anthropicPage(MODELS, { limit: 5, beforeId: 'c' });
    expect(ids(start)).toEqual(['a', 'b']);
    expect(start.has_more).toBe(false);
  });

  it('an empty page has null ids', () => {
    expect(anthropicPage(MODELS, { limit: 3, afterId: 'e' })).toEqual({
      data: [],
      has_more: false,
      first_id: null,
      last_id: null,
    });
    expect(anthropicPage([], { limit: 20 })).toMatchObject({ data: [], first_id: null, last_id: null });
  });

  it('an unknown cursor is a 400 naming it', () => {
    expect(() => anthropicPage(MODELS, { limit: 2, afterId: 'zz' })).toThrow(GatewayError);
    expect(() => anthropicPage(MODELS, { limit: 2, beforeId: 'zz' })).toThrow(/'before_id'/);
  });

  it('a model as Anthropic describes one', () => {
    expect(anthropicModel({ id: 'gpt-4o', created: 1_740_000_000 })).toEqual({
      type: 'model',
      id: 'gpt-4o',
      display_name: 'gpt-4o',
      created_at: '2025-02-19T21:20:00Z',
    });
  });
});

describe('readPageQuery', () => {
  it('defaults to 20 and reads the cursors', () => {
    expect(readPageQuery({})).toEqual({ limit: 20, afterId: undefined, beforeId: undefined });
    expect(readPageQuery({ limit: '1000', after_id: 'x' })).toEqual({
      limit: 1000,
      afterId: 'x',
      beforeId: undefined,
    });
  });

  it('refuses a limit outside 1–1000, a repeated parameter and both cursors', () => {
    for (const limit of ['0', '1001', '-1', '2.5', '', 'ten', '00001'])
      expect(() => readPageQuery({ limit }), limit).toThrow(/'limit'/);
    expect(() => readPageQuery({ limit: ['1', '2'] })).toThrow(/'limit'/);
    expect(() => readPageQuery({ after_id: 'a', before_id: 'b' })).toThrow(/'before_id'/);
  });
});
