// One upstream call as an undici dispatch handler: no Readable stream, async iterator or promise
// per chunk between the socket and the client (undici's request() builds all three; dropping them
// measured as a clear share of the gateway's CPU per request, more so for streams).
//
// `ready` settles at the commit point: a non-2xx answer once its error body is read; a buffered
// 2xx answer once it is complete; a streamed 2xx answer at its first body chunk, so a stream that
// fails before its first byte can still fall back. After that, a streamed body goes to the sink the
// relay attaches, chunk by chunk, with back-pressure through pause/resume.
//
// What is held in memory is bounded: a buffered answer past `answerLimit` settles as 'too-large'
// and the call is aborted (the socket destroyed, nothing more read); an error body past
// `errorLimit` is cut there and the call aborted. A stream is never buffered beyond the chunks that
// arrive between its commit and the relay's attach.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

export type CallOutcome =
  | { kind: 'answer'; status: number; headers: IncomingHttpHeaders; body: Buffer }
  | { kind: 'first-chunk'; status: number; headers: IncomingHttpHeaders; chunk: Buffer }
  | { kind: 'too-large'; status: number; limit: number }
  | { kind: 'error'; error: Error };

export interface CallSink {
  /** Returns false when the client is not draining; the call pauses until resume(). */
  data(chunk: Buffer): boolean;
  end(): void;
  error(error: Error): void;
}

type Controller = Dispatcher.DispatchController;

/** A stream keeps references to its last few chunks (no copies), to judge its end from. */
const RECENT = 8;
const EMPTY = Buffer.alloc(0);

export class UpstreamCall implements Dispatcher.DispatchHandler {
  readonly ready: Promise<CallOutcome>;
  private settle!: (outcome: CallOutcome) => void;
  private settled = false;
  private controller: Controller | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private sink: CallSink | undefined;
  private ended = false;
  private failure: Error | undefined;
  private abortReason: Error | undefined;
  /** Bytes buffered so far of a whole answer or an error body. */
  private size = 0;
  /** A stream's last RECENT chunks, as a ring; `seen` counts every chunk. */
  private readonly recent: Buffer[] | undefined;
  private seen = 0;

  /**
   * `stream`: commit at the first chunk; otherwise read the whole body first, up to `answerLimit`
   * bytes. An error body (any status but 2xx) is read up to `errorLimit` bytes.
   */
  constructor(
    private readonly stream: boolean,
    private readonly answerLimit = Number.POSITIVE_INFINITY,
    private readonly errorLimit = Number.POSITIVE_INFINITY,
  ) {
    this.ready = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.recent = stream ? new Array<Buffer>(RECENT) : undefined;
  }

  /** The body has been read to its end. */
  get complete(): boolean {
    return this.ended;
  }

  /** The body broke (a transport error) after the headers. */
  get broken(): Error | undefined {
    return this.failure;
  }

  /** A stream's latest chunk. */
  get last(): Buffer | undefined {
    return this.seen === 0 ? undefined : this.recent?.[(this.seen - 1) % RECENT];
  }

  /** A stream's last bytes, up to `max`, from its last few chunks (a view when one holds them). */
  tail(max: number): Buffer {
    const recent = this.recent;
    if (recent === undefined || this.seen === 0) return EMPTY;
    const parts: Buffer[] = [];
    let size = 0;
    for (let i = this.seen - 1; i >= 0 && i >= this.seen - RECENT && size < max; i--) {
      const chunk = recent[i % RECENT]!;
      parts.push(chunk);
      size += chunk.length;
    }
    const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts.reverse());
    return joined.length > max ? joined.subarray(joined.length - max) : joined;
  }

  /** Response headers arrived. */
  get answered(): boolean {
    return this.status !== 0;
  }

  abort(reason: Error): void {
    if (this.controller === undefined) this.abortReason ??= reason;
    else if (!this.controller.aborted) this.controller.abort(reason);
  }

  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  /** Takes over a committed stream: chunks that arrived meanwhile are replayed first. */
  attach(sink: CallSink): void {
    this.sink = sink;
    const waiting = this.chunks;
    this.chunks = [];
    for (const chunk of waiting) {
      if (!sink.data(chunk)) this.controller?.pause();
    }
    if (this.failure !== undefined) sink.error(this.failure);
    else if (this.ended) sink.end();
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.abortReason !== undefined) controller.abort(this.abortReason);
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.recent !== undefined) this.recent[this.seen++ % RECENT] = chunk;
    if (this.sink !== undefined) {
      if (!this.sink.data(chunk)) controller.pause();
      return;
    }
    if (this.settled) {
      this.chunks.push(chunk);
      return;
    }
    const success = this.status >= 200 && this.status < 300;
    if (this.stream && success) {
      this.commit({ kind: 'first-chunk', status: this.status, headers: this.headers, chunk });
      return;
    }
    this.size += chunk.length;
    const limit = success ? this.answerLimit : this.errorLimit;
    if (this.size <= limit) {
      this.chunks.push(chunk);
      return;
    }
    // Past the limit: nothing more is read, and the upstream connection is dropped.
    if (success) {
      this.chunks = [];
      this.commit({ kind: 'too-large', status: this.status, limit });
    } else {
      this.chunks.push(chunk.subarray(0, chunk.length - (this.size - limit)));
      this.commitAnswer();
    }
    controller.abort(new Error(`upstream body larger than ${limit} bytes`));
  }

  onResponseEnd(): void {
    this.ended = true;
    if (this.sink !== undefined) {
      this.sink.end();
      return;
    }
    if (this.settled) return;
    const success = this.status >= 200 && this.status < 300;
    if (this.stream && success) {
      // A stream with no body at all: its (empty) first chunk is the end.
      this.commit({
        kind: 'first-chunk',
        status: this.status,
        headers: this.headers,
        chunk: Buffer.alloc(0),
      });
    } else {
      this.commitAnswer();
    }
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.failure = error;
    if (this.sink !== undefined) this.sink.error(error);
    else if (!this.settled) this.commit({ kind: 'error', error });
  }

  private commitAnswer(): void {
    const chunks = this.chunks;
    this.chunks = [];
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.commit({ kind: 'answer', status: this.status, headers: this.headers, body });
  }

  private commit(outcome: CallOutcome): void {
    this.settled = true;
    this.settle(outcome);
  }
}
