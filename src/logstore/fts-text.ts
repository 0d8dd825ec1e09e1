// The searchable text of one exchange, by who wrote it: system, user, assistant (earlier turns),
// tool (tool-call arguments and tool results) and the answer. Reads the OpenAI shapes the request
// log keeps (chat messages with string or part contents, embeddings input, image prompts).

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

function contentText(content: unknown): string {
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

function toolCallArguments(calls: unknown, into: string[]): void {
  if (!Array.isArray(calls)) return;
  for (const call of calls) {
    const fn = asObject(asObject(call)?.function);
    if (fn === undefined) continue;
    if (typeof fn.name === 'string') into.push(fn.name);
    if (typeof fn.arguments === 'string') into.push(fn.arguments);
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
    if (Array.isArray(body.messages)) {
      for (const message of body.messages) {
        const m = asObject(message);
        if (m === undefined) continue;
        const text = contentText(m.content);
        switch (m.role) {
          case 'system':
          case 'developer':
            system.push(text);
            break;
          case 'assistant':
            assistant.push(text);
            toolCallArguments(m.tool_calls, tool);
            break;
          case 'tool':
          case 'function':
            tool.push(text);
            break;
          default:
            user.push(text);
        }
      }
    }
    if (typeof body.prompt === 'string') user.push(body.prompt);
    if (typeof body.input === 'string') user.push(body.input);
    else if (Array.isArray(body.input)) {
      for (const item of body.input) if (typeof item === 'string') user.push(item);
    }
  }
  const reply = asObject(response);
  if (reply !== undefined && Array.isArray(reply.choices)) {
    for (const choice of reply.choices) {
      const c = asObject(choice);
      const message = asObject(c?.message) ?? asObject(c?.delta);
      if (message !== undefined) {
        answer.push(contentText(message.content));
        toolCallArguments(message.tool_calls, tool);
      } else if (typeof c?.text === 'string') {
        answer.push(c.text);
      }
    }
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
