// The searchable text of one exchange, by who wrote it: system, user, assistant (earlier turns),
// tool (tool calls' names and arguments, tool results) and the answer. Reads the shapes the request
// log keeps, told apart by shape: OpenAI chat (messages with string or part contents), embeddings
// input and image prompts; the Anthropic Messages API (a top-level `system`, content blocks:
// text, tool_use, tool_result, thinking, plain-text documents) and its answer, a Message; the OpenAI
// Responses API (`instructions`, `input` as a string or items: messages by role, function calls and
// their outputs, reasoning summaries) and its answer, a Response with its output items.

export interface RequestText {
  system_text: string;
  user_text: string;
  assistant_text: string;
  tool_text: string;
  answer_text: string;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Where the parts of one message's content go. */
interface Sinks {
  /** Text parts and blocks. */
  text: string[];
  /** Tool calls (name, then the arguments as JSON) and tool results. */
  tool: string[];
  /** Thinking blocks. */
  thinking: string[];
}

/** A tool result's or a system prompt's content: a string or text blocks. */
function plainText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') parts.push(part);
    else {
      const text = asObject(part)?.text;
      if (typeof text === 'string') parts.push(text);
    }
  }
  return parts.join('\n');
}

function toolInput(input: unknown): string {
  if (input === undefined) return '';
  return typeof input === 'string' ? input : (JSON.stringify(input) ?? '');
}

/** One block or part of a content array (OpenAI parts and Anthropic blocks alike). */
function readPart(part: unknown, into: Sinks): void {
  if (typeof part === 'string') {
    into.text.push(part);
    return;
  }
  const p = asObject(part);
  if (p === undefined) return;
  switch (p.type) {
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      if (typeof p.name === 'string') into.tool.push(p.name);
      into.tool.push(toolInput(p.input));
      return;
    case 'tool_result':
    case 'mcp_tool_result':
      into.tool.push(plainText(p.content));
      return;
    case 'thinking':
      if (typeof p.thinking === 'string') into.thinking.push(p.thinking);
      return;
    case 'refusal':
      if (typeof p.refusal === 'string') into.text.push(p.refusal);
      return;
    case 'document': {
      // A plain-text document's text; PDFs and URLs have nothing to search.
      const source = asObject(p.source);
      if (source?.type === 'text' && typeof source.data === 'string') into.text.push(source.data);
      else if (source?.type === 'content') into.text.push(plainText(source.content));
      return;
    }
    default:
      if (typeof p.text === 'string') into.text.push(p.text);
  }
}

function readContent(content: unknown, into: Sinks): void {
  if (typeof content === 'string') into.text.push(content);
  else if (Array.isArray(content)) for (const part of content) readPart(part, into);
}

function toolCallArguments(calls: unknown, into: string[]): void {
  if (!Array.isArray(calls)) return;
  for (const call of calls) {
    const fn = asObject(asObject(call)?.function);
    if (fn === undefined) continue;
    if (typeof fn.name === 'string') into.push(fn.name);
    if (typeof fn.arguments === 'string') into.push(fn.arguments);
  }
}

/** Who wrote what in Responses items: the words of a request's `input` or of a Response's `output`. */
interface ItemSinks {
  system: string[];
  user: string[];
  /** Assistant turns: earlier answers in a request, the answer itself in a Response. */
  assistant: string[];
  tool: string[];
}

/** A reasoning item's words: its summary and, where the model gives it, its reasoning text. */
function reasoningText(item: Record<string, unknown>, into: string[]): void {
  for (const list of [item.summary, item.content]) {
    if (!Array.isArray(list)) continue;
    for (const part of list) {
      const text = asObject(part)?.text;
      if (typeof text === 'string') into.push(text);
    }
  }
}

/** One Responses item (input or output): messages by role, tool calls and outputs, reasoning. */
function readItem(value: unknown, into: ItemSinks): void {
  if (typeof value === 'string') {
    into.user.push(value);
    return;
  }
  const item = asObject(value);
  if (item === undefined) return;
  switch (item.type) {
    case 'function_call':
    case 'custom_tool_call':
      if (typeof item.name === 'string') into.tool.push(item.name);
      into.tool.push(toolInput(item.arguments ?? item.input));
      return;
    case 'function_call_output':
    case 'custom_tool_call_output':
      into.tool.push(plainText(item.output));
      return;
    case 'reasoning':
      reasoningText(item, into.assistant);
      return;
    case undefined:
    case 'message':
      break;
    default:
      // item references, built-in tool calls and their results: no words of anyone's
      return;
  }
  switch (item.role) {
    case 'system':
    case 'developer':
      readContent(item.content, { text: into.system, tool: into.tool, thinking: into.system });
      return;
    case 'assistant':
      readContent(item.content, { text: into.assistant, tool: into.tool, thinking: into.assistant });
      return;
    default:
      readContent(item.content, { text: into.user, tool: into.tool, thinking: into.user });
  }
}

export function extractRequestText(request: unknown, response: unknown): RequestText {
  const system: string[] = [];
  const user: string[] = [];
  const assistant: string[] = [];
  const tool: string[] = [];
  const answer: string[] = [];
  const body = asObject(request);
  if (body !== undefined) {
    // The Messages API's system prompt: a string or text blocks.
    if (body.system !== undefined) system.push(plainText(body.system));
    if (Array.isArray(body.messages)) {
      for (const message of body.messages) {
        const m = asObject(message);
        if (m === undefined) continue;
        switch (m.role) {
          case 'system':
          case 'developer':
            readContent(m.content, { text: system, tool, thinking: system });
            break;
          case 'assistant':
            readContent(m.content, { text: assistant, tool, thinking: assistant });
            toolCallArguments(m.tool_calls, tool);
            break;
          case 'tool':
          case 'function':
            readContent(m.content, { text: tool, tool, thinking: tool });
            break;
          default:
            readContent(m.content, { text: user, tool, thinking: user });
        }
      }
    }
    if (typeof body.prompt === 'string') user.push(body.prompt);
    // The Responses API's system prompt.
    if (typeof body.instructions === 'string') system.push(body.instructions);
    if (typeof body.input === 'string') user.push(body.input);
    else if (Array.isArray(body.input)) {
      // Strings are embeddings inputs (or Responses shorthand); objects are Responses items.
      for (const item of body.input) readItem(item, { system, user, assistant, tool });
    }
  }
  const reply = asObject(response);
  if (reply !== undefined && Array.isArray(reply.choices)) {
    for (const choice of reply.choices) {
      const c = asObject(choice);
      const message = asObject(c?.message) ?? asObject(c?.delta);
      if (message !== undefined) {
        readContent(message.content, { text: answer, tool, thinking: answer });
        toolCallArguments(message.tool_calls, tool);
      } else if (typeof c?.text === 'string') {
        answer.push(c.text);
      }
    }
  } else if (reply !== undefined && reply.type === 'message' && Array.isArray(reply.content)) {
    // A Messages answer: its text and thinking are the answer; its tool calls are tool text, as a
    // chat answer's are.
    readContent(reply.content, { text: answer, tool, thinking: answer });
  } else if (reply !== undefined && reply.object === 'response' && Array.isArray(reply.output)) {
    // A Response: its messages and reasoning are the answer; its function calls are tool text.
    for (const item of reply.output)
      readItem(item, { system: answer, user: answer, assistant: answer, tool });
  }
  const join = (parts: string[]) => parts.filter((p) => p !== '').join('\n');
  return {
    system_text: join(system),
    user_text: join(user),
    assistant_text: join(assistant),
    tool_text: join(tool),
    answer_text: join(answer),
  };
}
