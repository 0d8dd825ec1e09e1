// The request body's nesting limit, checked on the text before JSON.parse. JSON.parse itself copes
// with deep nesting, but the code after it (validation, translators, merges, stringify, the log)
// recurses, and a body nested 100k levels deep overflowed the stack there: a 500, sometimes after
// the upstream had been called. A body deeper than this is refused with a 400 before any of that.
import { GatewayError } from '../errors.js';

/**
 * The deepest nesting of arrays and objects a request body may have, counting the body itself as
 * level 1. Real requests stay far below it (a chat message's content parts are ~6 levels deep, a
 * tool's JSON schema a few dozen at most), and recursive code stays far from the stack's limit.
 */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** The index just past the string that opens at `start` (a quote), or the text's length. */
function skipString(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    // indexOf is native and fast: the long part of a body (message text) is skipped in one call.
    const quote = text.indexOf('"', at);
    if (quote === -1) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

/**
 * Does the JSON text nest deeper than `limit`? One pass, no allocation: brackets and braces outside
 * strings are counted, strings are skipped. Text that is not JSON is scanned all the same (the parse
 * reports it); the answer is only about nesting.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  const length = text.length;
  let at = 0;
  while (at < length) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      at = skipString(text, at);
      continue;
    }
    if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
    at++;
  }
  return false;
}

/** The 400 for a body past the limit, naming it. */
export function tooDeepError(): GatewayError {
  return new GatewayError(
    'invalid_request',
    `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; the gateway's nesting limit is ${MAX_JSON_DEPTH} levels.`,
  );
}

/** The 400 for a body past MAX_JSON_DEPTH, or undefined when its nesting is within the limit. */
export function checkJsonDepth(text: string): GatewayError | undefined {
  return nestsDeeperThan(text, MAX_JSON_DEPTH) ? tooDeepError() : undefined;
}
