// Where a call goes when a provider names its exact endpoint (a catalog model's handle) instead of
// a base URL. The handle is used as it stands, with one exception: a Google-style custom method
// (`…/models/NAME:generateContent`) follows the request, because one catalog entry serves both a
// plain and a streamed call (`:streamGenerateContent?alt=sse`), and one embeddings entry serves a
// single input (`:embedContent`) and a batch (`:batchEmbedContents`).

/** The index of the `:` that starts a custom method in the last path segment, or -1. */
function methodColon(path: string): number {
  const query = path.indexOf('?');
  const pathname = query === -1 ? path : path.slice(0, query);
  const slash = pathname.lastIndexOf('/');
  const colon = pathname.indexOf(':', slash + 1);
  return colon;
}

/**
 * The upstream path for a fixed endpoint `handle`, given the path the translator would have used.
 * Only translators whose path ends in a custom method (Gemini's) change anything: the handle's own
 * method (or, lacking one, its end) is replaced by the translator's method and query; the handle's
 * query string, if any, is kept.
 */
export function fixedUpstreamPath(handle: string, translatorPath: string): string {
  const wanted = methodColon(translatorPath);
  if (wanted === -1) return handle;
  const method = translatorPath.slice(wanted);
  const query = handle.indexOf('?');
  const handlePath = query === -1 ? handle : handle.slice(0, query);
  const handleQuery = query === -1 ? '' : handle.slice(query + 1);
  const own = methodColon(handlePath);
  const base = own === -1 ? handlePath : handlePath.slice(0, own);
  if (handleQuery === '') return base + method;
  return base + method + (method.includes('?') ? '&' : '?') + handleQuery;
}
