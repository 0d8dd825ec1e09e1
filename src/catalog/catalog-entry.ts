// One catalog document, validated entry by entry: a bad entry is skipped and named, the rest are
// kept. A document that is not `{"models": [...]}` is refused whole, so the last good list stays.
import { z } from 'zod';
import { isRecord } from '../json-guards.js';
import { UNAVAILABLE_HANDLE } from './handle.js';

export interface CatalogEntry {
  modelVersion: string;
  family: string | undefined;
  /** The exact upstream path, appended to the scheme and host of MODEL_LIST_URL. */
  handle: string;
  promptPrice1k: number | undefined;
  completionPrice1k: number | undefined;
}

export interface ParsedCatalog {
  entries: CatalogEntry[];
  /** One line per skipped entry, naming it and why. */
  skipped: string[];
  /** Entries whose handle is `unavailable`, skipped without a warning. */
  unavailable: number;
}

export class CatalogFormatError extends Error {
  override name = 'CatalogFormatError';
}

const price = z.number().finite().nonnegative().nullish();

const entrySchema = z.object({
  model_version: z.string().trim().min(1),
  model_family: z.string().nullish(),
  handle: z
    .string()
    .trim()
    .min(1)
    // A path on the catalog's host: it must start with `/`, and never hold a scheme, whitespace or
    // a control character that could turn it into another request.
    .refine((h) => h === UNAVAILABLE_HANDLE || /^\/[^\s\\]*$/.test(h), {
      message: `expected a path starting with "/" (or "${UNAVAILABLE_HANDLE}")`,
    })
    .refine((h) => !h.split('?')[0]!.split('/').includes('..'), { message: 'must not contain ".."' }),
  prompt_price_1k: price,
  completion_price_1k: price,
});

function nameOf(raw: unknown, index: number): string {
  if (isRecord(raw) && typeof raw.model_version === 'string' && raw.model_version.trim() !== '') {
    return JSON.stringify(raw.model_version);
  }
  return `#${index}`;
}

export function parseCatalog(document: unknown): ParsedCatalog {
  if (!isRecord(document) || !Array.isArray(document.models)) {
    throw new CatalogFormatError('expected a JSON object with a "models" array');
  }
  const entries: CatalogEntry[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  let unavailable = 0;
  document.models.forEach((raw: unknown, index: number) => {
    const result = entrySchema.safeParse(raw);
    if (!result.success) {
      const why = result.error.issues
        .map((issue) => `${issue.path.map(String).join('.') || 'entry'}: ${issue.message}`)
        .join('; ');
      skipped.push(`catalog entry ${nameOf(raw, index)} skipped: ${why}`);
      return;
    }
    const entry = result.data;
    if (entry.handle === UNAVAILABLE_HANDLE) {
      unavailable += 1;
      return;
    }
    if (seen.has(entry.model_version)) {
      skipped.push(
        `catalog entry ${JSON.stringify(entry.model_version)} skipped: listed twice, the first kept`,
      );
      return;
    }
    seen.add(entry.model_version);
    entries.push({
      modelVersion: entry.model_version,
      family: entry.model_family ?? undefined,
      handle: entry.handle,
      promptPrice1k: entry.prompt_price_1k ?? undefined,
      completionPrice1k: entry.completion_price_1k ?? undefined,
    });
  });
  if (entries.length === 0 && skipped.length > 0) {
    // Every entry broken reads as a format change upstream, not as "no models any more".
    throw new CatalogFormatError(`no usable entry: ${skipped.slice(0, 3).join('; ')}`);
  }
  return { entries, skipped, unavailable };
}
