// OpenAI image generation → Ideogram's legacy generate endpoint (`POST /generate`, wire-formats
// §6.2 item 2), which serves the models before 3.0: V_1, V_1_TURBO, V_2, V_2_TURBO, V_2A,
// V_2A_TURBO. Its body is JSON, one `image_request` object; its answer has the same shape as
// 3.0's, so the response and error steps are shared with the 3.0 translator.
import { isRecord } from '../../json-guards.js';
import type { BuildContext, UpstreamRequest } from '../types.js';
import { LEGACY_ASPECT_RATIOS, nearestAspectRatio } from './ideogram-aspect.js';

export const LEGACY_MODELS: ReadonlySet<string> = new Set([
  'V_1',
  'V_1_TURBO',
  'V_2',
  'V_2_TURBO',
  'V_2A',
  'V_2A_TURBO',
]);

/**
 * Not sent: `style` (vivid | natural) has no counterpart (Ideogram's `style_type` goes in
 * `extra_body`); `quality` neither, since the legacy endpoint picks speed by model (`V_2_TURBO`);
 * `user` is OpenAI's own. `response_format` is honoured by the gateway.
 */
const DROPPED = ['style', 'quality', 'user'] as const;

/** Handled here or by the gateway, never copied into the image request. */
const HANDLED = new Set(['model', 'models', 'prompt', 'n', 'size', 'response_format', 'extra_body']);

export function buildLegacyRequest(ctx: BuildContext): UpstreamRequest {
  const { body } = ctx;
  const imageRequest: Record<string, unknown> = { prompt: body.prompt, model: ctx.model };
  if (typeof body.size === 'string') {
    const ratio = nearestAspectRatio(body.size, LEGACY_ASPECT_RATIOS);
    if (ratio !== undefined) imageRequest.aspect_ratio = `ASPECT_${ratio.replace('x', '_')}`;
  }
  if (body.n !== undefined) imageRequest.num_images = body.n;
  const droppedParams: string[] = DROPPED.filter((name) => body[name] !== undefined);
  // Anything else the client sent is a parameter Ideogram would refuse as unknown.
  for (const name of Object.keys(body)) {
    if (!HANDLED.has(name) && !droppedParams.includes(name)) droppedParams.push(name);
  }
  // Ideogram's own fields (magic_prompt_option, style_type, seed, negative_prompt, resolution,
  // color_palette) go inside the image request, where the endpoint reads them.
  const extra = isRecord(body.extra_body) ? body.extra_body : {};
  for (const [name, value] of Object.entries(extra)) {
    if (value !== undefined && value !== null) imageRequest[name] = value;
  }
  return {
    path: '/generate',
    body: JSON.stringify({ image_request: imageRequest }),
    headers: {},
    droppedParams,
  };
}
