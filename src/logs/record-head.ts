// The record's first fields (up to `attempts`) travel in a batch as values, not as JSON. Most of
// them repeat from one exchange to the next (server, endpoint, client, model, provider, key), so
// the request path writes one byte for a group of fields that are all as in the batch's previous
// record, and otherwise a string only when it differs from the same field there. The writer
// thread turns the values back into JSON, keeping the last JSON of each field and group.
// Serializing these fields on the request path measured ~4-5 µs per exchange inside the running
// gateway; this packing measured under 1 in isolation.
//
// Layout: id, client_request_id and time as string fields; a group tag (GROUP_SAME, or
// GROUP_FIELDS and server_id … key_id as string fields); status, latency_ms, ttfb_ms and
// overhead_ms as f64, NaN for null (JSON.stringify writes null for both); u8 stream; u8 attempt
// count and per attempt a group tag (GROUP_SAME, or GROUP_FIELDS and provider, model, key_id,
// outcome, error as string fields), then f64 status and f64 duration.
// A string field: u8 tag, ABSENT (no error), NULL, SAME (as the last string in this field), NEW
// and u32 length + UTF-8, or NEW_JSON (a string with a lone surrogate, which UTF-8 cannot carry:
// its JSON text instead). A reader starts each batch afresh, as the packer does.
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
/** Before a group of fields (server_id … key_id; an attempt's strings): all as in the previous record. */
const GROUP_SAME = 5;
/** Before a group of fields: they follow, one by one. */
const GROUP_FIELDS = 6;

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
  /** The previous record's server_id … key_id, as they were (null included); undefined: none. */
  private group: Array<string | null> | undefined;
  /** The previous record's attempt strings per cached attempt, as they were. */
  private readonly attemptGroups: Array<Array<string | undefined> | undefined> = new Array(
    CACHED_ATTEMPTS,
  ).fill(undefined);

  /** Forgets the previous record: a new batch, or a record that failed halfway. */
  reset(): void {
    this.prev.fill(undefined);
    this.group = undefined;
    this.attemptGroups.fill(undefined);
  }

  /** server_id … key_id: one byte when all are as in the previous record (the common case). */
  private packGroup(out: ByteBuffer, b: RecordBase): void {
    const g = this.group;
    if (
      g !== undefined &&
      g[0] === b.server_id &&
      g[1] === b.endpoint &&
      g[2] === b.method &&
      g[3] === b.client_key_hash &&
      g[4] === b.client_ip &&
      g[5] === b.user_agent &&
      g[6] === b.dialog_id &&
      g[7] === b.model_requested &&
      g[8] === b.model_mapped &&
      g[9] === b.provider &&
      g[10] === b.key_id
    ) {
      out.byte(GROUP_SAME);
      return;
    }
    out.byte(GROUP_FIELDS);
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
    this.group = [
      b.server_id,
      b.endpoint,
      b.method,
      b.client_key_hash,
      b.client_ip,
      b.user_agent,
      b.dialog_id,
      b.model_requested,
      b.model_mapped,
      b.provider,
      b.key_id,
    ];
  }

  /** An attempt's strings: one byte when they are as in the previous record's attempt there. */
  private packAttemptStrings(out: ByteBuffer, i: number, a: AttemptRecord): void {
    if (i >= CACHED_ATTEMPTS) {
      // Attempts past the cached ones get slots past the end: always written.
      out.byte(GROUP_FIELDS);
      for (const value of [a.provider, a.model, a.key_id, a.outcome, a.error]) this.field(out, SLOTS, value);
      return;
    }
    const g = this.attemptGroups[i];
    if (
      g !== undefined &&
      g[0] === a.provider &&
      g[1] === a.model &&
      g[2] === a.key_id &&
      g[3] === a.outcome &&
      g[4] === a.error
    ) {
      out.byte(GROUP_SAME);
      return;
    }
    out.byte(GROUP_FIELDS);
    const slot = BASE_SLOTS + i * ATTEMPT_SLOTS;
    this.field(out, slot, a.provider);
    this.field(out, slot + 1, a.model);
    this.field(out, slot + 2, a.key_id);
    this.field(out, slot + 3, a.outcome);
    this.field(out, slot + 4, a.error);
    this.attemptGroups[i] = [a.provider, a.model, a.key_id, a.outcome, a.error];
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
    this.packGroup(out, b);
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
      this.packAttemptStrings(out, i, a);
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
  /** The previous record's server_id … key_id as JSON. */
  private groupJson: string | undefined;
  /** Per cached attempt, the previous record's attempt JSON around its numbers. */
  private readonly attemptJson: Array<[string, string] | undefined> = new Array(CACHED_ATTEMPTS).fill(
    undefined,
  );
  at = 0;
  /** The last record's time (an ISO string): its day names the file. */
  time = '';
  /**
   * The last record's endpoint as JSON text (`"/v1/messages"`): it picks the stream assembler.
   * The same string object while the group repeats, so comparing it costs next to nothing.
   */
  endpoint = 'null';

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

  /** The tag before a group of fields: true when the group repeats the previous record's. */
  private groupRepeats(): boolean {
    const tag = this.buf[this.at++];
    if (tag === GROUP_SAME) return true;
    if (tag !== GROUP_FIELDS) throw new Error(`record head: unknown group tag ${tag}`);
    return false;
  }

  /** `"server_id":…,"key_id":…` as JSON. */
  private group(): string {
    if (this.groupRepeats()) {
      if (this.groupJson === undefined) throw new Error('record head: a group repeats nothing');
      return this.groupJson;
    }
    const serverId = this.string(3);
    this.endpoint = this.string(4);
    this.groupJson = `"server_id":${serverId},"endpoint":${this.endpoint},"method":${this.string(5)},"client_key_hash":${this.string(6)},"client_ip":${this.string(7)},"user_agent":${this.string(8)},"dialog_id":${this.string(9)},"model_requested":${this.string(10)},"model_mapped":${this.string(11)},"provider":${this.string(12)},"key_id":${this.string(13)}`;
    return this.groupJson;
  }

  /** An attempt's JSON around its two numbers: up to `"status":`, and from `,"outcome"` on. */
  private attemptStrings(i: number): [string, string] {
    const cached = i < CACHED_ATTEMPTS;
    if (this.groupRepeats()) {
      const json = cached ? this.attemptJson[i] : undefined;
      if (json === undefined) throw new Error('record head: an attempt repeats nothing');
      return json;
    }
    const slot = cached ? BASE_SLOTS + i * ATTEMPT_SLOTS : SLOTS;
    const before = `{"provider":${this.string(slot)},"model":${this.string(slot + 1)},"key_id":${this.string(slot + 2)},"status":`;
    const outcome = this.string(slot + 3);
    const error = this.field(slot + 4);
    const after = `,"outcome":${outcome}${error === undefined ? '' : `,"error":${error}`},"duration_ms":`;
    const json: [string, string] = [before, after];
    if (cached) this.attemptJson[i] = json;
    return json;
  }

  /** The next record's head: JSON of its fields up to `attempts`, without the closing brace. */
  read(): string {
    const id = this.string(0);
    const clientRequestId = this.string(1);
    const timeJson = this.string(2);
    // The time is an ISO string without characters JSON escapes.
    this.time = timeJson.slice(1, -1);
    let out = `{"id":${id},"client_request_id":${clientRequestId},"time":${timeJson},${this.group()},"status":${this.f64()},"latency_ms":${this.f64()},"ttfb_ms":${this.f64()},"overhead_ms":${this.f64()},"stream":${this.buf[this.at++] === 1 ? 'true' : 'false'},"attempts":[`;
    const count = this.buf[this.at++]!;
    for (let i = 0; i < count; i++) {
      const [before, after] = this.attemptStrings(i);
      if (i > 0) out += ',';
      out += `${before}${this.f64()}${after}${this.f64()}}`;
    }
    return `${out}]`;
  }
}
