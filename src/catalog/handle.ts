// What a catalog entry's handle and family say about it: which protocol it speaks, who owns it,
// and whether it is an image model (SPEC §7).
import type { Protocol } from '../providers/registry.js';

/** The handle value that marks an entry the catalog lists but cannot serve. */
export const UNAVAILABLE_HANDLE = 'unavailable';

/** Families that serve /v1/images/generations and are left out of /v1/models. */
const IMAGE_FAMILIES = new Set(['dall-e-3', 'ideogram', 'recraft']);

/** `/anthropic/` anthropic, `/google/` or `/gemini/` gemini, `/cohere/` cohere, otherwise openai. */
export function protocolForHandle(handle: string): Protocol {
  const path = handle.toLowerCase();
  if (path.includes('/anthropic/')) return 'anthropic';
  if (path.includes('/google/') || path.includes('/gemini/')) return 'gemini';
  if (path.includes('/cohere/')) return 'cohere';
  return 'openai';
}

/** The handle's first path segment (`/fireworks/chat/completions` → `fireworks`), for `owned_by`. */
export function ownerOfHandle(handle: string): string {
  const first = handle.split('/').find((segment) => segment !== '');
  return first === undefined || first.includes('?') ? 'catalog' : first.toLowerCase();
}

/** Ideogram speaks its own (multipart) protocol; DALL·E 3 and Recraft speak OpenAI's images API. */
export function protocolForEntry(handle: string, family: string | undefined): Protocol {
  const path = handle.toLowerCase();
  if (family?.trim().toLowerCase() === 'ideogram' || path.includes('/ideogram/')) return 'ideogram';
  return protocolForHandle(handle);
}

export function isImageFamily(family: string | undefined): boolean {
  return family !== undefined && IMAGE_FAMILIES.has(family.trim().toLowerCase());
}
