/** What the emulator saw: one entry per HTTP request, recorded as soon as its body is read. */
export interface RecordedRequest {
  method: string;
  /** Path including the query string, e.g. "/v1/chat/completions". */
  path: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, else the raw string ('' when empty). */
  body: unknown;
  rawBody: string;
  /** Date.now() when the body finished arriving. */
  receivedAt: number;
}

/** One tool call the emulated model makes. `arguments` is a JSON string, as on the wire. */
export interface ToolCallSpec {
  id?: string;
  name: string;
  arguments: string;
}

export interface UsageSpec {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  /** Responses protocol: input_tokens_details.cached_tokens (part of prompt_tokens); 0 unless given. */
  cached_tokens?: number;
  /** Responses protocol: output_tokens_details.reasoning_tokens (part of completion_tokens); 0 unless given. */
  reasoning_tokens?: number;
}

/** A normal answer (the default); stream or not according to the request's `stream` flag. */
export interface ChatBehaviour {
  kind: 'chat';
  content?: string;
  toolCalls?: ToolCallSpec[];
  finishReason?: string;
  usage?: UsageSpec;
  /** Responses protocol: a reasoning item with this summary text, before the message. */
  reasoning?: string;
  /** Wait before sending headers. */
  delayMs?: number;
  /** Wait between stream chunks. */
  chunkDelayMs?: number;
  /** Stream: this many SSE comment lines before the first data event, and one between data events. */
  keepAliveComments?: number;
  headers?: Record<string, string>;
  /** Stream: leave out this many of the last events ([DONE], the finish…) and end cleanly, as a provider that stops early does. */
  dropLastEvents?: number;
  /** Stream: raw text written after the events before the end, e.g. half an event. */
  appendRaw?: string;
}

/** Any status with any body; the default body is the protocol's error shape naming the status. */
export interface ErrorBehaviour {
  kind: 'error';
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Accept the request and never answer (until the client goes away or the emulator closes). */
export interface StallBehaviour {
  kind: 'stall';
}

/** Send headers and the first `afterChunks` data events (default 1), then never end. */
export interface StallStreamBehaviour {
  kind: 'stall-stream';
  afterChunks?: number;
}

/** Send headers and `afterChunks` data events (default 1), then destroy the socket. */
export interface CutStreamBehaviour {
  kind: 'cut-stream';
  afterChunks?: number;
}

/** Destroy the socket at once, without any response. */
export interface ResetBehaviour {
  kind: 'reset';
}

/** Write this exact status, headers and body, for odd cases. */
export interface RawBehaviour {
  kind: 'raw';
  status: number;
  headers?: Record<string, string>;
  body: string;
  /** Written after `body`, one write each with `chunkDelayMs` between: a body split across reads. */
  chunks?: string[];
  chunkDelayMs?: number;
}

/**
 * An OpenAI-shaped body of about `bytes` bytes, generated piece by piece as the client reads
 * (never held whole): 'answer' a chat.completion whose content is that long, 'stream' content
 * chunks of 64 KB each then a finish, usage and [DONE], 'error' an error body (status 500 unless
 * given) whose message is that long.
 */
export interface LargeBehaviour {
  kind: 'large';
  shape: 'answer' | 'stream' | 'error';
  bytes: number;
  status?: number;
}

export type Behaviour =
  | ChatBehaviour
  | LargeBehaviour
  | ErrorBehaviour
  | StallBehaviour
  | StallStreamBehaviour
  | CutStreamBehaviour
  | ResetBehaviour
  | RawBehaviour;
