// An exchange's request and answer as turns of a conversation, read from whichever dialect it was:
// OpenAI chat (messages, tool_calls, choices), Anthropic Messages (system, content blocks), OpenAI
// Responses (instructions, input items, output items). Anything else is shown as JSON by the page.

export interface ToolCall {
  name: string;
  arguments: string;
}

export interface Turn {
  role: string;
  text: string;
  toolCalls: ToolCall[];
}

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

function str(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

/** Text and tool calls of a message's content in any of the three shapes. */
function contentOf(content: unknown): { text: string; toolCalls: ToolCall[] } {
  if (typeof content === 'string') return { text: content, toolCalls: [] };
  if (!Array.isArray(content)) return { text: '', toolCalls: [] };
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const item of content) {
    const part = obj(item);
    if (part === undefined) continue;
    if (typeof part.text === 'string') texts.push(part.text);
    else if (part.type === 'tool_use') toolCalls.push({ name: str(part.name), arguments: str(part.input) });
    else if (part.type === 'tool_result') texts.push(contentOf(part.content).text || str(part.content));
    else if (part.type === 'image_url' || part.type === 'image' || part.type === 'input_image')
      texts.push('[image]');
  }
  return { text: texts.join('\n'), toolCalls };
}

function chatToolCalls(value: unknown): ToolCall[] {
  if (!Array.isArray(value)) return [];
  return value.map((call) => {
    const fn = obj(obj(call)?.function);
    return { name: str(fn?.name), arguments: str(fn?.arguments) };
  });
}

function turnOf(message: unknown): Turn | undefined {
  const m = obj(message);
  if (m === undefined) return undefined;
  if (m.type === 'function_call') {
    return { role: 'assistant', text: '', toolCalls: [{ name: str(m.name), arguments: str(m.arguments) }] };
  }
  if (m.type === 'function_call_output') return { role: 'tool', text: str(m.output), toolCalls: [] };
  if (typeof m.role !== 'string') return undefined;
  const { text, toolCalls } = contentOf(m.content);
  return { role: m.role, text, toolCalls: [...toolCalls, ...chatToolCalls(m.tool_calls)] };
}

/** The turns the client sent: system prompt first, then the messages or input items. */
export function requestTurns(request: unknown): Turn[] {
  const body = obj(request);
  if (body === undefined) return [];
  const turns: Turn[] = [];
  const system = body.system ?? body.instructions;
  if (system !== undefined && system !== null) {
    turns.push({ role: 'system', text: contentOf(system).text || str(system), toolCalls: [] });
  }
  const list = Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : [];
  if (typeof body.input === 'string') turns.push({ role: 'user', text: body.input, toolCalls: [] });
  if (typeof body.prompt === 'string') turns.push({ role: 'user', text: body.prompt, toolCalls: [] });
  for (const message of list) {
    const turn = turnOf(message);
    if (turn !== undefined) turns.push(turn);
  }
  return turns;
}

/** The answer as one assistant turn (chat choices, a Messages message, Responses output items). */
export function answerTurn(response: unknown): Turn | undefined {
  const body = obj(response);
  if (body === undefined)
    return typeof response === 'string' ? { role: 'assistant', text: response, toolCalls: [] } : undefined;
  if (Array.isArray(body.choices)) {
    const message = obj(obj(body.choices[0])?.message);
    if (message === undefined) return undefined;
    return {
      role: 'assistant',
      text: str(message.content),
      toolCalls: chatToolCalls(message.tool_calls),
    };
  }
  if (Array.isArray(body.content)) return { role: 'assistant', ...contentOf(body.content) };
  if (Array.isArray(body.output)) {
    const texts: string[] = [];
    const toolCalls: ToolCall[] = [];
    for (const item of body.output) {
      const turn = turnOf(item);
      if (turn === undefined) continue;
      if (turn.text !== '') texts.push(turn.text);
      toolCalls.push(...turn.toolCalls);
    }
    return { role: 'assistant', text: texts.join('\n'), toolCalls };
  }
  return undefined;
}
