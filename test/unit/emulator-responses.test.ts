// The provider emulator's OpenAI Responses API, driven by the official `openai` SDK (create, stream,
// retrieve, inputItems.list, delete) and by plain fetch for the wire details: the Response object
// and its event stream, stored responses per key, previous_response_id chains (what turn three saw),
// and the 400s and 404s OpenAI answers.
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';

let emu: ProviderEmulator;
let client: OpenAI;

beforeAll(async () => {
  emu = await ProviderEmulator.start();
  client = new OpenAI({ apiKey: 'sk-alice', baseURL: `${emu.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  emu.reset();
});

function post(body: unknown, key = 'sk-alice'): Promise<Response> {
  return fetch(`${emu.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
}

interface WireEvent {
  event: string | undefined;
  data: Record<string, unknown>;
}

/** The emulator's own frames: `event:` then one `data:` line each. */
function events(text: string): WireEvent[] {
  return text
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      const lines = frame.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6) ?? 'null';
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

describe('POST /v1/responses', () => {
  it('answers a Response object with output_text and usage details', async () => {
    emu.enqueue({
      kind: 'chat',
      content: 'Four.',
      usage: { prompt_tokens: 30, completion_tokens: 12, cached_tokens: 20, reasoning_tokens: 8 },
    });
    const response = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'What is 2+2?',
      instructions: 'Be terse.',
      metadata: { case: 'one' },
    });
    expect(response).toMatchObject({
      id: 'resp_emu_1',
      object: 'response',
      status: 'completed',
      model: 'gpt-4o-mini',
      instructions: 'Be terse.',
      previous_response_id: null,
      store: true,
      metadata: { case: 'one' },
      error: null,
      incomplete_details: null,
      usage: {
        input_tokens: 30,
        input_tokens_details: { cached_tokens: 20 },
        output_tokens: 12,
        output_tokens_details: { reasoning_tokens: 8 },
        total_tokens: 42,
      },
    });
    // The input message took msg_emu_1: item ids are unique across input and output.
    expect(response.output).toEqual([
      {
        id: 'msg_emu_2',
        type: 'message',
        status: 'completed',
        content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Four.' }],
        role: 'assistant',
      },
    ]);
    expect(response.output_text).toBe('Four.');
    expect(emu.requests[0]?.path).toBe('/v1/responses');
  });

  it('answers function calls as function_call items, after a reasoning item when scripted', async () => {
    emu.enqueue({
      kind: 'chat',
      reasoning: 'Look it up.',
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    });
    const response = await client.responses.create({
      model: 'o4-mini',
      input: 'Weather in Oslo?',
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: false }],
    });
    expect(response.output).toEqual([
      { id: 'rs_emu_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Look it up.' }] },
      {
        id: 'fc_emu_1',
        type: 'function_call',
        status: 'completed',
        arguments: '{"city":"Oslo"}',
        call_id: 'call_1',
        name: 'get_weather',
      },
    ]);
  });

  it('ends as incomplete when the script stops for length', async () => {
    emu.enqueue({ kind: 'chat', content: 'Once upon', finishReason: 'length' });
    const response = await client.responses.create({
      model: 'm',
      input: 'Tell a story',
      max_output_tokens: 2,
    });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.max_output_tokens).toBe(2);
    expect(response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
  });
});

describe('the Responses event stream', () => {
  it('sends the whole sequence with sequence numbers, the SDK assembling the same Response', async () => {
    emu.enqueue({
      kind: 'chat',
      content: 'Checking Oslo now.',
      reasoning: 'Need the tool.',
      toolCalls: [{ id: 'call_9', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    });
    const stream = client.responses.stream({ model: 'o4-mini', input: 'Weather?' });
    const seen: string[] = [];
    const sequence: number[] = [];
    let text = '';
    for await (const event of stream) {
      seen.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(sequence).toEqual(seen.map((_, index) => index));
    expect(text).toBe('Checking Oslo now.');
    expect(seen).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(final.output_text).toBe('Checking Oslo now.');
    // The SDK's own assembly adds `parsed: null` to text parts; the rest is what was stored.
    expect(final).toMatchObject(await client.responses.retrieve(final.id));
  });

  it('names each event as its data does, carries no [DONE], and ends with the full Response', async () => {
    emu.enqueue({ kind: 'chat', content: 'Hi there', usage: { prompt_tokens: 3, completion_tokens: 2 } });
    const res = await post({ model: 'gpt-4o', input: 'hi', stream: true });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await res.text();
    expect(body).not.toContain('[DONE]');
    const list = events(body);
    for (const { event, data } of list) expect(event).toBe(data.type);
    expect(list[0]?.data.response).toMatchObject({ status: 'in_progress', output: [], usage: null });
    const delta = list.find(({ event }) => event === 'response.output_text.delta');
    expect(delta?.data).toEqual({
      type: 'response.output_text.delta',
      sequence_number: 4,
      item_id: 'msg_emu_2',
      output_index: 0,
      content_index: 0,
      delta: 'Hi',
      logprobs: [],
    });
    const last = list.at(-1)?.data;
    expect(last?.type).toBe('response.completed');
    expect(last?.response).toMatchObject({
      status: 'completed',
      usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
    });
  });

  it('ends with response.incomplete when cut short by length', async () => {
    emu.enqueue({ kind: 'chat', content: 'Once upon', finishReason: 'length' });
    const list = events(await (await post({ model: 'm', input: 'x', stream: true })).text());
    expect(list.at(-1)?.data).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
  });

  it('can be cut mid-stream like any other protocol', async () => {
    emu.enqueue({ kind: 'cut-stream', afterChunks: 3 });
    const res = await post({ model: 'm', input: 'x', stream: true });
    await expect(res.text()).rejects.toThrow();
  });
});

describe('stored responses and previous_response_id', () => {
  it('a three-turn chain: turn three sees both earlier turns, instructions not inherited', async () => {
    emu.enqueue(
      { kind: 'chat', content: 'Red.' },
      { kind: 'chat', content: 'Blue.' },
      { kind: 'chat', content: 'Red, then blue.' },
    );
    const one = await client.responses.create({ model: 'm', input: 'Pick a colour', instructions: 'Short.' });
    const two = await client.responses.create({
      model: 'm',
      input: [{ role: 'user', content: 'Another' }],
      previous_response_id: one.id,
    });
    const three = await client.responses.create({
      model: 'm',
      input: 'Which did you pick?',
      previous_response_id: two.id,
      stream: false,
    });
    expect(three.previous_response_id).toBe(two.id);
    expect(three.instructions).toBeNull();
    const turn = emu.responses.turns[2];
    expect(turn).toMatchObject({ responseId: three.id, previousResponseId: two.id, instructions: null });
    const texts = turn?.input.map((item) => {
      const content = item.content as Array<{ type: string; text: string }>;
      return `${String(item.role)}:${content[0]?.type}:${content[0]?.text}`;
    });
    expect(texts).toEqual([
      'user:input_text:Pick a colour',
      'assistant:output_text:Red.',
      'user:input_text:Another',
      'assistant:output_text:Blue.',
      'user:input_text:Which did you pick?',
    ]);
    expect(emu.responses.turns[0]?.instructions).toBe('Short.');
  });

  it('a function-call loop: the output answers the call of the previous response', async () => {
    emu.enqueue(
      { kind: 'chat', toolCalls: [{ id: 'call_7', name: 'lookup', arguments: '{}' }] },
      { kind: 'chat', content: 'It is 12 degrees.' },
    );
    const first = await client.responses.create({ model: 'm', input: 'Weather?' });
    const second = await client.responses.create({
      model: 'm',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'call_7', output: '12C' }],
    });
    expect(second.output_text).toBe('It is 12 degrees.');
    expect(emu.responses.turns[1]?.input.map((item) => item.type)).toEqual([
      'message',
      'function_call',
      'function_call_output',
    ]);
  });

  it('refuses a function_call_output whose call it never saw', async () => {
    const res = await post({
      model: 'm',
      input: [{ type: 'function_call_output', call_id: 'call_x', output: 'nothing' }],
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        message: 'No tool call found for function call output with call_id call_x.',
        type: 'invalid_request_error',
        param: 'input',
        code: null,
      },
    });
  });

  it('answers an unknown previous_response_id with 404 previous_response_not_found', async () => {
    const res = await post({ model: 'm', input: 'hi', previous_response_id: 'resp_x' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: {
        message: "Previous response with id 'resp_x' not found.",
        type: 'invalid_request_error',
        param: 'previous_response_id',
        code: 'previous_response_not_found',
      },
    });
    expect(emu.responses.turns).toEqual([]);
  });

  it("scopes responses to the key that created them: another key's follow-up, GET and DELETE are 404s", async () => {
    const first = (await (await post({ model: 'm', input: 'hi' }, 'sk-alice')).json()) as { id: string };
    expect(emu.responses.turns[0]?.key).toBe('sk-alice');
    const follow = await post({ model: 'm', input: 'more', previous_response_id: first.id }, 'sk-bob');
    expect(follow.status).toBe(404);
    const bob = { authorization: 'Bearer sk-bob' };
    expect((await fetch(`${emu.url}/v1/responses/${first.id}`, { headers: bob })).status).toBe(404);
    expect(
      (await fetch(`${emu.url}/v1/responses/${first.id}`, { method: 'DELETE', headers: bob })).status,
    ).toBe(404);
    expect(
      (await post({ model: 'm', input: 'more', previous_response_id: first.id }, 'sk-alice')).status,
    ).toBe(200);
  });

  it('keeps nothing with store: false', async () => {
    const response = await client.responses.create({ model: 'm', input: 'hi', store: false });
    expect(response).toMatchObject({ store: false });
    expect(emu.responses.turns[0]?.stored).toBe(false);
    expect(emu.responses.ids()).toEqual([]);
    await expect(client.responses.retrieve(response.id)).rejects.toMatchObject({ status: 404 });
    const follow = await post({ model: 'm', input: 'more', previous_response_id: response.id });
    expect(follow.status).toBe(404);
  });

  it('retrieve, inputItems.list (newest first by default, asc, paged) and delete', async () => {
    emu.enqueue({ kind: 'chat', content: 'One.' }, { kind: 'chat', content: 'Two.' });
    const one = await client.responses.create({ model: 'm', input: 'first' });
    const two = await client.responses.create({ model: 'm', input: 'second', previous_response_id: one.id });
    expect((await client.responses.retrieve(two.id)).output_text).toBe('Two.');

    const desc = await client.responses.inputItems.list(two.id);
    const textOf = (item: unknown) =>
      ((item as { content: Array<{ text: string }> }).content[0]?.text ?? '') as string;
    expect(desc.data.map(textOf)).toEqual(['second', 'One.', 'first']);
    const asc = await client.responses.inputItems.list(two.id, { order: 'asc', limit: 2 });
    expect(asc.data.map(textOf)).toEqual(['first', 'One.']);
    expect(asc.has_more).toBe(true);
    expect(asc.hasNextPage()).toBe(true);
    const rest = await asc.getNextPage();
    expect(emu.requests.at(-1)?.path).toContain(`after=${asc.data[1]?.id}`);
    expect(rest.data.map(textOf)).toEqual(['second']);
    expect(rest.data[0]).toMatchObject({ type: 'message', role: 'user', id: expect.stringMatching(/^msg_/) });

    const deleted = await fetch(`${emu.url}/v1/responses/${two.id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer sk-alice' },
    });
    expect(await deleted.json()).toEqual({ id: two.id, object: 'response', deleted: true });
    await expect(client.responses.retrieve(two.id)).rejects.toMatchObject({ status: 404 });
    await client.responses.delete(one.id);
    expect(emu.responses.ids()).toEqual([]);
  });

  it('resolves item_reference from stored items and refuses an item sent twice', async () => {
    emu.enqueue({ kind: 'chat', content: 'Noted.' });
    const one = await client.responses.create({ model: 'm', input: 'remember 7' });
    const messageId = one.output[0]?.id ?? '';
    const referenced = await post({
      model: 'm',
      input: [
        { type: 'item_reference', id: messageId },
        { role: 'user', content: 'what was it?' },
      ],
    });
    expect(referenced.status).toBe(200);
    expect(emu.responses.turns[1]?.input[0]).toEqual(one.output[0]);

    const twice = await post({
      model: 'm',
      previous_response_id: one.id,
      input: [{ ...one.output[0] }, { role: 'user', content: 'again' }],
    });
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { error: { message: string } }).error.message).toMatch(
      /^Duplicate item found with id msg_emu_2\./,
    );
  });

  it('reset() forgets every stored response', async () => {
    const response = await client.responses.create({ model: 'm', input: 'hi' });
    emu.reset();
    expect(emu.responses.turns).toEqual([]);
    await expect(client.responses.retrieve(response.id)).rejects.toMatchObject({ status: 404 });
  });
});

describe('validation as OpenAI does it', () => {
  it('refuses unknown top-level fields, naming them', async () => {
    const res = await post({ model: 'm', input: 'hi', messages: [] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        message: "Unknown parameter: 'messages'.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'unknown_parameter',
      },
    });
  });

  it('requires input and model', async () => {
    const noInput = await post({ model: 'm' });
    expect(noInput.status).toBe(400);
    expect(await noInput.json()).toMatchObject({
      error: { param: 'input', code: 'missing_required_parameter' },
    });
    const noModel = await post({ input: 'hi' });
    expect(await noModel.json()).toMatchObject({ error: { param: 'model' } });
  });

  it('refuses a bad input type and a message with an unknown role', async () => {
    expect((await post({ model: 'm', input: { text: 'hi' } })).status).toBe(400);
    const role = await post({ model: 'm', input: [{ role: 'robot', content: 'hi' }] });
    expect(await role.json()).toMatchObject({ error: { param: 'input[0].role' } });
  });

  it('answers scripted errors in the OpenAI shape and stores nothing', async () => {
    emu.enqueue({ kind: 'error', status: 429 });
    const res = await post({ model: 'm', input: 'hi' });
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect(emu.responses.ids()).toEqual([]);
  });
});
