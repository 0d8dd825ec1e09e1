import { openAiErrorBody } from './openai-protocol.js';
import { isRecord, type Protocol, pathEndsWith, type Reply, type RouteHandler } from './protocol.js';
import type { RecordedRequest } from './types.js';

/**
 * The image APIs, strict where the real ones are (shared/reference/wire-formats.md §6):
 * - OpenAI-shaped `…/images/generations`: DALL·E rules for `dall-e-*` models, Recraft's for
 *   `recraft*` models (its own `style` names only: DALL·E's `vivid` is refused);
 * - Ideogram 3.0 `POST /v1/ideogram-v3/generate`: multipart/form-data only, an `Api-Key` header,
 *   unknown fields refused, `created` an ISO date, URLs only;
 * - Ideogram's legacy `POST /generate` (V_1 … V_2A_TURBO): JSON `{"image_request": {…}}` only, the
 *   same header, its own `ASPECT_W_H` ratios and model names, the same answer;
 * - `GET /emulator-images/<id>.png`: the bytes behind every URL it hands out, for downloads.
 */

// The same instant as the OpenAI protocol's fixed `created`, written as Ideogram writes it.
export const IDEOGRAM_CREATED = '2023-11-14T22:13:20.123456789+00:00';
export const IDEOGRAM_CREATED_UNIX = 1_700_000_000;
const CREATED = 1_700_000_000;

const IMAGE_PREFIX = '/emulator-images/';

/**
 * The bytes served for an image id. ASCII on purpose: the emulator's delivery writes strings, and
 * a test can compare the decoded base64 with this text.
 */
export function emulatorImageBytes(id: string): string {
  return `emulator image ${id}`;
}

/** Parses a multipart/form-data body of text fields into name → values (repeated names kept). */
export function parseMultipart(
  raw: string,
  contentType: string | undefined,
): Record<string, string[]> | undefined {
  const match = /^multipart\/form-data;\s*boundary=("?)([^";]+)\1/i.exec(contentType ?? '');
  if (match === null) return undefined;
  const delimiter = `--${match[2]}`;
  if (!raw.startsWith(delimiter) || !raw.endsWith(`${delimiter}--\r\n`)) return undefined;
  const fields: Record<string, string[]> = {};
  const parts = raw.slice(delimiter.length, raw.length - delimiter.length - 4).split(`\r\n${delimiter}`);
  for (const part of parts) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (!part.startsWith('\r\n') || headerEnd === -1) return undefined;
    const name = /content-disposition: form-data; name="([^"]*)"/i.exec(part.slice(0, headerEnd))?.[1];
    if (name === undefined) return undefined;
    const value = part.slice(headerEnd + 4).replace(/\r\n$/, '');
    fields[name] = [...(fields[name] ?? []), value];
  }
  return fields;
}

function imageUrl(req: RecordedRequest, id: string): string {
  return `http://${req.headers.host ?? '127.0.0.1'}${IMAGE_PREFIX}${id}.png`;
}

function json(status: number, body: unknown): Reply {
  return { type: 'json', status, headers: {}, body };
}

const DALL_E_3 = {
  fields: new Set(['model', 'prompt', 'n', 'size', 'quality', 'style', 'response_format', 'user']),
  sizes: ['1024x1024', '1792x1024', '1024x1792'],
};

const RECRAFT = {
  fields: new Set([
    'model',
    'prompt',
    'n',
    'size',
    'quality',
    'response_format',
    'style',
    'substyle',
    'style_id',
    'controls',
    'negative_prompt',
    'text_layout',
    'image_format',
  ]),
  styles: ['any', 'realistic_image', 'digital_illustration', 'vector_illustration', 'icon'],
};

function openAiRefusal(message: string, param: string | null): Reply {
  return json(400, { error: { message, type: 'invalid_request_error', param, code: null } });
}

/** OpenAI and Recraft: same path and shape, told apart by the model family. */
const openAiImages: RouteHandler = (req, ctx) => {
  if (!(req.headers.authorization ?? '').startsWith('Bearer ')) {
    return json(401, openAiErrorBody(401, 'emulator: missing bearer token'));
  }
  const body = isRecord(req.body) ? req.body : {};
  const model = typeof body.model === 'string' ? body.model : 'dall-e-2';
  const recraft = model.startsWith('recraft');
  const allowed = recraft ? RECRAFT.fields : DALL_E_3.fields;
  for (const name of Object.keys(body)) {
    if (!allowed.has(name)) return openAiRefusal(`Unrecognized request argument supplied: ${name}`, name);
  }
  if (typeof body.prompt !== 'string' || body.prompt === '')
    return openAiRefusal('prompt is required', 'prompt');
  const n = body.n ?? 1;
  if (recraft) {
    if (body.style !== undefined && !RECRAFT.styles.includes(String(body.style))) {
      return json(400, {
        code: 'invalid_style',
        message: `emulator: unknown recraft style ${String(body.style)}`,
      });
    }
  } else if (model === 'dall-e-3') {
    if (n !== 1) return openAiRefusal('dall-e-3 supports only n=1', 'n');
    if (body.size !== undefined && !DALL_E_3.sizes.includes(String(body.size))) {
      return openAiRefusal(`Invalid size for dall-e-3: ${String(body.size)}`, 'size');
    }
    if (body.style !== undefined && !['vivid', 'natural'].includes(String(body.style))) {
      return openAiRefusal(`Invalid style: ${String(body.style)}`, 'style');
    }
  }
  const base64 = body.response_format === 'b64_json';
  const data = Array.from({ length: Number(n) }, () => {
    const id = `img-${ctx.next('image')}`;
    const image: Record<string, unknown> = base64
      ? { b64_json: Buffer.from(emulatorImageBytes(id)).toString('base64') }
      : { url: imageUrl(req, id) };
    if (model === 'dall-e-3') image.revised_prompt = `Revised: ${body.prompt as string}`;
    if (recraft) image.image_id = id;
    return image;
  });
  return json(200, { created: CREATED, data });
};

const IDEOGRAM = {
  fields: new Set([
    'prompt',
    'seed',
    'resolution',
    'aspect_ratio',
    'rendering_speed',
    'magic_prompt',
    'negative_prompt',
    'num_images',
    'color_palette',
    'style_codes',
    'style_type',
  ]),
  aspectRatios: [
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
  ],
  speeds: ['FLASH', 'TURBO', 'DEFAULT', 'QUALITY'],
};

function ideogramRefusal(status: number, detail: string): Reply {
  return json(status, { detail });
}

const ideogramGenerate: RouteHandler = (req, ctx) => {
  if ((req.headers['api-key'] ?? '') === '') return ideogramRefusal(401, 'emulator: missing Api-Key header');
  const form = parseMultipart(req.rawBody, req.headers['content-type']);
  if (form === undefined) return ideogramRefusal(400, 'emulator: expected a multipart/form-data body');
  for (const name of Object.keys(form)) {
    if (!IDEOGRAM.fields.has(name)) return ideogramRefusal(422, `emulator: unknown field ${name}`);
  }
  const one = (name: string) => form[name]?.[0];
  const prompt = one('prompt');
  if (prompt === undefined || prompt === '') return ideogramRefusal(422, 'emulator: prompt is required');
  const ratio = one('aspect_ratio');
  if (ratio !== undefined && !IDEOGRAM.aspectRatios.includes(ratio)) {
    return ideogramRefusal(422, `emulator: invalid aspect_ratio ${ratio}`);
  }
  const speed = one('rendering_speed');
  if (speed !== undefined && !IDEOGRAM.speeds.includes(speed)) {
    return ideogramRefusal(422, `emulator: invalid rendering_speed ${speed}`);
  }
  const count = Number(one('num_images') ?? '1');
  if (!Number.isInteger(count) || count < 1 || count > 8) {
    return ideogramRefusal(422, 'emulator: num_images must be 1 to 8');
  }
  const data = Array.from({ length: count }, () => {
    const id = `ideo-${ctx.next('image')}`;
    return {
      url: imageUrl(req, id),
      prompt: `Magic: ${prompt}`,
      resolution: '1024x1024',
      seed: 12345,
      is_image_safe: true,
      style_type: one('style_type') ?? 'GENERAL',
    };
  });
  return json(200, { created: IDEOGRAM_CREATED, data });
};

const IDEOGRAM_LEGACY = {
  fields: new Set([
    'prompt',
    'model',
    'aspect_ratio',
    'magic_prompt_option',
    'style_type',
    'seed',
    'negative_prompt',
    'num_images',
    'resolution',
    'color_palette',
  ]),
  models: ['V_1', 'V_1_TURBO', 'V_2', 'V_2_TURBO', 'V_2A', 'V_2A_TURBO'],
  aspectRatios: ['1_3', '3_1', '9_16', '16_9', '10_16', '16_10', '2_3', '3_2', '3_4', '4_3', '1_1'].map(
    (ratio) => `ASPECT_${ratio}`,
  ),
  magic: ['AUTO', 'ON', 'OFF'],
};

const ideogramLegacyGenerate: RouteHandler = (req, ctx) => {
  if ((req.headers['api-key'] ?? '') === '') return ideogramRefusal(401, 'emulator: missing Api-Key header');
  if (!(req.headers['content-type'] ?? '').startsWith('application/json') || !isRecord(req.body)) {
    return ideogramRefusal(400, 'emulator: expected a JSON body');
  }
  const request = req.body.image_request;
  if (!isRecord(request) || Object.keys(req.body).length !== 1) {
    return ideogramRefusal(422, 'emulator: expected {"image_request": {...}}');
  }
  for (const name of Object.keys(request)) {
    if (!IDEOGRAM_LEGACY.fields.has(name)) return ideogramRefusal(422, `emulator: unknown field ${name}`);
  }
  if (typeof request.prompt !== 'string' || request.prompt === '') {
    return ideogramRefusal(422, 'emulator: prompt is required');
  }
  if (request.model !== undefined && !IDEOGRAM_LEGACY.models.includes(String(request.model))) {
    return ideogramRefusal(422, `emulator: invalid model ${String(request.model)}`);
  }
  if (
    request.aspect_ratio !== undefined &&
    !IDEOGRAM_LEGACY.aspectRatios.includes(String(request.aspect_ratio))
  ) {
    return ideogramRefusal(422, `emulator: invalid aspect_ratio ${String(request.aspect_ratio)}`);
  }
  if (
    request.magic_prompt_option !== undefined &&
    !IDEOGRAM_LEGACY.magic.includes(String(request.magic_prompt_option))
  ) {
    return ideogramRefusal(
      422,
      `emulator: invalid magic_prompt_option ${String(request.magic_prompt_option)}`,
    );
  }
  const count = request.num_images ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 8) {
    return ideogramRefusal(422, 'emulator: num_images must be an integer from 1 to 8');
  }
  const data = Array.from({ length: count }, () => {
    const id = `ideo-${ctx.next('image')}`;
    return {
      url: imageUrl(req, id),
      prompt: `Magic: ${request.prompt as string}`,
      resolution: '1024x1024',
      seed: 12345,
      is_image_safe: true,
      style_type: typeof request.style_type === 'string' ? request.style_type : 'GENERAL',
    };
  });
  return json(200, { created: IDEOGRAM_CREATED, data });
};

const imageBytes: RouteHandler = (req) => {
  const id = req.path.slice(IMAGE_PREFIX.length).replace(/\.png(\?.*)?$/, '');
  // A one-frame "stream": the emulator's delivery writes text frames as they are.
  return {
    type: 'sse',
    status: 200,
    headers: { 'content-type': 'image/png' },
    events: [emulatorImageBytes(id)],
  };
};

export const imagesProtocol: Protocol = {
  route(method, pathname) {
    if (method === 'GET' && pathname.startsWith(IMAGE_PREFIX)) return imageBytes;
    if (method !== 'POST') return undefined;
    if (pathEndsWith(pathname, '/images/generations')) return openAiImages;
    if (pathEndsWith(pathname, '/v1/ideogram-v3/generate')) return ideogramGenerate;
    // Ideogram's base URL has no path, so its legacy endpoint is `/generate` itself.
    if (pathname === '/generate') return ideogramLegacyGenerate;
    return undefined;
  },
  errorBody: openAiErrorBody,
};
