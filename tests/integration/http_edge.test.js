'use strict';
// The HTTP layer at its edges, with raw node:http and node:net requests: authentication
// challenges, malformed and oversize bodies, content types, unknown routes and methods,
// keep-alive, health and metrics, and garbage on the socket.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const {
  API,
  startDaemon,
  connectRaw,
  readUntilClose,
  parseRawResponse,
} = require('./lib/daemon');

let daemon;
before(async () => {
  daemon = await startDaemon();
});
after(() => daemon && daemon.cleanup());

// One request with node:http; resolves {status, headers, body, json, socket info}.
function httpRequest({ method = 'GET', path, headers = {}, body, agent = false, timeoutMs = 15000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: daemon.port, method, path, headers, agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode,
            headers: res.headers,
            body: text,
            json,
            reusedSocket: req.reusedSocket,
            localPort: req.socket && req.socket.localPort,
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const numbersPath = () => `${API}/Accounts/${daemon.accountSid}/IncomingPhoneNumbers.json`;
const formHeaders = (extra = {}) => ({
  authorization: daemon.auth(),
  'content-type': 'application/x-www-form-urlencoded',
  ...extra,
});

function assertTwilioError(res, status, code) {
  assert.equal(res.status, status, `HTTP status; body: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.ok(res.json, `JSON error body: ${res.body}`);
  assert.equal(res.json.status, status);
  assert.equal(res.json.code, code);
  assert.equal(res.json.more_info, `https://www.twilio.com/docs/errors/${code}`);
  assert.equal(typeof res.json.message, 'string');
  assert.ok(res.json.message.length > 0);
}

async function assertStillServing() {
  const res = await httpRequest({ path: '/healthz' });
  assert.equal(res.status, 200, 'the daemon still serves /healthz');
}

let phoneSeq = 0;
const nextPhone = () => `+1617555${String((phoneSeq += 1)).padStart(4, '0')}`;

describe('authentication', () => {
  it('no credentials: 401 with a Basic WWW-Authenticate challenge', async () => {
    const res = await httpRequest({ path: numbersPath() });
    assertTwilioError(res, 401, 20003);
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="[^"]+"/);
  });

  it('wrong password, unknown account, malformed headers: 401 code 20003', async () => {
    const b64 = (s) => Buffer.from(s).toString('base64');
    const cases = [
      daemon.auth(daemon.accountSid, 'wrong-token-wrong-token'),
      daemon.auth(daemon.accountSid, ''),
      daemon.auth('AC' + 'e'.repeat(32), daemon.authToken),
      daemon.auth(daemon.accountSid.toUpperCase(), daemon.authToken),
      `Basic ${b64(daemon.accountSid + daemon.authToken)}`, // no colon
      'Basic !!!not-base64!!!',
      'Basic ',
      `Bearer ${daemon.authToken}`,
      `Basic ${b64(`${daemon.accountSid}:${daemon.authToken}x`)}`,
      `Basic ${b64(`${daemon.accountSid}:${daemon.authToken.slice(0, -1)}`)}`,
    ];
    for (const authorization of cases) {
      const res = await httpRequest({ path: numbersPath(), headers: { authorization } });
      assertTwilioError(res, 401, 20003);
    }
  });

  it('correct credentials are accepted, with a case-insensitive "basic" scheme', async () => {
    const res = await httpRequest({ path: numbersPath(), headers: { authorization: daemon.auth() } });
    assert.equal(res.status, 200, res.body);
    const lower = daemon.auth().replace(/^Basic /, 'basic ');
    const res2 = await httpRequest({ path: numbersPath(), headers: { authorization: lower } });
    assert.equal(res2.status, 200, res2.body);
  });
});

describe('request bodies', () => {
  it('malformed percent-encoding: 400 code 20001', async () => {
    for (const body of ['PhoneNumber=%zz', 'PhoneNumber=%2', 'PhoneNumber=%', '%zz=1']) {
      const res = await httpRequest({ method: 'POST', path: numbersPath(), headers: formHeaders(), body });
      assertTwilioError(res, 400, 20001);
    }
  });

  it('an oversize Content-Length is answered 413 without reading the body', async () => {
    const socket = await connectRaw(daemon.port);
    const done = readUntilClose(socket, 10000);
    // Only the header: the daemon must not wait for 2 MiB that never come.
    socket.write(
      `POST ${numbersPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${daemon.auth()}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`,
    );
    const got = await done;
    const res = parseRawResponse(got.data);
    assert.ok(res, `a response arrived (${got.data.length} bytes, error ${got.error && got.error.code})`);
    assert.equal(res.statusCode, 413, res.body);
    const body = JSON.parse(res.body);
    assert.equal(body.status, 413);
    assert.equal(typeof body.code, 'number');
    assert.ok(got.closed && !got.timedOut, 'the connection is closed after a 413');
    await assertStillServing();
  });

  // An ordinary client writes the whole body before it reads the answer. RFC 9112 section 9.6:
  // a server that fully closes right after an early response while the client is still
  // sending makes the client's TCP stack see a reset, and the client can lose the response
  // unread (node:http and fetch then fail with EPIPE instead of reporting the 413). The server
  // has to close in stages: half-close, keep reading (and discarding) for a while, then close.
  // Checked here deterministically: after the 413 has arrived, the client goes on sending
  // body bytes and then ends its side; the connection must end with the daemon's FIN, not a
  // reset.
  it('after an early 413 the daemon closes in stages, so a client still sending is not reset',
    async () => {
      const socket = await connectRaw(daemon.port, 5000, { allowHalfOpen: true });
      let data = '';
      let error = null;
      let ended = false;
      const firstData = new Promise((resolve) => socket.once('data', resolve));
      socket.on('data', (c) => {
        data += c.toString('latin1');
      });
      socket.on('end', () => {
        ended = true;
      });
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.on('error', (e) => {
        error = e;
      });
      socket.write(
        `POST ${numbersPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${daemon.auth()}\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n` +
          'PhoneNumber=' + 'a'.repeat(256 * 1024),
      );
      // unref: a pending race timer must not keep the test process alive.
      const timeout = (ms) => new Promise((resolve) => setTimeout(resolve, ms, 'timeout').unref());
      assert.notEqual(await Promise.race([firstData, timeout(5000)]), 'timeout', 'a response arrived');
      await timeout(200);
      // Still sending the body, as a client that does not read while writing would be.
      assert.ok(!socket.destroyed && socket.writable, 'our side of the connection is still open');
      socket.write('a'.repeat(256 * 1024));
      socket.end();
      const outcome = await Promise.race([closed, timeout(10000)]);
      socket.destroy();
      const res = parseRawResponse(Buffer.from(data, 'latin1'));
      assert.ok(res, `a response: ${JSON.stringify(data.slice(0, 80))}`);
      assert.equal(res.statusCode, 413);
      assert.notEqual(outcome, 'timeout', 'the daemon closes the connection within 10 s');
      assert.equal(error && error.code, null,
        'the connection was reset instead of closed in stages (RFC 9112 section 9.6)');
      assert.ok(ended, 'the daemon ended the connection with a FIN');
      await assertStillServing();
    });

  it('a body under the limit is not refused as oversize', async () => {
    // 900 KiB: refused for its oversized parameter (400), not for its size.
    const body = `PhoneNumber=${nextPhone()}&FriendlyName=${'x'.repeat(900 * 1024)}`;
    const res = await httpRequest({ method: 'POST', path: numbersPath(), headers: formHeaders(), body });
    assertTwilioError(res, 400, 20001);
  });

  it('non-form Content-Type on POST: 415', async () => {
    for (const type of ['application/json', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await httpRequest({
        method: 'POST',
        path: numbersPath(),
        headers: formHeaders({ 'content-type': type }),
        body: type === 'application/json' ? JSON.stringify({ PhoneNumber: nextPhone() }) : `PhoneNumber=${nextPhone()}`,
      });
      assert.equal(res.status, 415, `${type}: ${res.body}`);
      assert.equal(res.json.status, 415);
    }
    // Nothing was created by the refused requests.
    const list = await httpRequest({ path: numbersPath(), headers: { authorization: daemon.auth() } });
    assert.equal(list.json.incoming_phone_numbers.length, 0);
  });

  it('form Content-Type with parameters and any letter case is accepted', async () => {
    for (const type of [
      'application/x-www-form-urlencoded; charset=utf-8',
      'Application/X-WWW-Form-URLEncoded',
    ]) {
      const phone = nextPhone();
      const res = await httpRequest({
        method: 'POST',
        path: numbersPath(),
        headers: formHeaders({ 'content-type': type }),
        body: `PhoneNumber=${encodeURIComponent(phone)}&FriendlyName=caf%C3%A9+%E2%98%8E`,
      });
      assert.equal(res.status, 201, `${type}: ${res.body}`);
      assert.equal(res.json.phone_number, phone);
      assert.equal(res.json.friendly_name, 'café ☎');
    }
  });
});

describe('routing', () => {
  it('unknown paths: 404 JSON code 20404', async () => {
    const auth = { authorization: daemon.auth() };
    for (const p of [
      '/',
      '/nope',
      '/2010-04-01',
      `${API}/Nope.json`,
      `${API}/Accounts/${daemon.accountSid}/Nope.json`,
      `${API}/Accounts/${daemon.accountSid}/IncomingPhoneNumbers`,
      `${API}/Accounts/${daemon.accountSid}/IncomingPhoneNumbers.json/`,
      `${API}/Accounts/${daemon.accountSid}/IncomingPhoneNumbers/a/b/c.json`,
      `${API}/Accounts/${daemon.accountSid}`,
    ]) {
      const res = await httpRequest({ path: p, headers: auth });
      assertTwilioError(res, 404, 20404);
    }
  });

  it('unsupported methods: 405 with Allow', async () => {
    const auth = { authorization: daemon.auth() };
    const cases = [
      ['PUT', numbersPath(), /GET, POST/],
      ['DELETE', numbersPath(), /GET, POST/],
      ['PATCH', `${API}/Accounts/${daemon.accountSid}/Applications.json`, /GET, POST/],
      ['PUT', `${API}/Accounts.json`, /GET, POST/],
      ['DELETE', `${API}/Accounts/${daemon.accountSid}.json`, /GET, POST/],
      ['PUT', `${API}/Accounts/${daemon.accountSid}/IncomingPhoneNumbers/PN${'0'.repeat(32)}.json`, /DELETE/],
      ['POST', '/healthz', /GET/],
    ];
    for (const [method, p, allow] of cases) {
      const res = await httpRequest({ method, path: p, headers: auth, body: method === 'GET' ? undefined : '' });
      assertTwilioError(res, 405, 20004);
      assert.match(String(res.headers.allow), allow, `${method} ${p} Allow header`);
    }
  });

  it('bad SIDs in the path: 404', async () => {
    const auth = { authorization: daemon.auth() };
    const acct = `${API}/Accounts/${daemon.accountSid}`;
    for (const p of [
      `${acct}/IncomingPhoneNumbers/PNnot-a-sid.json`,
      `${acct}/IncomingPhoneNumbers/PN${'0'.repeat(31)}.json`,
      `${acct}/IncomingPhoneNumbers/PN${'0'.repeat(33)}.json`,
      `${acct}/IncomingPhoneNumbers/PN${'A'.repeat(32)}.json`,
      `${acct}/IncomingPhoneNumbers/AP${'0'.repeat(32)}.json`,
      `${acct}/IncomingPhoneNumbers/PN${'0'.repeat(32)}.json`,
      `${acct}/Applications/PN${'0'.repeat(32)}.json`,
      `${acct}/Applications/AP${'0'.repeat(32)}.json`,
      `${API}/Accounts/ACnope/IncomingPhoneNumbers.json`,
      `${API}/Accounts/AC${'1'.repeat(32)}/IncomingPhoneNumbers.json`,
      `${API}/Accounts/AC${'1'.repeat(32)}.json`,
      `${API}/Accounts/PN${'1'.repeat(32)}.json`,
      `${API}/Accounts/${daemon.accountSid}x.json`,
    ]) {
      const res = await httpRequest({ path: p, headers: auth });
      assertTwilioError(res, 404, 20404);
    }
  });
});

describe('connections', () => {
  it('keep-alive: many requests over one connection all succeed', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const auth = daemon.auth();
      const phone = nextPhone();
      const results = [];
      const created = await httpRequest({
        agent,
        method: 'POST',
        path: numbersPath(),
        headers: formHeaders(),
        body: `PhoneNumber=${encodeURIComponent(phone)}`,
      });
      results.push(created);
      assert.equal(created.status, 201, created.body);
      const one = `${API}/Accounts/${daemon.accountSid}/IncomingPhoneNumbers/${created.json.sid}.json`;
      results.push(await httpRequest({ agent, path: one, headers: { authorization: auth } }));
      results.push(await httpRequest({ agent, path: numbersPath(), headers: { authorization: auth } }));
      results.push(await httpRequest({ agent, path: '/nope', headers: { authorization: auth } }));
      results.push(await httpRequest({ agent, method: 'DELETE', path: one, headers: { authorization: auth } }));
      results.push(await httpRequest({ agent, path: one, headers: { authorization: auth } }));
      results.push(await httpRequest({ agent, path: '/healthz' }));
      // Queued behind each other on the single socket.
      const parallel = await Promise.all(
        Array.from({ length: 8 }, () => httpRequest({ agent, path: numbersPath(), headers: { authorization: auth } })),
      );
      results.push(...parallel);

      assert.deepEqual(
        results.map((r) => r.status),
        [201, 200, 200, 404, 204, 404, 200, ...Array(8).fill(200)],
      );
      assert.equal(results[4].body, '', '204 has no body');
      const ports = new Set(results.map((r) => r.localPort));
      assert.equal(ports.size, 1, `one TCP connection (local ports ${[...ports].join(', ')})`);
      // (node sets reusedSocket only for requests handed a free socket, not queued ones)
      assert.ok(
        results.slice(1, 7).every((r) => r.reusedSocket),
        `every later sequential request reused the socket: ${JSON.stringify(results.map((r) => r.reusedSocket))}`,
      );
    } finally {
      agent.destroy();
    }
  });

  it('pipelined requests on one raw connection are answered in order', async () => {
    const socket = await connectRaw(daemon.port);
    const done = readUntilClose(socket, 10000);
    socket.write(
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const got = await done;
    const statuses = [...got.data.toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 404, 200]);
    assert.ok(got.closed && !got.timedOut);
  });

  it('HTTP/1.0 without keep-alive: the connection closes after the response', async () => {
    const socket = await connectRaw(daemon.port);
    const done = readUntilClose(socket, 10000);
    socket.write('GET /healthz HTTP/1.0\r\n\r\n');
    const got = await done;
    assert.ok(!got.timedOut, 'closed by the daemon, not by the test timeout');
    const res = parseRawResponse(got.data);
    assert.ok(res, got.data.toString('latin1'));
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'ok\n');
  });

  it('garbage bytes get a 400 or a close, and the daemon keeps serving', async () => {
    const garbage = [
      Buffer.from('\x00\x01\x02\x03\xff\xfe garbage \r\n\r\n', 'latin1'),
      Buffer.from('HELLO WORLD\r\n\r\n'),
      Buffer.from('GET / HTTP/9.9\r\n\r\n'),
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n'),
      Buffer.from('GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n'),
      Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + 'x'.repeat(64), 'latin1'), // TLS hello
    ];
    for (const bytes of garbage) {
      const socket = await connectRaw(daemon.port);
      const done = readUntilClose(socket, 8000);
      socket.write(bytes);
      const got = await done;
      assert.ok(!got.timedOut, `the daemon answered or closed within 8 s for ${JSON.stringify(bytes.toString('latin1'))}`);
      if (got.data.length > 0) {
        const res = parseRawResponse(got.data);
        assert.ok(res, `an HTTP response: ${JSON.stringify(got.data.toString('latin1'))}`);
        assert.equal(res.statusCode, 400, res.body);
      }
      await assertStillServing();
    }
  });

  it('oversized header block: 431', async () => {
    const res = await httpRequest({ path: '/healthz', headers: { 'x-big': 'y'.repeat(32 * 1024) } }).catch((e) => e);
    if (res instanceof Error) {
      // The daemon may close the connection before node reads the answer.
      assert.match(res.code || res.message, /ECONNRESET|EPIPE|socket hang up/);
    } else {
      assert.equal(res.status, 431);
    }
    await assertStillServing();
  });
});

describe('health and metrics', () => {
  it('/healthz: 200 without credentials', async () => {
    const res = await httpRequest({ path: '/healthz' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok\n');
  });

  it('HEAD /healthz: 200 with headers only, no body', async () => {
    // A HEAD then a GET on one connection: after the HEAD response's header block the next
    // bytes must be the GET's status line (RFC 9110 section 9.3.2: no content in a HEAD reply).
    const socket = await connectRaw(daemon.port);
    const done = readUntilClose(socket, 10000);
    socket.write(
      'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const got = await done;
    const text = got.data.toString('latin1');
    const head = parseRawResponse(got.data);
    assert.ok(head, text);
    assert.equal(head.statusCode, 200);
    const afterHead = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.ok(afterHead.startsWith('HTTP/1.1 200 '),
      `bytes after the HEAD response header: ${JSON.stringify(afterHead.slice(0, 40))}`);
  });

  function counter(text, labels) {
    const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of text.split('\n')) {
      if (!line.startsWith('switchboard_http_requests_total{')) continue;
      const inner = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
      const parts = inner.split(/,(?=[a-z_]+=")/);
      if (want.every((w) => parts.includes(w)) && parts.length === want.length) {
        return Number(line.slice(line.lastIndexOf('}') + 1).trim());
      }
    }
    return 0;
  }

  async function scrape() {
    const res = await httpRequest({ path: '/metrics' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    return res.body;
  }

  it('/metrics counts requests by route template, method and status', async () => {
    const route = '/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json';
    const before = await scrape();
    const created0 = counter(before, { route, method: 'POST', status: '201' });
    const listed0 = counter(before, { route, method: 'GET', status: '200' });

    const N = 3;
    for (let i = 0; i < N; i += 1) {
      const res = await httpRequest({
        method: 'POST',
        path: numbersPath(),
        headers: formHeaders(),
        body: `PhoneNumber=${encodeURIComponent(nextPhone())}`,
      });
      assert.equal(res.status, 201, res.body);
    }
    const listRes = await httpRequest({ path: numbersPath(), headers: { authorization: daemon.auth() } });
    assert.equal(listRes.status, 200);

    // A request is counted once its response is written: poll briefly for the last one.
    let text;
    for (let attempt = 0; attempt < 40; attempt += 1) {
      text = await scrape();
      if (counter(text, { route, method: 'GET', status: '200' }) >= listed0 + 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(counter(text, { route, method: 'POST', status: '201' }), created0 + N);
    assert.equal(counter(text, { route, method: 'GET', status: '200' }), listed0 + 1);
    assert.match(text, /^# TYPE switchboard_http_requests_total counter$/m);
    assert.match(text, /^switchboard_http_request_duration_seconds_count\{route="\/2010-04-01\/Accounts\/\{AccountSid\}\/IncomingPhoneNumbers\.json"\} \d+$/m);
    const rss = /^process_resident_memory_bytes (\d+(\.\d+)?(e\+\d+)?)$/m.exec(text);
    assert.ok(rss, 'process_resident_memory_bytes is exported');
    assert.ok(Number(rss[1]) > 1024 * 1024, `resident memory ${rss[1]} bytes is plausible`);
  });

  it('/metrics labels use route templates: SIDs and unknown paths do not become labels', async () => {
    const sid = `PN${'9'.repeat(32)}`;
    await httpRequest({
      path: `${API}/Accounts/${daemon.accountSid}/IncomingPhoneNumbers/${sid}.json`,
      headers: { authorization: daemon.auth() },
    });
    await httpRequest({ path: '/some-random-path-7f3a9' });
    await new Promise((r) => setTimeout(r, 100));
    const text = await scrape();
    assert.ok(!text.includes(sid), 'a resource SID appears in /metrics');
    assert.ok(!text.includes(daemon.accountSid), 'the account SID appears in /metrics');
    assert.ok(!text.includes('some-random-path-7f3a9'), 'an unknown path appears in /metrics');
    assert.match(text, /route="\/2010-04-01\/Accounts\/\{AccountSid\}\/IncomingPhoneNumbers\/\{Sid\}\.json",method="GET",status="404"/);
  });
});
