// OpenAI Responses request → OpenAI chat request, the hub every chat translator takes. What the
// target cannot honour is dropped and named in the client's own vocabulary (`metadata`,
// `text.verbosity`, `reasoning.effort`…), and what cannot be translated at all (a built-in tool, a
// stored item) is a 400 naming the field. The gateway's own fields (store, previous_response_id,
// include, background, truncation) are consumed silently when they ask for nothing here.
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import { maxTokensField } from '../chat-hub.js';
import { invalidParam as invalid } from '../request-params.js';
import type { ChatRequestBody } from '../types.js';
import { chatMessagesOfInput } from './responses-input.js';
import type { ResponsesTarget } from './responses-targets.js';
import type { Json, ResponsesRequestBody } from './responses-types.js';

/** Responses fields this step translates (or the gateway handles); any other is dropped and named. */
const HANDLED = new Set([
  'model',
  'models',
  'input',
  'instructions',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'text',
  'reasoning',
  'max_output_tokens',
  'temperature',
  'top_p',
  'user',
  'safety_identifier',
  // The gateway's business on the bridged path: a stored chain is expanded before this step.
  'store',
  'previous_response_id',
  'include',
]);

/** Values that ask for nothing a bridged call could miss. */
const NEUTRAL: Readonly<Json> = { truncation: 'disabled', background: false, top_logprobs: 0 };

/**
 * The chat fields an inner translator may drop, named as the client wrote them. The chat name
 * stays for anything else.
 */
const CLIENT_NAMES: Readonly<Record<string, string>> = {
  max_tokens: 'max_output_tokens',
  max_completion_tokens: 'max_output_tokens',
  reasoning_effort: 'reasoning.effort',
  response_format: 'text.format',
  verbosity: 'text.verbosity',
  user: 'user',
  stream_options: 'stream',
};

export function clientParamName(chatName: string): string {
  return CLIENT_NAMES[chatName] ?? chatName;
}

const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

function builtInTool(tool: Json, index: number): GatewayError {
  const type = JSON.stringify(tool.type);
  return new GatewayError(
    'invalid_request',
    `tools[${index}]: the built-in tool ${type} runs only on OpenAI's Responses API; this model's provider cannot serve it`,
    { param: 'tools' },
  );
}

function functionTool(tool: unknown, index: number): Json {
  if (!isRecord(tool)) throw invalid(`tools[${index}]`, 'must be an object');
  if (tool.type !== 'function') throw builtInTool(tool, index);
  if (typeof tool.name !== 'string' || tool.name === '') throw invalid(`tools[${index}].name`, 'is required');
  const fn: Json = { name: tool.name };
  if (typeof tool.description === 'string') fn.description = tool.description;
  fn.parameters = isRecord(tool.parameters) ? tool.parameters : { type: 'object', properties: {} };
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function namedTool(name: unknown, param: string): Json {
  if (typeof name !== 'string' || name === '') throw invalid(param, 'is required');
  return { type: 'function', function: { name } };
}

/**
 * The Responses tool_choice as chat's. `allowed_tools` has no counterpart on most servers, so it is
 * done here: the tool list shrinks to the allowed functions and the mode becomes the choice.
 */
function addToolChoice(choice: unknown, chat: Json): void {
  if (choice === undefined || choice === null) return;
  if (choice === 'auto' || choice === 'none' || choice === 'required') {
    chat.tool_choice = choice;
    return;
  }
  if (!isRecord(choice)) throw invalid('tool_choice', 'must be "auto", "none", "required" or an object');
  if (choice.type === 'function') {
    chat.tool_choice = namedTool(choice.name, 'tool_choice.name');
    return;
  }
  if (choice.type === 'allowed_tools') {
    const allowed = Array.isArray(choice.tools) ? choice.tools : [];
    const names = new Set(
      allowed.map((tool, index) => {
        if (!isRecord(tool) || tool.type !== 'function' || typeof tool.name !== 'string')
          throw invalid(`tool_choice.tools[${index}]`, 'only function tools can be allowed here');
        return tool.name;
      }),
    );
    const tools = Array.isArray(chat.tools) ? (chat.tools as Json[]) : [];
    chat.tools = tools.filter((tool) => names.has(String((tool.function as Json).name)));
    chat.tool_choice = choice.mode === 'required' ? 'required' : 'auto';
    return;
  }
  throw new GatewayError(
    'invalid_request',
    `tool_choice: ${JSON.stringify(choice.type)} names a built-in tool that runs only on OpenAI's Responses API; this model's provider cannot serve it`,
    { param: 'tool_choice' },
  );
}

function addTools(body: ResponsesRequestBody, chat: Json): void {
  if (body.tools === undefined || body.tools === null) return;
  if (!Array.isArray(body.tools)) throw invalid('tools', 'must be an array');
  if (body.tools.length === 0) return; // tool_choice without tools asks for nothing.
  chat.tools = body.tools.map(functionTool);
  addToolChoice(body.tool_choice, chat);
  if (typeof body.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = body.parallel_tool_calls;
}

/** text.format → response_format; text.verbosity → chat's verbosity. */
function addText(text: unknown, chat: Json): void {
  if (text === undefined || text === null) return;
  if (!isRecord(text)) throw invalid('text', 'must be an object');
  if (typeof text.verbosity === 'string') chat.verbosity = text.verbosity;
  const format = text.format;
  if (format === undefined || format === null) return;
  if (!isRecord(format)) throw invalid('text.format', 'must be an object');
  switch (format.type) {
    case 'text':
      return;
    case 'json_object':
      chat.response_format = { type: 'json_object' };
      return;
    case 'json_schema': {
      if (!isRecord(format.schema)) throw invalid('text.format.schema', 'must be an object');
      const schema: Json = {
        name: typeof format.name === 'string' && format.name !== '' ? format.name : 'response',
        schema: format.schema,
      };
      if (typeof format.description === 'string') schema.description = format.description;
      if (typeof format.strict === 'boolean') schema.strict = format.strict;
      chat.response_format = { type: 'json_schema', json_schema: schema };
      return;
    }
    default:
      throw invalid('text.format.type', 'must be "text", "json_object" or "json_schema"');
  }
}

function addReasoning(reasoning: unknown, chat: Json, extra: Json, target: ResponsesTarget): void {
  if (reasoning === undefined || reasoning === null) return;
  if (!isRecord(reasoning)) throw invalid('reasoning', 'must be an object');
  const effort = reasoning.effort;
  if (effort === undefined || effort === null) return;
  if (typeof effort !== 'string' || !EFFORTS.has(effort))
    throw invalid('reasoning.effort', `must be one of ${[...EFFORTS].join(', ')}`);
  target.effort(effort, chat, extra);
}

export interface ChatRequestTranslation {
  body: ChatRequestBody;
  /** Responses fields nobody will honour, as the client named them. */
  droppedParams: string[];
}

/** The chat body for `model` (the routed upstream model) and the Responses request `body`. */
/** Fields that name state only OpenAI holds: answering without it would answer something else. */
const OPENAI_STATE: Readonly<Record<string, string>> = {
  conversation: "a conversation is stored by OpenAI's Conversations API",
  prompt: "a prompt template is stored by OpenAI's dashboard",
};

export function responsesToChat(
  body: ResponsesRequestBody,
  model: string,
  stream: boolean,
  target: ResponsesTarget,
): ChatRequestTranslation {
  for (const [field, why] of Object.entries(OPENAI_STATE)) {
    if (body[field] !== undefined && body[field] !== null)
      throw invalid(field, `${why}; this model is served through another provider`);
  }
  const dropped: string[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (HANDLED.has(field) || value === undefined || value === null) continue;
    if (Object.hasOwn(NEUTRAL, field) && NEUTRAL[field] === value) continue;
    dropped.push(field);
  }

  const messages = chatMessagesOfInput(body.input, {
    pdf: target.pdf,
    signatures: target.toolSignatures === true,
  });
  const instructions = body.instructions;
  if (typeof instructions === 'string' && instructions !== '')
    messages.unshift({ role: 'system', content: instructions });
  else if (instructions !== undefined && instructions !== null && typeof instructions !== 'string')
    throw invalid('instructions', 'must be a string');
  if (messages.length === 0) throw invalid('input', 'must hold at least one message');

  const chat: Json = { model, messages };
  if (typeof body.max_output_tokens === 'number') chat[maxTokensField(model)] = body.max_output_tokens;
  if (typeof body.temperature === 'number') chat.temperature = body.temperature;
  if (typeof body.top_p === 'number') chat.top_p = body.top_p;
  const user = body.user ?? body.safety_identifier;
  if (typeof user === 'string' && user !== '') chat.user = user;
  addTools(body, chat);
  addText(body.text, chat);

  const extra: Json = {};
  addReasoning(body.reasoning, chat, extra, target);
  if (Object.keys(extra).length > 0) chat.extra_body = extra;
  if (stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return { body: chat as ChatRequestBody, droppedParams: dropped };
}
