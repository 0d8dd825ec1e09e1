// The native pass-through's one edit: the top-level "model" value of a JSON object's text swapped
// for another, every other byte left as the client sent it (cache breakpoints, signed thinking
// blocks and fields the gateway does not know all survive). One scan of the text, skipping over
// strings and nested values, so a "model" key inside messages or tools is never touched.

const QUOTE = 34; // "
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COLON = 58;
const COMMA = 44;

function skipSpace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const ch = text.charCodeAt(i);
    if (ch !== 32 && ch !== 10 && ch !== 13 && ch !== 9) return i;
    i++;
  }
}

/** `at` is an opening quote; returns the index just past the closing one (or the text's end). */
function skipString(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote === -1) return text.length;
    let slashes = 0;
    for (let j = quote - 1; text.charCodeAt(j) === BACKSLASH; j--) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** `at` starts a JSON value; returns the index just past it. */
function skipValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return skipString(text, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number or literal: it runs to the next delimiter.
    let i = at;
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      if (
        ch === COMMA ||
        ch === CLOSE_BRACE ||
        ch === CLOSE_BRACKET ||
        ch === 32 ||
        ch === 10 ||
        ch === 13 ||
        ch === 9
      )
        break;
      i++;
    }
    return i;
  }
  let depth = 0;
  let i = at;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      i = skipString(text, i);
      continue;
    }
    if (ch === OPEN_BRACE || ch === OPEN_BRACKET) depth++;
    else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return text.length;
}

/** A key's text between its quotes, decoded when it holds escapes (`"mod\u0065l"` is "model"). */
function keyOf(raw: string): string | undefined {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}

/** Where each top-level "model" value sits in the text: [start, end) spans, in order. */
export function topLevelModelSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return spans;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = skipString(text, i);
    const key = keyOf(text.slice(i + 1, keyEnd - 1));
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return spans;
    const valueStart = skipSpace(text, i + 1);
    const valueEnd = skipValue(text, valueStart);
    if (key === 'model') spans.push([valueStart, valueEnd]);
    i = skipSpace(text, valueEnd);
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipSpace(text, i + 1);
  }
  return spans;
}

/**
 * The text with every top-level "model" value replaced by `model` as a JSON string. A body
 * without one gets it as its first member.
 */
export function withTopLevelModel(text: string, model: string): string {
  const value = JSON.stringify(model);
  const spans = topLevelModelSpans(text);
  if (spans.length === 0) {
    const open = text.indexOf('{');
    if (open === -1) return text;
    const rest = text.slice(open + 1);
    const separator = rest.trim().startsWith('}') ? '' : ',';
    return `${text.slice(0, open + 1)}"model":${value}${separator}${rest}`;
  }
  let out = '';
  let from = 0;
  for (const [start, end] of spans) {
    out += text.slice(from, start) + value;
    from = end;
  }
  return out + text.slice(from);
}
