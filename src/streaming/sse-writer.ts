// The one SSE writer: `data:` frames (OpenAI) and named events (Anthropic), as every translator and the relay emit them.
// JSON text never holds a raw line break, so one `data:` line per event is always enough.

/** A `data:` frame for a JSON payload (or a literal such as `[DONE]`). */
export function sseFrame(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export const SSE_DONE = sseFrame('[DONE]');

/** A named event (`event:` + `data:`), as Anthropic's Messages stream writes every event. */
export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}
