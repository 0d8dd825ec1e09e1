// The one redaction rule: every form of a secret in text, bytes and JSON; a stream's error events
// found and redacted wherever the reads split them; the process logger's lines.
import { describe, expect, it } from 'vitest';
import { createProcessLogger } from '../../src/logs/process-logger.js';
import { Redactor } from '../../src/secrets/redactor.js';
import { StreamGuard } from '../../src/secrets/stream-guard.js';

const KEY = 'sk-unit-secret/0123+456789';
const OTHER = 'client-unit-secret-abcdef';
const redactor = new Redactor([
  { value: KEY, label: '[key k1]' },
  { value: OTHER, label: '[client key]' },
  { value: 'ab', label: '[too short]' },
]);

describe('Redactor', () => {
  it('replaces a secret as written, JSON-escaped and percent-encoded', () => {
    const text = `a ${KEY} b ${KEY.replaceAll('/', '\\/')} c ${encodeURIComponent(KEY)} d ${OTHER}`;
    expect(redactor.text(text)).toBe('a [key k1] b [key k1] c [key k1] d [client key]');
  });

  it('leaves values too short to be a credential alone', () => {
    expect(redactor.text('abc')).toBe('abc');
  });

  it('walks every string and field name of an error body, and keeps a clean body byte for byte', () => {
    const unicode = [...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const body = `{"error":{"code":"${unicode}","deep":[{"${OTHER}":1}],"n":1.50}}`;
    expect(JSON.parse(redactor.errorBody(body))).toEqual({
      error: { code: '[key k1]', deep: [{ '[client key]': 1 }], n: 1.5 },
    });
    const clean = '{"error": {"message": "\\u003cfine\\u003e", "n": 1.50}}';
    expect(redactor.errorBody(clean)).toBe(clean);
    expect(redactor.errorBody(`not json ${KEY}`)).toBe('not json [key k1]');
  });

  it('redacts bytes without decoding them (a chunk may end inside a UTF-8 character)', () => {
    const euro = Buffer.from('€');
    const chunk = Buffer.concat([Buffer.from(`x ${KEY} `), euro.subarray(0, 2)]);
    const out = redactor.bytes(chunk);
    expect(out.subarray(out.length - 2)).toEqual(euro.subarray(0, 2));
    expect(out.subarray(0, out.length - 2).toString()).toBe('x [key k1] ');
  });
});

describe('StreamGuard', () => {
  const stream = Buffer.from(
    'data: {"choices":[{"delta":{"content":"say \\"error\\" ☃"}}]}\n\n' +
      `data: {"error":{"message":"bad ${KEY}","code":"${OTHER}"}}\n\n`,
  );
  const expected = redactor.text(stream.toString());

  function run(pieces: Buffer[]): string {
    const guard = new StreamGuard(redactor);
    const out = pieces.map((piece) => guard.push(piece));
    out.push(guard.end() ?? Buffer.alloc(0));
    return Buffer.concat(out).toString();
  }

  it('redacts an error event wherever two reads split the stream', () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(run([stream.subarray(0, at), stream.subarray(at)]), `split at ${at}`).toBe(expected);
    }
  });

  it('redacts an error event fed byte by byte', () => {
    expect(run([...stream].map((byte) => Buffer.from([byte])))).toBe(expected);
  });

  it('passes a stream without an error object on untouched: success chunks are not searched', () => {
    const guard = new StreamGuard(redactor);
    const chunk = Buffer.from(`data: {"choices":[{"delta":{"content":"${KEY} \\"error\\""}}]}\n\n`);
    expect(guard.push(chunk)).toBe(chunk);
    expect(guard.end()).toBeUndefined();
  });
});

describe('process logger', () => {
  it("writes no secret, whatever a log call passes, with the current configuration's secrets", () => {
    const lines: string[] = [];
    let current = redactor;
    const logger = createProcessLogger(
      'info',
      { write: (line: string) => void lines.push(line) },
      () => current,
    );
    logger.warn({ upstream: { message: `echo ${KEY}` } }, `refused ${OTHER}`);
    current = new Redactor([]);
    logger.warn(`after a reload ${KEY}`);
    expect(lines[0]).not.toContain(KEY);
    expect(lines[0]).not.toContain(OTHER);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      upstream: { message: 'echo [key k1]' },
      msg: 'refused [client key]',
    });
    expect(lines[1]).toContain(KEY);
  });
});
