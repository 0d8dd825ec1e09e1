// Keeps secrets out of a relayed stream's error events at almost no cost to the chunks of a
// successful answer. A chunk is only searched for secrets once the stream has shown an error
// object: `rror"` ends the JSON key or value `"error"` (or `"Error"`); in generated text a quote
// is escaped (`\"error\"`) and never matches. (`rror"` is the needle because Buffer.indexOf
// measured about half the time for it as for `"error"`, whose leading quote is everywhere in JSON.)
// From then on every chunk is redacted, and the last bytes of each are held back until the next
// one comes (or the stream ends), so a secret split between two network reads is still found whole.
import type { Redactor } from './redactor.js';

const ERROR_MARK = Buffer.from('rror"');
const NEWLINE = 0x0a;

export class StreamGuard {
  private watching = false;
  /** Redacted bytes not yet passed on: they may be the start of a secret the next chunk ends. */
  private held: Buffer | undefined;
  /** The end of the last chunk when it stopped mid-line: the mark itself may straddle two reads. */
  private tail: Buffer | undefined;

  constructor(private readonly redactor: Redactor) {}

  /** What may go out now for this chunk (possibly empty). */
  push(chunk: Buffer): Buffer {
    if (!this.watching) {
      if (!this.showsError(chunk)) return chunk;
      this.watching = true;
    }
    const joined = this.held === undefined ? chunk : Buffer.concat([this.held, chunk]);
    const clean = this.redactor.bytes(joined);
    const keep = Math.max(0, Math.min(clean.length, this.redactor.longestBytes - 1));
    this.held = keep > 0 ? clean.subarray(clean.length - keep) : undefined;
    return clean.subarray(0, clean.length - keep);
  }

  /** The bytes still held, at the end of the stream. */
  end(): Buffer | undefined {
    const rest = this.held;
    this.held = undefined;
    return rest;
  }

  private showsError(chunk: Buffer): boolean {
    // Upstreams almost always hand over whole lines: only after a read that stopped mid-line is
    // the new one searched together with the last bytes before it.
    const window = this.tail === undefined ? chunk : Buffer.concat([this.tail, chunk]);
    if (window.indexOf(ERROR_MARK) !== -1) return true;
    this.tail =
      window.length > 0 && window[window.length - 1] !== NEWLINE
        ? window.subarray(Math.max(0, window.length - (ERROR_MARK.length - 1)))
        : undefined;
    return false;
  }
}
