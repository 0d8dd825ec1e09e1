// Anthropic Messages turns → OpenAI chat messages. A user turn's tool_result blocks become `tool`
// messages, which OpenAI wants right after the assistant message that made the calls, so they go
// first and the turn's other content follows as one user message. An assistant turn's tool_use
// blocks become tool_calls; thinking blocks (signed for Anthropic only) are left out.
import { isRecord } from '../../json-guards.js';
import { invalidParam as invalid } from '../request-params.js';
import { signatureOf } from '../tool-use-id.js';
import type { PdfRoute } from './chat-targets.js';
import type { Json } from './messages-types.js';

/** How a translated tool result marks an error, so the model sees it (OpenAI has no flag). */
export const TOOL_ERROR_PREFIX = 'Error: ';

/** An image block's source as an image_url part. */
function imagePart(block: Json, param: string): Json {
  const source = isRecord(block.source) ? block.source : {};
  if (source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string')
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  if (source.type === 'url' && typeof source.url === 'string')
    return { type: 'image_url', image_url: { url: source.url } };
  throw invalid(
    `${param}.source`,
    `image source type ${JSON.stringify(source.type)} cannot be sent to this provider (base64 or url only)`,
  );
}

function pdfPart(source: Json, title: unknown, pdf: PdfRoute, param: string): Json {
  if (pdf === 'file-part' && source.type === 'base64' && typeof source.data === 'string') {
    const filename = typeof title === 'string' && title !== '' ? title : 'document.pdf';
    return { type: 'file', file: { filename, file_data: `data:application/pdf;base64,${source.data}` } };
  }
  if (pdf === 'data-url' && source.type === 'base64' && typeof source.data === 'string')
    return { type: 'image_url', image_url: { url: `data:application/pdf;base64,${source.data}` } };
  if (pdf === 'data-url' && source.type === 'url' && typeof source.url === 'string')
    return { type: 'image_url', image_url: { url: source.url } };
  throw invalid(
    `${param}.source`,
    `a PDF document (source type ${JSON.stringify(source.type)}) cannot be sent to this provider`,
  );
}

/** A document block: plain text becomes text, a PDF goes the target's way. */
function documentParts(block: Json, pdf: PdfRoute, param: string): Json[] {
  const source = isRecord(block.source) ? block.source : {};
  if (source.type === 'text' && typeof source.data === 'string') return [{ type: 'text', text: source.data }];
  if (source.type === 'content') {
    const content =
      typeof source.content === 'string' ? [{ type: 'text', text: source.content }] : source.content;
    return textParts(content, `${param}.source.content`);
  }
  if (source.media_type === 'application/pdf' || source.type === 'url')
    return [pdfPart(source, block.title, pdf, param)];
  throw invalid(
    `${param}.source`,
    `document source type ${JSON.stringify(source.type)} cannot be sent to this provider`,
  );
}

/** Text blocks only (a document's `content` source). */
function textParts(content: unknown, param: string): Json[] {
  if (!Array.isArray(content)) throw invalid(param, 'must be an array of text blocks');
  return content.map((block, index) => {
    if (!isRecord(block) || typeof block.text !== 'string')
      throw invalid(`${param}[${index}]`, 'only text blocks are allowed here');
    return { type: 'text', text: block.text };
  });
}

/** Blocks that may appear in user content or inside a tool result, as chat content parts. */
function contentParts(block: Json, pdf: PdfRoute, param: string): Json[] {
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' && block.text !== '' ? [{ type: 'text', text: block.text }] : [];
    case 'image':
      return [imagePart(block, param)];
    case 'document':
      return documentParts(block, pdf, param);
    default:
      throw invalid(
        `${param}.type`,
        `content block type ${JSON.stringify(block.type)} cannot be sent to this provider`,
      );
  }
}

/**
 * One tool_result as a tool message. OpenAI's tool messages hold text only: its text blocks are
 * joined, and its images and documents come back as `media`, for the user message that follows.
 */
function toolMessage(block: Json, pdf: PdfRoute, param: string): { message: Json; media: Json[] } {
  if (typeof block.tool_use_id !== 'string') throw invalid(`${param}.tool_use_id`, 'is required');
  const texts: string[] = [];
  const media: Json[] = [];
  if (typeof block.content === 'string') texts.push(block.content);
  else if (Array.isArray(block.content)) {
    block.content.forEach((inner, index) => {
      const where = `${param}.content[${index}]`;
      if (!isRecord(inner)) throw invalid(where, 'must be an object');
      for (const part of contentParts(inner, pdf, where)) {
        if (part.type === 'text') texts.push(String(part.text));
        else media.push(part);
      }
    });
  } else if (block.content !== undefined && block.content !== null) {
    throw invalid(`${param}.content`, 'must be a string or an array of content blocks');
  }
  let text = texts.join('\n');
  if (block.is_error === true) text = text === '' ? 'Error' : `${TOOL_ERROR_PREFIX}${text}`;
  return { message: { role: 'tool', tool_call_id: block.tool_use_id, content: text }, media };
}

function userTurn(content: unknown, pdf: PdfRoute, param: string): Json[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content))
    throw invalid(`${param}.content`, 'must be a string or an array of content blocks');
  const tools: Json[] = [];
  const parts: Json[] = [];
  content.forEach((block, index) => {
    const where = `${param}.content[${index}]`;
    if (!isRecord(block)) throw invalid(where, 'must be an object');
    if (block.type === 'tool_result') {
      const { message, media } = toolMessage(block, pdf, where);
      tools.push(message);
      parts.push(...media);
    } else parts.push(...contentParts(block, pdf, where));
  });
  if (parts.length === 0) return tools;
  // A lone text part stays a plain string: the form every OpenAI-compatible server takes.
  const only = parts.length === 1 ? parts[0] : undefined;
  const userContent = only !== undefined && only.type === 'text' ? only.text : parts;
  return [...tools, { role: 'user', content: userContent }];
}

function assistantTurn(content: unknown, param: string, signatures: boolean): Json {
  if (typeof content === 'string') return { role: 'assistant', content };
  if (!Array.isArray(content))
    throw invalid(`${param}.content`, 'must be a string or an array of content blocks');
  const texts: string[] = [];
  const calls: Json[] = [];
  content.forEach((block, index) => {
    const where = `${param}.content[${index}]`;
    if (!isRecord(block)) throw invalid(where, 'must be an object');
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string' && block.text !== '') texts.push(block.text);
        return;
      case 'tool_use': {
        if (typeof block.id !== 'string' || typeof block.name !== 'string')
          throw invalid(where, 'a tool_use block needs a string id and name');
        const input = isRecord(block.input) ? block.input : {};
        const call: Json = {
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: JSON.stringify(input) },
        };
        // A Gemini signature that came back inside the id goes back to Gemini (tool-use-id.ts).
        const signature = signatures ? signatureOf(block.id) : undefined;
        if (signature !== undefined) call.extra_content = { google: { thought_signature: signature } };
        calls.push(call);
        return;
      }
      case 'thinking':
      case 'redacted_thinking':
        // Signed for Anthropic; another provider can neither check nor use it.
        return;
      default:
        throw invalid(
          `${where}.type`,
          `content block type ${JSON.stringify(block.type)} cannot be sent to this provider`,
        );
    }
  });
  const text = texts.join('\n\n');
  const message: Json = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

/** The Messages `messages` array as chat messages (after the system message, if any). */
export function chatMessagesOf(messages: unknown[], pdf: PdfRoute, signatures = false): Json[] {
  const out: Json[] = [];
  messages.forEach((message, index) => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw invalid(param, 'must be an object');
    if (message.role === 'user') out.push(...userTurn(message.content, pdf, param));
    else if (message.role === 'assistant') out.push(assistantTurn(message.content, param, signatures));
    else throw invalid(`${param}.role`, `must be "user" or "assistant", not ${JSON.stringify(message.role)}`);
  });
  return out;
}

/** `system` as one string: a string as is, text blocks joined by a blank line (cache_control dropped). */
export function systemTextOf(system: unknown): string | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system === '' ? undefined : system;
  if (!Array.isArray(system)) throw invalid('system', 'must be a string or an array of text blocks');
  const texts = system.map((block, index) => {
    if (!isRecord(block) || block.type !== 'text' || typeof block.text !== 'string')
      throw invalid(`system[${index}]`, 'only text blocks are allowed in system');
    return block.text;
  });
  const joined = texts.filter((text) => text !== '').join('\n\n');
  return joined === '' ? undefined : joined;
}
