// SHA-256 of a file, streamed, and of a stream of chunks as they pass.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function sha256File(
  path: string,
  onBytes?: (n: number) => void,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onBytes?.((chunk as Buffer).length);
  }
  return { sha256: hash.digest('hex'), bytes };
}
