// The console's one way to the server: same-origin fetches that carry the HTTP-only session
// cookie. A 401 means the session is gone, and the app goes back to the login form.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let onLoggedOut: () => void = () => undefined;

export function whenLoggedOut(handler: () => void): void {
  onLoggedOut = handler;
}

async function errorOf(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // not JSON: the status line says enough
  }
  return new ApiError(response.status, message);
}

export async function getJson<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== '') query.set(name, value);
  const text = query.toString();
  const response = await fetch(`/ui/api/${path}${text === '' ? '' : `?${text}`}`, {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
  });
  if (response.status === 401) onLoggedOut();
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

export async function postJson(path: string, body?: unknown): Promise<void> {
  const response = await fetch(`/ui/api/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await errorOf(response);
}
