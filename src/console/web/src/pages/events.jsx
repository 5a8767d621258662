import { useEffect, useRef, useState } from 'preact/hooks';
import { get, getAll, openStream, post, v1 } from '../api.js';
import { Announcer, ErrorBox, Loading, Page, Status, TableWrap } from '../components.jsx';
import { fmtTime, pretty, useLoad } from '../util.js';

const enc = encodeURIComponent;
const TAIL = 200;

export function Channels() {
  const { loading, error, data, reload } = useLoad(() => getAll(v1('Channels', { PageSize: 200 }), 'channels'), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState(null);
  const [cerr, setCerr] = useState(null);
  const create = async (e) => {
    e.preventDefault();
    setCerr(null);
    try {
      const c = await post(v1('Channels'), { UniqueName: name.trim() });
      setCreated(c);
      setName('');
      reload();
    } catch (err) {
      setCerr(err);
    }
  };
  const list = (data || []).slice().sort((a, b) => (a.unique_name < b.unique_name ? -1 : 1));
  return (
    <Page title="Event channels">
      <ErrorBox error={error} title="Channels unavailable" />
      {loading ? <Loading what="channels" /> : null}
      {!loading && !error && !list.length ? <p class="empty">No channels yet.</p> : null}
      {list.length > 0 && (
        <TableWrap label="Channels">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">SID</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.sid}>
                  <td>
                    <a href={`#/events/${enc(c.unique_name)}`}>{c.unique_name}</a>
                  </td>
                  <td class="sid">{c.sid}</td>
                  <td class="nowrap">{fmtTime(c.date_created)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <form class="card inline-form" onSubmit={create}>
        <label>
          New channel name
          <input
            required
            maxLength={128}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            placeholder="app.orders"
          />
        </label>
        <button type="submit" class="primary">
          Create channel
        </button>
      </form>
      <ErrorBox error={cerr} title="Not created" />
      {created && (
        <div class="alert" role="status">
          Created <a href={`#/events/${enc(created.unique_name)}`}>{created.unique_name}</a>.
          {created.webhook_secret ? (
            <>
              {' '}
              Its webhook secret is shown only now: <code class="secret">{created.webhook_secret}</code>
            </>
          ) : null}
        </div>
      )}
    </Page>
  );
}

function Attributes({ channel, path }) {
  const [text, setText] = useState(() => pretty(channel.attributes || {}));
  const [error, setError] = useState(null);
  const [msg, setMsg] = useState('');
  const [busy, setBusy] = useState(false);
  const save = async (e) => {
    e.preventDefault();
    setMsg('');
    try {
      const v = JSON.parse(text);
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('Attributes must be a JSON object');
    } catch (err) {
      setError({ message: `Not valid JSON: ${err.message}` });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const c = await post(v1(`Channels/${path}`), { Attributes: text });
      setText(pretty(c.attributes || {}));
      setMsg('Attributes saved.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="sub" onSubmit={save}>
      <h2>
        <label for="attrs">Attributes</label>
      </h2>
      <textarea
        id="attrs"
        class="mono"
        rows={Math.min(24, Math.max(6, text.split('\n').length + 1))}
        spellcheck={false}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        aria-describedby="attrs-help"
      />
      <small id="attrs-help">A JSON object; it replaces the channel's attributes (see docs/events.md).</small>
      <ErrorBox error={error} title="Not saved" />
      <Announcer message={msg} />
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save attributes'}
        </button>
      </div>
    </form>
  );
}

function Deliveries({ sid }) {
  const { loading, error, data, reload } = useLoad(
    () => get(v1(`Subscribers/${enc(sid)}/Deliveries`, { PageSize: 20 })),
    [sid],
  );
  if (loading && !data) return <Loading what="deliveries" />;
  if (error) return <ErrorBox error={error} title="Deliveries unavailable" />;
  const list = (data && data.deliveries) || [];
  return (
    <div>
      <button type="button" class="small" onClick={reload}>
        Refresh deliveries
      </button>
      {!list.length ? (
        <p class="muted">No deliveries yet.</p>
      ) : (
        <TableWrap label={`Deliveries of ${sid}`}>
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last code</th>
                <th scope="col">Attempt history</th>
              </tr>
            </thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.event_sid}>
                  <td class="sid">{d.event_sid}</td>
                  <td>
                    <Status value={d.status} />
                    {d.next_attempt ? <small> next {fmtTime(d.next_attempt)}</small> : null}
                  </td>
                  <td class="num">{d.attempt_count}</td>
                  <td class="num">{d.last_status_code || ''}</td>
                  <td>
                    <ol class="attempts">
                      {(d.attempts || []).map((a) => (
                        <li key={a.attempt}>
                          #{a.attempt} {fmtTime(a.date)}: {a.status_code || 'no answer'}
                          {a.duration_ms != null ? ` in ${a.duration_ms} ms` : ''}
                          {a.error ? ` — ${a.error}` : ''}
                        </li>
                      ))}
                    </ol>
                    {d.last_error && !(d.attempts || []).length ? d.last_error : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </div>
  );
}

function Replay({ sid }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [msg, setMsg] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setMsg('');
    setError(null);
    const iso = (v) => (v ? new Date(v).toISOString() : undefined);
    try {
      const r = await post(v1(`Subscribers/${enc(sid)}/Replay`), { From: iso(from), To: iso(to) });
      setMsg(`${r && r.queued != null ? r.queued : 'The'} event${r && r.queued === 1 ? '' : 's'} queued for replay.`);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label={`Replay events to ${sid}`}>
      <label>
        Replay from
        <input type="datetime-local" step="1" required value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
      </label>
      <label>
        to (empty: now)
        <input type="datetime-local" step="1" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
      </label>
      <button type="submit">Replay</button>
      <ErrorBox error={error} title="Replay failed" />
      <Announcer message={msg} />
    </form>
  );
}

function Subscriber({ s }) {
  const [open, setOpen] = useState(false);
  return (
    <li class="card subscriber">
      <div class="ev-head">
        <span class="badge type">{s.type}</span>
        <span class="sid">{s.sid}</span>
        <Status value={s.status} />
      </div>
      {s.url && <p class="url">{s.url}</p>}
      {s.status_reason && <p class="ev-error">{s.status_reason}</p>}
      {s.attributes && Object.keys(s.attributes).length ? (
        <details>
          <summary>Attributes</summary>
          <pre class="body">{pretty(s.attributes)}</pre>
        </details>
      ) : null}
      {s.type === 'webhook' && (
        <>
          <button type="button" class="small" aria-expanded={open ? 'true' : 'false'} onClick={() => setOpen(!open)}>
            {open ? 'Hide deliveries' : 'Show deliveries'}
          </button>
          {open && <Deliveries sid={s.sid} />}
          <Replay sid={s.sid} />
        </>
      )}
    </li>
  );
}

function Tail({ path }) {
  const buf = useRef([]);
  const raf = useRef(0);
  const paused = useRef(false);
  const [events, setEvents] = useState([]);
  const [conn, setConn] = useState('connecting');
  const [isPaused, setPaused] = useState(false);
  useEffect(() => {
    const es = openStream(
      v1(`Channels/${path}/Stream`),
      (ev) => {
        if (paused.current) return;
        buf.current.push(ev);
        if (!raf.current) {
          raf.current = requestAnimationFrame(() => {
            raf.current = 0;
            const add = buf.current.reverse();
            buf.current = [];
            setEvents((old) => add.concat(old).slice(0, TAIL));
          });
        }
      },
      setConn,
    );
    return () => {
      es.close();
      raf.current && cancelAnimationFrame(raf.current);
      raf.current = 0;
    };
  }, [path]);
  return (
    <section class="sub">
      <div class="page-head">
        <h2>Live tail</h2>
        <div class="page-actions">
          <button
            type="button"
            class="small"
            aria-pressed={isPaused ? 'true' : 'false'}
            onClick={() => {
              paused.current = !isPaused;
              setPaused(!isPaused);
            }}
          >
            {isPaused ? 'Resume' : 'Pause'}
          </button>
          <button type="button" class="small" onClick={() => setEvents([])}>
            Clear
          </button>
        </div>
      </div>
      <p class="muted">
        <span class={`dot dot-${conn}`} aria-hidden="true" />
        <span aria-live="polite">Stream {conn === 'open' ? 'connected' : conn}</span>. The last {TAIL} events,
        newest first.
      </p>
      {!events.length ? (
        <p class="muted">Waiting for events…</p>
      ) : (
        <ol class="tail">
          {events.map((ev, i) => (
            <li key={ev.id || i} class="tail-row">
              <details>
                <summary>
                  <time>{fmtTime(ev.time)}</time> <span class="badge type">{ev.type}</span>{' '}
                  <span class="muted">{ev.channel}</span> <span class="sid">{ev.id}</span>
                </summary>
                <pre class="body">{pretty(ev)}</pre>
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function ChannelPage({ name }) {
  const path = enc(name);
  const { loading, error, data } = useLoad(
    () =>
      Promise.all([
        get(v1(`Channels/${path}`)),
        getAll(v1(`Channels/${path}/Subscribers`, { PageSize: 200 }), 'subscribers').catch((e) => ({ error: e })),
      ]),
    [name],
  );
  return (
    <Page title={`Channel ${name}`}>
      <p>
        <a href="#/events">All channels</a>
      </p>
      {loading && !data ? <Loading what="the channel" /> : null}
      <ErrorBox error={error} title="Channel unavailable" />
      {data && (
        <>
          <p class="muted">
            <span class="sid">{data[0].sid}</span> · created {fmtTime(data[0].date_created)} · updated{' '}
            {fmtTime(data[0].date_updated)}
          </p>
          <Attributes key={data[0].sid} channel={data[0]} path={path} />
          <section class="sub">
            <h2>Subscribers</h2>
            {data[1].error ? (
              <ErrorBox error={data[1].error} title="Subscribers unavailable" />
            ) : data[1].length ? (
              <ul class="subscribers">
                {data[1].map((s) => (
                  <Subscriber key={s.sid} s={s} />
                ))}
              </ul>
            ) : (
              <p class="muted">No subscribers.</p>
            )}
          </section>
        </>
      )}
      <Tail key={name} path={path} />
    </Page>
  );
}
