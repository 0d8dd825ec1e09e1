// `ai-proxy call PROMPT`: sends one chat request to a running gateway and prints the answer
// (streamed with --stream). The key comes from -k, else FORWARDER_KEY (environment or .env).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseDotenv } from 'dotenv';
import { SseParser } from '../streaming/sse-parser.js';
import { fail, parseInteger, parseNumber } from './parse.js';

interface CallOptions {
  model?: string;
  key?: string;
  server: string;
  temp?: number;
  maxTok?: number;
  system?: string;
  stream?: boolean;
}

function forwarderKey(): string | undefined {
  if (process.env.FORWARDER_KEY) return process.env.FORWARDER_KEY;
  const path = join(process.cwd(), '.env');
  return existsSync(path) ? parseDotenv(readFileSync(path)).FORWARDER_KEY : undefined;
}

export function buildCallBody(prompt: string, options: CallOptions): Record<string, unknown> {
  const messages: { role: string; content: string }[] = [];
  if (options.system !== undefined) messages.push({ role: 'system', content: options.system });
  messages.push({ role: 'user', content: prompt });
  const body: Record<string, unknown> = { messages };
  if (options.model !== undefined) body.model = options.model;
  if (options.temp !== undefined) body.temperature = options.temp;
  if (options.maxTok !== undefined) body.max_tokens = options.maxTok;
  if (options.stream) body.stream = true;
  return body;
}

function errorMessage(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    if (parsed.error?.message) return `HTTP ${status}: ${parsed.error.message}`;
  } catch {
    // not JSON: show the text
  }
  return `HTTP ${status}: ${text.slice(0, 500)}`;
}

async function printStream(body: ReadableStream<Uint8Array>): Promise<void> {
  const parser = new SseParser();
  const handle = (data: string) => {
    if (data === '[DONE]') return;
    const chunk = JSON.parse(data) as {
      error?: { message?: string };
      choices?: { delta?: { content?: string | null } }[];
    };
    if (chunk.error) fail(`stream error: ${chunk.error.message ?? 'unknown'}`);
    const text = chunk.choices?.[0]?.delta?.content;
    if (text) process.stdout.write(text);
  };
  for await (const piece of body) for (const event of parser.push(piece)) handle(event.data);
  for (const event of parser.end()) handle(event.data);
  process.stdout.write('\n');
}

export async function runCall(prompt: string, options: CallOptions): Promise<void> {
  const key = options.key ?? forwarderKey();
  if (key === undefined) fail('no key: pass -k KEY or set FORWARDER_KEY (in the environment or .env)');
  const url = `${options.server.replace(/\/+$/, '')}/v1/chat/completions`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(buildCallBody(prompt, options)),
    });
  } catch (error) {
    fail(
      `cannot reach ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
    );
  }
  const via = `${response.headers.get('x-ai-proxy-provider') ?? '?'} / ${response.headers.get('x-ai-proxy-model') ?? '?'}`;
  if (!response.ok) fail(errorMessage(response.status, await response.text()));
  process.stderr.write(`[${via}]\n`);
  if (options.stream && response.body !== null) {
    await printStream(response.body);
    return;
  }
  const completion = (await response.json()) as {
    choices?: { message?: { content?: string | null; tool_calls?: unknown } }[];
  };
  const message = completion.choices?.[0]?.message;
  const text = message?.content ?? (message?.tool_calls ? JSON.stringify(message.tool_calls) : '');
  process.stdout.write(`${text}\n`);
}

export function registerCallCommand(program: Command): void {
  program
    .command('call')
    .description('send a test chat request to a running gateway')
    .argument('<prompt>', 'the user prompt')
    .option('-m, --model <model>', 'model to use; omit it to test the PROVIDERS_PRIORITY fallback')
    .option('-k, --key <key>', 'client key (default: FORWARDER_KEY)')
    .option('--server <url>', 'gateway URL', 'http://127.0.0.1:8123')
    .option('-t, --temp <t>', 'temperature', parseNumber(0, 2))
    .option('--max-tok <n>', 'max tokens to generate', parseInteger(1, 10_000_000))
    .option('-s, --system <text>', 'system prompt')
    .option('--stream', 'stream the answer as it is generated')
    .action(runCall);
}
