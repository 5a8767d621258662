import { useState } from 'preact/hooks';
import { acct, get, withQuery } from '../api.js';
import { ErrorBox, Loading, Page } from '../components.jsx';
import { useLoad } from '../util.js';
import { NoteRow } from './call.jsx';

export function Debugger() {
  const [log, setLog] = useState('');
  const [pages, setPages] = useState([null]);
  const uri = pages[pages.length - 1];
  const { loading, error, data, reload } = useLoad(
    () => get(uri || withQuery(acct('Notifications.json'), { PageSize: 50, Log: log || undefined })),
    [uri, log],
  );
  const notes = (data && data.notifications) || [];
  const next = data && data.next_page_uri;
  return (
    <Page
      title="Debugger"
      actions={
        <button type="button" onClick={reload}>
          Refresh
        </button>
      }
    >
      <p class="muted">
        Every webhook and TwiML error and warning (Notifications). Codes link to their explanation;{' '}
        <a href="#/errors">all codes</a>.
      </p>
      <div class="toolbar">
        <label class="inline">
          Show
          <select
            value={log}
            onChange={(e) => {
              setLog(e.currentTarget.value);
              setPages([null]);
            }}
          >
            <option value="">errors and warnings</option>
            <option value="0">errors</option>
            <option value="1">warnings</option>
          </select>
        </label>
      </div>
      <ErrorBox error={error} title="Notifications unavailable" />
      <div aria-live="polite" aria-busy={loading ? 'true' : 'false'}>
        {loading ? <Loading what="notifications" /> : !error && !notes.length ? <p class="empty">Nothing to report.</p> : null}
      </div>
      {notes.length > 0 && (
        <ol class="timeline notes">
          {notes.map((n) => (
            <NoteRow key={n.sid} n={n} withCall />
          ))}
        </ol>
      )}
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
