// Small shared components.
import { useEffect, useRef, useState } from 'preact/hooks';
import { acct, post } from './api.js';
import { setTitle } from './util.js';

// Page heading: focused on navigation so screen readers announce the new page.
export function Page({ title, children, actions }) {
  const h = useRef(null);
  useEffect(() => {
    setTitle(title);
    if (h.current && document.activeElement !== h.current && window.__consoleNavFocus) {
      h.current.focus();
    }
  }, [title]);
  return (
    <section class="page">
      <div class="page-head">
        <h1 tabIndex={-1} ref={h}>
          {title}
        </h1>
        {actions && <div class="page-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

export function ErrorCode({ code }) {
  const n = Number(code);
  if (!n) return null;
  return <a href={`#/errors/${n}`}>{n}</a>;
}

export function ErrorBox({ error, title }) {
  if (!error) return null;
  return (
    <div class="alert alert-error" role="alert">
      {title && <strong>{title}: </strong>}
      {error.message || String(error)}
      {error.code ? (
        <>
          {' '}
          (code <ErrorCode code={error.code} />)
        </>
      ) : null}
    </div>
  );
}

export function Loading({ what }) {
  return (
    <p class="muted" role="status">
      Loading{what ? ` ${what}` : ''}…
    </p>
  );
}

// A horizontally scrollable table container, reachable by keyboard.
export function TableWrap({ label, children }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

export function Status({ value }) {
  return <span class={`badge st-${String(value || '').replace(/[^a-z-]/g, '')}`}>{value}</span>;
}

// Key/value table for request parameters and headers.
export function KV({ obj, label }) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return <p class="muted">No {label.toLowerCase()}.</p>;
  return (
    <TableWrap label={label}>
      <table class="kv">
        <caption class="sr-only">{label}</caption>
        <tbody>
          {entries.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{typeof v === 'string' ? v : JSON.stringify(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

// Hang up / redirect a live call. onDone(message) after success.
export async function hangUp(callSid) {
  return post(acct(`Calls/${encodeURIComponent(callSid)}.json`), { Status: 'completed' });
}

export function RedirectForm({ callSid, onDone, onCancel }) {
  const [mode, setMode] = useState('url');
  const [url, setUrl] = useState('');
  const [method, setMethod] = useState('POST');
  const [twiml, setTwiml] = useState('<Response>\n  <Say>Goodbye</Say>\n  <Hangup/>\n</Response>');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const first = useRef(null);
  useEffect(() => {
    first.current && first.current.focus();
  }, []);
  const id = `rd-${callSid}`;
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const params = mode === 'url' ? { Url: url, Method: method } : { Twiml: twiml };
      await post(acct(`Calls/${encodeURIComponent(callSid)}.json`), params);
      onDone && onDone(`Call ${callSid} redirected.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card redirect-form" onSubmit={submit} aria-label={`Redirect call ${callSid}`}>
      <fieldset>
        <legend>Redirect {callSid}</legend>
        <div class="radios">
          <label>
            <input
              ref={first}
              type="radio"
              name={`${id}-mode`}
              checked={mode === 'url'}
              onChange={() => setMode('url')}
            />{' '}
            To a URL
          </label>
          <label>
            <input
              type="radio"
              name={`${id}-mode`}
              checked={mode === 'twiml'}
              onChange={() => setMode('twiml')}
            />{' '}
            To TwiML
          </label>
        </div>
        {mode === 'url' ? (
          <div class="row">
            <label class="grow">
              URL
              <input
                type="url"
                required
                placeholder="https://app.example.com/voice"
                value={url}
                onInput={(e) => setUrl(e.currentTarget.value)}
              />
            </label>
            <label>
              Method
              <select value={method} onChange={(e) => setMethod(e.currentTarget.value)}>
                <option>POST</option>
                <option>GET</option>
              </select>
            </label>
          </div>
        ) : (
          <label>
            TwiML
            <textarea
              rows={5}
              class="mono"
              spellcheck={false}
              required
              value={twiml}
              onInput={(e) => setTwiml(e.currentTarget.value)}
            />
          </label>
        )}
        <ErrorBox error={error} title="Redirect failed" />
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Redirecting…' : 'Redirect'}
          </button>
          {onCancel && (
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          )}
        </div>
      </fieldset>
    </form>
  );
}

// Polite announcements for screen readers (and a visible toast).
export function Announcer({ message }) {
  return (
    <p class={message ? 'toast' : 'sr-only'} role="status" aria-live="polite">
      {message}
    </p>
  );
}
