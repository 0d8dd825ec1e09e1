// The local input-token estimate of a Messages request for a model no upstream counts for: the
// request's pieces through the model's BPE encoding. Counting is synchronous work (about 10 ms a
// megabyte of text), so a long prompt hands the event loop back between pieces.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { JsonObject } from '../json-guards.js';
import { counterFor, type EncodingName, encodingFor } from './encodings.js';
import { messagesPieces } from './messages-pieces.js';

/** Characters counted before other requests get a turn. */
const SLICE_CHARS = 256 * 1024;

export interface TokenEstimate {
  inputTokens: number;
  encoding: EncodingName;
}

export async function estimateInputTokens(body: JsonObject, model: string): Promise<TokenEstimate> {
  const encoding = encodingFor(model);
  const count = await counterFor(encoding);
  const pieces = messagesPieces(body);
  let total = pieces.fixed;
  let sinceTurn = 0;
  for (const text of pieces.texts) {
    total += count(text);
    sinceTurn += text.length;
    if (sinceTurn >= SLICE_CHARS) {
      sinceTurn = 0;
      await nextTurn();
    }
  }
  return { inputTokens: total, encoding };
}
