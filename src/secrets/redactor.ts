// One rule for every copy of text that came from elsewhere (an upstream's error body, a stream's
// error event, a log line): each configured secret is replaced by a label that names it without
// revealing it. A secret is looked for as written and in the forms a JSON or URL encoder gives
// it, so an upstream that escapes `/` or percent-encodes a key still cannot echo it back.

export interface Secret {
  value: string;
  /** What replaces it, e.g. `[key openai-1a2b3c4d]`; must not contain the secret. */
  label: string;
}

interface Needle {
  text: string;
  bytes: Buffer;
  label: string;
  labelBytes: Buffer;
}

/**
 * Shorter values are not looked for: no real credential is that short, and replacing every `a` or
 * `k1` in an error message would make it unreadable without protecting anything.
 */
export const MIN_SECRET_LENGTH = 4;

/** The forms a secret can take in copied text: as is, JSON-escaped, with `\/`, percent-encoded. */
function formsOf(value: string): string[] {
  const forms = new Set<string>([value]);
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  if (json.includes('/')) forms.add(json.replaceAll('/', '\\/'));
  forms.add(encodeURIComponent(value));
  return [...forms];
}

export class Redactor {
  private readonly needles: Needle[];
  /** The longest form of any secret, in bytes: a stream holds back one byte less than this. */
  readonly longestBytes: number;

  constructor(secrets: readonly Secret[]) {
    const byForm = new Map<string, string>();
    for (const secret of secrets) {
      if (secret.value.length < MIN_SECRET_LENGTH) continue;
      // The first label given for a value wins (an admin key is also a client key).
      for (const form of formsOf(secret.value)) if (!byForm.has(form)) byForm.set(form, secret.label);
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.needles = [...byForm]
      .sort((a, b) => b[0].length - a[0].length)
      .map(([text, label]) => ({
        text,
        bytes: Buffer.from(text),
        label,
        labelBytes: Buffer.from(label),
      }));
    this.longestBytes = this.needles.reduce((max, needle) => Math.max(max, needle.bytes.length), 0);
  }

  /** Nothing to look for: every method returns its input. */
  get empty(): boolean {
    return this.needles.length === 0;
  }

  text(text: string): string {
    let out = text;
    for (const needle of this.needles) {
      if (out.includes(needle.text)) out = out.replaceAll(needle.text, needle.label);
    }
    return out;
  }

  /**
   * The same on bytes, never decoded as a whole: a stream's chunk may end inside a UTF-8
   * character, and decoding it would corrupt that character. Returns the input when it is clean.
   */
  bytes(chunk: Buffer): Buffer {
    let out = chunk;
    for (const needle of this.needles) {
      let at = out.indexOf(needle.bytes);
      if (at === -1) continue;
      const parts: Buffer[] = [];
      let from = 0;
      while (at !== -1) {
        parts.push(out.subarray(from, at), needle.labelBytes);
        from = at + needle.bytes.length;
        at = out.indexOf(needle.bytes, from);
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }

  /** Every string in a JSON value, object keys included, at any depth; the same object when clean. */
  value(value: unknown): unknown {
    if (this.empty) return value;
    return this.walk(value);
  }

  /**
   * An upstream's error body. JSON is walked (a secret may hide behind any escape, in any field at
   * any depth) and written again only when something was replaced, so a clean body keeps its
   * exact bytes; any other text is redacted as text.
   */
  errorBody(text: string): string {
    if (this.empty) return text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.text(text);
    }
    const clean = this.walk(parsed);
    return clean === parsed ? text : JSON.stringify(clean);
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) {
      let changed = false;
      const items = value.map((item) => {
        const clean = this.walk(item);
        if (clean !== item) changed = true;
        return clean;
      });
      return changed ? items : value;
    }
    let changed = false;
    const entries = Object.entries(value).map(([key, inner]) => {
      const cleanKey = this.text(key);
      const cleanInner = this.walk(inner);
      if (cleanKey !== key || cleanInner !== inner) changed = true;
      return [cleanKey, cleanInner] as const;
    });
    return changed ? Object.fromEntries(entries) : value;
  }
}
