// The Responses `input` → OpenAI chat messages. A string is one user message; a list of items
// becomes turns: messages (roles user, assistant, system, developer; content a string or parts),
// function_call items (consecutive ones, and the assistant message before them, are ONE assistant
// message with tool_calls), function_call_output items (tool messages; their images and files
// follow as a user message, since a chat tool message holds text only). Reasoning items are
// dropped: they are the model's own and cannot be replayed elsewhere (so are references to them).
// What needs OpenAI's storage or tools (any other item_reference, file_id, built-in tool calls) is a
// 400 naming the item.
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import type { PdfRoute } from '../messages/chat-targets.js';
import { invalidParam as invalid } from '../request-params.js';
import { signatureOf } from '../tool-use-id.js';
import type { Json } from './responses-types.js';

export interface InputOptions {
  pdf: PdfRoute;
  /** Gemini's signatures, carried in call ids, go back on the calls. */
  signatures: boolean;
}

const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?,/;

/** A PDF (or other file) as a data URL: OpenAI's SDKs send one; a bare base64 string is a PDF. */
function fileDataUrl(data: string): string {
  return DATA_URL.test(data) ? data : `data:application/pdf;base64,${data}`;
}

function imagePart(part: Json, param: string): Json {
  if (typeof part.file_id === 'string' && part.image_url === undefined)
    throw invalid(
      `${param}.file_id`,
      'an image by file_id needs OpenAI file storage; this model is served through another provider (send image_url as a URL or data URL)',
    );
  const url = part.image_url;
  if (typeof url !== 'string' || url === '') throw invalid(`${param}.image_url`, 'is required');
  const image: Json = { url };
  if (typeof part.detail === 'string' && part.detail !== 'auto') image.detail = part.detail;
  return { type: 'image_url', image_url: image };
}

function filePart(part: Json, pdf: PdfRoute, param: string): Json {
  if (typeof part.file_id === 'string')
    throw invalid(
      `${param}.file_id`,
      'a file by file_id needs OpenAI file storage; this model is served through another provider (send file_data)',
    );
  const filename = typeof part.filename === 'string' && part.filename !== '' ? part.filename : 'document.pdf';
  if (typeof part.file_data === 'string' && part.file_data !== '') {
    const url = fileDataUrl(part.file_data);
    if (pdf === 'file-part') return { type: 'file', file: { filename, file_data: url } };
    if (pdf === 'data-url') return { type: 'image_url', image_url: { url } };
  } else if (typeof part.file_url === 'string' && part.file_url !== '') {
    if (pdf === 'data-url') return { type: 'image_url', image_url: { url: part.file_url } };
  } else {
    throw invalid(param, 'an input_file needs file_data');
  }
  throw invalid(param, `this file (${filename}) cannot be sent to this model's provider`);
}

/** A part of user content (or of a function_call_output) as a chat content part. */
function userPart(part: unknown, pdf: PdfRoute, param: string): Json {
  if (!isRecord(part)) throw invalid(param, 'must be an object');
  switch (part.type) {
    case 'input_text':
      if (typeof part.text !== 'string') throw invalid(`${param}.text`, 'must be a string');
      return { type: 'text', text: part.text };
    case 'input_image':
      return imagePart(part, param);
    case 'input_file':
      return filePart(part, pdf, param);
    default:
      throw invalid(
        `${param}.type`,
        `content part type ${JSON.stringify(part.type)} cannot be sent to this provider`,
      );
  }
}

function userContent(content: unknown, pdf: PdfRoute, param: string): unknown {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(param, 'must be a string or an array of content parts');
  const parts = content.map((part, index) => userPart(part, pdf, `${param}[${index}]`));
  // A lone text part stays a plain string: the form every OpenAI-compatible server takes.
  const only = parts.length === 1 ? parts[0] : undefined;
  return only !== undefined && only.type === 'text' ? only.text : parts;
}

/** Text-only content (assistant, system, developer): a string, or text parts joined. */
function textContent(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(param, 'must be a string or an array of content parts');
  return content
    .map((part, index) => {
      const where = `${param}[${index}]`;
      if (!isRecord(part)) throw invalid(where, 'must be an object');
      if ((part.type === 'output_text' || part.type === 'input_text') && typeof part.text === 'string')
        return part.text;
      if (part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
      throw invalid(`${where}.type`, `only text parts are allowed here, not ${JSON.stringify(part.type)}`);
    })
    .join('');
}

/** Item types that only OpenAI's built-in tools produce. */
const BUILT_IN_ITEMS =
  /^(?:web_search_call|file_search_call|computer_call|computer_call_output|code_interpreter_call|image_generation_call|local_shell_call|local_shell_call_output|shell_call|shell_call_output|apply_patch_call|apply_patch_call_output|mcp_\w+|custom_tool_call|custom_tool_call_output|tool_search_call|tool_search_output)$/;

class ChatTurns {
  readonly messages: Json[] = [];
  /** Images and files from tool outputs, waiting for the end of the run of tool messages. */
  private media: Json[] = [];

  constructor(private readonly options: InputOptions) {}

  push(message: Json): void {
    if (message.role !== 'tool') this.flushMedia();
    this.messages.push(message);
  }

  /** The assistant message function calls join: the last message if it is one, else a new one. */
  assistantForCalls(): Json {
    const last = this.messages.at(-1);
    if (this.media.length === 0 && last !== undefined && last.role === 'assistant') return last;
    const message: Json = { role: 'assistant', content: null };
    this.push(message);
    return message;
  }

  functionCall(item: Json, param: string): void {
    if (typeof item.call_id !== 'string' || item.call_id === '')
      throw invalid(`${param}.call_id`, 'is required');
    if (typeof item.name !== 'string' || item.name === '') throw invalid(`${param}.name`, 'is required');
    const args = typeof item.arguments === 'string' && item.arguments.trim() !== '' ? item.arguments : '{}';
    const call: Json = { id: item.call_id, type: 'function', function: { name: item.name, arguments: args } };
    const signature = this.options.signatures ? signatureOf(item.call_id) : undefined;
    if (signature !== undefined) call.extra_content = { google: { thought_signature: signature } };
    const message = this.assistantForCalls();
    const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
    calls.push(call);
    message.tool_calls = calls;
    if (message.content === '') message.content = null;
  }

  functionCallOutput(item: Json, param: string): void {
    if (typeof item.call_id !== 'string' || item.call_id === '')
      throw invalid(`${param}.call_id`, 'is required');
    let text: string;
    if (typeof item.output === 'string') text = item.output;
    else if (Array.isArray(item.output)) {
      const texts: string[] = [];
      item.output.forEach((part, index) => {
        const converted = userPart(part, this.options.pdf, `${param}.output[${index}]`);
        if (converted.type === 'text') texts.push(String(converted.text));
        else this.media.push(converted);
      });
      text = texts.join('\n');
    } else throw invalid(`${param}.output`, 'must be a string or an array of content parts');
    this.messages.push({ role: 'tool', tool_call_id: item.call_id, content: text });
  }

  message(item: Json, param: string): void {
    switch (item.role) {
      case 'user':
        this.push({ role: 'user', content: userContent(item.content, this.options.pdf, `${param}.content`) });
        return;
      case 'assistant':
        this.push({ role: 'assistant', content: textContent(item.content, `${param}.content`) });
        return;
      case 'system':
      case 'developer':
        // `developer` is OpenAI's newer name; chat-only servers know `system`.
        this.push({ role: 'system', content: textContent(item.content, `${param}.content`) });
        return;
      default:
        throw invalid(
          `${param}.role`,
          `must be "user", "assistant", "system" or "developer", not ${JSON.stringify(item.role)}`,
        );
    }
  }

  flushMedia(): void {
    if (this.media.length === 0) return;
    const media = this.media;
    this.media = [];
    this.messages.push({ role: 'user', content: media });
  }
}

function item(turns: ChatTurns, value: unknown, param: string): void {
  if (!isRecord(value)) throw invalid(param, 'must be an object');
  const type = value.type ?? (value.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message':
      turns.message(value, param);
      return;
    case 'function_call':
      turns.functionCall(value, param);
      return;
    case 'function_call_output':
      turns.functionCallOutput(value, param);
      return;
    case 'reasoning':
      return;
    case 'item_reference':
      // A reference to a reasoning item (the Vercel AI SDK sends them while store is on) stands
      // for an item that would be dropped anyway. Any other reference needs the stored item, which
      // the gateway resolves before this step when it holds it.
      if (typeof value.id === 'string' && value.id.startsWith('rs_')) return;
      throw invalid(
        param,
        'an item_reference needs the item stored upstream; send the item itself (or use previous_response_id)',
      );
    default:
      if (typeof type === 'string' && BUILT_IN_ITEMS.test(type))
        throw new GatewayError(
          'invalid_request',
          `${param}: a ${type} item belongs to a built-in tool that runs only on OpenAI; this model's provider cannot serve it`,
          { param: `${param}.type` },
        );
      throw invalid(`${param}.type`, `item type ${JSON.stringify(type)} cannot be sent to this provider`);
  }
}

/** `input` (a string or items) as chat messages, after any instructions. */
export function chatMessagesOfInput(input: unknown, options: InputOptions): Json[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw invalid('input', 'must be a string or an array of items');
  const turns = new ChatTurns(options);
  input.forEach((value, index) => {
    item(turns, value, `input[${index}]`);
  });
  turns.flushMedia();
  return turns.messages;
}
