// Turns a JSON-schema validation issue into a 400 that names the field, in OpenAI's wording.
import { GatewayError } from '../errors.js';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from './model-name.js';

export interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/messages/0/role` → `messages[0].role`; a missing property is named in full. */
function paramOf(issue: ValidationIssue): string {
  const parts = issue.instancePath.split('/').filter((p) => p !== '');
  const missing = issue.keyword === 'required' ? issue.params.missingProperty : undefined;
  if (typeof missing === 'string') parts.push(missing);
  return parts.reduce(
    (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`),
    '',
  );
}

function describe(issue: ValidationIssue, param: string): string {
  if (issue.keyword === 'required') return `Missing required parameter: '${param}'.`;
  if (issue.keyword === 'additionalProperties') {
    return `Unrecognized parameter: '${String(issue.params.additionalProperty)}'.`;
  }
  // The only root-level type rule: the body must be an object ("The request body: must be object."
  // read like a schema dump).
  if (param === '' && issue.keyword === 'type') return 'The request body must be a JSON object.';
  if (issue.keyword === 'pattern' && issue.params.pattern === MODEL_NAME_PATTERN) {
    return `Invalid value for '${param}': ${MODEL_NAME_RULE}.`;
  }
  const where = param === '' ? 'The request body' : `Invalid value for '${param}'`;
  return `${where}: ${issue.message ?? 'is not valid'}.`;
}

/** anyOf failures list every branch; the most specific issue is the deepest one. */
function pickIssue(issues: ValidationIssue[]): ValidationIssue | undefined {
  let best: ValidationIssue | undefined;
  for (const issue of issues) {
    if (issue.keyword === 'anyOf' || issue.keyword === 'if') continue;
    if (best === undefined || issue.instancePath.length > best.instancePath.length) best = issue;
  }
  return best ?? issues[0];
}

export function validationError(issues: ValidationIssue[]): GatewayError {
  const issue = pickIssue(issues);
  const param = issue === undefined ? '' : paramOf(issue);
  return new GatewayError(
    'invalid_request',
    issue === undefined ? 'Invalid request body.' : describe(issue, param),
    {
      param: param === '' ? null : param,
    },
  );
}
