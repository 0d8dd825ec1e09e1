// Narrowing for JSON that arrives as `unknown` (request bodies, upstream answers): one definition,
// used everywhere a translator or route looks inside a parsed value.

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
