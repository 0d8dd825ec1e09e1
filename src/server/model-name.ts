// What a model name in a request body may be, as a JSON schema shared by every route that takes one
// (chat, embeddings, images), so a bad name is a 400 naming `model` before any upstream call. Names
// with CR/LF or NUL used to reach the upstream (billed) and then break the x-ai-proxy-model header
// with a 500; a 100k-character name made a header no client could read.

/** The longest model name a request may send; real ones (catalog handles included) are far shorter. */
export const MAX_MODEL_NAME_LENGTH = 256;

/**
 * No C0 or C1 control characters (CR, LF, NUL, tab, DEL…) and no unpaired surrogate (not text:
 * it cannot be UTF-8 encoded). Any other Unicode is allowed: an alias may be in any script, and the
 * gateway's headers percent-encode what is not printable ASCII. Ajv compiles patterns with the `u`
 * flag, so the surrogate range matches unpaired halves only.
 */
export const MODEL_NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$';

export const modelNameSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_MODEL_NAME_LENGTH,
  pattern: MODEL_NAME_PATTERN,
};

/** The 400's wording when a name breaks MODEL_NAME_PATTERN (Ajv's would quote the pattern). */
export const MODEL_NAME_RULE =
  'a model name must not contain control characters (CR, LF, NUL, tab…) or unpaired surrogates';
