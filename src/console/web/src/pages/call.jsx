import { useEffect, useState } from 'preact/hooks';
import { acct, get, getAll } from '../api.js';
import {
  Announcer,
  ErrorBox,
  ErrorCode,
  KV,
  Loading,
  Page,
  RedirectForm,
  Status,
  hangUp,
} from '../components.jsx';
import { onTick } from '../ticker.js';
import { LIVE_STATUSES, fmtDuration, fmtTime, toMs, useLoad } from '../util.js';
import { CallTable } from './calls.jsx';

const settle = (p) => p.then((v) => ({ v }), (e) => ({ e }));

async function loadCall(sid) {
  const s = encodeURIComponent(sid);
  const [call, events, notes, recs, kids] = await Promise.all([
    get(acct(`Calls/${s}.json`)),
    settle(getAll(acct(`Calls/${s}/Events.json`), 'events', { PageSize: 200 }, 20)),
    settle(getAll(acct('Notifications.json'), 'notifications', { CallSid: sid, PageSize: 200 }, 5)),
    settle(getAll(acct('Recordings.json'), 'recordings', { CallSid: sid, PageSize: 100 }, 5)),
    settle(getAll(acct('Calls.json'), 'calls', { ParentCallSid: sid, PageSize: 100 }, 5)),
  ]);
  return { call, events, notes, recs, kids };
}

// Events (oldest first) and notifications merged by time; an exchange without a response keeps
// its place after the one before it.
export function timeline(events, notes) {
  const items = [];
  let last = -Infinity;
  (events || []).forEach((ev, i) => {
    const t = toMs(ev.response && ev.response.date_created);
    if (isFinite(t)) last = Math.max(last, t);
    items.push({ kind: 'event', t: isFinite(t) ? t : last, ev, i, seq: 0 });
  });
  (notes || [])
    .slice()
    .reverse() // the API lists newest first
    .forEach((n, i) => items.push({ kind: 'note', t: toMs(n.date_created), n, i, seq: 1 }));
  const key = (x) => (isFinite(x.t) ? x.t : -Infinity);
  return items.sort((a, b) => key(a) - key(b) || a.seq - b.seq || a.i - b.i);
}

function codeClass(code) {
  if (!code) return 'bad';
  return code >= 200 && code < 300 ? 'ok' : code >= 300 && code < 400 ? 'warn' : 'bad';
}

function EventRow({ ev, prev, open }) {
  const req = ev.request || {};
  const res = ev.response;
  const params = req.parameters || {};
  const headers = (res && res.headers) || {};
  const type = ev.type || 'webhook';
  const reason = type === 'fallback' && prev && Number(prev.error_code) ? prev : null;
  return (
    <li class={`ev ev-${type}`} data-testid="event-row">
      <div class="ev-head">
        <span class="badge type">{type.replace('_', ' ')}</span>
        <code class="method">{req.method}</code>
        <span class="url">{req.url}</span>
      </div>
      <div class="ev-meta">
        {res ? (
          <>
            <span class={`code code-${codeClass(res.response_code)}`}>{res.response_code}</span>
            <span>{res.request_duration != null ? `${res.request_duration} ms` : ''}</span>
            <span>{res.content_type}</span>
            <time>{fmtTime(res.date_created)}</time>
          </>
        ) : (
          <span class="code code-bad">no response</span>
        )}
      </div>
      {reason && (
        <p class="ev-reason">
          Fallback because the primary request failed: error <ErrorCode code={reason.error_code} />
          {reason.error_message ? ` — ${reason.error_message}` : ''}
        </p>
      )}
      {Number(ev.error_code) ? (
        <p class="ev-error">
          Error <ErrorCode code={ev.error_code} />
          {ev.error_message ? `: ${ev.error_message}` : ''}
        </p>
      ) : null}
      <details open={open}>
        <summary>Request parameters ({Object.keys(params).length})</summary>
        <KV obj={params} label="Request parameters" />
      </details>
      {res && (
        <details>
          <summary>Response headers ({Object.keys(headers).length})</summary>
          <KV obj={headers} label="Response headers" />
        </details>
      )}
      {res && (
        <details open={open}>
          <summary>Response body</summary>
          {res.response_body ? <pre class="body">{res.response_body}</pre> : <p class="muted">Empty.</p>}
        </details>
      )}
    </li>
  );
}

export function NoteRow({ n, withCall }) {
  const level = String(n.log) === '1' ? 'warning' : 'error';
  return (
    <li class={`note note-${level}`} data-testid="notification-row">
      <div class="ev-head">
        <span class={`badge lvl-${level}`}>{level}</span>
        <ErrorCode code={n.error_code} />
        <time>{fmtTime(n.date_created)}</time>
        {withCall && n.call_sid && (
          <a href={`#/calls/${n.call_sid}`} class="sid">
            {n.call_sid}
          </a>
        )}
      </div>
      <p class="note-msg">{n.message_text}</p>
      {n.request_url && (
        <p class="url">
          {n.request_method ? <code class="method">{n.request_method}</code> : null} {n.request_url}
        </p>
      )}
    </li>
  );
}

function Section({ title, result, children, empty }) {
  return (
    <section class="sub">
      <h2>{title}</h2>
      {result && result.e ? <ErrorBox error={result.e} /> : children || <p class="muted">{empty}</p>}
    </section>
  );
}

// The call's SIP dialog in brief (Calls/{Sid}.json's `sip`, written as the call ends): who the
// peer was, what media was agreed, who hung up, and the messages in order (a ladder).
function SipSummary({ sip }) {
  const facts = [
    ['Call-ID', sip.call_id],
    ['Peer', sip.peer],
    ['User-Agent', sip.user_agent],
    ['Request-URI', sip.request_uri],
    ['Codec', sip.codec],
    ['Remote RTP', sip.remote_media],
    ['Final response', sip.final_status ? String(sip.final_status) : ''],
    ['Ended by', sip.ended_by ? `${sip.ended_by}${sip.end_reason ? ` (${sip.end_reason})` : ''}` : ''],
  ].filter(([, v]) => v);
  const steps = Array.isArray(sip.steps) ? sip.steps : [];
  return (
    <div data-testid="sip-summary">
      <dl class="summary-grid">
        {facts.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <ol class="ladder" aria-label="SIP messages">
        {steps.map((st, i) => (
          <li key={i} class={st.dir === 'out' ? 'out' : 'in'}>
            <span class="ms">+{st.ms} ms</span>
            <span class="dir">{st.dir === 'out' ? 'Switchboard → far end' : 'far end → Switchboard'}</span>
            <span class="msg">{st.message}</span>
            {st.detail ? <span class="muted"> · {st.detail}</span> : null}
          </li>
        ))}
        {sip.steps_dropped ? <li class="muted">… {sip.steps_dropped} more not kept</li> : null}
      </ol>
    </div>
  );
}

export function CallPage({ sid }) {
  const { loading, error, data, reload } = useLoad(() => loadCall(sid), [sid]);
  const [busy, setBusy] = useState(false);
  const [redirect, setRedirect] = useState(false);
  const [msg, setMsg] = useState('');
  const [, tick] = useState(0);
  const call = data && data.call;
  const live = call && LIVE_STATUSES.has(call.status);

  useEffect(() => (live ? onTick(() => tick((n) => n + 1)) : undefined), [live]);

  if (loading && !data) return <Page title={`Call ${sid}`}><Loading what="call" /></Page>;
  if (error)
    return (
      <Page title={`Call ${sid}`}>
        <ErrorBox error={error} title="Call unavailable" />
      </Page>
    );

  const events = (data.events.v || []).slice();
  const notes = data.notes.v || [];
  const recs = data.recs.v || [];
  const kids = data.kids.v || [];
  const items = timeline(events, notes);
  const open = events.length <= 10;
  let dur = call.duration;
  if (live) {
    const start = toMs(call.start_time);
    if (isFinite(start)) dur = (Date.now() - start) / 1000;
  }

  const doHangUp = async () => {
    setBusy(true);
    try {
      await hangUp(sid);
      setMsg('Call hung up.');
      reload();
    } catch (e) {
      setMsg(`Hang up failed: ${e.message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page
      title={`Call ${sid}`}
      actions={
        <>
          {live && (
            <button type="button" class="danger" data-testid={`hangup-${sid}`} disabled={busy} onClick={doHangUp}>
              {busy ? 'Hanging up…' : 'Hang up'}
            </button>
          )}
          {live && (
            <button type="button" aria-expanded={redirect ? 'true' : 'false'} onClick={() => setRedirect(!redirect)}>
              Redirect
            </button>
          )}
          <button type="button" onClick={reload}>
            Refresh
          </button>
        </>
      }
    >
      <Announcer message={msg} />
      {redirect && live && (
        <RedirectForm
          callSid={sid}
          onDone={(m) => {
            setMsg(m);
            setRedirect(false);
            reload();
          }}
          onCancel={() => setRedirect(false)}
        />
      )}
      <dl class="summary card">
        <div>
          <dt>Status</dt>
          <dd>
            <Status value={call.status} />
          </dd>
        </div>
        <div>
          <dt>From</dt>
          <dd>{call.from}</dd>
        </div>
        <div>
          <dt>To</dt>
          <dd>{call.to}</dd>
        </div>
        {call.caller_name ? (
          <div>
            <dt>Caller name</dt>
            <dd>{call.caller_name}</dd>
          </div>
        ) : null}
        <div>
          <dt>Direction</dt>
          <dd>{call.direction}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{fmtTime(call.start_time) || '–'}</dd>
        </div>
        <div>
          <dt>Ended</dt>
          <dd>{fmtTime(call.end_time) || '–'}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{dur != null && dur !== '' ? fmtDuration(Number(dur)) : '–'}</dd>
        </div>
        {call.answered_by ? (
          <div>
            <dt>Answered by</dt>
            <dd>{call.answered_by}</dd>
          </div>
        ) : null}
        {call.parent_call_sid ? (
          <div>
            <dt>Parent call</dt>
            <dd>
              <a href={`#/calls/${call.parent_call_sid}`} class="sid">
                {call.parent_call_sid}
              </a>
            </dd>
          </div>
        ) : null}
        {call.media && call.media.packets_received != null ? (
          <div>
            <dt>RTP packets in / out / lost</dt>
            <dd>
              {call.media.packets_received} / {call.media.packets_sent} / {call.media.packets_lost}
            </dd>
          </div>
        ) : null}
      </dl>

      <Section title="SIP signalling" empty="No SIP summary yet (it is written when the call ends).">
        {call.sip ? <SipSummary sip={call.sip} /> : null}
      </Section>

      <Section title="Timeline" result={data.events.e ? data.events : null}>
        {items.length ? (
          <ol class="timeline" data-testid="call-events">
            {items.map((it, k) =>
              it.kind === 'event' ? (
                <EventRow key={`e${it.i}`} ev={it.ev} prev={events[it.i - 1]} open={open} />
              ) : (
                <NoteRow key={`n${it.n.sid || it.i}`} n={it.n} />
              ),
            )}
          </ol>
        ) : (
          <p class="muted" data-testid="call-events">
            No webhook requests recorded for this call.
          </p>
        )}
        {data.notes.e ? <ErrorBox error={data.notes.e} title="Notifications unavailable" /> : null}
      </Section>

      <Section title="Recordings" result={data.recs} empty="No recordings.">
        {recs.length ? (
          <ul class="recs">
            {recs.map((r) => (
              <li key={r.sid} class="card">
                <p>
                  <span class="sid">{r.sid}</span> · {r.duration != null ? `${r.duration} s` : ''} ·{' '}
                  <Status value={r.status} /> · {fmtTime(r.date_created)}
                </p>
                {r.media_url && (
                  <audio controls preload="none" src={wavUrl(r.media_url)}>
                    <a href={wavUrl(r.media_url)}>Download the recording</a>
                  </audio>
                )}
              </li>
            ))}
          </ul>
        ) : null}
      </Section>

      <Section title="Child calls" result={data.kids} empty="No child calls.">
        {kids.length ? <CallTable calls={kids} label="Child calls" /> : null}
      </Section>
    </Page>
  );
}

// media_url is absolute (the daemon's public URL); CSP allows media from this origin only, so
// use its path on this origin, with .wav.
export function wavUrl(u) {
  let path = String(u);
  try {
    const url = new URL(path, location.href);
    path = url.pathname;
  } catch (_) {
    /* keep as is */
  }
  return /\.wav$/.test(path) ? path : `${path}.wav`;
}
