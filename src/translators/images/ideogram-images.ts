// OpenAI image generation → Ideogram (wire-formats §6.2): 3.0 (`V_3`) at
// `POST /v1/ideogram-v3/generate`, whose documented body is multipart/form-data, and the older
// models at the legacy `POST /generate` (JSON, ideogram-legacy.ts). Both answer alike: an ISO date
// for `created` and only URLs; a `b64_json` request is served by the images route, which downloads
// the URLs after the exchange (this step is synchronous and sees no network).
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import { openAIErrorDetail } from '../openai-passthrough.js';
import type { BuildContext, ChatTranslator, UpstreamErrorDetail, UpstreamRequest } from '../types.js';
import { nearestAspectRatio, V3_ASPECT_RATIOS } from './ideogram-aspect.js';
import { buildLegacyRequest, LEGACY_MODELS } from './ideogram-legacy.js';
import { multipartBody } from './multipart.js';

const V3_PATH = '/v1/ideogram-v3/generate';

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

/** "WxH" → Ideogram 3.0's nearest aspect ratio ("16x9"); `auto` → none. */
export function aspectRatioFor(size: string): string | undefined {
  return nearestAspectRatio(size, V3_ASPECT_RATIOS);
}

function formValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function buildRequest(ctx: BuildContext): UpstreamRequest {
  if (LEGACY_MODELS.has(ctx.model)) return buildLegacyRequest(ctx);
  if (ctx.model !== 'V_3') {
    throw invalid(
      'model',
      `Ideogram model ${JSON.stringify(ctx.model)} is not served here; use V_3, ${[...LEGACY_MODELS].join(', ')}.`,
    );
  }
  const { body } = ctx;
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
  return { path: V3_PATH, body: form.body, headers: { 'content-type': form.contentType }, droppedParams };
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
