// A Gemini tool call's thoughtSignature rides in the Anthropic tool_use id (tool-use-id.ts): it
// survives the round trip to Gemini, and never reaches a provider that has no such field.
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { messagesTranslatorFor } from '../../src/translators/messages/index.js';
import { signatureOf, toolUseIdOf } from '../../src/translators/tool-use-id.js';
import type { BuildContext, ChatRequestBody } from '../../src/translators/types.js';

const SIGNATURE = 'CiQB0e2Kb4d+/=signature with spaces';

function secondTurn(id: string): ChatRequestBody {
  return {
    model: 'claude-haiku-4-5',
    max_tokens: 100,
    messages: [
      { role: 'user', content: 'Weather in Lyon?' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id, name: 'get_weather', input: { location: 'Lyon' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: '15°C' }] },
    ],
  };
}

function built(protocol: 'openai' | 'gemini', body: ChatRequestBody): string {
  const provider = {
    name: protocol,
    protocol,
    baseUrl: 'http://x',
    headers: {},
  } as unknown as ProviderConfig;
  const ctx: BuildContext = { provider, model: 'm', stream: false, body, rawBody: JSON.stringify(body) };
  const translator = messagesTranslatorFor(protocol);
  if (translator === undefined) throw new Error(`no translator for ${protocol}`);
  return translator.buildRequest(ctx).body;
}

describe('signatures carried in tool_use ids', () => {
  it('round-trips any signature and keeps the id within [A-Za-z0-9_-]', () => {
    const id = toolUseIdOf('call_1', SIGNATURE);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(signatureOf(id)).toBe(SIGNATURE);
    expect(toolUseIdOf('call_1', undefined)).toBe('call_1');
    expect(signatureOf('toolu_01A')).toBeUndefined();
  });

  it('gives the signature back to Gemini on the functionCall part, and sends OpenAI none', () => {
    const id = toolUseIdOf('call_1', SIGNATURE);
    const gemini = JSON.parse(built('gemini', secondTurn(id))) as {
      contents: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
    };
    const call = gemini.contents.flatMap((c) => c.parts).find((part) => part.functionCall !== undefined);
    expect(call?.thoughtSignature).toBe(SIGNATURE);

    const openai = built('openai', secondTurn(id));
    expect(openai).not.toContain('extra_content');
    expect(openai).not.toContain('thought_signature');
    // The ids still pair the call with its result.
    const sent = JSON.parse(openai) as { messages: Array<Record<string, unknown>> };
    const toolCalls = sent.messages[1]?.tool_calls as Array<{ id: string }>;
    expect(toolCalls[0]?.id).toBe(id);
    expect(sent.messages[2]?.tool_call_id).toBe(id);
  });
});
