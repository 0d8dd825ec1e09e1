// Request pieces the OpenAI → provider translators share: the invalid-request error, the dropped
// parameter list, text-only content, and the sampling parameters most providers take as given.
import { GatewayError } from '../errors.js';
import { isRecord } from '../json-guards.js';

type Json = Record<string, unknown>;

/** The 400 naming the offending parameter: `param: message`. */
export function invalidParam(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', `${param}: ${message}`, { param });
}

/** Values that carry no request for a feature, so dropping them loses nothing. */
export const NEUTRAL_VALUES: Readonly<Json> = { n: 1, logprobs: false };

/** The client's fields a translator does not handle and that ask for something: dropped and named. */
export function droppedParams(
  body: Json,
  handled: ReadonlySet<string>,
  neutral: Readonly<Json> = NEUTRAL_VALUES,
): string[] {
  const dropped: string[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (handled.has(field) || value === null || value === undefined) continue;
    if (Object.hasOwn(neutral, field) && neutral[field] === value) continue;
    dropped.push(field);
  }
  return dropped;
}

/** Content that may only be text: a string, or text parts joined. */
export function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw invalidParam(param, 'must be a string or an array of text parts');
  return content
    .map((part, index) => {
      if (!isRecord(part) || typeof part.text !== 'string')
        throw invalidParam(`${param}[${index}]`, 'only text parts are allowed here');
      return part.text;
    })
    .join('');
}

/** OpenAI's `max_completion_tokens`, or the older `max_tokens`. */
export function maxTokensOf(body: Json): unknown {
  return body.max_completion_tokens ?? body.max_tokens;
}

/** OpenAI's `stop` (a string or a list) as a list of stop sequences. */
export function stopSequences(stop: unknown): unknown[] | undefined {
  if (typeof stop === 'string') return [stop];
  return Array.isArray(stop) ? stop : undefined;
}

/** Copies each set (not null) field to `out`, under the provider's name: [openai, provider] pairs. */
export function copyParams(body: Json, out: Json, pairs: ReadonlyArray<readonly [string, string]>): void {
  for (const [from, to] of pairs) {
    const value = body[from];
    if (value !== undefined && value !== null) out[to] = value;
  }
}

/** The schema of a `json_schema` response format; it must be an object. */
export function jsonSchemaOf(format: Json): Json {
  const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
  if (!isRecord(schema)) throw invalidParam('response_format.json_schema.schema', 'must be an object');
  return schema;
}

/**
 * A user turn's content: a string as is, or parts, text kept and images converted by the
 * provider's `image` (any other part type is refused).
 */
export function userContentParts<T>(
  content: unknown,
  param: string,
  image: (part: Json, param: string) => T,
): string | (T | Json)[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalidParam(param, 'must be a string or an array of content parts');
  return content.map((part, index): T | Json => {
    const partParam = `${param}[${index}]`;
    if (!isRecord(part)) throw invalidParam(partParam, 'must be an object');
    if (part.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
    if (part.type === 'image_url') return image(part, partParam);
    throw invalidParam(
      `${partParam}.type`,
      `content part type ${JSON.stringify(part.type)} is not supported`,
    );
  });
}

export interface FunctionCall {
  id: unknown;
  name: unknown;
  /** The arguments as the client wrote them (`{}` when blank). */
  argumentsText: string;
  /** The same, parsed: always an object. */
  input: Json;
}

/** An assistant's function tool call, its arguments checked to be a JSON object. */
export function functionCallOf(call: unknown, param: string): FunctionCall {
  if (!isRecord(call) || !isRecord(call.function)) throw invalidParam(param, 'must be a function tool call');
  const fn = call.function;
  const argumentsText = typeof fn.arguments === 'string' && fn.arguments.trim() !== '' ? fn.arguments : '{}';
  let input: unknown;
  try {
    input = JSON.parse(argumentsText);
  } catch {
    throw invalidParam(`${param}.function.arguments`, 'is not valid JSON');
  }
  if (!isRecord(input)) throw invalidParam(`${param}.function.arguments`, 'must be a JSON object');
  return { id: call.id, name: fn.name, argumentsText, input };
}
