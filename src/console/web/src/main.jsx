import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { del, get, post } from './api.js';
import { signedIn, signedOut, switchedAccount, useAppState } from './state.js';
import { go, useRoute } from './router.js';
import { SignIn } from './pages/signin.jsx';
import { Overview } from './pages/overview.jsx';
import { LiveCalls } from './pages/live.jsx';
import { CallLog } from './pages/calls.jsx';
import { CallPage } from './pages/call.jsx';
import { Debugger } from './pages/debugger.jsx';
import { ErrorPage, ErrorList } from './pages/errors.jsx';
import { Numbers } from './pages/numbers.jsx';
import { TwimlEditor } from './pages/twiml.jsx';
import { Channels, ChannelPage } from './pages/events.jsx';

window.__consoleStats = window.__consoleStats || { renders: 0, lastRenderMs: 0, firstRenderMs: null };

const NAV = [
  ['', 'Overview'],
  ['live', 'Live calls'],
  ['calls', 'Call log'],
  ['debugger', 'Debugger'],
  ['numbers', 'Numbers'],
  ['twiml', 'TwiML'],
  ['events', 'Events'],
];

function Header({ session, account, route }) {
  const [switching, setSwitching] = useState(false);
  const [switchError, setSwitchError] = useState('');
  // The daemon keeps the acting account: every request of this session then works on it.
  const switchAccount = async (sid) => {
    if (!sid || sid === account) return;
    setSwitching(true);
    setSwitchError('');
    try {
      const s = await post('/console/api/session/account', { AccountSid: sid });
      switchedAccount(s);
    } catch (e) {
      if (e.status !== 401) setSwitchError(`Switching account failed: ${e.message}`);
    } finally {
      setSwitching(false);
    }
  };
  const signOut = async () => {
    try {
      await del('/console/api/session');
    } catch (_) {
      /* signed out either way */
    }
    signedOut('You have signed out.');
    go('#/signin');
  };
  const section = route[0] || '';
  const current = section === 'errors' ? 'debugger' : section;
  return (
    <header class="top">
      <div class="brand">
        <span class="logo" aria-hidden="true">
          ⌁
        </span>{' '}
        Switchboard
      </div>
      <nav aria-label="Main">
        <ul>
          {NAV.map(([path, label]) => (
            <li key={path}>
              <a href={`#/${path}`} aria-current={current === path ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        <label class="account">
          <span class="sr-only">Account</span>
          <select
            data-testid="account-switcher"
            value={account}
            disabled={switching}
            onChange={(e) => {
              const sel = e.currentTarget;
              const sid = sel.value;
              sel.value = account; // shown once the daemon has switched
              switchAccount(sid);
            }}
          >
            {(session.accounts && session.accounts.length
              ? session.accounts
              : [{ sid: session.account_sid, friendly_name: session.friendly_name }]
            ).map((a) => (
              <option key={a.sid} value={a.sid}>
                {(a.friendly_name || a.sid) + (a.sid === session.account_sid ? '' : ' (sub)')}
                {a.status && a.status !== 'active' ? ` [${a.status}]` : ''}
              </option>
            ))}
          </select>
        </label>
        {switchError ? (
          <span class="alert alert-error small-print" role="alert">
            {switchError}
          </span>
        ) : null}
        <button type="button" data-testid="signout" onClick={signOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function Routes({ route }) {
  const [a, b] = route;
  switch (a || '') {
    case '':
      return <Overview />;
    case 'live':
      return <LiveCalls />;
    case 'calls':
      return b ? <CallPage sid={b} /> : <CallLog />;
    case 'debugger':
      return <Debugger />;
    case 'errors':
      return b ? <ErrorPage code={b} /> : <ErrorList />;
    case 'numbers':
      return <Numbers sub={b} />;
    case 'twiml':
      return <TwimlEditor />;
    case 'events':
      return b ? <ChannelPage name={b} /> : <Channels />;
    default:
      return (
        <section class="page">
          <h1>Not found</h1>
          <p>
            There is no page here. <a href="#/">Go to the overview</a>.
          </p>
        </section>
      );
  }
}

function App() {
  const st = useAppState();
  const route = useRoute();
  const main = useRef(null);

  useEffect(() => {
    get('/console/api/session', null, { allow401: true }).then(
      (s) => signedIn(s),
      () => signedOut(''),
    );
  }, []);

  useEffect(() => {
    if (st.session && route[0] === 'signin') go('#/');
  }, [st.session, route[0]]);

  if (!st.checked) return <p class="muted boot">Loading…</p>;
  if (!st.session) return <SignIn notice={st.notice} />;

  const skip = (e) => {
    e.preventDefault();
    const h = main.current && main.current.querySelector('h1');
    (h || main.current).focus();
  };
  return (
    <>
      <a class="skip" href="#main" onClick={skip}>
        Skip to content
      </a>
      <Header session={st.session} account={st.account} route={route} />
      <main id="main" ref={main} tabIndex={-1}>
        {/* keyed by account: switching drops the pages' data and streams */}
        <Routes key={st.account} route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app'));
