// A request shaped like the ones Claude Code sends: system blocks with cache_control, twenty tools,
// thinking on, metadata.user_id, streamed, and a prior assistant turn holding a signed thinking
// block and a tool_use answered by a tool_result.

const TOOL_NAMES = [
  'Task',
  'Bash',
  'Glob',
  'Grep',
  'LS',
  'ExitPlanMode',
  'Read',
  'Edit',
  'MultiEdit',
  'Write',
  'NotebookEdit',
  'WebFetch',
  'TodoWrite',
  'WebSearch',
  'BashOutput',
  'KillShell',
  'SlashCommand',
  'ListMcpResources',
  'ReadMcpResource',
  'AskUser',
];

function tool(name: string, index: number): Record<string, unknown> {
  const tool: Record<string, unknown> = {
    name,
    description: `${name}: a tool of the coding agent, number ${index + 1}. Use it when the task calls for it.`,
    input_schema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'An absolute path' },
        command: { type: 'string' },
        limit: { type: 'number' },
      },
      required: index % 2 === 0 ? ['path'] : ['command'],
      additionalProperties: false,
      $schema: 'http://json-schema.org/draft-07/schema#',
    },
  };
  // Claude Code marks the last tool as a cache breakpoint.
  if (index === TOOL_NAMES.length - 1) tool.cache_control = { type: 'ephemeral' };
  return tool;
}

export function claudeCodeRequest(model: string): Record<string, unknown> {
  return {
    model,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: '<system-reminder>Context: a TypeScript repository.</system-reminder>' },
          { type: 'text', text: 'What is in src/index.ts? Read it.', cache_control: { type: 'ephemeral' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          {
            type: 'thinking',
            thinking: 'I should read the file with the Read tool — “quoted” text and a \\ backslash.',
            signature: 'ErUBCkYIBRgCIkDQ0uj7c6p3WvZbT0nq8gK6Wl1Zs4mB9Gf0Ue8Yb3rT6sQ==',
          },
          { type: 'text', text: 'Let me read it.' },
          { type: 'tool_use', id: 'toolu_01ReadIndex', name: 'Read', input: { path: '/repo/src/index.ts' } },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_01ReadIndex',
            content: [{ type: 'text', text: "export const main = () => console.log('hi');" }],
          },
          { type: 'text', text: 'Now add a test for it.', cache_control: { type: 'ephemeral' } },
        ],
      },
    ],
    temperature: 1,
    system: [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
      {
        type: 'text',
        text: 'You are an interactive CLI tool that helps users with software engineering tasks.',
        cache_control: { type: 'ephemeral' },
      },
    ],
    tools: TOOL_NAMES.map(tool),
    metadata: { user_id: 'user_4f2a_account_9c1e_session_77ab' },
    max_tokens: 32000,
    thinking: { type: 'enabled', budget_tokens: 31999 },
    stream: true,
  };
}
