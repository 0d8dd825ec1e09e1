// A conversation rebuilt from stored responses (expandInput), the stored form of input items, and
// the input_items list pages over them.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { expandInput } from '../../src/responses/conversation.js';
import { storedItem, storedItems } from '../../src/responses/input-items.js';
import { inputItemsPage, readInputItemsQuery } from '../../src/responses/input-items-page.js';
import type { StoredResponse } from '../../src/responses/response-store.js';

const USER_TURN_1 = {
  id: 'msg_u1',
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text: 'What is the weather in Paris?' }],
};

const ASSISTANT_TEXT = {
  type: 'message',
  id: 'msg_a1',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text: 'Let me check.', annotations: [] }],
};

const CALL = {
  type: 'function_call',
  id: 'fc_1',
  call_id: 'call_weather_1',
  name: 'get_weather',
  arguments: '{"location":"Paris"}',
  status: 'completed',
};

const REASONING = {
  type: 'reasoning',
  id: 'rs_1',
  summary: [{ type: 'summary_text', text: 'Need a tool.' }],
};

function stored(overrides: Partial<StoredResponse> = {}): StoredResponse {
  return {
    id: 'resp_1',
    owner: null,
    createdAt: 0,
    expiresAt: 1,
    model: 'claude-sonnet-4-5',
    provider: 'anthropic',
    keyId: 'k1',
    native: false,
    input: [USER_TURN_1],
    response: {
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      output: [REASONING, ASSISTANT_TEXT, CALL],
    },
    ...overrides,
  };
}

describe('expandInput', () => {
  it('is the earlier input, the earlier output (reasoning dropped), then the new items', () => {
    const output = { type: 'function_call_output', call_id: 'call_weather_1', output: '{"temp_c":18}' };
    expect(expandInput(stored(), [output])).toEqual([USER_TURN_1, ASSISTANT_TEXT, CALL, output]);
  });

  it('makes a new string input one user message', () => {
    expect(expandInput(stored({ response: { output: [ASSISTANT_TEXT] } }), 'And in Rome?')).toEqual([
      USER_TURN_1,
      ASSISTANT_TEXT,
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'And in Rome?' }] },
    ]);
  });

  it('chains: turn three carries turns one and two', () => {
    const turn2Input = expandInput(stored({ response: { output: [ASSISTANT_TEXT] } }), 'Second question');
    const turn2 = stored({
      id: 'resp_2',
      input: storedItems(turn2Input),
      response: {
        output: [
          {
            ...ASSISTANT_TEXT,
            id: 'msg_a2',
            content: [{ type: 'output_text', text: 'Second answer', annotations: [] }],
          },
        ],
      },
    });
    const turn3 = expandInput(turn2, 'Third question');
    const texts = turn3.map((item) => {
      const content = (item as { content: { text: string }[] }).content;
      return `${(item as { role: string }).role}: ${content[0]?.text}`;
    });
    expect(texts).toEqual([
      'user: What is the weather in Paris?',
      'assistant: Let me check.',
      'user: Second question',
      'assistant: Second answer',
      'user: Third question',
    ]);
  });

  it('keeps only messages and function calls of the output, and tolerates a response without output', () => {
    const webSearch = { type: 'web_search_call', id: 'ws_1', status: 'completed' };
    expect(expandInput(stored({ response: { output: [webSearch, 'junk', null, CALL] } }), [])).toEqual([
      USER_TURN_1,
      CALL,
    ]);
    expect(expandInput(stored({ response: null }), 'hi')).toHaveLength(2);
    expect(expandInput(stored({ response: { output: 'nope' } }), [])).toEqual([USER_TURN_1]);
  });

  it('refuses a native record: the upstream holds that conversation', () => {
    expect(() => expandInput(stored({ native: true, input: [], response: null }), 'hi')).toThrow(
      /stored upstream/,
    );
  });
});

describe('stored input items', () => {
  it('gives an id by type, keeps a given one, and leaves complete items as they are', () => {
    expect(storedItem({ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' })).toMatchObject({
      id: expect.stringMatching(/^fc_[0-9a-f]{48}$/),
    });
    expect(storedItem({ type: 'reasoning', summary: [] })).toMatchObject({
      id: expect.stringMatching(/^rs_/),
    });
    expect(storedItem({ type: 'item_reference', ref: 'x' })).toMatchObject({
      id: expect.stringMatching(/^item_/),
    });
    expect(storedItem(USER_TURN_1)).toBe(USER_TURN_1);
    expect(storedItem(CALL)).toBe(CALL);
  });

  it('writes a short message in full form, for system and developer too', () => {
    expect(storedItem({ role: 'developer', content: 'Be brief.' })).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'developer',
      content: [{ type: 'input_text', text: 'Be brief.' }],
    });
    expect(storedItem({ id: 'msg_x', role: 'assistant', content: 'Hello' })).toEqual({
      id: 'msg_x',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Hello', annotations: [] }],
    });
  });

  it('replaces an empty id', () => {
    expect(storedItem({ id: '', type: 'function_call_output', call_id: 'c', output: 'x' })).toEqual({
      id: expect.stringMatching(/^fco_/),
      type: 'function_call_output',
      call_id: 'c',
      output: 'x',
    });
  });

  it('passes what is not an object through untouched', () => {
    expect(storedItems(['text', 3, null])).toEqual(['text', 3, null]);
  });
});

describe('input_items pages', () => {
  const items = Array.from({ length: 45 }, (_, i) => ({ id: `msg_${i}`, type: 'message', role: 'user' }));
  const ids = (page: { data: unknown[] }) => page.data.map((item) => (item as { id: string }).id);

  it('is newest first, 20 at a time, unless told', () => {
    const page = inputItemsPage(items, readInputItemsQuery({}));
    expect(page.object).toBe('list');
    expect(ids(page)).toEqual(Array.from({ length: 20 }, (_, i) => `msg_${44 - i}`));
    expect(page).toMatchObject({ first_id: 'msg_44', last_id: 'msg_25', has_more: true });
  });

  it('walks every item exactly once with after = last_id, in either order', () => {
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const query = readInputItemsQuery({ limit: '7', order, ...(after === undefined ? {} : { after }) });
        const page = inputItemsPage(items, query);
        seen.push(...ids(page));
        if (!page.has_more) break;
        after = page.last_id ?? undefined;
      }
      const expected = items.map((item) => item.id);
      expect(seen).toEqual(order === 'asc' ? expected : [...expected].reverse());
    }
  });

  it('is an empty list for no items, and at the end', () => {
    expect(inputItemsPage([], readInputItemsQuery({}))).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });
    const end = inputItemsPage(items, readInputItemsQuery({ order: 'asc', after: 'msg_44' }));
    expect(end).toMatchObject({ data: [], has_more: false });
  });

  it('takes include and ignores it', () => {
    const query = readInputItemsQuery({ include: ['message.input_image.image_url'], limit: '100' });
    expect(query).toEqual({ limit: 100, order: 'desc', after: undefined });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ limit: '2.5' }, 'limit'],
    [{ limit: ['5', '6'] }, 'limit'],
    [{ order: 'newest' }, 'order'],
    [{ after: '' }, 'after'],
  ])('refuses %j with a 400 naming %s', (query, param) => {
    const error = (() => {
      try {
        readInputItemsQuery(query);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 400, param });
  });

  it('refuses an after id that is not in the list', () => {
    expect(() => inputItemsPage(items, readInputItemsQuery({ after: 'msg_nope' }))).toThrow(
      /no input item with id 'msg_nope'/,
    );
  });
});
