// How a stream's end is judged per protocol from its last bytes, and how a pass-through holds back
// an event until it is whole.
import { describe, expect, it } from 'vitest';
import { notAnEventStream, type StreamEnd, streamEndProblem } from '../../src/gateway/stream-end.js';
import { WholeEvents } from '../../src/streaming/whole-events.js';

/** The stream as the judge sees it, cut into reads of `size` bytes. */
function ended(text: string, size = 7): StreamEnd {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return {
    last: chunks.at(-1),
    tail: (max) => {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - max));
    },
  };
}

const openaiChunk = (delta: object, finish: string | null = null) =>
  `data: {"id":"c","choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${JSON.stringify(finish)}}]}\n\n`;

describe('streamEndProblem', () => {
  it('OpenAI protocol: [DONE] or a finish reason ends it; null finish reasons do not', () => {
    const body = openaiChunk({ role: 'assistant' }) + openaiChunk({ content: 'Hi' });
    expect(
      streamEndProblem('openai', ended(`${body}${openaiChunk({}, 'stop')}data: [DONE]\n\n`)),
    ).toBeUndefined();
    expect(streamEndProblem('openai', ended(`${body}data: [DONE]`))).toBeUndefined();
    expect(streamEndProblem('openai', ended(body + openaiChunk({}, 'stop')))).toBeUndefined();
    expect(
      streamEndProblem('openai', ended(`${body}data: {"choices":[],"usage":{"total_tokens":3}}\n\n`)),
    ).toBe('the stream ended without [DONE] or a finish reason');
    expect(streamEndProblem('openai', ended(body))).toBe(
      'the stream ended without [DONE] or a finish reason',
    );
    expect(streamEndProblem('openai', ended(`${body}data: {"id":"c","choi`))).toBe(
      'the stream ended in the middle of an event',
    );
    expect(streamEndProblem('openai', ended(''))).toBe('the stream ended before any event');
    expect(
      streamEndProblem('openai', ended(`${body}data: {"error":{"message":"overloaded"}}\n\n`)),
    ).toBeUndefined();
  });

  it('Anthropic: message_stop, or its error event', () => {
    const start = 'event: message_start\ndata: {"type":"message_start"}\n\n';
    expect(
      streamEndProblem('anthropic', ended(`${start}event: message_stop\ndata: {"type":"message_stop"}\n\n`)),
    ).toBeUndefined();
    expect(
      streamEndProblem('anthropic', ended(`${start}event: error\ndata: {"type":"error","error":{}}\n\n`)),
    ).toBeUndefined();
    expect(streamEndProblem('anthropic', ended(start))).toBe('the stream ended before message_stop');
    expect(
      streamEndProblem('anthropic', ended(`${start}event: message_stop\ndata: {"type":"message_st`)),
    ).toBe('the stream ended in the middle of an event');
  });

  it('Gemini (CRLF): a finishReason or a blocked prompt', () => {
    const part = 'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]},"index":0}]}\r\n\r\n';
    expect(
      streamEndProblem('gemini', ended(`${part}data: {"candidates":[{"finishReason": "STOP"}]}\r\n\r\n`)),
    ).toBeUndefined();
    expect(
      streamEndProblem('gemini', ended('data: {"promptFeedback":{"blockReason":"SAFETY"}}\r\n\r\n')),
    ).toBeUndefined();
    expect(streamEndProblem('gemini', ended(part))).toBe('the stream ended without a finishReason');
    // Gemini's last event ends with one CRLF, no blank line: whole, as the SSE parser reads it.
    expect(
      streamEndProblem('gemini', ended(`${part}data: {"candidates":[{"finishReason":"STOP"}]}\r\n`)),
    ).toBeUndefined();
    expect(
      streamEndProblem('gemini', ended(`${part}data: {"candidates":[{"finishReason":"STOP"}],"usa\r\n`)),
    ).toBe('the stream ended in the middle of an event');
  });

  it('Cohere: message-end (v2) or stream-end (v1)', () => {
    const start = 'event: message-start\ndata: {"type":"message-start"}\n\n';
    expect(
      streamEndProblem('cohere', ended(`${start}event: message-end\ndata: {"type":"message-end"}\n\n`)),
    ).toBeUndefined();
    expect(streamEndProblem('cohere', ended(start))).toBe('the stream ended before message-end');
  });
});

describe('notAnEventStream', () => {
  it('an HTML page or a JSON document is not; events and comments are', () => {
    expect(notAnEventStream(Buffer.from('\n  <!DOCTYPE html>'))).toBe(true);
    expect(notAnEventStream(Buffer.from('{"id":"x"}'))).toBe(true);
    expect(notAnEventStream(Buffer.from('data: {}\n\n'))).toBe(false);
    expect(notAnEventStream(Buffer.from(': keep-alive\n\n'))).toBe(false);
    expect(notAnEventStream(Buffer.from('event: message_start\n'))).toBe(false);
  });
});

describe('WholeEvents', () => {
  const stream = `${openaiChunk({ content: 'Hello' })}${openaiChunk({ content: ' world' })}\r\n${openaiChunk({}, 'stop')}data: [DONE]\n\n`;

  it('passes reads that end on a blank line as they are', () => {
    const whole = new WholeEvents();
    const read = Buffer.from(openaiChunk({ content: 'Hi' }));
    expect(whole.push(read)).toBe(read);
    expect(whole.rest()).toBeUndefined();
  });

  for (const size of [1, 2, 3, 5, 17, 64]) {
    it(`reads of ${size} bytes come out as whole events, in order, nothing lost`, () => {
      const whole = new WholeEvents();
      const bytes = Buffer.from(stream);
      let out = '';
      for (let i = 0; i < bytes.length; i += size) {
        const ready = whole.push(bytes.subarray(i, i + size));
        if (ready === undefined) continue;
        const text = ready.toString();
        expect(text.endsWith('\n\n')).toBe(true);
        out += text;
      }
      expect(whole.rest()).toBeUndefined();
      expect(out).toBe(stream);
    });
  }

  it('holds a half-written last event back: it is what rest() returns', () => {
    const whole = new WholeEvents();
    const done = openaiChunk({ content: 'Hi' });
    expect(whole.push(Buffer.from(`${done}data: {"id":"c","cho`))?.toString()).toBe(done);
    expect(whole.rest()?.toString()).toBe('data: {"id":"c","cho');
  });
});
