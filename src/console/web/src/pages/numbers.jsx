import { useEffect, useRef, useState } from 'preact/hooks';
import { acct, get, getAll, post } from '../api.js';
import { Announcer, ErrorBox, ErrorCode, KV, Loading, Page, TableWrap } from '../components.jsx';
import { go } from '../router.js';
import { useLoad } from '../util.js';

// Form field -> resource field
const URLS = [
  ['VoiceUrl', 'voice_url', 'VoiceMethod', 'voice_method', 'Voice URL (a call comes in)'],
  ['VoiceFallbackUrl', 'voice_fallback_url', 'VoiceFallbackMethod', 'voice_fallback_method', 'Voice fallback URL'],
  ['StatusCallback', 'status_callback', 'StatusCallbackMethod', 'status_callback_method', 'Call status callback URL'],
  ['SmsUrl', 'sms_url', 'SmsMethod', 'sms_method', 'Messaging URL (a message comes in)'],
  ['SmsFallbackUrl', 'sms_fallback_url', 'SmsFallbackMethod', 'sms_fallback_method', 'Messaging fallback URL'],
];

function initial(kind, r) {
  const f = { FriendlyName: (r && r.friendly_name) || '' };
  if (kind === 'number') {
    f.PhoneNumber = (r && r.phone_number) || '';
    f.VoiceApplicationSid = (r && r.voice_application_sid) || '';
  } else {
    f.SmsStatusCallback = (r && r.sms_status_callback) || '';
  }
  for (const [u, uk, m, mk] of URLS) {
    f[u] = (r && r[uk]) || '';
    f[m] = (r && r[mk]) || 'POST';
  }
  return f;
}

// headers: text lines ("Name: value") or an object
function headerLines(h) {
  if (!h) return '';
  if (Array.isArray(h)) return h.join('\n');
  if (typeof h === 'object') return Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\n');
  return String(h);
}

// One HTTP exchange of the test: {type, request:{url,method,parameters}, response|null, error_code, error_message}
function Exchange({ title, x }) {
  if (!x) return null;
  const r = x.request || {};
  const res = x.response;
  const ok = res && res.status >= 200 && res.status < 300;
  const headers = res ? headerLines(res.headers) : '';
  return (
    <section class="sub" data-testid={`test-${x.type || 'exchange'}`}>
      <h3>{title}</h3>
      <p class="url">
        <code class="method">{r.method}</code> {r.url}
      </p>
      <details>
        <summary>Parameters ({Object.keys(r.parameters || {}).length})</summary>
        <KV obj={r.parameters} label="Request parameters" />
      </details>
      {x.error_code ? (
        <p class="alert alert-error">
          Error <ErrorCode code={x.error_code} />: {x.error_message}
        </p>
      ) : null}
      {res ? (
        <>
          <p>
            <span class={`code code-${ok ? 'ok' : 'bad'}`}>{res.status}</span> {res.content_type}{' '}
            {res.duration_ms != null ? `· ${res.duration_ms} ms` : ''}
          </p>
          {headers ? (
            <details>
              <summary>Response headers</summary>
              <pre class="body">{headers}</pre>
            </details>
          ) : null}
          {res.body ? <pre class="body">{res.body}</pre> : <p class="muted">Empty body.</p>}
        </>
      ) : (
        <p class="muted">No response.</p>
      )}
    </section>
  );
}

// Result of POST /console/api/test-url:
// {ok, primary: exchange|null, fallback: exchange|null, diagnostics:[{level,code,message,url}], verbs, error}
export function TestResult({ result }) {
  if (!result) return null;
  const diags = result.diagnostics || [];
  const verbs = result.verbs || [];
  return (
    <div class="test-result card">
      {result.error ? (
        <div class="alert alert-error" role="alert">
          Error <ErrorCode code={result.error.code} />: {result.error.message}
        </div>
      ) : result.ok ? (
        <p class="alert alert-ok" role="status">
          The application answered valid TwiML.
        </p>
      ) : null}
      <Exchange title="Request" x={result.primary} />
      <Exchange title="Fallback request" x={result.fallback} />
      {!result.primary && !result.fallback ? <p class="muted">No request was made.</p> : null}
      {verbs.length ? (
        <section class="sub">
          <h3>Verbs</h3>
          <p>
            <code>{verbs.join(' → ')}</code>
          </p>
        </section>
      ) : null}
      <section class="sub">
        <h3>Diagnostics</h3>
        {diags.length ? (
          <ul class="diags">
            {diags.map((d, i) => (
              <li key={i} class={`diag diag-${d.level}`} data-testid="test-diagnostic">
                <span class={`badge lvl-${d.level}`}>{d.level}</span> <ErrorCode code={d.code} />{' '}
                <span>{d.message}</span>
                {d.url ? <span class="muted url"> {d.url}</span> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">No problems found.</p>
        )}
      </section>
    </div>
  );
}

function useTest() {
  const [state, set] = useState({ busy: false, result: null, error: null, label: '' });
  const run = async (label, params) => {
    set({ busy: true, result: null, error: null, label });
    try {
      const result = await post('/console/api/test-url', params);
      set({ busy: false, result, error: null, label });
    } catch (error) {
      set({ busy: false, result: null, error, label });
    }
  };
  return [state, run];
}

function TestPanel({ state }) {
  const ref = useRef(null);
  useEffect(() => {
    if (!state.busy && (state.result || state.error) && ref.current) ref.current.focus();
  }, [state.busy, state.result, state.error]);
  if (!state.busy && !state.result && !state.error) return null;
  return (
    <section class="sub" aria-live="polite">
      <h2 tabIndex={-1} ref={ref}>
        Test of {state.label}
      </h2>
      {state.busy ? <Loading what="the test result" /> : null}
      <ErrorBox error={state.error} title="Test failed" />
      <TestResult result={state.result} />
    </section>
  );
}

function Lists() {
  const { loading, error, data } = useLoad(
    () =>
      Promise.all([
        getAll(acct('IncomingPhoneNumbers.json'), 'incoming_phone_numbers', { PageSize: 200 }),
        getAll(acct('Applications.json'), 'applications', { PageSize: 200 }),
      ]),
    [],
  );
  const [test, runTest] = useTest();
  if (loading) return <Loading what="numbers" />;
  if (error) return <ErrorBox error={error} title="Numbers unavailable" />;
  const [nums, apps] = data;
  const appName = new Map(apps.map((a) => [a.sid, a.friendly_name || a.sid]));
  return (
    <>
      <section class="sub">
        <div class="page-head">
          <h2>Phone numbers</h2>
          <a class="button" href="#/numbers/new">
            Add a number
          </a>
        </div>
        {nums.length ? (
          <TableWrap label="Phone numbers">
            <table class="data">
              <thead>
                <tr>
                  <th scope="col">Number</th>
                  <th scope="col">Name</th>
                  <th scope="col">Voice</th>
                  <th scope="col">Messaging</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {nums.map((n) => (
                  <tr key={n.sid}>
                    <td>
                      <a href={`#/numbers/${n.sid}`}>{n.phone_number}</a>
                    </td>
                    <td>{n.friendly_name !== n.phone_number ? n.friendly_name : ''}</td>
                    <td class="url">
                      {n.voice_application_sid ? (
                        <a href={`#/numbers/${n.voice_application_sid}`}>
                          app: {appName.get(n.voice_application_sid) || n.voice_application_sid}
                        </a>
                      ) : n.voice_url ? (
                        `${n.voice_method} ${n.voice_url}`
                      ) : (
                        <span class="muted">none</span>
                      )}
                    </td>
                    <td class="url">{n.sms_url ? `${n.sms_method} ${n.sms_url}` : <span class="muted">none</span>}</td>
                    <td class="actions">
                      <button
                        type="button"
                        class="small"
                        disabled={test.busy}
                        aria-label={`Test the voice URL of ${n.phone_number}`}
                        onClick={() => runTest(n.phone_number, { PhoneNumberSid: n.sid })}
                      >
                        Test this URL
                      </button>
                      <a class="button small" href={`#/numbers/${n.sid}`} aria-label={`Edit ${n.phone_number}`}>
                        Edit
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : (
          <p class="empty">No numbers yet.</p>
        )}
        <TestPanel state={test} />
      </section>
      <section class="sub">
        <div class="page-head">
          <h2>Applications</h2>
          <a class="button" href="#/numbers/new-application">
            Add an application
          </a>
        </div>
        {apps.length ? (
          <TableWrap label="Applications">
            <table class="data">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Voice URL</th>
                  <th scope="col">Messaging URL</th>
                </tr>
              </thead>
              <tbody>
                {apps.map((a) => (
                  <tr key={a.sid}>
                    <td>
                      <a href={`#/numbers/${a.sid}`}>{a.friendly_name || a.sid}</a>
                    </td>
                    <td class="url">{a.voice_url ? `${a.voice_method} ${a.voice_url}` : ''}</td>
                    <td class="url">{a.sms_url ? `${a.sms_method} ${a.sms_url}` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : (
          <p class="empty">No applications yet.</p>
        )}
      </section>
    </>
  );
}

function ResourceForm({ kind, sid }) {
  const isNew = !sid;
  const path = kind === 'number' ? 'IncomingPhoneNumbers' : 'Applications';
  const { loading, error, data } = useLoad(async () => {
    const [res, apps] = await Promise.all([
      sid ? get(acct(`${path}/${encodeURIComponent(sid)}.json`)) : null,
      kind === 'number' ? getAll(acct('Applications.json'), 'applications', { PageSize: 200 }) : [],
    ]);
    return { res, apps };
  }, [kind, sid]);
  const [form, setForm] = useState(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState(null);
  const [msg, setMsg] = useState('');
  const [test, runTest] = useTest();

  useEffect(() => {
    if (data) setForm(initial(kind, data.res));
  }, [data]);

  const noun = kind === 'number' ? 'number' : 'application';
  const title = isNew
    ? `New ${noun}`
    : data && data.res
      ? `${kind === 'number' ? 'Number' : 'Application'} ${data.res.phone_number || data.res.friendly_name || sid}`
      : `${kind === 'number' ? 'Number' : 'Application'} ${sid}`;
  if (loading || (!error && !form)) return <Page title={title}><Loading /></Page>;
  if (error) return <Page title={title}><ErrorBox error={error} /></Page>;

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setSaving(true);
    setSaveError(null);
    const params = { ...form };
    if (!isNew) delete params.PhoneNumber; // create only
    if (isNew) {
      // leave out empty optional fields on create
      for (const k of Object.keys(params)) if (params[k] === '') delete params[k];
    }
    try {
      const r = await post(acct(isNew ? `${path}.json` : `${path}/${encodeURIComponent(sid)}.json`), params);
      setMsg(`Saved ${r.phone_number || r.friendly_name || r.sid}.`);
      if (isNew && r && r.sid) go(`#/numbers/${r.sid}`);
    } catch (err) {
      setSaveError(err);
    } finally {
      setSaving(false);
    }
  };
  const fid = (k) => `f-${k}`;
  return (
    <Page title={title}>
      <p>
        <a href="#/numbers">Back to numbers and applications</a>
      </p>
      <Announcer message={msg} />
      <form class="card resource-form" onSubmit={submit}>
        {kind === 'number' && (
          <div class="field">
            <label for={fid('PhoneNumber')}>Phone number</label>
            <input
              id={fid('PhoneNumber')}
              required
              readOnly={!isNew}
              value={form.PhoneNumber}
              onInput={set('PhoneNumber')}
              placeholder="+14155550100 or a SIP user such as support"
              aria-describedby="pn-help"
            />
            <small id="pn-help">E.164 (+14155550100) or a SIP user part. Cannot be changed later.</small>
          </div>
        )}
        <div class="field">
          <label for={fid('FriendlyName')}>Friendly name</label>
          <input id={fid('FriendlyName')} maxLength={64} value={form.FriendlyName} onInput={set('FriendlyName')} />
        </div>
        {kind === 'number' && (
          <div class="field">
            <label for={fid('VoiceApplicationSid')}>Voice application</label>
            <select id={fid('VoiceApplicationSid')} value={form.VoiceApplicationSid} onChange={set('VoiceApplicationSid')}>
              <option value="">none: use the URLs below</option>
              {data.apps.map((a) => (
                <option key={a.sid} value={a.sid}>
                  {a.friendly_name || a.sid}
                </option>
              ))}
            </select>
            <small>An application takes precedence over the Voice URLs when a call arrives.</small>
          </div>
        )}
        {URLS.map(([u, , m, , label]) => (
          <div class="field url-field" key={u}>
            <label for={fid(u)}>{label}</label>
            <div class="row">
              <input
                id={fid(u)}
                class="grow"
                type="url"
                value={form[u]}
                onInput={set(u)}
                placeholder="https://app.example.com/…"
              />
              <label class="sr-only" for={fid(m)}>
                {label} method
              </label>
              <select id={fid(m)} value={form[m]} onChange={set(m)}>
                <option>POST</option>
                <option>GET</option>
              </select>
              {u === 'VoiceUrl' && (
                <button
                  type="button"
                  disabled={!form.VoiceUrl || test.busy}
                  onClick={() => runTest(form.VoiceUrl, { Url: form.VoiceUrl, Method: form.VoiceMethod })}
                >
                  Test this URL
                </button>
              )}
            </div>
          </div>
        ))}
        {kind === 'application' && (
          <div class="field">
            <label for={fid('SmsStatusCallback')}>Messaging status callback URL</label>
            <input id={fid('SmsStatusCallback')} type="url" value={form.SmsStatusCallback} onInput={set('SmsStatusCallback')} />
          </div>
        )}
        <ErrorBox error={saveError} title="Not saved" />
        <div class="buttons">
          <button type="submit" class="primary" disabled={saving}>
            {saving ? 'Saving…' : isNew ? `Create ${noun}` : 'Save'}
          </button>
        </div>
      </form>
      <TestPanel state={test} />
    </Page>
  );
}

export function Numbers({ sub }) {
  if (sub === 'new') return <ResourceForm kind="number" />;
  if (sub === 'new-application') return <ResourceForm kind="application" />;
  if (sub && sub.startsWith('PN')) return <ResourceForm kind="number" sid={sub} />;
  if (sub && sub.startsWith('AP')) return <ResourceForm kind="application" sid={sub} />;
  return (
    <Page title="Numbers and applications">
      <Lists />
    </Page>
  );
}
