// A Server-Sent Events parser written against the WHATWG event-stream rules: LF, CR and CRLF line
// ends, multi-line `data:`, `event:` and `id:` fields, `:` comments, input split anywhere (even
// inside a UTF-8 sequence or between CR and LF), and a last event without a blank line flushed by
// end(). It only parses; whoever consumes the events decides what they mean.

export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private dataLines: string[] = [];
  private eventName: string | undefined;
  private lastId: string | undefined;
  private hasFields = false;
  /** A chunk ended in CR: a LF at the start of the next one belongs to it. */
  private pendingCR = false;
  private bomChecked = false;

  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.bomChecked && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.bomChecked = true;
    }
    // An empty read (or one that decoded to nothing yet) says nothing about the CR's partner:
    // keep waiting, or the LF arriving later would count as a second line end.
    if (text.length === 0) return [];
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buffer += text;
    return this.drainLines();
  }

  /** Flushes a final event that had no terminating blank line. */
  end(): SseEvent[] {
    this.buffer += this.decoder.decode();
    const events = this.drainLines();
    if (this.buffer !== '') {
      this.processLine(this.buffer, events);
      this.buffer = '';
    }
    this.dispatch(events);
    return events;
  }

  private drainLines(): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    const buffer = this.buffer;
    for (let i = 0; i < buffer.length; i++) {
      const ch = buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.processLine(buffer.slice(start, i), events);
      if (ch === 13) {
        if (i + 1 < buffer.length) {
          if (buffer.charCodeAt(i + 1) === 10) i += 1;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
    }
    this.buffer = buffer.slice(start);
    return events;
  }

  private processLine(line: string, events: SseEvent[]): void {
    if (line === '') {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment, e.g. OpenRouter keep-alives
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataLines.push(value);
        this.hasFields = true;
        break;
      case 'event':
        this.eventName = value;
        this.hasFields = true;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields are ignored, as the spec says.
        break;
    }
  }

  private dispatch(events: SseEvent[]): void {
    if (this.hasFields && this.dataLines.length > 0) {
      events.push({ event: this.eventName, data: this.dataLines.join('\n'), id: this.lastId });
    }
    this.dataLines = [];
    this.eventName = undefined;
    this.hasFields = false;
  }
}
