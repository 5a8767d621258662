import { useEffect, useRef, useState } from 'preact/hooks';
import { post } from '../api.js';
import { signedIn } from '../state.js';
import { setTitle } from '../util.js';

export function SignIn({ notice }) {
  const [username, setUser] = useState('');
  const [password, setPass] = useState('');
  const [error, setError] = useState('');
  const [wait, setWait] = useState(0);
  const [busy, setBusy] = useState(false);
  const userRef = useRef(null);

  useEffect(() => {
    setTitle('Sign in');
    userRef.current && userRef.current.focus();
  }, []);

  // 429: count down the Retry-After seconds.
  useEffect(() => {
    if (wait <= 0) return;
    const t = setTimeout(() => setWait((w) => w - 1), 1000);
    return () => clearTimeout(t);
  }, [wait]);

  const submit = async (e) => {
    e.preventDefault();
    if (busy || wait > 0) return;
    setBusy(true);
    setError('');
    try {
      const s = await post('/console/api/session', { username: username.trim(), password }, {
        allow401: true,
      });
      setPass('');
      signedIn(s);
    } catch (err) {
      if (err.status === 429) {
        const n = err.retryAfter && err.retryAfter > 0 ? err.retryAfter : 60;
        setWait(n);
        setError(`Too many failed attempts. Try again in ${n} s.`);
      } else if (err.status === 401) {
        setError((err.body && err.body.message) || 'Wrong username or password.');
      } else {
        setError(err.message || 'Sign-in failed.');
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <form class="card" data-testid="signin-form" onSubmit={submit} aria-labelledby="signin-h">
        <h1 id="signin-h">Switchboard console</h1>
        {notice && (
          <p class="alert" role="status">
            {notice}
          </p>
        )}
        <label>
          Account SID or API key SID
          <input
            ref={userRef}
            name="username"
            autocomplete="username"
            required
            spellcheck={false}
            autocapitalize="off"
            placeholder="AC… or SK…"
            value={username}
            onInput={(e) => setUser(e.currentTarget.value)}
          />
        </label>
        <label>
          Auth token or key secret
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPass(e.currentTarget.value)}
          />
        </label>
        <div role="alert" data-testid="signin-error" class={error ? 'alert alert-error' : 'sr-only'}>
          {error}
        </div>
        <button type="submit" class="primary" disabled={busy || wait > 0}>
          {busy ? 'Signing in…' : wait > 0 ? `Try again in ${wait} s` : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
