// The local count_tokens estimate: which encoding a model gets, and what of a Messages request is
// counted, against o200k_base / cl100k_base counts of known texts (worked out with the tokenizer).
import { describe, expect, it } from 'vitest';
import { encodingFor } from '../../src/tokens/encodings.js';
import { estimateInputTokens } from '../../src/tokens/estimate.js';
import {
  IMAGE_TOKENS,
  MESSAGE_OVERHEAD,
  messagesPieces,
  PDF_BYTES_PER_TOKEN,
  PDF_PAGE_TOKENS,
  pdfTokens,
  REPLY_PRIMING,
  TOOL_OVERHEAD,
} from '../../src/tokens/messages-pieces.js';

const FOX = 'The quick brown fox jumps over the lazy dog.'; // 10 tokens in both encodings
const TERSE = 'You are a terse assistant.'; // 6
const JAPANESE = 'こんにちは世界、今日はいい天気ですね。'; // o200k 9, cl100k 16

describe('encodingFor', () => {
  it('picks o200k_base for the GPT-4o, 4.1, 5 and o-series families', () => {
    for (const model of [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1-nano',
      'gpt-5',
      'o1',
      'o3-mini',
      'o4-mini',
      'openai/gpt-4o',
    ])
      expect(encodingFor(model), model).toBe('o200k_base');
  });

  it('picks cl100k_base for GPT-4 and GPT-3.5', () => {
    for (const model of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo', 'openai/gpt-4'])
      expect(encodingFor(model), model).toBe('cl100k_base');
  });

  it('estimates every other model with o200k_base', () => {
    for (const model of ['gemini-2.5-flash', 'command-r-plus', 'llama-3.3-70b', 'mistral-large'])
      expect(encodingFor(model), model).toBe('o200k_base');
  });
});

describe('estimateInputTokens', () => {
  it('counts system and message text plus the per-message formatting', async () => {
    const body = { model: 'gpt-4o', system: TERSE, messages: [{ role: 'user', content: FOX }] };
    const estimate = await estimateInputTokens(body, 'gpt-4o');
    expect(estimate).toEqual({
      inputTokens: MESSAGE_OVERHEAD + 6 + MESSAGE_OVERHEAD + 10 + REPLY_PRIMING,
      encoding: 'o200k_base',
    });
  });

  it('uses the model family encoding: cl100k_base counts Japanese text higher', async () => {
    const body = { model: 'x', messages: [{ role: 'user', content: JAPANESE }] };
    expect((await estimateInputTokens(body, 'gpt-4o')).inputTokens).toBe(
      MESSAGE_OVERHEAD + 9 + REPLY_PRIMING,
    );
    expect(await estimateInputTokens(body, 'gpt-4')).toEqual({
      inputTokens: MESSAGE_OVERHEAD + 16 + REPLY_PRIMING,
      encoding: 'cl100k_base',
    });
  });

  it('counts text blocks, thinking, tool_use name and input, tool_result content and tool definitions', async () => {
    const body = {
      model: 'gpt-4o',
      system: [{ type: 'text', text: TERSE, cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: FOX }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: FOX, signature: 'EqQBCkYIBxgCKkBsig==' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'Sunny, 21°C' }] },
          ],
        },
      ],
      tools: [
        {
          name: 'get_weather',
          description: 'Get the weather for a city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      ],
    };
    const system = MESSAGE_OVERHEAD + 6;
    const first = MESSAGE_OVERHEAD + 10;
    const second = MESSAGE_OVERHEAD + 10 + 2 + 5; // thinking, "get_weather", {"city":"Paris"}
    const third = MESSAGE_OVERHEAD + 5; // "Sunny, 21°C"
    const tools = TOOL_OVERHEAD + 2 + 6 + 19;
    expect((await estimateInputTokens(body, 'gpt-5')).inputTokens).toBe(
      system + first + second + third + tools + REPLY_PRIMING,
    );
  });

  it('counts an image at a fixed estimate and a text document as its text', async () => {
    const body = {
      model: 'x',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: FOX } },
          ],
        },
      ],
    };
    expect((await estimateInputTokens(body, 'gemini-2.5-pro')).inputTokens).toBe(
      MESSAGE_OVERHEAD + 2 * IMAGE_TOKENS + 10 + REPLY_PRIMING,
    );
  });

  it('counts special-token markers in client text as text, never refusing them', async () => {
    const body = { model: 'x', messages: [{ role: 'user', content: '<|endoftext|> hi' }] };
    expect((await estimateInputTokens(body, 'gpt-4o')).inputTokens).toBeGreaterThan(
      MESSAGE_OVERHEAD + REPLY_PRIMING,
    );
  });

  it('is never zero, even for an empty conversation', async () => {
    const body = { model: 'x', messages: [] };
    expect((await estimateInputTokens(body, 'gpt-4o')).inputTokens).toBe(REPLY_PRIMING);
  });

  it('counts a long prompt in slices without losing any of it', async () => {
    const text = `${FOX} `.repeat(40_000); // about 1.8 MB of text
    const body = {
      model: 'x',
      messages: [
        { role: 'user', content: text },
        { role: 'assistant', content: FOX },
      ],
    };
    const { inputTokens } = await estimateInputTokens(body, 'gpt-4o');
    expect(inputTokens).toBeGreaterThan(400_000);
    expect(inputTokens).toBeLessThan(450_000);
  });
});

describe('PDF estimate', () => {
  it('counts the pages of an uncompressed PDF', () => {
    const pdf =
      '%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n3 0 obj <</Type/Page>>\n';
    expect(pdfTokens(Buffer.from(pdf).toString('base64'))).toBe(2 * PDF_PAGE_TOKENS);
  });

  it('falls back on the size when no page object is readable, at least one page', () => {
    const small = Buffer.from('%PDF-1.7 compressed').toString('base64');
    expect(pdfTokens(small)).toBe(PDF_PAGE_TOKENS);
    const large = Buffer.alloc(200_000, 7).toString('base64');
    expect(pdfTokens(large)).toBe(200_000 / PDF_BYTES_PER_TOKEN);
  });

  it('a base64 PDF document block adds its estimate; a URL document one page', () => {
    const pdf = Buffer.from('<< /Type /Page >>').toString('base64');
    const pieces = messagesPieces({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf } },
            { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' }, title: 'Report' },
          ],
        },
      ],
    });
    expect(pieces.fixed).toBe(MESSAGE_OVERHEAD + 2 * PDF_PAGE_TOKENS + REPLY_PRIMING);
    expect(pieces.texts).toEqual(['Report']);
  });

  it('server tools and unknown blocks are counted as their JSON', () => {
    const search = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };
    const block = { type: 'search_result', source: 'https://example.com', title: 'T', content: [] };
    const pieces = messagesPieces({ messages: [{ role: 'user', content: [block] }], tools: [search] });
    expect(pieces.texts).toEqual([JSON.stringify(block), JSON.stringify(search)]);
  });
});
