/**
 * SSE framing in one place, so protocol files build frames from data and never concatenate
 * wire text themselves.
 */

/** A `data:` event; objects are JSON-encoded, strings (e.g. "[DONE]") are sent verbatim. */
export function sseData(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  // Multi-line payloads need one `data:` line each to survive SSE parsing unchanged.
  const dataLines = payload.split('\n').map((line) => `data: ${line}\n`);
  const eventLine = event === undefined ? '' : `event: ${event}\n`;
  return `${eventLine}${dataLines.join('')}\n`;
}

/** A comment line, which clients must ignore; OpenRouter sends these while the model thinks. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}
