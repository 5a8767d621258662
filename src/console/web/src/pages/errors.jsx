import { ErrorBox, ErrorCode, Loading, Page, TableWrap } from '../components.jsx';
import { useLoad } from '../util.js';

// The explanations (src/error-codes.json) are loaded on demand: only these pages need them.
let codes = null;
function loadCodes() {
  if (!codes) {
    codes = import('../error-codes.json').then((m) => {
      const list = Array.isArray(m.default) ? m.default : [];
      return new Map(list.map((c) => [Number(c.code), c]));
    });
    codes.catch(() => {
      codes = null;
    });
  }
  return codes;
}

export function ErrorPage({ code }) {
  const { loading, error, data } = useLoad(loadCodes, []);
  const n = Number(code);
  if (loading) return <Page title={`Error ${code}`}><Loading /></Page>;
  if (error) return <Page title={`Error ${code}`}><ErrorBox error={error} /></Page>;
  const e = data.get(n);
  if (!e) {
    return (
      <Page title={`Error ${code}`}>
        <p>
          There is no explanation for this code in the console yet. <a href="#/errors">All known codes</a>.
        </p>
      </Page>
    );
  }
  return (
    <Page title={`${e.code}: ${e.title}`}>
      <p>
        <span class={`badge lvl-${e.level === 'warning' ? 'warning' : 'error'}`}>{e.level || 'error'}</span>
        {e.http_status ? <span class="muted"> · HTTP {e.http_status}</span> : null}
        {e.emitted_by ? <span class="muted"> · reported by {e.emitted_by}</span> : null}
      </p>
      <section class="sub">
        <h2>Cause</h2>
        <p class="prose">{e.cause}</p>
      </section>
      <section class="sub">
        <h2>Fix</h2>
        <p class="prose">{e.fix}</p>
      </section>
      <p>
        <a href="#/debugger">Back to the debugger</a> · <a href="#/errors">All codes</a>
      </p>
    </Page>
  );
}

export function ErrorList() {
  const { loading, error, data } = useLoad(loadCodes, []);
  if (loading || error) {
    return (
      <Page title="Error and warning codes">
        {loading ? <Loading /> : <ErrorBox error={error} />}
      </Page>
    );
  }
  const all = Array.from(data.values()).sort((a, b) => a.code - b.code);
  return (
    <Page title="Error and warning codes">
      <TableWrap label="Codes">
        <table class="data">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Level</th>
              <th scope="col">Title</th>
            </tr>
          </thead>
          <tbody>
            {all.map((e) => (
              <tr key={e.code}>
                <td>
                  <ErrorCode code={e.code} />
                </td>
                <td>{e.level}</td>
                <td>{e.title}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </Page>
  );
}
