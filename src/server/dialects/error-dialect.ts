// Which dialect's error shape a request gets on the Fastify side (the fast path knows its own):
// everything under /v1/messages is Anthropic's, and so is /v1/models when the client says it speaks
// Anthropic's API (an anthropic-version header, which every Anthropic SDK sends).
import type { IncomingHttpHeaders } from 'node:http';
import { anthropicMessages, MESSAGES_PATH } from './anthropic-messages.js';
import type { Dialect } from './dialect.js';
import { openAIChat } from './openai-chat.js';

function under(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  const next = path.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

export function errorDialectOf(url: string, headers: IncomingHttpHeaders): Dialect {
  if (under(url, MESSAGES_PATH)) return anthropicMessages;
  if (under(url, '/v1/models') && headers['anthropic-version'] !== undefined) return anthropicMessages;
  return openAIChat;
}
