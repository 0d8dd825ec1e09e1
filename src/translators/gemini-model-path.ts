// A Gemini model name as a URL path: `gemini-2.5-flash`, or a resource such as
// `tunedModels/my-model` whose slashes Gemini's routes expect as slashes. Every segment is
// percent-encoded on its own; an empty, `.` or `..` segment is refused, so a client-chosen name
// (`gemini:../../files`) can never step outside `/models/` on a request that carries the provider key.
import { GatewayError } from '../errors.js';

export function geminiModelPath(model: string): string {
  const segments = model.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new GatewayError(
        'invalid_request',
        'The model name is not a valid Gemini model name: it has an empty, "." or ".." path segment.',
        { param: 'model' },
      );
    }
  }
  return segments.map(encodeURIComponent).join('/');
}
