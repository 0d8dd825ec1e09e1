// metadata.json, the bundle's first entry: who made it, from which schema, and every other file
// with its SHA-256 and size, so verify can recompute each one.
import { z } from 'zod';
import { BundleError } from './errors.js';

export const METADATA_PATH = 'metadata.json';
export const BUNDLE_FORMAT = 'ai-proxy-log-bundle';

/** A path inside a bundle: relative, forward slashes, under db/ or raw/, no `..` or empty parts. */
export function isSafeBundlePath(path: string): boolean {
  if (!/^(db|raw)\/./.test(path)) return false;
  return path
    .split('/')
    .every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('\\'));
}

const fileSchema = z.object({
  path: z.string().refine(isSafeBundlePath, 'a relative path under db/ or raw/'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'),
  bytes: z.number().int().nonnegative(),
});

export const metadataSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  bundle_id: z.string().min(1),
  created_at: z.string().min(1),
  server_id: z.string().min(1),
  schema_version: z.number().int().positive(),
  since: z.string().nullable(),
  to: z.string().nullable(),
  include_raw: z.boolean(),
  files: z.array(fileSchema),
});

export type BundleMetadata = z.infer<typeof metadataSchema>;
export type BundleFile = BundleMetadata['files'][number];

export function parseMetadata(text: string, bundle: string): BundleMetadata {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BundleError(`${bundle}: metadata.json is not valid JSON`);
  }
  const parsed = metadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    throw new BundleError(`${bundle}: metadata.json: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const seen = new Set<string>();
  for (const file of parsed.data.files) {
    if (seen.has(file.path)) throw new BundleError(`${bundle}: metadata.json lists ${file.path} twice`);
    seen.add(file.path);
  }
  return parsed.data;
}
