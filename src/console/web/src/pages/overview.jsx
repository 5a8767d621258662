import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, openStream } from '../api.js';
import { Chart } from '../chart.jsx';
import { ErrorBox, Page } from '../components.jsx';

const MAX = 3600;

function columns(samples) {
  const n = samples.length;
  const t = new Array(n);
  const started = new Array(n);
  const conc = new Array(n);
  const p50 = new Array(n);
  const p99 = new Array(n);
  const err = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    t[i] = s.t / 1000;
    started[i] = s.calls_started ?? null;
    conc[i] = s.concurrent_calls ?? null;
    const req = s.webhook_requests || 0;
    p50[i] = req ? s.webhook_p50_ms ?? null : null;
    p99[i] = req ? s.webhook_p99_ms ?? null : null;
    err[i] = req ? (100 * (s.webhook_errors || 0)) / req : null;
  }
  return { t, started, conc, p50, p99, err };
}

const ms = (v) => `${Math.round(v)} ms`;
const pct = (v) => `${v.toFixed(1)} %`;

export function Overview() {
  const [samples, setSamples] = useState([]);
  const [error, setError] = useState(null);
  const [live, setLive] = useState('connecting');
  const pending = useRef([]);
  const raf = useRef(0);

  useEffect(() => {
    let es;
    let alive = true;
    get('/console/api/metrics')
      .then((m) => {
        if (!alive) return;
        setSamples(((m && m.samples) || []).slice(-MAX));
        es = openStream(
          '/console/api/metrics/stream',
          (s) => {
            if (!s || typeof s.t !== 'number') return;
            pending.current.push(s);
            if (!raf.current) {
              raf.current = requestAnimationFrame(() => {
                raf.current = 0;
                const add = pending.current;
                pending.current = [];
                setSamples((old) => {
                  // drop duplicates / out-of-order samples
                  const last = old.length ? old[old.length - 1].t : -Infinity;
                  const fresh = add.filter((x) => x.t > last);
                  if (!fresh.length) return old;
                  const next = old.concat(fresh);
                  return next.length > MAX ? next.slice(next.length - MAX) : next;
                });
              });
            }
          },
          setLive,
        );
      })
      .catch((e) => alive && setError(e));
    return () => {
      alive = false;
      es && es.close();
      raf.current && cancelAnimationFrame(raf.current);
      raf.current = 0;
    };
  }, []);

  const c = useMemo(() => columns(samples), [samples]);
  const last = samples.length ? samples[samples.length - 1] : null;
  const lastMin = samples.slice(-60);
  const perMin = lastMin.reduce((a, s) => a + (s.calls_started || 0), 0);
  const reqMin = lastMin.reduce((a, s) => a + (s.webhook_requests || 0), 0);
  const errMin = lastMin.reduce((a, s) => a + (s.webhook_errors || 0), 0);

  return (
    <Page title="Overview">
      <ErrorBox error={error} title="Metrics unavailable" />
      <p class="muted">
        Last hour, one point per second.{' '}
        <span class={`dot dot-${live}`} aria-hidden="true" />
        Live updates: {live === 'open' ? 'on' : live}.
      </p>
      <dl class="tiles">
        <div>
          <dt>Concurrent calls</dt>
          <dd>{last ? last.concurrent_calls : '–'}</dd>
        </div>
        <div>
          <dt>Calls, last minute</dt>
          <dd>{perMin}</dd>
        </div>
        <div>
          <dt>Webhook p99</dt>
          <dd>{last && last.webhook_requests ? ms(last.webhook_p99_ms) : '–'}</dd>
        </div>
        <div>
          <dt>Webhook errors, last minute</dt>
          <dd>{reqMin ? pct((100 * errMin) / reqMin) : '–'}</dd>
        </div>
      </dl>
      <div class="charts">
        <Chart
          title="Calls started per second"
          data={[c.t, c.started]}
          series={[{ label: 'calls/s', color: '#1f6feb', fill: 'rgba(31,111,235,0.12)' }]}
          summary={`${perMin} in the last minute.`}
        />
        <Chart
          title="Concurrent calls"
          data={[c.t, c.conc]}
          series={[{ label: 'calls', color: '#2da44e', fill: 'rgba(45,164,78,0.12)' }]}
          summary={last ? `${last.concurrent_calls} now.` : ''}
        />
        <Chart
          title="Webhook latency"
          yLabel="ms"
          data={[c.t, c.p50, c.p99]}
          series={[
            { label: 'p50', color: '#8250df', fmt: ms },
            { label: 'p99', color: '#bf3989', fmt: ms },
          ]}
          summary={
            last && last.webhook_requests
              ? `p50 ${ms(last.webhook_p50_ms)}, p99 ${ms(last.webhook_p99_ms)} in the last second.`
              : 'No webhook requests in the last second.'
          }
        />
        <Chart
          title="Webhook error rate"
          yLabel="%"
          data={[c.t, c.err]}
          series={[{ label: 'errors', color: '#cf222e', fill: 'rgba(207,34,46,0.1)', fmt: pct }]}
          summary={reqMin ? `${errMin} of ${reqMin} requests failed in the last minute.` : ''}
        />
      </div>
    </Page>
  );
}
