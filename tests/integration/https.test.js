'use strict';
// HTTPS (http.tls_cert / http.tls_key): the official twilio client, `ws` and a plain HTTPS SSE
// reader talk to the daemon through a test CA made here with the openssl command; `openssl
// s_client` shows TLS 1.2+ only, forward-secret suites only and the configured certificate;
// SIGHUP swaps the certificate while connections opened before it keep working.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const WebSocket = require('ws');
const { startDaemon, httpsFetch, twilioClient } = require('./lib/daemon');
const { createChannel, publish, waitFor } = require('./lib/events');
const { makePki, sClient } = require('./lib/pki');

// A CA and two server certificates it signed (127.0.0.1 and localhost): `first` with an RSA
// key, `second` with an ECDSA one, so both suite families are exercised.
function makeServerPki(dir) {
  const pki = makePki(dir);
  pki.issue('first', ['rsa:2048']);
  pki.issue('second');
  return pki;
}

// The certificate a fresh TLS connection to the daemon presents (its subject CN).
function presentedCn(port, ca) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.end();
      resolve(cn);
    });
    s.on('error', reject);
  });
}

function openWss(url, ca, headers) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ca, handshakeTimeout: 5000 });
    const client = { ws, messages: [], closed: null };
    ws.on('message', (data) => client.messages.push(JSON.parse(String(data))));
    ws.on('close', (code) => (client.closed = code));
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

// An SSE stream over HTTPS read by hand: collects the `id:` of every event.
function openSse(d, pathname) {
  return new Promise((resolve, reject) => {
    const ids = [];
    const req = https.get(d.baseUrl + pathname, {
      ca: d.ca,
      headers: { authorization: d.auth(), accept: 'text/event-stream' },
    }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE status ${res.statusCode}`));
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk) => {
        buf += chunk;
        let at;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const m = /^id: (\S+)$/m.exec(block);
          if (m) ids.push(m[1]);
        }
      });
      resolve({ ids, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

async function metric(d, name) {
  const res = await d.request('GET', '/metrics');
  assert.equal(res.status, 200);
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(res.text);
  return m ? Number(m[1]) : undefined;
}

test('HTTPS', { timeout: 180000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pki = makeServerPki(dir);
  // The daemon reads these two paths; the reload test overwrites them.
  const certFile = pki.file('server.pem');
  const keyFile = pki.file('server.key');
  fs.copyFileSync(pki.file('first.pem'), certFile);
  fs.copyFileSync(pki.file('first.key'), keyFile);
  const d = await startDaemon(t, {
    ca: pki.ca,
    env: { SWITCHBOARD_HTTP_TLS_CERT: certFile, SWITCHBOARD_HTTP_TLS_KEY: keyFile },
  });
  assert.match(d.baseUrl, /^https:\/\//);

  await t.test('the official twilio client works over HTTPS', async () => {
    const client = twilioClient(d);
    const account = await client.api.v2010.accounts(d.accountSid).fetch();
    assert.equal(account.sid, d.accountSid);
    const app = await client.applications.create({ friendlyName: 'over tls', voiceUrl: 'https://example.invalid/v' });
    const fetched = await client.applications(app.sid).fetch();
    assert.equal(fetched.friendlyName, 'over tls');
    // Absolute URLs the daemon hands out name the scheme it serves.
    const res = await d.request('GET', d.accountPath('Applications.json'));
    assert.equal(res.status, 200);
    assert.match(res.json.uri, /^\/2010-04-01\//);
  });

  await t.test('openssl s_client: TLS 1.2 and 1.3 with the configured certificate, nothing older or weaker', async () => {
    const caFile = pki.file('ca.pem');
    const v13 = sClient(d.port, ['-tls1_3'], caFile);
    assert.equal(v13.status, 0, v13.out);
    assert.match(v13.out, /New, TLSv1\.3/);
    assert.match(v13.out, /subject=CN = first\.switchboard\.test/);
    assert.match(v13.out, /Verify return code: 0 \(ok\)/);
    const v12 = sClient(d.port, ['-tls1_2'], caFile);
    assert.equal(v12.status, 0, v12.out);
    assert.match(v12.out, /New, TLSv1\.2, Cipher is ECDHE-RSA-AES(128|256)-GCM-SHA(256|384)/);
    // A client that only speaks TLS 1.1 (its own floor lowered so it may try) is refused.
    const v11 = sClient(d.port, ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'], caFile);
    assert.notEqual(v11.status, 0, v11.out);
    assert.doesNotMatch(v11.out, /New, TLSv1\.1/);
    // TLS 1.2 without forward secrecy (static RSA key exchange, CBC) is refused too.
    const weak = sClient(d.port, ['-tls1_2', '-cipher', 'AES128-SHA:AES256-SHA256'], caFile);
    assert.notEqual(weak.status, 0, weak.out);
    assert.doesNotMatch(weak.out, /Cipher is AES/);
  });

  await t.test('plain HTTP on the HTTPS port gets no HTTP answer and counts as a failed handshake', async () => {
    const before = await metric(d, 'switchboard_http_tls_handshake_failures_total');
    assert.ok(before >= 2, `s_client's refused handshakes are counted (${before})`);
    const reply = await new Promise((resolve, reject) => {
      const s = net.connect(d.port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      let data = Buffer.alloc(0);
      s.on('data', (c) => (data = Buffer.concat([data, c])));
      s.on('close', () => resolve(data));
      s.on('error', reject);
      s.setTimeout(10000, () => s.destroy(new Error('no close within 10 s')));
    });
    assert.ok(!reply.toString('latin1').startsWith('HTTP/'), 'no plaintext HTTP response');
    await waitFor(async () => (await metric(d, 'switchboard_http_tls_handshake_failures_total')) === before + 1,
      5000, 'the failed handshake counted');
  });

  await t.test('event streams over wss:// and SSE over https://', async () => {
    await createChannel(d, 'secure');
    const wsUrl = d.baseUrl.replace(/^https/, 'wss') + '/v1/Channels/secure/Stream';
    const ws = await openWss(wsUrl, d.ca, { authorization: d.auth() });
    const sse = await openSse(d, '/v1/Channels/secure/Stream');
    const ids = [];
    for (let i = 0; i < 30; i++) {
      const res = await publish(d, 'secure', { type: 'tls.tick', data: { i, pad: 'x'.repeat(i * 100) } });
      assert.equal(res.status, 201, res.text);
      ids.push(res.json.sid);
    }
    await waitFor(() => ws.messages.length >= 30 && sse.ids.length >= 30, 10000, '30 events on both streams');
    assert.deepEqual(ws.messages.map((m) => m.id), ids);
    assert.deepEqual(sse.ids, ids);
    ws.ws.close();
    sse.close();
  });

  await t.test('SIGHUP reloads the certificate; connections opened before keep working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: d.ca });
    t.after(() => agent.destroy());
    const get = () => httpsFetch(d.baseUrl + d.accountPath(), { headers: { authorization: d.auth() }, agent, ca: d.ca });
    const r1 = await get();
    assert.equal(r1.status, 200);
    const kept = r1.socket;
    assert.equal(kept.getPeerCertificate().subject.CN, 'first.switchboard.test');
    await createChannel(d, 'reload');
    const ws = await openWss(d.baseUrl.replace(/^https/, 'wss') + '/v1/Channels/reload/Stream', d.ca,
      { authorization: d.auth() });

    fs.copyFileSync(pki.file('second.pem'), certFile);
    fs.copyFileSync(pki.file('second.key'), keyFile);
    d.proc.kill('SIGHUP');
    await waitFor(async () => (await presentedCn(d.port, d.ca)) === 'second.switchboard.test', 10000,
      'new connections to present the reloaded certificate');
    const r2 = await get();
    assert.equal(r2.status, 200);
    assert.equal(r2.socket, kept, 'the keep-alive connection from before the reload was reused');
    assert.equal(r2.socket.getPeerCertificate().subject.CN, 'first.switchboard.test');
    const ev = await publish(d, 'reload', { type: 'after.reload', data: {} });
    assert.equal(ev.status, 201);
    await waitFor(() => ws.messages.some((m) => m.id === ev.json.sid), 10000, 'the stream from before the reload');
    assert.equal(ws.closed, null);

    // A broken file on the next reload: the daemon says so and keeps serving the last good one.
    fs.writeFileSync(certFile, 'not a certificate\n');
    d.proc.kill('SIGHUP');
    await waitFor(() => d.stderr.includes('kept the previous certificate'), 10000, 'the reload error in the log');
    assert.equal(await presentedCn(d.port, d.ca), 'second.switchboard.test');
    ws.ws.close();
  });

  await t.test('a key that does not match the certificate stops the start with the reason', async () => {
    await assert.rejects(
      startDaemon(null, {
        ca: pki.ca,
        env: { SWITCHBOARD_HTTP_TLS_CERT: pki.file('first.pem'), SWITCHBOARD_HTTP_TLS_KEY: pki.file('second.key') },
      }),
      /does not match the certificate/,
    );
    await assert.rejects(
      startDaemon(null, { env: { SWITCHBOARD_HTTP_TLS_CERT: pki.file('first.pem') } }),
      /needs both http\.tls_cert and http\.tls_key/,
    );
  });
});
