// A growable byte buffer, reused between batches: the request log packs records into one and the
// log writer builds each day's lines in another, with no string built for a whole batch.
//
// `shared`: the memory is a SharedArrayBuffer, so the log writer thread reads a batch where it
// lies. Copying each batch into a fresh ArrayBuffer to send it measured ~0.1-0.5 ms per megabyte
// (new pages), a few microseconds per request.
function allocate(bytes: number, shared: boolean): Buffer {
  return shared ? Buffer.from(new SharedArrayBuffer(bytes)) : Buffer.allocUnsafeSlow(bytes);
}

/**
 * A buffer grown past this (a batch with a few huge records) goes back to its first size on reset,
 * so the memory a burst took comes back once it is written.
 */
const KEEP_BYTES = 8 * 1024 * 1024;

export class ByteBuffer {
  private buf: Buffer;
  length = 0;

  constructor(
    private readonly capacity = 64 * 1024,
    private readonly shared = false,
  ) {
    this.buf = allocate(capacity, shared);
  }

  /** The bytes so far (a view, valid until the next write or reset). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
    if (this.buf.length > KEEP_BYTES && this.buf.length > this.capacity)
      this.buf = allocate(this.capacity, this.shared);
  }

  /** Drops what was written after `length` (a record that failed halfway). */
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    const grown = allocate(Math.max(this.buf.length * 2, this.length + bytes), this.shared);
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  byte(value: number): void {
    this.room(1);
    this.buf[this.length++] = value;
  }

  u32(value: number): void {
    this.room(4);
    this.length = this.buf.writeUInt32LE(value, this.length);
  }

  f64(value: number): void {
    this.room(8);
    this.length = this.buf.writeDoubleLE(value, this.length);
  }

  /** UTF-8, with room made for the worst case (3 bytes per UTF-16 unit), not a byteLength pass. */
  text(value: string): void {
    this.room(value.length * 3);
    this.length += this.buf.write(value, this.length, 'utf8');
  }

  /** UTF-8 after its u32 byte length. */
  sizedText(value: string): void {
    this.room(4 + value.length * 3);
    const written = this.buf.write(value, this.length + 4, 'utf8');
    this.buf.writeUInt32LE(written, this.length);
    this.length += 4 + written;
  }

  bytesOf(value: Uint8Array): void {
    this.room(value.length);
    // Buffer#copy is a plain memmove; TypedArray#set into shared memory copies with atomics.
    this.length += Buffer.prototype.copy.call(value, this.buf, this.length);
  }

  /** The chunks one after another, after their u32 total length. */
  sizedChunks(chunks: readonly Uint8Array[]): void {
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    this.u32(total);
    for (const chunk of chunks) this.bytesOf(chunk);
  }
}
