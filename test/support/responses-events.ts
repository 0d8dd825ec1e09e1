// Reading an OpenAI Responses stream as a client would, for the Responses translator tests: the
// named events (each name must equal its data's `type`, sequence_number counting from 0), a check
// that the sequence is one the SDKs accept (created, in_progress, items added and done one at a
// time, a terminal event last), the official openai SDK's own accumulator run over it, and each
// function call's arguments as a client joins them. Ids and clocks are random per exchange, so the
// golden files hold them normalized (resp_HEX, msg_HEX…, created_at 0).
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { expect } from 'vitest';
import { SseParser } from '../../src/streaming/sse-parser.js';

type Json = Record<string, unknown>;

/** Random ids and the clock replaced, so a golden file can hold them. */
export function normalizedResponseText(text: string): string {
  return text
    .replace(/\b(resp|msg|rs|fc|call)_[0-9a-f]{32}/g, '$1_HEX')
    .replace(/"created_at":\d+/g, '"created_at":0');
}

export function normalizedResponse<T>(value: T): T {
  return JSON.parse(normalizedResponseText(JSON.stringify(value))) as T;
}

/** The events' data objects, in order, as they came (not normalized). */
export function rawResponsesEvents(text: string): Json[] {
  const parser = new SseParser();
  const events = [...parser.push(text), ...parser.end()];
  return events.map((event, index) => {
    const data = JSON.parse(event.data) as Json;
    expect(event.event, `event name of ${event.data}`).toBe(data.type);
    expect(data.sequence_number, `sequence_number of event ${index}`).toBe(index);
    return data;
  });
}

/** The events, normalized, for the golden file. */
export function responsesEvents(text: string): Json[] {
  return normalizedResponse(rawResponsesEvents(text));
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** The order OpenAI's stream keeps and its SDKs rely on; returns the terminal event's response. */
export function expectWellFormedResponsesStream(text: string): Json {
  const events = rawResponsesEvents(text);
  expect(events[0]?.type).toBe('response.created');
  expect(events[1]?.type).toBe('response.in_progress');
  const last = events.at(-1) as Json;
  expect(TERMINAL.has(String(last.type)), `last event ${String(last.type)}`).toBe(true);
  expect(events.filter((event) => TERMINAL.has(String(event.type)))).toHaveLength(1);

  let open: { index: number; id: string } | undefined;
  let next = 0;
  const done: Json[] = [];
  for (const event of events.slice(2, -1)) {
    const type = String(event.type);
    if (type === 'response.output_item.added') {
      expect(open, 'an item starts while another is open').toBeUndefined();
      expect(event.output_index).toBe(next);
      open = { index: next++, id: String((event.item as Json).id) };
    } else if (type === 'response.output_item.done') {
      expect(event.output_index).toBe(open?.index);
      expect((event.item as Json).id).toBe(open?.id);
      done.push(event.item as Json);
      open = undefined;
    } else {
      expect(open, `${type} outside an item`).toBeDefined();
      expect(event.output_index, type).toBe(open?.index);
      expect(event.item_id, type).toBe(open?.id);
    }
  }
  const response = last.response as Json;
  if (last.type !== 'response.failed') {
    expect(open, 'an item is still open at the end').toBeUndefined();
    expect(response.output).toEqual(done);
  } else {
    expect(response.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  }

  // The official SDK's accumulator builds the same output from the events.
  let snapshot: Response | undefined;
  for (const event of events)
    snapshot = accumulateResponse(event as unknown as ResponseStreamEvent, snapshot);
  expect(snapshot?.output).toEqual(response.output);
  expect(snapshot?.status).toBe(response.status);
  return response;
}

/** Each function_call item's call_id, name and the arguments its deltas join to (= its .done). */
export function functionCallArguments(
  text: string,
): Array<{ call_id: string; name: string; arguments: string }> {
  const calls = new Map<string, { call_id: string; name: string; arguments: string }>();
  for (const event of rawResponsesEvents(text)) {
    if (event.type === 'response.output_item.added') {
      const item = event.item as Json;
      if (item.type === 'function_call')
        calls.set(String(item.id), { call_id: String(item.call_id), name: String(item.name), arguments: '' });
    } else if (event.type === 'response.function_call_arguments.delta') {
      const call = calls.get(String(event.item_id));
      if (call !== undefined) call.arguments += String(event.delta);
    } else if (event.type === 'response.function_call_arguments.done') {
      expect(event.arguments).toBe(calls.get(String(event.item_id))?.arguments);
    }
  }
  return [...calls.values()];
}
