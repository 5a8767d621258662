import { Component } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, openStream, v1 } from '../api.js';
import { Announcer, ErrorBox, Page, RedirectForm, Status, TableWrap, hangUp } from '../components.jsx';
import { accountSid } from '../state.js';
import { onTick } from '../ticker.js';
import { END_STATUSES, fmtDuration, toMs } from '../util.js';

const stats = () => window.__consoleStats;

// Status order: an older event (replayed, or buffered before the snapshot) never moves a call back.
const RANK = { queued: 0, initiated: 1, ringing: 2, 'in-progress': 3 };
const CREATES = new Set(['call.initiated', 'call.ringing', 'call.answered']);

// Applies one CloudEvent to the map of live calls. Returns true when something changed.
export function applyCallEvent(calls, ended, ev, account) {
  const d = ev && ev.data;
  if (!d || typeof d !== 'object' || !d.call_sid) return false;
  if (account && d.account_sid && d.account_sid !== account) return false;
  const sid = d.call_sid;
  if (ended.has(sid)) return false;
  const type = String(ev.type || '');
  const status = d.status;
  const t = toMs(ev.time);
  const at = isFinite(t) ? t : Date.now();
  if (type === 'call.completed' || END_STATUSES.has(status)) {
    ended.set(sid, Date.now());
    return calls.delete(sid);
  }
  const old = calls.get(sid);
  if (!old && !CREATES.has(type)) return false;
  const c = old
    ? { ...old }
    : {
        sid,
        account_sid: d.account_sid,
        from: d.from,
        to: d.to,
        direction: d.direction,
        status: status || 'initiated',
        start_time_ms: at,
        answer_time_ms: null,
        current_verb: '',
        parent_call_sid: d.parent_call_sid || null,
      };
  if (status && status in RANK && (!(c.status in RANK) || RANK[status] >= RANK[c.status])) {
    c.status = status;
  }
  if (type === 'call.answered' && !c.answer_time_ms) c.answer_time_ms = at;
  if (typeof d.current_verb === 'string') c.current_verb = d.current_verb;
  if (d.answered_by) c.answered_by = d.answered_by;
  calls.set(sid, c);
  return true;
}

const CALL_KEYS = ['status', 'from', 'to', 'direction', 'start_time_ms', 'answer_time_ms', 'current_verb', 'parent_call_sid', 'answered_by'];
function sameCall(a, b) {
  return CALL_KEYS.every((k) => (a[k] ?? null) === (b[k] ?? null));
}

// Ticking durations: the shared 1 s timer rewrites the text of these spans directly (one text
// node each) instead of re-rendering 2,000 rows every second.
const durations = new Set();

function durText(from) {
  return from ? fmtDuration(Math.max(0, Math.floor(Date.now() / 1000) - Math.floor(from / 1000))) : '';
}

export function tickDurations() {
  for (const d of durations) {
    const t = durText(d.props.from);
    if (t !== d.text && d.el) {
      d.text = t;
      d.el.textContent = t;
    }
  }
}

// (Preact 11 components have no `this.base`: the span is held by a ref.)
class Dur extends Component {
  constructor(props) {
    super(props);
    this.el = null;
    this.setEl = (el) => {
      this.el = el;
    };
  }
  componentDidMount() {
    durations.add(this);
  }
  componentWillUnmount() {
    durations.delete(this);
    this.el = null;
  }
  render({ from }) {
    this.text = durText(from);
    return <span ref={this.setEl}>{this.text}</span>;
  }
}

class Row extends Component {
  shouldComponentUpdate(n) {
    const p = this.props;
    return n.call !== p.call || n.busy !== p.busy;
  }
  render({ call: c, busy, onHangUp, onRedirect }) {
    return (
      <tr role="row" data-testid={`live-row-${c.sid}`}>
        <td role="cell">
          <a href={`#/calls/${c.sid}`} class="sid" title={c.sid}>
            {c.sid.slice(0, 10)}…
          </a>
        </td>
        <td role="cell">{c.from}</td>
        <td role="cell">{c.to}</td>
        <td role="cell">{c.direction}</td>
        <td role="cell">
          <Status value={c.status} />
        </td>
        <td role="cell" class={`num${c.answer_time_ms ? '' : ' muted'}`}>
          <Dur from={c.answer_time_ms || c.start_time_ms} />
          {c.answer_time_ms ? '' : <span class="sr-only"> since start, not answered</span>}
        </td>
        <td role="cell">{c.current_verb || ''}</td>
        <td role="cell" class="actions">
          <button
            type="button"
            class="danger small"
            data-testid={`hangup-${c.sid}`}
            disabled={busy}
            aria-label={`Hang up call from ${c.from} to ${c.to}`}
            onClick={() => onHangUp(c.sid)}
          >
            {busy ? 'Hanging up…' : 'Hang up'}
          </button>
          <button
            type="button"
            class="small"
            data-testid={`redirect-${c.sid}`}
            aria-label={`Redirect call from ${c.from} to ${c.to}`}
            onClick={() => onRedirect(c.sid)}
          >
            Redirect
          </button>
        </td>
      </tr>
    );
  }
}

function LiveTable({ rows, busy, onHangUp, onRedirect, snapshotAt }) {
  const t0 = performance.now();
  useLayoutEffect(() => {
    const s = stats();
    const t1 = performance.now();
    s.renders++;
    s.lastRenderMs = Math.round((t1 - t0) * 10) / 10;
    if (s.firstRenderMs === null && snapshotAt) s.firstRenderMs = Math.round((t1 - snapshotAt) * 10) / 10;
  });
  return (
    <TableWrap label="Live calls">
      <table class="data live" role="table" aria-rowcount={rows.length + 1}>
        <thead role="rowgroup">
          <tr role="row">
            <th scope="col" role="columnheader">Call</th>
            <th scope="col" role="columnheader">From</th>
            <th scope="col" role="columnheader">To</th>
            <th scope="col" role="columnheader">Direction</th>
            <th scope="col" role="columnheader">Status</th>
            <th scope="col" role="columnheader">Duration</th>
            <th scope="col" role="columnheader">Verb</th>
            <th scope="col" role="columnheader">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody role="rowgroup">
          {rows.map((c) => (
            <Row
              key={c.sid}
              call={c}
              busy={busy.has(c.sid)}
              onHangUp={onHangUp}
              onRedirect={onRedirect}
            />
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function LiveCalls() {
  const calls = useRef(new Map());
  const ended = useRef(new Map());
  const dataVersion = useRef(0);
  const raf = useRef(0);
  const snapshotAt = useRef(0);
  const [, setFrame] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState(null);
  const [conn, setConn] = useState('connecting');
  const [filter, setFilter] = useState('');
  const [busy, setBusy] = useState(() => new Set());
  const [redirect, setRedirect] = useState(null);
  const [msg, setMsg] = useState('');
  const account = accountSid();

  // Every change (events, ticks) lands here: at most one render per animation frame, and a
  // tick alone only rewrites the durations. With a big table (each commit costs the browser tens
  // of ms of style and layout), data renders are also spaced 100 ms apart so that a flood of
  // events never keeps the main thread busy.
  const dirty = useRef(false);
  const lastRender = useRef(0);
  const gapTimer = useRef(0);
  const schedule = (data) => {
    if (data) dirty.current = true;
    if (raf.current || gapTimer.current) return;
    const gap = calls.current.size >= 500 ? 100 - (performance.now() - lastRender.current) : 0;
    if ((data || dirty.current) && gap > 0) {
      gapTimer.current = setTimeout(() => {
        gapTimer.current = 0;
        schedule(false);
      }, gap);
      return;
    }
    raf.current = requestAnimationFrame(() => {
      raf.current = 0;
      tickDurations();
      if (dirty.current) {
        dirty.current = false;
        lastRender.current = performance.now();
        setFrame((f) => f + 1);
      }
    });
  };

  useEffect(() => {
    let alive = true;
    let loading = 0; // snapshots in flight: events wait in `buffered` meanwhile
    let buffered = [];
    let es = null;
    let retry = 0;

    const apply = (ev) => {
      if (applyCallEvent(calls.current, ended.current, ev, account)) {
        dataVersion.current++;
        schedule(true);
      }
    };
    const onEvent = (ev) => (loading ? buffered.push(ev) : apply(ev));

    // The snapshot replaces the map; events that arrived while it was loading are applied on
    // top (an event never moves a call back, and an ended call never comes back). A call that
    // did not change keeps its object, so its row does not re-render.
    const loadSnapshot = () => {
      loading++;
      return get('/console/api/live').then(
        (r) => {
          loading--;
          if (!alive) return;
          const old = calls.current;
          const m = new Map();
          for (const c of (r && r.calls) || []) {
            if (!c || !c.sid || END_STATUSES.has(c.status) || ended.current.has(c.sid)) continue;
            const prev = old.get(c.sid);
            m.set(c.sid, prev && sameCall(prev, c) ? prev : c);
          }
          calls.current = m;
          if (!snapshotAt.current) snapshotAt.current = performance.now();
          if (!loading) {
            const b = buffered;
            buffered = [];
            b.forEach(apply);
          }
          dataVersion.current++;
          setLoaded(true);
          setError(null);
          schedule(true);
        },
        (e) => {
          loading--;
          if (!loading && alive) {
            const b = buffered;
            buffered = [];
            b.forEach(apply);
          }
          throw e;
        },
      );
    };
    const resync = () => loadSnapshot().catch(() => {});

    // The stream opens once the first snapshot is in (that request makes the account's `calls`
    // channel when no call made it yet); each time it opens, a fresh snapshot covers the events
    // sent before. A stream that closes (refused) is tried again after a few seconds.
    const connect = () => {
      if (!alive) return;
      es = openStream(v1('Channels/calls/Stream'), onEvent, (st) => {
        if (!alive) return;
        setConn(st);
        if (st === 'open') resync();
        if (st === 'closed') retry = setTimeout(connect, 3000);
      });
      es.addEventListener('gap', resync);
      es.addEventListener('overflow', resync);
    };

    loadSnapshot().then(connect, (e) => {
      if (!alive) return;
      setError(e);
      connect();
    });

    const off = onTick((t) => {
      // forget ended calls after 10 minutes
      for (const [sid, at] of ended.current) if (t - at > 600000) ended.current.delete(sid);
      schedule(false);
    });
    return () => {
      alive = false;
      es && es.close();
      clearTimeout(retry);
      off();
      raf.current && cancelAnimationFrame(raf.current);
      raf.current = 0;
      clearTimeout(gapTimer.current);
      gapTimer.current = 0;
    };
  }, [account]);

  const f = filter.trim().toLowerCase();
  const rows = useMemo(() => {
    let list = Array.from(calls.current.values());
    if (f) {
      list = list.filter((c) =>
        [c.sid, c.from, c.to, c.status, c.direction, c.current_verb].some((x) =>
          String(x || '').toLowerCase().includes(f),
        ),
      );
    }
    return list.sort((a, b) => (b.start_time_ms || 0) - (a.start_time_ms || 0) || (a.sid < b.sid ? -1 : 1));
  }, [dataVersion.current, f]);

  const onHangUp = async (sid) => {
    setBusy((s) => new Set(s).add(sid));
    try {
      await hangUp(sid);
      ended.current.set(sid, Date.now());
      calls.current.delete(sid);
      dataVersion.current++;
      setMsg(`Call ${sid} hung up.`);
    } catch (e) {
      setMsg(`Hang up failed: ${e.message}`);
    } finally {
      setBusy((s) => {
        const n = new Set(s);
        n.delete(sid);
        return n;
      });
    }
  };

  const closeRedirect = () => {
    const sid = redirect;
    setRedirect(null);
    requestAnimationFrame(() => {
      const b = document.querySelector(`[data-testid="redirect-${sid}"]`);
      b && b.focus();
    });
  };

  const total = calls.current.size;
  return (
    <Page title="Live calls">
      <div class="toolbar">
        <p class="muted">
          <span class={`dot dot-${conn}`} aria-hidden="true" />
          {loaded ? `${total} live call${total === 1 ? '' : 's'}` : 'Loading live calls…'}
          <span aria-live="polite">{conn !== 'open' ? ` (updates ${conn})` : ''}</span>
        </p>
        <label class="inline">
          Filter
          <input
            type="search"
            value={filter}
            placeholder="number, SID, status"
            onInput={(e) => setFilter(e.currentTarget.value)}
          />
        </label>
      </div>
      <Announcer message={msg} />
      <ErrorBox error={error} title="Live calls unavailable" />
      {redirect && (
        <RedirectForm
          callSid={redirect}
          onDone={(m) => {
            setMsg(m);
            closeRedirect();
          }}
          onCancel={closeRedirect}
        />
      )}
      {loaded && !rows.length ? (
        <p class="empty">{f ? 'No live call matches the filter.' : 'No calls in progress.'}</p>
      ) : null}
      {loaded && rows.length ? (
        <LiveTable
          rows={rows}
          busy={busy}
          onHangUp={onHangUp}
          onRedirect={setRedirect}
          snapshotAt={snapshotAt.current}
        />
      ) : null}
    </Page>
  );
}
