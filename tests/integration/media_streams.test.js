'use strict';
// Media Streams end to end against a WebSocket server in the test (the `ws` package):
// - <Start><Stream>: sipp sends noise from a pcap; the server gets connected, start (custom
//   parameters, tracks, media format), media whose mu-law payloads are the very bytes sipp sent,
//   the outbound track carrying what <Play> played, continuous sequence numbers and chunks, and
//   stop when the caller hangs up; stream-started/stream-stopped callbacks, signed.
// - <Connect><Stream>: the server's tone reaches the caller as 20 ms RTP, its mark comes back
//   once the tone has played, a clear in a long clip silences it within a tick and echoes the
//   pending mark, closing the socket runs the Connect action.
// - Failures: a refused connection (31902), an upgrade refused with 404 (31920), garbage from
//   the server (31951, 31950): stream-error callbacks, Notifications, the document goes on.
// - REST with the official `twilio` client: Streams.json create with parameters, stop by name.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { WebSocketServer } = require('ws');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { startApp, sipPort, addNumber, closedPort } = require('./lib/app');
const { runSipp } = require('./lib/sipp');
const { callWithRtp } = require('./lib/rtp_peer');
const { toneWav, noise, silence, concat, writeRtpPcap, ulawPayloads, ulaw, toneLevel } = require('./lib/audio_pcap');

const NUMBER = '+15005550006';

// A WebSocket server that keeps every connection's messages; `onConnection(ws, conn)` scripts
// the server side.
async function startWsServer(t, onConnection = () => {}) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.on('listening', r));
  const conns = [];
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      const hit = w.match();
      if (hit) { waiters.splice(waiters.indexOf(w), 1); w.resolve(hit); }
    }
  };
  server.on('connection', (ws, req) => {
    const conn = { path: req.url, messages: [], closed: false, ws };
    conns.push(conn);
    ws.on('message', (data, binary) => {
      const m = binary ? { binary: true } : JSON.parse(data.toString());
      m.at = Date.now();
      conn.messages.push(m);
      check();
    });
    ws.on('close', () => { conn.closed = true; check(); });
    onConnection(ws, conn);
    check();
  });
  t.after(() => new Promise((r) => { for (const c of conns) c.ws.terminate(); server.close(r); }));
  const srv = {
    conns,
    url: (p) => `ws://127.0.0.1:${server.address().port}${p}`,
    // Resolves with the first truthy value `match()` returns, now or later.
    waitFor: (match, ms = 20000) => {
      const hit = match();
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        setTimeout(() => reject(new Error('timed out waiting for the WebSocket server')), ms);
      });
    },
  };
  return srv;
}

// `ms` of a tone as base64 mu-law (a media payload).
function ulawToneBase64(ms, hz, amplitude = 8000) {
  const n = (8000 * ms) / 1000;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; ++i) b[i] = ulaw(Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000)));
  return b.toString('base64');
}

// The level of `hz` in mu-law bytes (a Goertzel over the decoded samples).
function levelOf(bytes, hz) {
  return toneLevel([{ pt: 0, at: 0, payload: bytes }], hz);
}

test('<Start><Stream>: connected, start, the caller\'s own bytes, the outbound track, stop, callbacks', async (t) => {
  const d = await startDaemon(t, { logLevel: 'debug' }); t.after(() => new Promise((r) => setTimeout(r, 2000)).then(() => require('fs').writeFileSync('/tmp/d1.log', d.stderr)));
  const app = await startApp(t, d.authToken);
  const ws = await startWsServer(t);
  app.routes['/voice'] = () => '<Response><Start>' +
    `<Stream name="fork" url="${ws.url('/fork')}" track="both_tracks" statusCallback="${app.url('/stream')}">` +
    '<Parameter name="customer" value="42"/><Parameter name="lang" value="en"/></Stream></Start>' +
    `<Play>${app.url('/tone.wav')}</Play><Pause length="20"/></Response>`;
  app.routes['/tone.wav'] = () => ({ body: toneWav(1000, 700), type: 'audio/wav' });
  app.routes['/stream'] = () => ({ status: 204 });
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-streams-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sent = concat(noise(3000), silence(200));
  const pcap = path.join(dir, 'caller.pcap');
  writeRtpPcap(pcap, sent);
  const call = await runSipp({
    sipPort: sipPort(d), service: NUMBER,
    steps: [{ answer: true }, { pause: 1500 }, { pcap }, { pause: 4000 }, { bye: true }],
  });
  assert.equal(call.code, 0, `sipp failed:\n${call.stdout}\n${call.messages}`);

  const conn = await ws.waitFor(() => ws.conns.find((c) => c.closed && c.path === '/fork'));
  const msgs = conn.messages;
  assert.deepEqual(Object.keys(msgs[0]).filter((k) => k !== 'at'), ['event', 'protocol', 'version']);
  assert.equal(msgs[0].event, 'connected');
  assert.equal(msgs[0].protocol, 'Call');
  assert.equal(msgs[0].version, '1.0.0');
  const start = msgs[1];
  assert.equal(start.event, 'start');
  assert.equal(start.sequenceNumber, '1');
  assert.match(start.streamSid, /^MZ[0-9a-f]{32}$/);
  assert.equal(start.start.streamSid, start.streamSid);
  assert.equal(start.start.accountSid, d.accountSid);
  assert.match(start.start.callSid, /^CA[0-9a-f]{32}$/);
  assert.deepEqual(start.start.tracks, ['inbound', 'outbound']);
  assert.deepEqual(start.start.customParameters, { customer: '42', lang: 'en' });
  assert.deepEqual(start.start.mediaFormat, { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 });
  const stop = msgs[msgs.length - 1];
  assert.equal(stop.event, 'stop');
  assert.deepEqual(stop.stop, { accountSid: d.accountSid, callSid: start.start.callSid });

  // Sequence numbers: strings, continuous from 1; chunks per track continuous from 1; 20 ms each.
  msgs.slice(1).forEach((m, i) => assert.equal(m.sequenceNumber, String(i + 1), `message ${i + 1}`));
  const media = msgs.filter((m) => m.event === 'media');
  for (const track of ['inbound', 'outbound']) {
    const mine = media.filter((m) => m.media.track === track);
    assert.ok(mine.length > 200, `${track}: ${mine.length} media messages`);
    mine.forEach((m, i) => {
      assert.equal(m.media.chunk, String(i + 1));
      assert.equal(m.streamSid, start.streamSid);
      assert.equal(Buffer.from(m.media.payload, 'base64').length, 160);
    });
    assert.equal(Number(mine[mine.length - 1].media.timestamp) - Number(mine[0].media.timestamp), (mine.length - 1) * 20);
  }

  // The inbound track carries the bytes sipp sent: nearly every 20 ms frame of the capture is
  // in it, byte for byte (a frame the jitter buffer had to conceal on a busy machine is not).
  const inbound = Buffer.concat(media.filter((m) => m.media.track === 'inbound').map((m) => Buffer.from(m.media.payload, 'base64')));
  const frames = ulawPayloads(sent).slice(0, 150);  // the 3 s of noise
  const found = frames.filter((f) => inbound.indexOf(f) >= 0).length;
  assert.ok(found >= 140, `${found} of ${frames.length} frames sipp sent are in the inbound track`);
  // The outbound track carries the 700 Hz <Play>.
  const outbound = Buffer.concat(media.filter((m) => m.media.track === 'outbound').map((m) => Buffer.from(m.media.payload, 'base64')));
  assert.ok(levelOf(outbound, 700) > 1000, `700 Hz in the outbound track: ${levelOf(outbound, 700)}`);
  assert.ok(levelOf(inbound, 700) < 1000, 'not in the inbound track');

  const started = await app.waitFor((e) => e.path === '/stream' && e.params.StreamEvent === 'stream-started');
  const stopped = await app.waitFor((e) => e.path === '/stream' && e.params.StreamEvent === 'stream-stopped');
  for (const cb of [started, stopped]) {
    assert.equal(cb.valid, true, 'signed');
    assert.equal(cb.params.StreamSid, start.streamSid);
    assert.equal(cb.params.StreamName, 'fork');
    assert.equal(cb.params.CallSid, start.start.callSid);
    assert.equal(cb.params.AccountSid, d.accountSid);
    assert.match(cb.params.Timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
});

test('<Connect><Stream>: the server\'s audio paced into the call, mark after it, clear, the action on close', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const script = {};
  const ws = await startWsServer(t, (sock, conn) => { script.sock = sock; script.conn = conn; });
  app.routes['/voice'] = () => `<Response><Connect action="/after"><Stream url="${ws.url('/bidi')}">` +
    '<Parameter name="bot" value="echo"/></Stream></Connect><Say>not reached</Say></Response>';
  app.routes['/after'] = () => '<Response><Hangup/></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });

  const caller = await callWithRtp({ sipPort: sipPort(d), number: NUMBER, toneHz: 450, timeoutMs: 40000 });
  const start = await ws.waitFor(() => script.conn && script.conn.messages.find((m) => m.event === 'start'));
  assert.deepEqual(start.start.tracks, ['inbound']);
  assert.deepEqual(start.start.customParameters, { bot: 'echo' });
  const sid = start.streamSid;
  const send = (m) => script.sock.send(JSON.stringify({ streamSid: sid, ...m }));
  const markEcho = (name) => ws.waitFor(() => script.conn.messages.find((m) => m.event === 'mark' && m.mark.name === name));

  // An empty queue: the mark comes back at once.
  const t0 = Date.now();
  send({ event: 'mark', mark: { name: 'empty' } });
  const empty = await markEcho('empty');
  assert.ok(empty.at - t0 < 500, `mark with nothing queued echoed after ${empty.at - t0} ms`);

  // 2 s of 900 Hz in 100 ms messages, then a mark: played at 20 ms a packet, mark when done.
  const toneSent = Date.now();
  for (let i = 0; i < 20; ++i) send({ event: 'media', media: { payload: ulawToneBase64(100, 900) } });
  send({ event: 'mark', mark: { name: 'tone-done' } });
  const done = await markEcho('tone-done');
  const played = done.at - toneSent;
  assert.ok(played >= 1900 && played < 3500, `the mark came back ${played} ms after the tone was sent`);
  const during = caller.received.filter((p) => p.at >= toneSent + 200 && p.at < toneSent + 1800);
  assert.ok(toneLevel(during, 900) > 3000, `900 Hz heard: ${toneLevel(during, 900)}`);
  // Paced: RTP every 20 ms (timestamps 160 apart, no burst of arrivals).
  let steps = 0;
  for (let i = 1; i < during.length; ++i) if (((during[i].ts - during[i - 1].ts) >>> 0) === 160) steps += 1;
  assert.ok(steps >= (during.length - 1) * 0.95, `one 20 ms frame per packet: ${steps} of ${during.length - 1}`);
  const spanMs = during[during.length - 1].at - during[0].at;
  assert.ok(Math.abs(spanMs - (during.length - 1) * 20) < 200, `${during.length} packets over ${spanMs} ms`);

  // A 10 s clip cleared after a second: silent within a tick, its mark echoed.
  send({ event: 'media', media: { payload: ulawToneBase64(10000, 1300) } });
  send({ event: 'mark', mark: { name: 'long' } });
  await new Promise((r) => setTimeout(r, 1000));
  const cleared = Date.now();
  send({ event: 'clear' });
  const long = await markEcho('long');
  assert.ok(long.at - cleared < 500, `clear echoed the mark after ${long.at - cleared} ms`);
  await new Promise((r) => setTimeout(r, 1500));
  const before = caller.received.filter((p) => p.at >= cleared - 800 && p.at < cleared - 100);
  const after = caller.received.filter((p) => p.at >= cleared + 200 && p.at < cleared + 1400);
  assert.ok(toneLevel(before, 1300) > 3000, `1300 Hz before the clear: ${toneLevel(before, 1300)}`);
  assert.ok(toneLevel(after, 1300) < 300, `silent after the clear: ${toneLevel(after, 1300)}`);

  // The caller's audio came in all along (inbound track only).
  const media = script.conn.messages.filter((m) => m.event === 'media');
  assert.ok(media.every((m) => m.media.track === 'inbound'));
  const heard = Buffer.concat(media.slice(-50).map((m) => Buffer.from(m.media.payload, 'base64')));
  assert.ok(levelOf(heard, 450) > 1000, `the caller's 450 Hz reached the server: ${levelOf(heard, 450)}`);

  // The server closes: the Connect action runs (and hangs up).
  script.sock.close(1000);
  const after2 = await app.waitFor((e) => e.path === '/after');
  assert.equal(after2.params.CallSid, start.start.callSid);
  const result = await caller.done;
  assert.equal(result.how, 'their BYE');
  assert.ok(!app.seen.some((e) => e.path === '/voice' && e.params.Digits), 'no Say after the Connect');
});

test('stream failures: refused, upgrade refused, garbage from the server: callbacks, Notifications, the document goes on', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const ws = await startWsServer(t, (sock, conn) => {
    if (conn.path !== '/garbage') return;
    sock.on('message', (data) => {
      if (JSON.parse(data.toString()).event !== 'start') return;
      sock.send('this is not json');
      sock.send(JSON.stringify({ event: 'bogus' }));
      sock.send(JSON.stringify({ event: 'media', media: { payload: '@@not base64@@' } }));
      sock.send(Buffer.from([1, 2, 3]), { binary: true });
      setTimeout(() => sock.close(1000), 300);
    });
  });
  const closed = await closedPort();
  app.routes['/voice'] = () => '<Response><Start>' +
    `<Stream url="ws://127.0.0.1:${closed}/nobody" statusCallback="${app.url('/s1')}"/></Start>` +
    '<Redirect>/second</Redirect></Response>';
  app.routes['/second'] = () => `<Response><Connect><Stream url="${app.url('/plain-http').replace('http:', 'ws:')}" ` +
    `statusCallback="${app.url('/s2')}"/></Connect><Redirect>/third</Redirect></Response>`;
  app.routes['/third'] = () => `<Response><Connect action="/done"><Stream url="${ws.url('/garbage')}"/></Connect></Response>`;
  app.routes['/done'] = () => '<Response><Hangup/></Response>';
  app.routes['/s1'] = () => ({ status: 204 });
  app.routes['/s2'] = () => ({ status: 204 });
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });

  const call = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 30000 }] });
  assert.equal(call.code, 0, `sipp failed:\n${call.stdout}\n${call.messages}`);

  const s1 = await app.waitFor((e) => e.path === '/s1');
  assert.equal(s1.params.StreamEvent, 'stream-error');
  assert.ok(s1.params.StreamError.length > 0);
  const s2 = await app.waitFor((e) => e.path === '/s2');
  assert.equal(s2.params.StreamEvent, 'stream-error');
  assert.match(s2.params.StreamError, /404/);
  await app.waitFor((e) => e.path === '/third');
  await app.waitFor((e) => e.path === '/done');

  const notes = await d.request('GET', d.accountPath('Notifications.json'));
  const codes = notes.json.notifications.map((n) => String(n.error_code));
  for (const code of ['31902', '31920', '31951', '31950']) assert.ok(codes.includes(code), `Notifications list ${code}: ${codes}`);
  assert.equal(codes.filter((c) => c === '31951').length, 1, 'an invalid message is reported once per stream');
});

test('Streams REST resource with the twilio client: create with parameters, stop by name', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const ws = await startWsServer(t);
  const client = twilioClient(d);
  app.routes['/voice'] = () => '<Response><Pause length="30"/></Response>';
  app.routes['/stream'] = () => ({ status: 204 });
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });

  const caller = await callWithRtp({ sipPort: sipPort(d), number: NUMBER, toneHz: 600, timeoutMs: 40000 });
  const first = await app.waitFor((e) => e.path === '/voice');
  const callSid = first.params.CallSid;
  // Answered (the REST API streams only calls in progress).
  for (let i = 0; i < 100 && (await client.calls(callSid).fetch()).status !== 'in-progress'; ++i) {
    await new Promise((r) => setTimeout(r, 50));
  }

  await assert.rejects(client.calls(callSid).streams.create({ url: 'http://127.0.0.1/x' }), (e) => e.status === 400);
  const stream = await client.calls(callSid).streams.create({
    url: ws.url('/rest'), name: 'rest', track: 'inbound_track', statusCallback: app.url('/stream'),
    'parameter1.name': 'a', 'parameter1.value': 'b',
  });
  assert.match(stream.sid, /^MZ[0-9a-f]{32}$/);
  assert.equal(stream.name, 'rest');
  assert.equal(stream.status, 'in-progress');
  assert.equal(stream.callSid, callSid);
  const conn = await ws.waitFor(() => ws.conns.find((c) => c.messages.some((m) => m.event === 'start')));
  const start = conn.messages.find((m) => m.event === 'start');
  assert.equal(start.streamSid, stream.sid);
  assert.deepEqual(start.start.customParameters, { a: 'b' });
  await ws.waitFor(() => conn.messages.filter((m) => m.event === 'media').length >= 100);
  // The same name again while it runs is refused.
  await assert.rejects(client.calls(callSid).streams.create({ url: ws.url('/rest'), name: 'rest' }), (e) => e.status === 400);

  const stopped = await client.calls(callSid).streams('rest').update({ status: 'stopped' });
  assert.equal(stopped.sid, stream.sid);
  assert.equal(stopped.status, 'stopped');
  await ws.waitFor(() => conn.closed && conn.messages.some((m) => m.event === 'stop'));
  await app.waitFor((e) => e.path === '/stream' && e.params.StreamEvent === 'stream-stopped');
  const heard = Buffer.concat(conn.messages.filter((m) => m.event === 'media').slice(-50).map((m) => Buffer.from(m.media.payload, 'base64')));
  assert.ok(levelOf(heard, 600) > 1000, 'the caller\'s tone went to the server');
  await assert.rejects(client.calls(callSid).streams('MZ00000000000000000000000000000000').update({ status: 'stopped' }), (e) => e.status === 404);
  caller.hangup();
  await caller.done;
});

test('<Connect><Stream>: a key the caller presses reaches the server as a dtmf message', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const ws = await startWsServer(t);
  app.routes['/voice'] = () => `<Response><Connect><Stream url="${ws.url('/keys')}"/></Connect></Response>`;
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice') });
  const call = await runSipp({
    sipPort: sipPort(d), service: NUMBER,
    steps: [{ answer: true }, { pause: 1200 }, { pcap: 'dtmf_2833_7.pcap' }, { pause: 1500 }, { bye: true }],
  });
  assert.equal(call.code, 0, `sipp failed:\n${call.stdout}\n${call.messages}`);
  const conn = await ws.waitFor(() => ws.conns.find((c) => c.closed));
  const dtmf = conn.messages.filter((m) => m.event === 'dtmf');
  assert.equal(dtmf.length, 1, JSON.stringify(dtmf));
  assert.deepEqual(dtmf[0].dtmf, { track: 'inbound_track', digit: '7' });
  assert.equal(dtmf[0].streamSid, conn.messages[1].streamSid);
  assert.match(dtmf[0].sequenceNumber, /^\d+$/);
  assert.equal(conn.messages[conn.messages.length - 1].event, 'stop');
});
