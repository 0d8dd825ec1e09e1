// The record's first fields (up to `attempts`) travel in a batch as values, not as JSON. Most of
// them repeat from one exchange to the next (server, endpoint, client, model, provider, key), so
// the request path writes a string only when it differs from the same field of the batch's
// previous record, and one byte when it does not. The writer thread turns the values back into
// JSON, caching each field's last JSON text the same way. Serializing these fields on the request
// path measured ~4-5 µs per exchange inside the running gateway; this packing measured under 1.
//
// Per string field: u8 tag (ABSENT, NULL, SAME, or NEW followed by u32 length + UTF-8; NEW_JSON
// for a string with a lone surrogate, which UTF-8 cannot carry: its JSON text instead).
// Per number field: f64, NaN for null (JSON.stringify writes null for both). Then u8 stream, u8
// attempt count and per attempt its strings, status, error (ABSENT when there is none) and
// duration. A reader starts each batch afresh, as the packer does.
import type { AttemptRecord } from '../gateway/attempt-loop.js';
import type { ByteBuffer } from './byte-buffer.js';
import type { PendingRecord } from './request-record.js';

/** The record's fields up to `attempts`: what the route fills in. */
export type RecordBase = PendingRecord['base'];

const ABSENT = 0;
const NULL = 1;
const SAME = 2;
const NEW = 3;
/** A string UTF-8 cannot carry (a lone surrogate), sent as its JSON text instead. */
const NEW_JSON = 4;

/** String.prototype.isWellFormed (ES2024; Node 20 has it, the ES2023 lib types do not). */
const isWellFormed = (value: string): boolean =>
  (value as string & { isWellFormed(): boolean }).isWellFormed();

/** Slots for the 14 string fields, then 5 per attempt for the first few attempts. */
const BASE_SLOTS = 14;
const ATTEMPT_SLOTS = 5;
const CACHED_ATTEMPTS = 4;
const SLOTS = BASE_SLOTS + ATTEMPT_SLOTS * CACHED_ATTEMPTS;

/** Packs record heads into a batch; reset() when the batch starts over. */
export class HeadPacker {
  /** The previous record's value per slot; undefined: nothing to repeat. */
  private readonly prev: Array<string | null | undefined> = new Array(SLOTS).fill(undefined);

  /** Forgets the previous record: a new batch, or a record that failed halfway. */
  reset(): void {
    this.prev.fill(undefined);
  }

  private field(out: ByteBuffer, slot: number, value: string | null | undefined): void {
    if (value === undefined) {
      out.byte(ABSENT);
      return;
    }
    if (value === null) {
      out.byte(NULL);
      return;
    }
    const prev = this.prev;
    if (slot < SLOTS) {
      if (prev[slot] === value) {
        out.byte(SAME);
        return;
      }
      prev[slot] = value;
    }
    if (isWellFormed(value)) {
      out.byte(NEW);
      out.sizedText(value);
    } else {
      out.byte(NEW_JSON);
      out.sizedText(JSON.stringify(value));
    }
  }

  pack(out: ByteBuffer, b: RecordBase): void {
    this.field(out, 0, b.id);
    this.field(out, 1, b.client_request_id);
    this.field(out, 2, b.time);
    this.field(out, 3, b.server_id);
    this.field(out, 4, b.endpoint);
    this.field(out, 5, b.method);
    this.field(out, 6, b.client_key_hash);
    this.field(out, 7, b.client_ip);
    this.field(out, 8, b.user_agent);
    this.field(out, 9, b.dialog_id);
    this.field(out, 10, b.model_requested);
    this.field(out, 11, b.model_mapped);
    this.field(out, 12, b.provider);
    this.field(out, 13, b.key_id);
    out.f64(b.status ?? Number.NaN);
    out.f64(b.latency_ms ?? Number.NaN);
    out.f64(b.ttfb_ms ?? Number.NaN);
    out.f64(b.overhead_ms ?? Number.NaN);
    out.byte(b.stream ? 1 : 0);
    const attempts = b.attempts;
    if (attempts.length > 255) throw new Error(`a record with ${attempts.length} attempts cannot be logged`);
    out.byte(attempts.length);
    for (let i = 0; i < attempts.length; i++) {
      const a: AttemptRecord = attempts[i]!;
      // Attempts past the cached ones get slots past the end: always written.
      const slot = i < CACHED_ATTEMPTS ? BASE_SLOTS + i * ATTEMPT_SLOTS : SLOTS;
      this.field(out, slot, a.provider);
      this.field(out, slot + 1, a.model);
      this.field(out, slot + 2, a.key_id);
      this.field(out, slot + 3, a.outcome);
      this.field(out, slot + 4, a.error);
      out.f64(a.status ?? Number.NaN);
      out.f64(a.duration_ms);
    }
  }
}

/** As JSON.stringify writes a number: NaN and the infinities become null. */
const num = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');

/** Reads record heads back as JSON text, in order, for one batch at a time. */
export class HeadReader {
  /** The JSON of the last string per slot; undefined: nothing to repeat. */
  private readonly prevJson: Array<string | undefined> = new Array(SLOTS).fill(undefined);
  at = 0;
  /** The last record's time (an ISO string): its day names the file. */
  time = '';

  constructor(private readonly buf: Buffer) {}

  /** The field's JSON text, or undefined when absent. */
  private field(slot: number): string | undefined {
    const buf = this.buf;
    const tag = buf[this.at++];
    if (tag === ABSENT) return undefined;
    if (tag === NULL) return 'null';
    if (tag === SAME) {
      const json = slot < SLOTS ? this.prevJson[slot] : undefined;
      if (json === undefined) throw new Error('record head: a field repeats nothing');
      return json;
    }
    if (tag !== NEW && tag !== NEW_JSON) throw new Error(`record head: unknown field tag ${tag}`);
    const length = buf.readUInt32LE(this.at);
    const text = buf.toString('utf8', this.at + 4, this.at + 4 + length);
    this.at += 4 + length;
    const json = tag === NEW ? JSON.stringify(text) : text;
    if (slot < SLOTS) this.prevJson[slot] = json;
    return json;
  }

  private string(slot: number): string {
    return this.field(slot) ?? 'null';
  }

  private f64(): string {
    const value = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return num(value);
  }

  /** The next record's head: JSON of its fields up to `attempts`, without the closing brace. */
  read(): string {
    const id = this.string(0);
    const clientRequestId = this.string(1);
    const timeJson = this.string(2);
    // The time is an ISO string without characters JSON escapes.
    this.time = timeJson.slice(1, -1);
    let out = `{"id":${id},"client_request_id":${clientRequestId},"time":${timeJson},"server_id":${this.string(3)},"endpoint":${this.string(4)},"method":${this.string(5)},"client_key_hash":${this.string(6)},"client_ip":${this.string(7)},"user_agent":${this.string(8)},"dialog_id":${this.string(9)},"model_requested":${this.string(10)},"model_mapped":${this.string(11)},"provider":${this.string(12)},"key_id":${this.string(13)},"status":${this.f64()},"latency_ms":${this.f64()},"ttfb_ms":${this.f64()},"overhead_ms":${this.f64()},"stream":${this.buf[this.at++] === 1 ? 'true' : 'false'},"attempts":[`;
    const count = this.buf[this.at++]!;
    for (let i = 0; i < count; i++) {
      const slot = i < CACHED_ATTEMPTS ? BASE_SLOTS + i * ATTEMPT_SLOTS : SLOTS;
      if (i > 0) out += ',';
      out += `{"provider":${this.string(slot)},"model":${this.string(slot + 1)},"key_id":${this.string(slot + 2)},`;
      const outcome = this.string(slot + 3);
      const error = this.field(slot + 4);
      out += `"status":${this.f64()},"outcome":${outcome}`;
      if (error !== undefined) out += `,"error":${error}`;
      out += `,"duration_ms":${this.f64()}}`;
    }
    return `${out}]`;
  }
}
