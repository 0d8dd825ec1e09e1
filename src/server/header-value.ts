// Header values the gateway builds from names it does not control (the upstream model, dropped
// parameter names, provider and key names from config). Node throws on a value with CR, LF, NUL or a
// character past U+00FF, which turned an answered (and billed) exchange into a 500; clients also read
// header bytes as Latin-1, so even a legal non-ASCII value would arrive garbled.

/** Longer values are omitted: no client needs them, and some refuse headers past a few kB. */
export const MAX_HEADER_VALUE_LENGTH = 4096;

const HEX = '0123456789ABCDEF';

function isPrintableAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}

/**
 * The value as sent: unchanged when it is printable ASCII (the usual case, one scan), else
 * percent-encoded as UTF-8 the way encodeURIComponent would, so `decodeURIComponent` gives it back
 * (unlike encodeURIComponent, an unpaired surrogate does not throw: it becomes U+FFFD). Undefined
 * when the result would be longer than MAX_HEADER_VALUE_LENGTH: the header is then left out.
 */
export function headerValue(value: string): string | undefined {
  if (isPrintableAscii(value)) return value.length > MAX_HEADER_VALUE_LENGTH ? undefined : value;
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    // encodeURIComponent's unreserved set: letters, digits and -_.!~*'()
    if (
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      "-_.!~*'()".includes(String.fromCharCode(byte))
    ) {
      encoded += String.fromCharCode(byte);
    } else {
      encoded += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
    }
    if (encoded.length > MAX_HEADER_VALUE_LENGTH) return undefined;
  }
  return encoded;
}

/** Sets the header to the value as sent, or leaves it out when it cannot be sent. */
export function setHeaderValue(headers: Record<string, string>, name: string, value: string): void {
  const sent = headerValue(value);
  if (sent !== undefined) headers[name] = sent;
}
