import { useState } from 'preact/hooks';
import { acct, get, withQuery } from '../api.js';
import { ErrorBox, Loading, Page, Status, TableWrap } from '../components.jsx';
import { fmtDuration, fmtTime, useLoad } from '../util.js';

const STATUSES = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'];

export function CallTable({ calls, label }) {
  return (
    <TableWrap label={label}>
      <table class="data">
        <thead>
          <tr>
            <th scope="col">Call</th>
            <th scope="col">Started</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Direction</th>
            <th scope="col">Status</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {calls.map((c) => (
            <tr key={c.sid}>
              <td>
                <a href={`#/calls/${c.sid}`} class="sid" title={c.sid}>
                  {c.sid}
                </a>
              </td>
              <td class="nowrap">{fmtTime(c.start_time || c.date_created)}</td>
              <td>{c.from}</td>
              <td>{c.to}</td>
              <td>{c.direction}</td>
              <td>
                <Status value={c.status} />
              </td>
              <td class="num">{c.duration != null ? fmtDuration(c.duration) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function CallLog() {
  const [form, setForm] = useState({ To: '', From: '', Status: '', after: '', before: '' });
  const [query, setQuery] = useState(() => ({}));
  // pages: a stack of URIs; the last is shown
  const [pages, setPages] = useState([null]);
  const uri = pages[pages.length - 1];

  const { loading, error, data } = useLoad(() => {
    if (uri) return get(uri);
    const p = { PageSize: 50 };
    if (query.To) p.To = query.To;
    if (query.From) p.From = query.From;
    if (query.Status) p.Status = query.Status;
    if (query.after) p['StartTime>'] = query.after;
    if (query.before) p['StartTime<'] = query.before;
    return get(withQuery(acct('Calls.json'), p));
  }, [uri, query]);

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    setQuery({ ...form });
    setPages([null]);
  };
  const reset = () => {
    const empty = { To: '', From: '', Status: '', after: '', before: '' };
    setForm(empty);
    setQuery({});
    setPages([null]);
  };
  const calls = (data && data.calls) || [];
  const next = data && data.next_page_uri;

  return (
    <Page title="Call log">
      <form class="filters card" onSubmit={submit} aria-label="Filter calls">
        <label>
          To
          <input value={form.To} onInput={set('To')} placeholder="+14155550100" />
        </label>
        <label>
          From
          <input value={form.From} onInput={set('From')} />
        </label>
        <label>
          Status
          <select value={form.Status} onChange={set('Status')}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Started on or after
          <input type="date" value={form.after} onInput={set('after')} />
        </label>
        <label>
          Started on or before
          <input type="date" value={form.before} onInput={set('before')} />
        </label>
        <div class="buttons">
          <button type="submit" class="primary">
            Search
          </button>
          <button type="button" onClick={reset}>
            Reset
          </button>
        </div>
      </form>
      <ErrorBox error={error} title="Calls unavailable" />
      <div aria-live="polite" aria-busy={loading ? 'true' : 'false'}>
        {loading ? (
          <Loading what="calls" />
        ) : !error && !calls.length ? (
          <p class="empty">No calls match.</p>
        ) : (
          <p class="muted">
            Page {pages.length}: {calls.length} call{calls.length === 1 ? '' : 's'}.
          </p>
        )}
      </div>
      {calls.length > 0 && <CallTable calls={calls} label="Calls" />}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={pages.length < 2 || loading} onClick={() => setPages(pages.slice(0, -1))}>
          Previous
        </button>
        <button type="button" disabled={!next || loading} onClick={() => setPages([...pages, next])}>
          Next
        </button>
      </nav>
    </Page>
  );
}
