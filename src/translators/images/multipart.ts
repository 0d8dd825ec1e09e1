// A multipart/form-data body of plain text fields (RFC 7578), for upstreams whose API documents
// only that encoding. Built once per request as a string: no files, so no streaming is needed.
import { randomUUID } from 'node:crypto';

export interface MultipartBody {
  contentType: string;
  body: string;
}

/** Field names are ours or a client's `extra_body` keys: quotes and line breaks are escaped. */
function quoteName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function multipartBody(fields: ReadonlyArray<readonly [string, string]>): MultipartBody {
  // A random boundary cannot occur in the values by chance; a prompt is free text.
  const boundary = `ai-proxy-${randomUUID()}`;
  const parts = fields.map(
    ([name, value]) =>
      `--${boundary}\r\ncontent-disposition: form-data; name="${quoteName(name)}"\r\n\r\n${value}\r\n`,
  );
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: `${parts.join('')}--${boundary}--\r\n`,
  };
}
