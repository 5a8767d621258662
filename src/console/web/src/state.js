// Global state: the session (SessionInfo from /console/api/session) and the account the console
// works on. Tiny observable; components read it with useAppState().
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();
let state = { session: null, account: null, checked: false, notice: '' };

export function getState() {
  return state;
}

export function setState(patch) {
  state = { ...state, ...patch };
  for (const fn of listeners) fn(state);
}

export function useAppState() {
  const [s, set] = useState(state);
  useEffect(() => {
    listeners.add(set);
    set(state);
    return () => listeners.delete(set);
  }, []);
  return s;
}

// The account the session acts as is kept by the daemon (POST /console/api/session/account):
// after a switch, every request of this session (REST and /v1) works on that account.
export function actingSid(session) {
  return (session && (session.acting_account_sid || session.account_sid)) || null;
}

// The session ends at expires_at: the console signs out then by itself, and sends no request
// after it. (A request with the expired cookie would get a 401 carrying
// `WWW-Authenticate: Basic`, on which a browser opens its own password dialog.) When this
// clock already says "expired" for a session the daemon has just accepted, the clocks
// disagree: the daemon's 401 decides then.
let expiryTimer = 0;
let expiresAtMs = 0;
const MAX_TIMEOUT = 2147483647;

function armExpiry(session) {
  clearTimeout(expiryTimer);
  expiryTimer = 0;
  expiresAtMs = 0;
  const at = session && Number(session.expires_at) * 1000;
  if (!at || !isFinite(at) || at <= Date.now()) return;
  expiresAtMs = at;
  const wait = () => {
    const ms = expiresAtMs - Date.now();
    if (ms > 0) {
      expiryTimer = setTimeout(wait, Math.min(ms, MAX_TIMEOUT));
      return;
    }
    if (state.session) signedOut('Your session has ended. Sign in again.');
  };
  wait();
}

// True once the session's expiry time has passed (by this clock, see armExpiry).
export function sessionExpired() {
  return !!(state.session && expiresAtMs && Date.now() >= expiresAtMs);
}

export function signedIn(session) {
  armExpiry(session);
  setState({ session, account: actingSid(session), checked: true, notice: '' });
}

// A new SessionInfo after switching account: same session, another acting account.
export function switchedAccount(session) {
  armExpiry(session);
  setState({ session, account: actingSid(session) });
}

// Drops everything held in memory (pages unmount, their streams close) and shows sign-in.
export function signedOut(notice = '') {
  clearTimeout(expiryTimer);
  expiryTimer = 0;
  expiresAtMs = 0;
  setState({ session: null, account: null, checked: true, notice });
}

// The account whose SID goes into every /2010-04-01 path: the one the session acts as.
export function accountSid() {
  return state.account || actingSid(state.session) || '';
}

// True when the acting account is not the signed-in one (a subaccount).
export function isSubaccount() {
  return !!(state.session && state.account && state.account !== state.session.account_sid);
}
