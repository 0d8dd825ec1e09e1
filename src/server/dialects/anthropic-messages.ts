// The Anthropic Messages dialect (POST /v1/messages): Claude Code and the Anthropic SDKs. Native to
// Anthropic-protocol providers (the body passed through with only `model` rewritten), translated
// through the OpenAI chat translators for the rest (src/translators/messages/).
import { messagesTranslatorFor } from '../../translators/messages/index.js';
import { compileValidator, type RequestValidator } from '../request-validator.js';
import type { ValidationIssue } from '../validation-error.js';
import { anthropicStreamError, renderAnthropicError } from './anthropic-error.js';
import type { Dialect } from './dialect.js';
import { messagesRequestSchema } from './messages-schema.js';

export const MESSAGES_PATH = '/v1/messages';

const SYSTEM_ROLE = /^\/messages\/(\d+)\/role$/;

/**
 * The schema's check, with one message made plain: a `system` role inside `messages` (what a chat
 * client sends) is told where system text goes in this API.
 */
function compileMessagesValidator(): RequestValidator {
  const validate = compileValidator(messagesRequestSchema);
  return (body) => {
    const issues = validate(body);
    if (issues === undefined) return undefined;
    const issue = issues.find((i) => i.keyword === 'enum' && SYSTEM_ROLE.test(i.instancePath));
    if (issue === undefined) return issues;
    const plain: ValidationIssue = {
      ...issue,
      message:
        "must be 'user' or 'assistant'; system text goes in the top-level 'system' parameter, not in messages",
    };
    return [plain];
  };
}

export const anthropicMessages: Dialect = {
  name: 'messages',
  path: MESSAGES_PATH,
  operation: 'the Messages API',
  requestIdHeader: 'request-id',
  compileValidator: compileMessagesValidator,
  translatorFor: messagesTranslatorFor,
  renderError: renderAnthropicError,
  streamError: anthropicStreamError,
};
