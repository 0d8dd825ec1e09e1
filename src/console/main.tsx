// The console's entry: the login gate, the navigation and a hash router
// (#/usage, #/logs?…, #/logs/ID, #/dialog/ID, #/keys).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson, postJson, whenLoggedOut } from './api.js';
import { DialogPage } from './dialog-page.js';
import { ExchangePage } from './exchange-page.js';
import { KeysPage } from './keys-page.js';
import { LoginPage } from './login-page.js';
import { LogsPage } from './logs-page.js';
import { UsagePage } from './usage-page.js';

interface Route {
  page: 'usage' | 'logs' | 'exchange' | 'dialog' | 'keys';
  id: string;
  params: URLSearchParams;
}

function routeOf(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter((p) => p !== '');
  const id = decodeURIComponent(parts[1] ?? '');
  if (parts[0] === 'logs' && id !== '') return { page: 'exchange', id, params };
  if (parts[0] === 'dialog' && id !== '') return { page: 'dialog', id, params };
  if (parts[0] === 'logs' || parts[0] === 'keys') return { page: parts[0], id: '', params };
  return { page: 'usage', id: '', params };
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

function App() {
  const [session, setSession] = useState<'checking' | 'in' | 'out'>('checking');
  const route = routeOf(useHash());

  useEffect(() => {
    whenLoggedOut(() => setSession('out'));
    getJson('session')
      .then(() => setSession('in'))
      .catch(() => setSession('out'));
  }, []);

  if (session === 'checking') return null;
  if (session === 'out') return <LoginPage onLogin={() => setSession('in')} />;
  const tab = route.page === 'exchange' ? 'logs' : route.page === 'dialog' ? 'logs' : route.page;
  const link = (page: string, label: string) => (
    <a href={`#/${page}`} class={tab === page ? 'active' : ''}>
      {label}
    </a>
  );
  return (
    <>
      <header>
        <strong>ai-proxy</strong>
        <nav>
          {link('usage', 'Usage')}
          {link('logs', 'Logs')}
          {link('keys', 'Keys')}
        </nav>
        <button
          type="button"
          class="logout"
          onClick={() => void postJson('logout').then(() => setSession('out'))}
        >
          Log out
        </button>
      </header>
      {route.page === 'usage' && <UsagePage />}
      {route.page === 'logs' && <LogsPage params={route.params} />}
      {route.page === 'exchange' && <ExchangePage id={route.id} />}
      {route.page === 'dialog' && <DialogPage id={route.id} />}
      {route.page === 'keys' && <KeysPage />}
    </>
  );
}

render(<App />, document.getElementById('app')!);
