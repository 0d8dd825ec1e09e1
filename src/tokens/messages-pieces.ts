// What of an Anthropic Messages request costs input tokens, as pieces for a local estimate: texts
// for the BPE counter, and fixed amounts for what a text tokenizer cannot see (images, PDFs, the
// chat formatting around each message). Read defensively: the route's schema checked the outline
// only, and blocks of types the gateway does not know are counted as their JSON.
import { isRecord, type JsonObject } from '../json-guards.js';

/** One image, whatever its size: Anthropic's cap (about 1.15 megapixels at 750 pixels a token). */
export const IMAGE_TOKENS = 1600;
/** One PDF page: Anthropic bills 1,500–3,000 text tokens plus the page as an image. */
export const PDF_PAGE_TOKENS = 3000;
/** A PDF whose pages cannot be found (compressed object streams): one token per this many bytes. */
export const PDF_BYTES_PER_TOKEN = 20;
/** The role and separators a chat format wraps each message in (OpenAI's cookbook: 3–4). */
export const MESSAGE_OVERHEAD = 4;
/** The assistant turn the answer starts in. */
export const REPLY_PRIMING = 3;
/** The wrapping of one tool definition beyond its name, description and schema. */
export const TOOL_OVERHEAD = 8;

export interface CountPieces {
  /** Texts to count with the BPE tokenizer. */
  texts: string[];
  /** Tokens no text stands for: images, PDFs, formatting. */
  fixed: number;
}

/** A page object of a PDF (`/Type /Page`, not the `/Pages` tree), as written uncompressed. */
const PDF_PAGE = /\/Type\s*\/Page(?![a-zA-Z])/g;

/** A base64 PDF's estimate: its pages when they can be found, else its size. */
export function pdfTokens(base64: string): number {
  const bytes = Buffer.from(base64, 'base64');
  const pages = bytes.toString('latin1').match(PDF_PAGE)?.length ?? 0;
  if (pages > 0) return pages * PDF_PAGE_TOKENS;
  return Math.max(PDF_PAGE_TOKENS, Math.ceil(bytes.length / PDF_BYTES_PER_TOKEN));
}

class PieceCollector {
  readonly pieces: CountPieces = { texts: [], fixed: 0 };

  text(value: unknown): void {
    if (typeof value === 'string' && value !== '') this.pieces.texts.push(value);
  }

  json(value: unknown): void {
    if (value !== undefined) this.text(JSON.stringify(value));
  }

  /** A message's `content`: a string or a list of blocks. */
  content(content: unknown): void {
    if (typeof content === 'string') this.text(content);
    else if (Array.isArray(content)) for (const block of content) this.block(block);
    else this.json(content);
  }

  block(block: unknown): void {
    if (!isRecord(block)) {
      this.json(block);
      return;
    }
    switch (block.type) {
      case 'text':
        this.text(block.text);
        break;
      case 'thinking':
        this.text(block.thinking);
        break;
      case 'redacted_thinking':
        // Encrypted reasoning: its text is not the model's tokens; about four characters a token.
        this.pieces.fixed += typeof block.data === 'string' ? Math.ceil(block.data.length / 4) : 0;
        break;
      case 'tool_use':
      case 'server_tool_use':
        this.text(block.name);
        this.json(block.input);
        break;
      case 'tool_result':
        this.content(block.content);
        break;
      case 'image':
        this.pieces.fixed += IMAGE_TOKENS;
        break;
      case 'document':
        this.document(block);
        break;
      default:
        this.json(block);
    }
  }

  document(block: JsonObject): void {
    this.text(block.title);
    this.text(block.context);
    const source = isRecord(block.source) ? block.source : {};
    if (source.type === 'text') this.text(source.data);
    else if (source.type === 'content') this.content(source.content);
    else if (source.type === 'base64' && typeof source.data === 'string')
      this.pieces.fixed += pdfTokens(source.data);
    // A URL or a Files API reference: nothing to read here; one page's worth.
    else this.pieces.fixed += PDF_PAGE_TOKENS;
  }

  system(system: unknown): void {
    if (system === undefined || system === null) return;
    this.pieces.fixed += MESSAGE_OVERHEAD;
    this.content(system);
  }

  tool(tool: unknown): void {
    this.pieces.fixed += TOOL_OVERHEAD;
    // A server tool (web search, bash…) is counted as its definition's JSON.
    if (!isRecord(tool) || (tool.type !== undefined && tool.type !== 'custom')) {
      this.json(tool);
      return;
    }
    this.text(tool.name);
    this.text(tool.description);
    this.json(tool.input_schema);
  }
}

/** The pieces of a count_tokens (or Messages) request body. */
export function messagesPieces(body: JsonObject): CountPieces {
  const collector = new PieceCollector();
  collector.system(body.system);
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const message of messages) {
    collector.pieces.fixed += MESSAGE_OVERHEAD;
    collector.content(isRecord(message) ? message.content : message);
  }
  if (Array.isArray(body.tools)) for (const tool of body.tools) collector.tool(tool);
  collector.pieces.fixed += REPLY_PRIMING;
  return collector.pieces;
}
