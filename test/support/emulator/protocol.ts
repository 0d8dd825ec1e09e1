import type { ChatBehaviour, RecordedRequest } from './types.js';

/**
 * What a protocol answers, as plain data. The server core decides how and when it reaches the
 * wire (delays, keep-alive comments, stalls, cuts), so every protocol gets those for free.
 */
export type Reply =
  | { type: 'json'; status: number; headers: Record<string, string>; body: unknown }
  /** `events` are complete SSE frames (see sse.ts), written one by one. */
  | { type: 'sse'; status: number; headers: Record<string, string>; events: string[] };

export interface AnswerContext {
  /** The chat behaviour in force; `{ kind: 'chat' }` when the request is not scripted otherwise. */
  behaviour: ChatBehaviour;
  /** Per-emulator counters (1, 2, …) so ids are unique yet predictable; reset() restarts them. */
  next(counter: string): number;
}

export type RouteHandler = (req: RecordedRequest, ctx: AnswerContext) => Reply;

/**
 * One wire protocol (OpenAI today; Anthropic, Gemini, Cohere later). Kept apart from the server
 * so adding a protocol is one new file and one entry in the server's list.
 */
export interface Protocol {
  /** The handler for this method and path (query string already removed), if the protocol owns it. */
  route(method: string, pathname: string): RouteHandler | undefined;
  /** The protocol's own error body, used by `error` behaviours without a body and for 404s. */
  errorBody(status: number, message: string): unknown;
}

/** Narrowing helper for request bodies, which arrive as `unknown`. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Paths are matched by suffix so "/v1", "/api/v1", "/openai/v1" base URLs all work. */
export function pathEndsWith(pathname: string, suffix: string): boolean {
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  return trimmed === suffix || trimmed.endsWith(suffix);
}
