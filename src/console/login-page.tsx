// The login form: an admin key (ADMIN_KEYS) typed once; the server answers with an HTTP-only
// session cookie, so the key is never kept by the page.
import { useState } from 'preact/hooks';
import { postJson } from './api.js';

export function LoginPage(props: { onLogin: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await postJson('login', { key });
      setKey('');
      props.onLogin();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <h1>ai-proxy console</h1>
      <form onSubmit={submit}>
        <label for="admin-key">Admin key</label>
        <input
          id="admin-key"
          name="admin-key"
          type="password"
          autocomplete="current-password"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          required
        />
        <button type="submit" disabled={busy || key === ''}>
          Log in
        </button>
        {error !== null && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p class="hint">
        One of the gateway's <code>ADMIN_KEYS</code>. The session lasts 12 hours in an HTTP-only cookie; the
        key itself is not stored in the browser.
      </p>
    </main>
  );
}
