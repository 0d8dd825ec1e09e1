// OpenAI image generation → Ideogram 3.0 (`POST /v1/ideogram-v3/generate`, wire-formats §6.2).
// Ideogram documents a multipart/form-data body for v3, so that is what is sent. Its answer has an
// ISO date for `created` and only URLs; a `b64_json` request is served by the images route, which
// downloads the URLs after the exchange (this step is synchronous and sees no network).
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import { openAIErrorDetail } from '../openai-passthrough.js';
import type { BuildContext, ChatTranslator, UpstreamErrorDetail, UpstreamRequest } from '../types.js';
import { multipartBody } from './multipart.js';

/** Models this translator speaks to; each names the endpoint it is served by. */
const ENDPOINTS: Record<string, string> = {
  V_3: '/v1/ideogram-v3/generate',
};

const ASPECT_RATIOS = [
  '1x3',
  '3x1',
  '1x2',
  '2x1',
  '9x16',
  '16x9',
  '10x16',
  '16x10',
  '2x3',
  '3x2',
  '3x4',
  '4x3',
  '4x5',
  '5x4',
  '1x1',
] as const;

/** OpenAI quality → Ideogram rendering speed; `auto` leaves Ideogram's default. */
const RENDERING_SPEED: Record<string, string | undefined> = {
  hd: 'QUALITY',
  high: 'QUALITY',
  standard: 'DEFAULT',
  medium: 'DEFAULT',
  low: 'TURBO',
  auto: undefined,
};

/**
 * Parameters Ideogram has no use for. `style` (vivid | natural) has no counterpart; Ideogram's own
 * `style_type` can be sent in `extra_body`. `response_format` is not listed: the gateway honours it.
 */
const DROPPED = ['style', 'user'] as const;

/** Handled here or by the gateway, never copied as form fields. */
const HANDLED = new Set([
  'model',
  'models',
  'prompt',
  'n',
  'size',
  'quality',
  'response_format',
  'extra_body',
]);

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

/**
 * "WxH" (or "W:H") → the nearest of Ideogram's aspect ratios, by ratio on a log scale so that
 * 2:1 and 1:2 are equally far from 1:1. Ideogram's exact resolution list is not public in full,
 * so a size is always sent as an aspect ratio: 1792x1024 → 16x9, 1024x1792 → 9x16, 1024x1024 → 1x1.
 */
export function aspectRatioFor(size: string): string | undefined {
  if (size === 'auto') return undefined;
  const match = /^([1-9]\d*)[x:]([1-9]\d*)$/.exec(size);
  if (match === null) throw invalid('size', `Invalid value for 'size': expected "WIDTHxHEIGHT" or "auto".`);
  const wanted = Math.log(Number(match[1]) / Number(match[2]));
  let best: string = ASPECT_RATIOS[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const ratio of ASPECT_RATIOS) {
    const [w, h] = ratio.split('x').map(Number) as [number, number];
    const distance = Math.abs(Math.log(w / h) - wanted);
    if (distance < bestDistance) {
      best = ratio;
      bestDistance = distance;
    }
  }
  return best;
}

function formValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function buildRequest(ctx: BuildContext): UpstreamRequest {
  const { body } = ctx;
  const path = ENDPOINTS[ctx.model];
  if (path === undefined) {
    throw invalid(
      'model',
      `Ideogram model ${JSON.stringify(ctx.model)} is not served here; use ${Object.keys(ENDPOINTS).join(', ')}.`,
    );
  }
  const fields: Array<[string, string]> = [['prompt', formValue(body.prompt)]];
  if (body.n !== undefined) fields.push(['num_images', formValue(body.n)]);
  if (typeof body.size === 'string') {
    const ratio = aspectRatioFor(body.size);
    if (ratio !== undefined) fields.push(['aspect_ratio', ratio]);
  }
  if (typeof body.quality === 'string') {
    if (!(body.quality in RENDERING_SPEED)) {
      throw invalid('quality', `Invalid value for 'quality': ${JSON.stringify(body.quality)}.`);
    }
    const speed = RENDERING_SPEED[body.quality];
    if (speed !== undefined) fields.push(['rendering_speed', speed]);
  }
  const droppedParams: string[] = DROPPED.filter((name) => body[name] !== undefined);
  // Anything else the client sent is a parameter Ideogram would refuse as unknown.
  for (const name of Object.keys(body)) {
    if (!HANDLED.has(name) && !droppedParams.includes(name)) droppedParams.push(name);
  }
  const extra = body.extra_body;
  if (typeof extra === 'object' && extra !== null) {
    for (const [name, value] of Object.entries(extra as Record<string, unknown>)) {
      if (value === undefined || value === null) continue;
      // Array fields (style_codes, …) are repeated form fields.
      if (Array.isArray(value)) for (const item of value) fields.push([name, formValue(item)]);
      else fields.push([name, formValue(value)]);
    }
  }
  const form = multipartBody(fields);
  return { path, body: form.body, headers: { 'content-type': form.contentType }, droppedParams };
}

/** Ideogram's ISO date → unix seconds; an answer without a usable date is stamped now. */
function unixSeconds(created: unknown): number {
  if (typeof created === 'number' && Number.isFinite(created)) return Math.floor(created);
  const parsed = typeof created === 'string' ? Date.parse(created) : Number.NaN;
  return Math.floor((Number.isNaN(parsed) ? Date.now() : parsed) / 1000);
}

function translateResponse(upstream: unknown): unknown {
  if (!isRecord(upstream) || !Array.isArray(upstream.data)) {
    throw new GatewayError('upstream_error', 'ideogram answered without a data list.');
  }
  const data = upstream.data.filter(isRecord).map((image) => {
    const out: Record<string, unknown> = {};
    // An image Ideogram judged unsafe comes back with an empty url; it is passed on without one.
    if (typeof image.url === 'string' && image.url !== '') out.url = image.url;
    if (typeof image.prompt === 'string') out.revised_prompt = image.prompt;
    return out;
  });
  return { created: unixSeconds(upstream.created), data };
}

/** Ideogram errors come as `{"detail": "…"}` or `{"error": "…"}`; FastAPI lists as `detail: [..]`. */
function parseError(status: number, body: string): UpstreamErrorDetail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (isRecord(parsed) && parsed.detail !== undefined) {
    const detail = parsed.detail;
    const message = typeof detail === 'string' ? detail : JSON.stringify(detail);
    return { message, type: null, code: null, param: null };
  }
  return openAIErrorDetail(status, body);
}

export const ideogramImages: ChatTranslator = { buildRequest, translateResponse, parseError };
