// The request log's bounded copy of a stream: everything up to the limit, else its start and its
// end with an event break between them, never more than the limit.
import { describe, expect, it } from 'vitest';
import { ByteBuffer } from '../../src/logs/byte-buffer.js';
import { StreamLogCopy } from '../../src/logs/stream-log-copy.js';

function text(chunks: readonly Buffer[]): string {
  return Buffer.concat(chunks).toString('latin1');
}

describe('StreamLogCopy', () => {
  it('keeps every buffer, as written, up to the limit', () => {
    const copy = new StreamLogCopy(100);
    const a = Buffer.from('a'.repeat(60));
    const b = Buffer.from('b'.repeat(40));
    copy.add(a);
    copy.add(b);
    expect(copy.finish()).toBe(false);
    expect(copy.chunks).toEqual([a, b]);
    expect(copy.chunks[0]).toBe(a);
  });

  it('past the limit: the start up to 7/8 of it, a break, and the last 1/8', () => {
    const copy = new StreamLogCopy(800);
    for (let i = 0; i < 100; i++) copy.add(Buffer.from(String(i % 10).repeat(50)));
    expect(copy.truncated).toBe(true);
    expect(copy.finish()).toBe(true);
    const kept = text(copy.chunks);
    expect(kept.length).toBe(700 + 2 + 100);
    expect(kept.slice(0, 700)).toBe(
      text(Array.from({ length: 14 }, (_, i) => Buffer.from(String(i % 10).repeat(50)))),
    );
    expect(kept.slice(700, 702)).toBe('\n\n');
    expect(kept.slice(702)).toBe('8'.repeat(50) + '9'.repeat(50));
  });

  it('cuts inside a buffer that crosses the limit, and inside one larger than the end share', () => {
    const copy = new StreamLogCopy(800);
    copy.add(Buffer.from('s'.repeat(650)));
    copy.add(Buffer.from('m'.repeat(500)));
    copy.add(Buffer.from(`${'e'.repeat(290)}0123456789`));
    copy.finish();
    const kept = text(copy.chunks);
    expect(kept).toBe(`${'s'.repeat(650)}${'m'.repeat(50)}\n\n${'e'.repeat(90)}0123456789`);
  });

  it('finish is done once', () => {
    const copy = new StreamLogCopy(16);
    for (let i = 0; i < 10; i++) copy.add(Buffer.from('0123456789'));
    copy.finish();
    const once = text(copy.chunks);
    copy.finish();
    expect(text(copy.chunks)).toBe(once);
    expect(once.length).toBeLessThanOrEqual(16 + 2);
  });
});

describe('ByteBuffer', () => {
  it('goes back to its first size after a burst, once reset', () => {
    const buffer = new ByteBuffer(1024);
    buffer.bytesOf(Buffer.alloc(10 * 1024 * 1024, 1));
    expect(buffer.length).toBe(10 * 1024 * 1024);
    buffer.reset();
    buffer.byte(7);
    expect(buffer.bytes).toEqual(Buffer.from([7]));
    expect((buffer as unknown as { buf: Buffer }).buf.length).toBe(1024);
  });
});
