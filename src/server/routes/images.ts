// POST /v1/images/generations in OpenAI's shape, to any provider with an image translator
// (OpenAI's DALL·E, Recraft and other OpenAI-protocol servers, Ideogram). The body is validated by
// the route schema (and published in /openapi.json); the attempt loop does keys, retries and
// fallback exactly as for chat.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { request as undiciRequest } from 'undici';
import { GatewayError } from '../../errors.js';
import { type CommittedResponse, type ExchangeTrace, IMAGE_OPERATION } from '../../gateway/attempt-loop.js';
import type { ExchangeSignal } from '../../gateway/exchange-signal.js';
import { isRecord } from '../../json-guards.js';
import { imageTranslatorFor } from '../../translators/images/index.js';
import type { ChatRequestBody } from '../../translators/types.js';
import { errorResponses } from '../chat-schema.js';
import { modelNameSchema } from '../model-name.js';
import type { Runtime } from '../runtime.js';
import { parseUpstreamJson, serveUpstream } from '../upstream-exchange.js';

export const IMAGES_PATH = '/v1/images/generations';

/** OpenAI's own default when a request names no model. */
const DEFAULT_MODEL = 'dall-e-2';

/** A downloaded image larger than this is refused rather than held in memory. */
const MAX_IMAGE_BYTES = 50 * 1024 * 1024;

/** Fields it does not list travel on untouched, as in the chat schema. */
export const imageRequestSchema = {
  $id: 'ImageGenerationRequest',
  type: 'object',
  required: ['prompt'],
  properties: {
    prompt: { type: 'string', minLength: 1 },
    model: {
      ...modelNameSchema,
      description:
        'dall-e-3, dall-e-2, gpt-image-1, `ideogram:V_3` (or the legacy `ideogram:V_2`, `V_2_TURBO`, `V_1`…), `recraft:recraftv3`, or an alias',
    },
    models: {
      type: 'array',
      items: modelNameSchema,
      description: 'Fallback models, in order',
    },
    n: { type: 'integer', minimum: 1, maximum: 10 },
    size: {
      type: 'string',
      pattern: '^(auto|[1-9][0-9]*[x:][1-9][0-9]*)$',
      description: '`WIDTHxHEIGHT` or `auto`; Ideogram gets the nearest aspect ratio',
    },
    quality: { type: 'string', enum: ['standard', 'hd', 'low', 'medium', 'high', 'auto'] },
    style: {
      type: 'string',
      enum: ['vivid', 'natural'],
      description: 'DALL·E 3 only; dropped (and named in x-ai-proxy-dropped-params) for other models',
    },
    response_format: { type: 'string', enum: ['url', 'b64_json'] },
    user: { type: 'string' },
    extra_body: { type: 'object', description: "Merged into the upstream body: a provider's own fields" },
  },
};

const imageSchema = {
  type: 'object',
  properties: {
    url: { type: 'string' },
    b64_json: { type: 'string' },
    revised_prompt: { type: 'string' },
  },
};

const imagesResponseSchema = {
  description: 'The generated images',
  type: 'object',
  properties: { created: { type: 'integer' }, data: { type: 'array', items: imageSchema } },
};

type ImageRequestBody = ChatRequestBody & {
  prompt: string;
  model?: string;
  response_format?: 'url' | 'b64_json';
};

/** Fetches one image the provider linked to, whole, under the gateway's timeouts. */
async function download(
  url: string,
  runtime: Runtime,
  signal: ExchangeSignal,
  provider: string,
): Promise<string> {
  const fail = (why: string) =>
    new GatewayError('upstream_error', `${provider}: could not download a generated image (${why}).`, {
      provider,
    });
  if (!/^https?:\/\//i.test(url)) throw fail('not an http(s) URL');
  const { timeouts } = runtime.state.config;
  let response: Awaited<ReturnType<typeof undiciRequest>>;
  try {
    response = await undiciRequest(url, {
      method: 'GET',
      signal,
      headersTimeout: timeouts.firstByteMs,
      bodyTimeout: timeouts.idleMs,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw fail((error as Error).message);
  }
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw fail(`status ${response.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_IMAGE_BYTES) {
        response.body.destroy();
        throw fail(`larger than ${MAX_IMAGE_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    if (signal.aborted) throw signal.reason;
    throw fail((error as Error).message);
  }
  return Buffer.concat(chunks).toString('base64');
}

/**
 * `b64_json` asked for, URLs answered (Ideogram only ever returns URLs): each image is downloaded
 * and inlined here, after the exchange, because a translator's response step is synchronous and
 * does no I/O. Providers that honour `response_format` themselves never reach the download.
 */
async function inlineImages(
  answer: Record<string, unknown>,
  runtime: Runtime,
  signal: ExchangeSignal,
  provider: string,
): Promise<boolean> {
  if (!Array.isArray(answer.data)) return false;
  const linked = answer.data.filter(
    (image): image is Record<string, unknown> =>
      isRecord(image) && typeof image.url === 'string' && image.b64_json === undefined,
  );
  if (linked.length === 0) return false;
  const encoded = await Promise.all(
    linked.map((image) => download(image.url as string, runtime, signal, provider)),
  );
  linked.forEach((image, index) => {
    delete image.url;
    image.b64_json = encoded[index];
  });
  return true;
}

/** The answer in OpenAI's shape, translated if need be, with linked images inlined if asked. */
async function answerBytes(
  body: ImageRequestBody,
  committed: CommittedResponse,
  runtime: Runtime,
  signal: ExchangeSignal,
  trace: ExchangeTrace,
): Promise<Buffer> {
  const bytes = committed.body ?? Buffer.alloc(0);
  const translate = committed.translator.translateResponse;
  const wantsBase64 = body.response_format === 'b64_json';
  if (translate === undefined && !wantsBase64) return bytes;
  let answer = parseUpstreamJson(committed);
  if (translate !== undefined) answer = translate(answer, committed.buildContext);
  let changed = translate !== undefined;
  if (wantsBase64 && isRecord(answer)) {
    const started = performance.now();
    changed = (await inlineImages(answer, runtime, signal, committed.target.provider.name)) || changed;
    trace.upstreamMs += performance.now() - started;
  }
  return changed ? Buffer.from(JSON.stringify(answer)) : bytes;
}

function generate(runtime: Runtime, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const body = request.body as ImageRequestBody;
  const models = Array.isArray(body.models) ? (body.models as string[]) : undefined;
  return serveUpstream(runtime, request, reply, {
    body,
    modelRequested: body.model ?? null,
    targets: (router) =>
      router.resolveRequest(body.model ?? (models === undefined ? DEFAULT_MODEL : undefined), models),
    translatorFor: imageTranslatorFor,
    operation: IMAGE_OPERATION,
    answer: (committed, signal, trace) => answerBytes(body, committed, runtime, signal, trace),
  });
}

export function registerImageRoutes(app: FastifyInstance, runtime: Runtime): void {
  app.post(
    IMAGES_PATH,
    {
      schema: {
        summary: 'Create images (OpenAI-compatible) with DALL·E, Ideogram or Recraft',
        tags: ['OpenAI API'],
        security: [{ bearerAuth: [] }],
        body: imageRequestSchema,
        response: { 200: imagesResponseSchema, ...errorResponses },
      },
    },
    (request, reply) => generate(runtime, request, reply),
  );
}
