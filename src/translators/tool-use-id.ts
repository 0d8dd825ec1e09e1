// A provider's signature on a tool call (Gemini's thoughtSignature, which Gemini 3 requires back on
// the next turn) has no field in an Anthropic tool_use block or a Responses function_call item. It
// rides in the call's id instead (the tool_use id, the Responses call_id), which every client returns
// untouched with the call and its result: the id gets a suffix holding the signature in base64url
// (the id stays within [A-Za-z0-9_-]), and the next request reads it back out. The whole id stays
// the chat tool-call id, so results still match.

const MARK = '__sig_';

/** The client-facing id for a chat tool call: its id, with the signature appended when there is one. */
export function toolUseIdOf(id: string, signature: string | undefined): string {
  if (signature === undefined || signature === '') return id;
  return `${id}${MARK}${Buffer.from(signature, 'utf8').toString('base64url')}`;
}

/** The signature a tool_use id or call_id carries, if any. */
export function signatureOf(id: string): string | undefined {
  const at = id.lastIndexOf(MARK);
  if (at === -1) return undefined;
  const encoded = id.slice(at + MARK.length);
  if (encoded === '' || !/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64url').toString('utf8');
}

/** Gemini's signature on an OpenAI-shaped tool call (`extra_content.google.thought_signature`). */
export function chatToolSignature(call: Record<string, unknown>): string | undefined {
  const extra = call.extra_content;
  if (typeof extra !== 'object' || extra === null) return undefined;
  const google = (extra as Record<string, unknown>).google;
  if (typeof google !== 'object' || google === null) return undefined;
  const signature = (google as Record<string, unknown>).thought_signature;
  return typeof signature === 'string' ? signature : undefined;
}
