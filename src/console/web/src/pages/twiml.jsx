import { useEffect, useRef, useState } from 'preact/hooks';
import { post } from '../api.js';
import { ErrorBox, ErrorCode, Page } from '../components.jsx';
import { useDebounced } from '../util.js';

const SAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather input="dtmf speech" numDigits="1" action="/menu" timeout="5">
    <Say voice="alice">Press 1 for sales, 2 for support.</Say>
  </Gather>
  <Redirect>/voice</Redirect>
</Response>
`;

export function Diagnostics({ list, onGo }) {
  if (!list || !list.length) return <p class="muted">No problems found.</p>;
  return (
    <ul class="diags">
      {list.map((d, i) => (
        <li key={i} class={`diag diag-${d.level}`} data-testid="lint-diagnostic">
          {onGo ? (
            <button type="button" class="link loc" onClick={() => onGo(d)} aria-label={`Go to line ${d.line}, column ${d.column}`}>
              {d.line}:{d.column}
            </button>
          ) : (
            <span class="loc">
              {d.line}:{d.column}
            </span>
          )}{' '}
          <span class={`badge lvl-${d.level}`}>{d.level}</span> <ErrorCode code={d.code} /> <span>{d.message}</span>
        </li>
      ))}
    </ul>
  );
}

// offset of line:column (1-based) in text
function offsetOf(text, line, column) {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(text.length, off + Math.max(0, (column || 1) - 1));
}

export function TwimlEditor() {
  const [text, setText] = useState(() => {
    try {
      return sessionStorage.getItem('sb_console_twiml') || SAMPLE;
    } catch (_) {
      return SAMPLE;
    }
  });
  const [dialect, setDialect] = useState('voice');
  const [res, setRes] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  const area = useRef(null);
  const debounced = useDebounced(text, 300);

  useEffect(() => {
    try {
      sessionStorage.setItem('sb_console_twiml', debounced);
    } catch (_) {
      /* storage unavailable */
    }
    const n = ++seq.current;
    setBusy(true);
    post('/console/api/lint', { twiml: debounced, dialect }).then(
      (r) => {
        if (n !== seq.current) return;
        setRes(r);
        setError(null);
        setBusy(false);
      },
      (e) => {
        if (n !== seq.current) return;
        setError(e);
        setBusy(false);
      },
    );
  }, [debounced, dialect]);

  const goTo = (d) => {
    const el = area.current;
    if (!el) return;
    const off = offsetOf(el.value, d.line, d.column);
    el.focus();
    el.setSelectionRange(off, off);
  };

  const diags = (res && res.diagnostics) || [];
  const errors = diags.filter((d) => d.level === 'error').length;
  const warnings = diags.length - errors;
  const summary = !res
    ? 'Checking…'
    : res.ok && !diags.length
      ? 'Valid TwiML: no problems.'
      : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}.`;

  return (
    <Page title="TwiML editor">
      <div class="twiml">
        <div class="editor">
          <div class="toolbar">
            <label class="inline">
              Dialect
              <select value={dialect} onChange={(e) => setDialect(e.currentTarget.value)}>
                <option value="voice">voice</option>
                <option value="messaging">messaging</option>
              </select>
            </label>
          </div>
          <label for="twiml-text">TwiML document</label>
          <textarea
            id="twiml-text"
            ref={area}
            class="mono"
            rows={18}
            spellcheck={false}
            autocapitalize="off"
            autocomplete="off"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            aria-describedby="lint-summary"
          />
        </div>
        <section class="sub lint" aria-labelledby="lint-h">
          <h2 id="lint-h">Diagnostics</h2>
          <p id="lint-summary" role="status" aria-live="polite" class={res && !res.ok ? 'bad' : ''}>
            {summary}
          </p>
          <p class="muted small-print" aria-hidden="true">
            {busy ? 'Checking…' : '\u00a0'}
          </p>
          <ErrorBox error={error} title="Lint unavailable" />
          {res && <Diagnostics list={diags} onGo={goTo} />}
        </section>
      </div>
    </Page>
  );
}
