// The request log's copy of a relayed stream, bounded. The relay hands over each buffer it writes
// to the client; up to the limit every one is kept (no copy: the buffers are the relay's own, and
// the log packs them once the stream is done). Past the limit the copy keeps the stream's first
// bytes and, from then on, only its last ones, so the log still sees how the stream ended (finish
// reason, usage for the key accounting, an error event) while a stream of any length costs at most
// about `limit` bytes of memory. The record says so with `response_truncated`.

/** Most of the limit kept for the end of a truncated stream (the rest is its start). */
const MAX_TAIL_BYTES = 64 * 1024;

/** Between the kept start and end: an event ends here, so neither half-event runs into the other. */
const JOIN = Buffer.from('\n\n');

export class StreamLogCopy {
  /** The copy, as the log packs it: the buffers as written, or once finished, start + end. */
  readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly headLimit: number;
  private readonly tailLimit: number;
  /** Set once the limit is passed: the latest buffers, about `tailLimit` bytes of them. */
  private tail: Buffer[] | undefined;
  private tailSize = 0;

  constructor(private readonly limit: number) {
    this.tailLimit = Math.min(MAX_TAIL_BYTES, Math.floor(limit / 8));
    this.headLimit = limit - this.tailLimit;
  }

  get truncated(): boolean {
    return this.tail !== undefined;
  }

  add(bytes: Buffer): void {
    if (this.tail === undefined) {
      this.size += bytes.length;
      this.chunks.push(bytes);
      if (this.size > this.limit) this.cut();
      return;
    }
    this.keepTail(bytes);
  }

  /** Puts the kept end after the start (once); true when anything was left out. */
  finish(): boolean {
    const tail = this.tail;
    if (tail === undefined) return false;
    if (tail.length > 0) {
      const excess = this.tailSize - this.tailLimit;
      // keepTail leaves less than the first buffer's length in excess: only its front goes.
      if (excess > 0) tail[0] = tail[0]!.subarray(excess);
      this.chunks.push(JOIN, ...tail);
      tail.length = 0;
    }
    return true;
  }

  /** The limit is passed: the start is cut to `headLimit`, the newest bytes begin the end. */
  private cut(): void {
    const chunks = this.chunks;
    const newest = chunks.length - 1;
    const latest = chunks[newest]!;
    let kept = 0;
    let count = 0;
    // size > limit > headLimit: some buffer crosses the head's end.
    while (kept + chunks[count]!.length <= this.headLimit) {
      kept += chunks[count]!.length;
      count += 1;
    }
    const crossing = chunks[count]!;
    const headPart = this.headLimit - kept;
    chunks.length = count;
    if (headPart > 0) chunks.push(crossing.subarray(0, headPart));
    this.tail = [];
    // What lay between the head and the newest buffer is what the copy leaves out.
    this.keepTail(count === newest ? latest.subarray(headPart) : latest);
  }

  private keepTail(bytes: Buffer): void {
    const tail = this.tail!;
    tail.push(bytes);
    this.tailSize += bytes.length;
    // Whole buffers are dropped from the front while the rest still covers the end's share.
    while (tail.length > 1 && this.tailSize - tail[0]!.length >= this.tailLimit) {
      this.tailSize -= tail.shift()!.length;
    }
  }
}
