// Reading an Anthropic Messages stream as a client would, for the Messages translator tests: the
// named events (each name must equal its data's `type`), a check that the sequence is one Anthropic
// clients accept (blocks one at a time, indices in order, message_stop last or an error instead),
// and each tool_use block's input as the client assembles it from input_json_delta fragments.
import { expect } from 'vitest';
import { SseParser } from '../../src/streaming/sse-parser.js';

type Json = Record<string, unknown>;

/** The events' data objects, in order; every event's name is its data's `type`. */
export function anthropicEvents(text: string): Json[] {
  const parser = new SseParser();
  const events = [...parser.push(text), ...parser.end()];
  return events.map((event) => {
    const data = JSON.parse(event.data) as Json;
    expect(event.event, `event name of ${event.data}`).toBe(data.type);
    return data;
  });
}

/** Asserts the order Anthropic's stream guarantees and its SDKs rely on. */
export function expectWellFormedMessageStream(text: string): void {
  const events = anthropicEvents(text);
  const last = events.at(-1);
  const failed = last?.type === 'error';
  if (!failed) {
    expect(events[0]?.type).toBe('message_start');
    expect(last?.type).toBe('message_stop');
    expect(events.at(-2)?.type).toBe('message_delta');
  }
  let open: number | undefined;
  let next = 0;
  for (const event of events) {
    switch (event.type) {
      case 'content_block_start':
        expect(open, 'a block starts while another is open').toBeUndefined();
        expect(event.index).toBe(next);
        open = next++;
        break;
      case 'content_block_delta':
        expect(event.index, 'a delta for a block that is not the open one').toBe(open);
        break;
      case 'content_block_stop':
        expect(event.index).toBe(open);
        open = undefined;
        break;
      case 'message_delta':
      case 'message_stop':
        expect(open, `${String(event.type)} while a block is open`).toBeUndefined();
        break;
      default:
        break;
    }
  }
  if (!failed) expect(open).toBeUndefined();
}

/** Each tool_use block's id and the JSON text its input_json_delta fragments join to. */
export function toolInputs(text: string): Array<{ id: string; name: string; json: string }> {
  const blocks = new Map<number, { id: string; name: string; json: string }>();
  for (const event of anthropicEvents(text)) {
    if (event.type === 'content_block_start') {
      const block = event.content_block as Json;
      if (block.type === 'tool_use')
        blocks.set(event.index as number, { id: String(block.id), name: String(block.name), json: '' });
    } else if (event.type === 'content_block_delta') {
      const delta = event.delta as Json;
      const block = blocks.get(event.index as number);
      if (delta.type === 'input_json_delta' && block !== undefined) block.json += String(delta.partial_json);
    }
  }
  return [...blocks.values()];
}
