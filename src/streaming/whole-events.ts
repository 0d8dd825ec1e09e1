// Passes on only the complete events of a relayed SSE byte stream: the bytes of an event that has
// not ended yet (a network read that stopped inside it) wait for the rest. So a stream that stops
// inside an event leaves the client nothing half-written before the gateway's error event: the
// client's SSE parser would join a half-written `data:` line with the next one and fail on the JSON.
// The common read ends on an event's blank line and goes on as it is, after a two-byte check.

/** An event longer than this is passed on in pieces as before rather than held whole. */
const MAX_HELD_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export class WholeEvents {
  private held: Buffer[] = [];
  private heldBytes = 0;

  /** The bytes that may go out now (undefined: none yet). */
  push(chunk: Buffer): Buffer | undefined {
    const n = chunk.length;
    if (n === 0) return undefined;
    // The common case: the read ends on a blank line (LF LF, or CR LF CR LF), nothing is held.
    const last = chunk[n - 1];
    const before = chunk[n - 2];
    if (this.heldBytes === 0 && last === LF && (before === LF || (before === CR && chunk[n - 3] === LF)))
      return chunk;
    const cut = this.lastEventEnd(chunk);
    if (cut === 0 && this.heldBytes + n <= MAX_HELD_BYTES) {
      this.held.push(chunk);
      this.heldBytes += n;
      return undefined;
    }
    const upTo = cut === 0 ? n : cut;
    const ready =
      this.heldBytes === 0 ? chunk.subarray(0, upTo) : Buffer.concat([...this.held, chunk.subarray(0, upTo)]);
    this.held = upTo < n ? [chunk.subarray(upTo)] : [];
    this.heldBytes = n - upTo;
    return ready;
  }

  /** What is still held when the stream ends: the start of an event that never ended. */
  rest(): Buffer | undefined {
    if (this.heldBytes === 0) return undefined;
    const rest = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    return rest;
  }

  /** The index after the chunk's last blank line, counting one that began in the held bytes; 0 if none. */
  private lastEventEnd(chunk: Buffer): number {
    let end = chunk.lastIndexOf('\n\n');
    end = end === -1 ? 0 : end + 2;
    const crlf = chunk.lastIndexOf('\r\n\r\n');
    if (crlf !== -1) end = Math.max(end, crlf + 4);
    if (end === 0 && this.heldBytes > 0) {
      const before = this.held[this.held.length - 1]!;
      const last = before[before.length - 1];
      if (last === LF && chunk[0] === LF) end = 1;
      else if (last === LF && chunk[0] === CR && chunk[1] === LF) end = 2;
    }
    return end;
  }
}
