// Finished exchanges packed into one byte buffer for the log writer thread. Packing copies the
// bodies and the stream's chunks at once, so the request path's buffers die young instead of
// waiting (and being promoted by the garbage collector) until the next flush; and the thread
// reads a batch as bytes in shared memory, with none of the per-object cost of cloning records.
//
// Layout, per record (integers little-endian):
//   flags      u8: 1 price follows, 2 cost follows, 4 the response (a stream's copy) was truncated
//   price      every rate and tier, as usage/price-codec.ts writes it   (flag 1)
//   cost       f64                                                (flag 2)
//   head       the record's fields up to `attempts` as values, strings that repeat the batch's
//              previous record written as one byte (record-head.ts)
//   error      u32 length + UTF-8 JSON; length 0 means none
//   request    u8 kind (0 none, 1 JSON text, 2 text that was not JSON) + u32 length + bytes
//   response   u8 kind (0 none, 1 JSON answer, 2 SSE stream) + u32 length + bytes
import type { Price } from '../config/types.js';
import { readPrice, writePrice } from '../usage/price-codec.js';
import { ByteBuffer } from './byte-buffer.js';
import { HeadPacker, HeadReader } from './record-head.js';
import type { PendingRecord } from './request-record.js';

export const BODY_NONE = 0;
export const REQUEST_JSON = 1;
export const REQUEST_TEXT = 2;
export const RESPONSE_JSON = 1;
export const RESPONSE_STREAM = 2;

const HAS_PRICE = 1;
const HAS_COST = 2;
const TRUNCATED = 4;

export class RecordBatch {
  /** Shared memory: the writer thread reads the batch in place (see byte-buffer.ts). */
  private readonly out = new ByteBuffer(256 * 1024, true);
  private readonly heads = new HeadPacker();
  count = 0;

  /** The packed records so far (a view, valid until the next add or reset). */
  get bytes(): Buffer {
    return this.out.bytes;
  }

  get length(): number {
    return this.out.length;
  }

  reset(): void {
    this.out.reset();
    this.heads.reset();
    this.count = 0;
  }

  /** Packs one record; a record that fails to pack leaves the batch as it was. */
  add(pending: PendingRecord): void {
    const start = this.out.length;
    try {
      this.pack(pending);
      this.count += 1;
    } catch (error) {
      this.out.truncate(start);
      // Its head may have been half written: the next record repeats nothing.
      this.heads.reset();
      throw error;
    }
  }

  private pack(pending: PendingRecord): void {
    const { base } = pending;
    const out = this.out;
    const price: Price | undefined = pending.price;
    const cost = pending.cost;
    out.byte(
      (price === undefined ? 0 : HAS_PRICE) |
        (cost === undefined ? 0 : HAS_COST) |
        (pending.responseTruncated === true ? TRUNCATED : 0),
    );
    if (price !== undefined) writePrice(out, price);
    if (cost !== undefined) out.f64(cost);
    this.heads.pack(out, base);
    out.sizedText(pending.error === null || pending.error === undefined ? '' : JSON.stringify(pending.error));
    if (pending.rawRequest !== undefined) {
      out.byte(REQUEST_JSON);
      out.sizedText(pending.rawRequest);
    } else if (pending.unparsedRequest !== undefined) {
      out.byte(REQUEST_TEXT);
      out.sizedText(pending.unparsedRequest);
    } else {
      out.byte(BODY_NONE);
      out.u32(0);
    }
    if (pending.streamChunks !== undefined) {
      out.byte(RESPONSE_STREAM);
      out.sizedChunks(pending.streamChunks);
    } else if (pending.responseBytes !== undefined) {
      out.byte(RESPONSE_JSON);
      out.sizedChunks([pending.responseBytes]);
    } else {
      out.byte(BODY_NONE);
      out.u32(0);
    }
  }
}

export interface PackedRecord {
  /** YYYY-MM-DD (UTC), from the record's time: the file it goes to. */
  day: string;
  price: Price | undefined;
  cost: number | undefined;
  /** JSON of the record's first fields, without the closing brace. */
  head: string;
  /** The record's endpoint as JSON text, e.g. `"/v1/messages"` (see HeadReader.endpoint). */
  endpoint: string;
  /** JSON text of the error, or undefined. */
  error: string | undefined;
  requestKind: number;
  request: Buffer;
  responseKind: number;
  response: Buffer;
  responseTruncated: boolean;
}

/** Reads `count` records back, in order; the byte fields are views into `bytes`. */
export function* unpackRecords(bytes: Uint8Array, count: number): Generator<PackedRecord> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const sized = (): Buffer => {
    const length = buf.readUInt32LE(at);
    const value = buf.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  const heads = new HeadReader(buf);
  for (let i = 0; i < count; i++) {
    const flags = buf[at]!;
    at += 1;
    let price: Price | undefined;
    let cost: number | undefined;
    if ((flags & HAS_PRICE) !== 0) {
      const read = readPrice(buf, at);
      price = read.price;
      at = read.end;
    }
    if ((flags & HAS_COST) !== 0) {
      cost = buf.readDoubleLE(at);
      at += 8;
    }
    heads.at = at;
    const head = heads.read();
    at = heads.at;
    const error = sized();
    const requestKind = buf[at++]!;
    const request = sized();
    const responseKind = buf[at++]!;
    const response = sized();
    yield {
      day: heads.time.slice(0, 10),
      price,
      cost,
      head,
      endpoint: heads.endpoint,
      error: error.length === 0 ? undefined : error.toString('utf8'),
      requestKind,
      request,
      responseKind,
      response,
      responseTruncated: (flags & TRUNCATED) !== 0,
    };
  }
}
