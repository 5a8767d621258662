'use strict';
// The daemon's SIP side on real sockets: OPTIONS answered, INVITEs routed by the called
// number (404 unknown, 480 for a number with no voice application), garbage refused or dropped and counted in
// /metrics, and the daemon keeps serving. Everything on 127.0.0.1.

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const { startDaemon } = require('./lib/daemon');

function sipPort(daemon) {
  const m = /sip:\s+udp\+tcp 127\.0\.0\.1:(\d+)/.exec(daemon.stdout);
  assert.ok(m, `no sip line in:\n${daemon.stdout}`);
  return Number(m[1]);
}

// Sends one datagram and collects the responses that arrive within `ms`.
function exchange(port, text, ms = 1500, until = () => false) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const got = [];
    const done = () => {
      clearTimeout(timer);
      sock.close();
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    sock.on('error', reject);
    sock.on('message', (msg) => {
      got.push(msg.toString('utf8'));
      if (until(got)) done();
    });
    sock.bind(0, '127.0.0.1', () => {
      const local = sock.address().port;
      sock.send(Buffer.from(text.replaceAll('LOCALPORT', String(local))), port, '127.0.0.1');
    });
  });
}

function request(method, user, port, { callId = `${Math.random()}`.slice(2), body = '' } = {}) {
  const branch = 'z9hG4bK' + Math.random().toString(16).slice(2);
  return [
    `${method} sip:${user}@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:LOCALPORT;branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:caller@127.0.0.1>;tag=t${callId.slice(0, 6)}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    'Contact: <sip:caller@127.0.0.1:LOCALPORT>',
    body ? 'Content-Type: application/sdp' : null,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].filter((l) => l !== null).join('\r\n');
}

const sdp = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', '',
].join('\r\n');

const finalStatus = (msgs) => msgs.map((m) => Number(m.split(' ')[1])).find((s) => s >= 200);

test('SIP: OPTIONS, routed INVITEs, garbage counted, and the daemon keeps serving', async (t) => {
  const d = await startDaemon(t);
  const port = sipPort(d);
  // A number without a voice application (calls that run one: calls.test.js).
  const created = await d.request('POST', d.accountPath('IncomingPhoneNumbers.json'), {
    body: { PhoneNumber: '1000' },
  });
  assert.equal(created.status, 201);

  const options = await exchange(port, request('OPTIONS', '1000', port), 1500, (g) => g.length > 0);
  assert.match(options[0] || '', /^SIP\/2\.0 200 /, 'OPTIONS is answered outside a dialog');

  const hasFinal = (g) => finalStatus(g) !== undefined;
  const unknown = await exchange(port, request('INVITE', '9999', port, { body: sdp }), 3000, hasFinal);
  assert.equal(finalStatus(unknown), 404, unknown.join('\n---\n'));
  const known = await exchange(port, request('INVITE', '1000', port, { body: sdp }), 3000, hasFinal);
  assert.equal(finalStatus(known), 480, known.join('\n---\n'));

  // Garbage: a request line with no headers gets a 400 if it can be answered, else it is dropped.
  await exchange(port, 'INVITE sip:x SIP/2.0\r\n\r\n', 300);
  await exchange(port, '\x00\x01\x02 not sip at all', 300);
  await exchange(port, 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', 300);

  // Still serving SIP and HTTP; the counters show what came in (sampled every 250 ms).
  const again = await exchange(port, request('OPTIONS', '1000', port), 1500, (g) => g.length > 0);
  assert.match(again[0] || '', /^SIP\/2\.0 200 /);
  await new Promise((r) => setTimeout(r, 400));
  const metrics = await d.request('GET', '/metrics');
  const value = (name) => Number((new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics.text) || [])[1]);
  assert.ok(value('switchboard_sip_messages_received_total') >= 5, metrics.text);
  assert.ok(value('switchboard_sip_calls_in_total') >= 2);
  assert.ok(value('switchboard_sip_messages_malformed_total') + value('switchboard_sip_messages_dropped_total') >= 2,
    'garbage was refused or dropped and counted');
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('SIP allow list: INVITEs from outside it get 403, OPTIONS still answered', async (t) => {
  const d = await startDaemon(t, { env: { SWITCHBOARD_SIP_ALLOW: '10.0.0.0/8, 192.0.2.1' } });
  const port = sipPort(d);
  await d.request('POST', d.accountPath('IncomingPhoneNumbers.json'), {
    body: { PhoneNumber: '1000', VoiceUrl: 'http://127.0.0.1:9/voice' },
  });
  const hasFinal = (g) => finalStatus(g) !== undefined;
  const refused = await exchange(port, request('INVITE', '1000', port, { body: sdp }), 3000, hasFinal);
  assert.equal(finalStatus(refused), 403, refused.join('\n---\n'));
  const options = await exchange(port, request('OPTIONS', '1000', port), 1500, (g) => g.length > 0);
  assert.match(options[0] || '', /^SIP\/2\.0 200 /);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('a bad SIP allow list stops the daemon at start with a message naming the entry', async () => {
  const { spawnSync } = require('node:child_process');
  const fs = require('node:fs');
  const dir = fs.mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'sb-acl-'));
  const r = spawnSync(process.env.SWITCHBOARD_BIN, ['serve', '--data-dir', dir,
    '--http-listen', '127.0.0.1:0', '--sip-listen', '127.0.0.1:0'], {
    env: { ...process.env, SWITCHBOARD_SIP_ALLOW: '10.0.0.0/99' }, encoding: 'utf8', timeout: 20000,
  });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr + r.stdout, /10\.0\.0\.0\/99/);
});

// RFC 7616 / 3261 digest response for `user:password` against a WWW-Authenticate challenge.
function digestAuthorization(challenge, { user, password, method, uri }) {
  const crypto = require('node:crypto');
  const field = (name) => (new RegExp(`${name}="?([^",]+)"?`, 'i').exec(challenge) || [])[1];
  const realm = field('realm');
  const nonce = field('nonce');
  const opaque = field('opaque');
  const algorithm = field('algorithm') || 'MD5';
  const qop = field('qop');
  const hash = (s) => crypto.createHash(algorithm.toUpperCase().startsWith('SHA-256') ? 'sha256' : 'md5').update(s).digest('hex');
  const ha1 = hash(`${user}:${realm}:${password}`);
  const ha2 = hash(`${method}:${uri}`);
  const cnonce = crypto.randomBytes(8).toString('hex');
  const nc = '00000001';
  const response = qop ? hash(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : hash(`${ha1}:${nonce}:${ha2}`);
  let h = `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}`;
  if (qop) h += `, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  if (opaque) h += `, opaque="${opaque}"`;
  return h;
}

test('SIP digest: with sip users configured, INVITEs are challenged and only good credentials pass', async (t) => {
  const d = await startDaemon(t, { env: { SWITCHBOARD_SIP_USERS: 'trunk1:s3cret-pass' } });
  const port = sipPort(d);
  await d.request('POST', d.accountPath('IncomingPhoneNumbers.json'), { body: { PhoneNumber: '1000' } });
  const hasFinal = (g) => finalStatus(g) !== undefined;
  const plain = await exchange(port, request('INVITE', '1000', port, { body: sdp }), 3000, hasFinal);
  assert.equal(finalStatus(plain), 401, plain.join('\n---\n'));
  const challenge = /^WWW-Authenticate: (.*)$/mi.exec(plain.find((m) => m.startsWith('SIP/2.0 401')))[1];
  assert.match(challenge, /realm="switchboard"/);

  const withAuth = (password) => {
    const uri = `sip:1000@127.0.0.1:${port}`;
    const auth = digestAuthorization(challenge, { user: 'trunk1', password, method: 'INVITE', uri });
    return request('INVITE', '1000', port, { body: sdp }).replace('Max-Forwards: 70', `Max-Forwards: 70\r\nAuthorization: ${auth}`);
  };
  const good = await exchange(port, withAuth('s3cret-pass'), 3000, hasFinal);
  assert.equal(finalStatus(good), 480, `authenticated, then routed (no voice app): ${good.join('\n---\n')}`);
  const bad = await exchange(port, withAuth('wrong'), 3000, hasFinal);
  assert.ok([401, 403].includes(finalStatus(bad)), bad.join('\n---\n'));
  assert.ok(!d.stdout.includes('s3cret-pass') && !d.stderr.includes('s3cret-pass'), 'the password is never logged');
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});
