// One canonical request target, decided once before anything looks at the path: client auth, the
// fast chat path and Fastify's router all see the same string. Without this the auth hook read the
// raw target while the router decoded it, so `/%761/usage` skipped auth and was then served as
// `/v1/usage`.
//
// The rule: absolute-form targets (`GET http://host/v1/x`) become their path; percent-escapes of
// unreserved characters (letters, digits, `-._~`, RFC 3986 §2.3, equivalent to the character
// itself) are decoded; every other escape stays as sent (`%2F` in a model id stays a part of one
// segment). A path that is then still not canonical (a malformed escape, an empty segment from
// doubled slashes, a `.` or `..` segment, a backslash, or a target that is neither origin- nor
// absolute-form) is refused, never guessed at.

/** The canonical target, or undefined when the target must be refused. */
export function canonicalTarget(target: string): string | undefined {
  let url = target;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const absolute = /^https?:\/\/[^/?#]*/i.exec(url);
    if (absolute === null) return undefined;
    url = url.slice(absolute[0].length);
    if (url === '' || url.charCodeAt(0) === 63 /* ? */) url = `/${url}`;
    if (url.charCodeAt(0) !== 47) return undefined;
  }
  const question = url.indexOf('?');
  const path = question === -1 ? url : url.slice(0, question);
  // The common case (the hot path) is already canonical: one scan, no allocation.
  if (!needsWork(path)) return url;
  const decoded = decodeUnreserved(path);
  if (decoded === undefined || !isCanonicalPath(decoded)) return undefined;
  return question === -1 ? decoded : decoded + url.slice(question);
}

function needsWork(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \ */) return true;
    // `//`, `/.` (a dot segment or a name starting with a dot: checked in full below)
    if (c === 47 && i + 1 < path.length) {
      const next = path.charCodeAt(i + 1);
      if (next === 47 || next === 46) return true;
    }
  }
  return false;
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || // 0-9
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 45 || // -
    c === 46 || // .
    c === 95 || // _
    c === 126 // ~
  );
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Decodes escapes of unreserved characters; undefined for a malformed escape. */
function decodeUnreserved(path: string): string | undefined {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i + 1)) {
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    if (high < 0 || low < 0) return undefined;
    const code = high * 16 + low;
    if (!isUnreserved(code)) continue;
    out += path.slice(from, i) + String.fromCharCode(code);
    from = i + 3;
    i += 2;
  }
  return out + path.slice(from);
}

function isCanonicalPath(path: string): boolean {
  if (path.includes('\\')) return false;
  const segments = path.split('/');
  // segments[0] is the empty string before the leading slash; the last may be empty (a trailing
  // slash, which routes as its own path and is left to the router).
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '.' || segment === '..') return false;
    if (segment === '' && i < segments.length - 1) return false;
  }
  return true;
}

/** Is this (canonical) path under the API prefix? Case-insensitive, so `/V1/…` is never unauthenticated. */
export function isApiPath(url: string): boolean {
  return (
    url.length >= 4 &&
    url.charCodeAt(0) === 47 &&
    (url.charCodeAt(1) | 32) === 118 /* v */ &&
    url.charCodeAt(2) === 49 /* 1 */ &&
    url.charCodeAt(3) === 47
  );
}
