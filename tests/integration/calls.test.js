'use strict';
// Real calls end to end: sipp dials the daemon over SIP, the daemon fetches the number's
// TwiML from an application server in this process (signed, with fallback), speaks and plays
// over RTP, reads RFC 2833 digits that sipp plays from /usr/share/sip-tester captures, and
// ends the call with BYE; status callbacks, Calls.json and Notifications.json tell the story.
// The official `twilio` client validates signatures and modifies a live call.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, twilioClient } = require('./lib/daemon');
const dgram = require('node:dgram');
const path = require('node:path');
const { runSipp } = require('./lib/sipp');
const { toneWav } = require('./lib/audio_pcap');
const { startApp, sipPort, addNumber, closedPort } = require('./lib/app');

const SCENARIOS = path.join(__dirname, '..', 'interop', 'sip', 'scenarios');

const completedFor = (sid) => (e) => e.path === '/status' && e.params.CallSid === sid && e.params.CallStatus === 'completed';

test('calls run TwiML: Say + Gather with RFC 2833 digits, Play, Hangup, status callback', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () =>
    '<Response><Gather numDigits="1" action="/gather" timeout="10"><Say>Please press a key.</Say></Gather>' +
    '<Say>We did not get a key.</Say></Response>';
  app.routes['/gather'] = () => `<Response><Play>${app.url('/tone.wav')}</Play><Hangup/></Response>`;
  app.routes['/tone.wav'] = () => ({ body: toneWav(400), type: 'audio/wav' });
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550006', { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });

  const call = await runSipp({
    sipPort: sipPort(d), service: '+15005550006',
    steps: [{ answer: true }, { pause: 1200 }, { pcap: 'dtmf_2833_7.pcap' }, { awaitBye: 20000 }],
  });
  assert.equal(call.code, 0, `sipp failed:\n${call.stdout}\n${call.stderr}\n${call.messages}`);

  const first = await app.waitFor((e) => e.path === '/voice');
  assert.equal(first.valid, true, 'X-Twilio-Signature of the first request validates');
  assert.equal(first.params.From, '+14155550100');
  assert.equal(first.params.To, '+15005550006');
  assert.equal(first.params.CallStatus, 'ringing');
  assert.equal(first.params.Direction, 'inbound');
  const gathered = await app.waitFor((e) => e.path === '/gather');
  assert.equal(gathered.params.Digits, '7', 'the digit sipp played arrived on the action URL');
  assert.equal(gathered.valid, true, 'the action request is signed');
  assert.equal(gathered.params.CallStatus, 'in-progress');
  assert.ok(app.seen.some((e) => e.path === '/tone.wav'), 'the Play URL was fetched');
  const sid = first.params.CallSid;
  const done = await app.waitFor(completedFor(sid));
  assert.equal(done.valid, true);
  assert.ok(Number(done.params.CallDuration) >= 1, `CallDuration ${done.params.CallDuration}`);

  const rec = await d.request('GET', d.accountPath(`Calls/${sid}.json`));
  assert.equal(rec.status, 200);
  assert.equal(rec.json.status, 'completed');
  assert.equal(rec.json.from, '+14155550100');
  assert.equal(rec.json.direction, 'inbound');

  // The call's status changes went through the event router: its own channels and the parent.
  const history = async (channel) => {
    const r = await d.request('GET', `/v1/Channels/${channel}/Events`);
    assert.equal(r.status, 200, r.text);
    return r.json.events.filter((e) => JSON.stringify(e).includes(sid));
  };
  for (const ch of ['calls.initiated', 'calls.ringing', 'calls.answered', 'calls.completed']) {
    let found = [];
    for (let i = 0; i < 50 && found.length === 0; ++i) {
      found = await history(ch);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(found.length, 1, `one ${ch} event for the call`);
    const status = { 'calls.initiated': 'initiated', 'calls.ringing': 'ringing' }[ch];
    if (status) assert.equal(found[0].data.status, status, `${ch} carries its own status`);
  }
  assert.equal((await history('calls')).length, 4, 'the parent channel sees all four');
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('a failing primary URL reaches the fallback with the right ErrorCode, on a real call', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const refused = `http://127.0.0.1:${await closedPort()}/voice`;
  app.routes['/500'] = () => ({ status: 500, body: 'boom' });
  app.routes['/slow'] = () => ({ hang: true });
  app.routes['/badxml'] = () => '<Response><Say>unclosed';
  app.routes['/fallback'] = () => '<Response><Say>Fallback here.</Say><Hangup/></Response>';
  const cases = [
    ['+15005550101', refused, '11205'],
    ['+15005550102', app.url('/500'), '11217'],
    ['+15005550103', `${app.url('/slow')}#rt=1000`, '11200'],
    ['+15005550104', app.url('/badxml'), '12100'],
  ];
  for (const [number, url] of cases) {
    await addNumber(d, number, { VoiceUrl: url, VoiceFallbackUrl: app.url('/fallback') });
  }
  const calls = await Promise.all(cases.map(([number]) => runSipp({
    sipPort: sipPort(d), service: number, steps: [{ answer: true }, { awaitBye: 20000 }],
  })));
  calls.forEach((c, i) => assert.equal(c.code, 0, `${cases[i][0]}: ${c.stdout}\n${c.messages}`));
  for (const [number, url, code] of cases) {
    const fb = await app.waitFor((e) => e.path === '/fallback' && e.params.To === number);
    assert.equal(fb.params.ErrorCode, code, `${number}: ${JSON.stringify(fb.params)}`);
    assert.equal(fb.params.ErrorUrl, url);
    assert.equal(fb.valid, true);
  }
  const notes = await d.request('GET', d.accountPath('Notifications.json'));
  const codes = notes.json.notifications.map((n) => String(n.error_code));
  for (const [, , code] of cases) assert.ok(codes.includes(code), `Notifications lists ${code}: ${codes}`);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('with no fallback the caller hears the error message and the call ends', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/500'] = () => ({ status: 500, body: 'boom' });
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550200', { VoiceUrl: app.url('/500'), StatusCallback: app.url('/status') });
  const started = Date.now();
  const call = await runSipp({ sipPort: sipPort(d), service: '+15005550200', steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(call.code, 0, `${call.stdout}\n${call.messages}`);
  // The apology takes a few seconds to say; the BYE comes after it.
  assert.ok(Date.now() - started >= 2000, 'the error message was played before the BYE');
  const first = await app.waitFor((e) => e.path === '/500');
  await app.waitFor(completedFor(first.params.CallSid));
  const notes = await d.request('GET', d.accountPath('Notifications.json'));
  assert.ok(notes.json.notifications.some((n) => String(n.error_code) === '11217' && n.call_sid === first.params.CallSid));
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('the caller hangs up during Say; CANCEL while the first webhook is pending', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/long'] = () => '<Response><Say loop="0">This goes on and on.</Say></Response>';
  app.routes['/pending'] = () => ({ delayMs: 3000, body: '<Response><Say>Too late.</Say></Response>' });
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550300', { VoiceUrl: app.url('/long'), StatusCallback: app.url('/status') });
  await addNumber(d, '+15005550301', { VoiceUrl: app.url('/pending'), StatusCallback: app.url('/status') });

  const hangup = await runSipp({ sipPort: sipPort(d), service: '+15005550300', steps: [{ answer: true }, { pause: 1500 }, { bye: true }] });
  assert.equal(hangup.code, 0, `${hangup.stdout}\n${hangup.messages}`);
  const long = await app.waitFor((e) => e.path === '/long');
  const done = await app.waitFor(completedFor(long.params.CallSid));
  assert.ok(Number(done.params.CallDuration) >= 1);

  const cancel = await runSipp({ sipPort: sipPort(d), service: '+15005550301', steps: [{ ringing: true }, { pause: 500 }, { cancel: true }] });
  assert.equal(cancel.code, 0, `${cancel.stdout}\n${cancel.messages}`);
  const pending = await app.waitFor((e) => e.path === '/pending');
  const canceled = await app.waitFor((e) => e.path === '/status' && e.params.CallSid === pending.params.CallSid &&
    e.params.CallStatus === 'canceled');
  assert.equal(canceled.valid, true);
  const rec = await d.request('GET', d.accountPath(`Calls/${pending.params.CallSid}.json`));
  assert.equal(rec.json.status, 'canceled');
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('live modification with the official client: calls(sid).update({twiml}) changes a running call', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/long'] = () => '<Response><Say loop="0">Hold the line please.</Say></Response>';
  app.routes['/after'] = () => '<Response><Hangup/></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550400', { VoiceUrl: app.url('/long'), StatusCallback: app.url('/status') });
  const client = twilioClient(d);
  const running = runSipp({ sipPort: sipPort(d), service: '+15005550400', steps: [{ answer: true }, { awaitBye: 20000 }] });
  const first = await app.waitFor((e) => e.path === '/long');
  await new Promise((r) => setTimeout(r, 1000));
  const updated = await client.calls(first.params.CallSid).update({
    twiml: `<Response><Say>Changed.</Say><Redirect>${app.url('/after')}</Redirect></Response>`,
  });
  assert.equal(updated.sid, first.params.CallSid);
  const call = await running;
  assert.equal(call.code, 0, `the daemon hung up after the new document: ${call.stdout}\n${call.messages}`);
  await app.waitFor((e) => e.path === '/after' && e.params.CallSid === first.params.CallSid);
  await app.waitFor(completedFor(first.params.CallSid));
  assert.equal((await client.calls(first.params.CallSid).fetch()).status, 'completed');
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

// ---- Record: what sipp sent is what the RecordingUrl serves ----

function alawToLinear(a) {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8; else if (seg === 1) t += 0x108; else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

// The A-law RTP payloads of a pcap (Ethernet/IPv4/UDP), decoded, in packet order.
function pcapAlaw(file) {
  const d = require('node:fs').readFileSync(file);
  const out = [];
  for (let off = 24; off + 16 <= d.length;) {
    const incl = d.readUInt32LE(off + 8);
    const pkt = d.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const ip = pkt.subarray(14);
    const rtp = ip.subarray((ip[0] & 15) * 4 + 8);
    if ((rtp[1] & 0x7f) !== 8) continue;
    for (const b of rtp.subarray(12)) out.push(alawToLinear(b));
  }
  return out;
}

function wavSamples(buf) {
  assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'data') {
      const s = [];
      for (let i = off + 8; i + 1 < off + 8 + size && i + 1 < buf.length; i += 2) s.push(buf.readInt16LE(i));
      return s;
    }
    off += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}

// Best normalised correlation of `b` against `a` over shifts in [-maxShift, maxShift].
function bestCorrelation(a, b, maxShift) {
  let best = { r: -1, shift: 0 };
  for (let shift = -maxShift; shift <= maxShift; shift += 1) {
    let sab = 0; let saa = 0; let sbb = 0;
    for (let i = 0; i < b.length; i += 4) {
      const j = i + shift;
      if (j < 0 || j >= a.length) continue;
      sab += a[j] * b[i]; saa += a[j] * a[j]; sbb += b[i] * b[i];
    }
    const r = sab / Math.sqrt(saa * sbb || 1);
    if (r > best.r) best = { r, shift };
  }
  return best;
}

test('Record: the RecordingUrl serves a WAV holding the audio sipp sent', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  let wav = null;
  // The <Record> is in a document other than the application's: its relative
  // recordingStatusCallback resolves against that document (/media/), not against /rec.
  app.routes['/rec'] = () => '<Response><Redirect>/media/rec</Redirect></Response>';
  app.routes['/media/rec'] = () =>
    '<Response><Record maxLength="20" timeout="2" playBeep="true" action="/recorded" ' +
    'recordingStatusCallback="recstatus"/></Response>';
  app.routes['/recorded'] = async (req, params) => {
    const r = await fetch(`${params.RecordingUrl}.wav`); // media needs no credentials, as on Twilio
    wav = { status: r.status, type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) };
    return '<Response><Hangup/></Response>';
  };
  app.routes['/media/recstatus'] = () => ({ status: 204 });
  await addNumber(d, '+15005550500', { VoiceUrl: app.url('/rec') });
  const call = await runSipp({
    sipPort: sipPort(d), service: '+15005550500', codecs: 'PCMA',
    steps: [{ answer: true }, { pause: 1200 }, { pcap: 'g711a.pcap' }, { awaitBye: 30000 }],
    timeoutMs: 45000,
  });
  assert.equal(call.code, 0, `${call.stdout}\n${call.messages}`);
  const action = await app.waitFor((e) => e.path === '/recorded');
  assert.equal(action.valid, true);
  assert.match(action.params.RecordingSid, /^RE[0-9a-f]{32}$/);
  assert.ok(action.params.RecordingUrl.endsWith(`/Recordings/${action.params.RecordingSid}`));
  const duration = Number(action.params.RecordingDuration);
  assert.ok(duration >= 6 && duration <= 9, `RecordingDuration ${duration} for a 7 s capture`);
  assert.equal(wav.status, 200);
  assert.match(wav.type, /audio\/(x-)?wav/);

  const sent = pcapAlaw('/usr/share/sip-tester/g711a.pcap');
  const got = wavSamples(wav.body);
  assert.ok(Math.abs(got.length - sent.length) < 8000, `recorded ${got.length} samples, sent ${sent.length}`);
  // The recording is the sent audio (trimmed at the ends, shifted by at most a second).
  const middle = sent.slice(8000, 40000);
  const { r } = bestCorrelation(got, middle, 8000);
  t.diagnostic(`correlation with what sipp sent: ${r.toFixed(4)}`);
  assert.ok(r > 0.95, `correlation ${r.toFixed(3)} of the recording with what sipp sent`);

  const status = await app.waitFor((e) => e.path === '/media/recstatus');
  assert.ok(!app.seen.some((e) => e.path === '/recstatus'), 'not resolved against the application URL');
  assert.equal(status.params.RecordingStatus, 'completed');
  // Sent once the recording ended, so RecordingStartTime (whole seconds) lies at least its
  // duration before; trimmed silence (the lead-in, the 2 s timeout) makes the gap longer.
  const sinceStart = (status.at - Date.parse(status.params.RecordingStartTime)) / 1000;
  assert.ok(sinceStart >= duration - 1.5 && sinceStart <= duration + 10,
    `RecordingStartTime ${status.params.RecordingStartTime} is ${sinceStart} s before the callback, ` +
    `for a ${duration} s recording`);
  assert.equal(status.params.RecordingSid, action.params.RecordingSid);
  assert.equal(status.valid, true);
  const listed = await twilioClient(d).recordings.list({ callSid: action.params.CallSid });
  assert.deepEqual(listed.map((x) => x.sid), [action.params.RecordingSid]);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('the make-run demo: calling 1000 greets, gathers a key and reads it back', async (t) => {
  const d = await startDaemon(t, { args: ['--demo'] });
  const call = await runSipp({
    sipPort: sipPort(d), service: '1000',
    // The key comes after the greeting (keys outside a Gather are ignored, as on Twilio).
    steps: [{ answer: true }, { pause: 4000 }, { pcap: 'dtmf_2833_4.pcap' }, { awaitBye: 30000 }],
    timeoutMs: 45000,
  });
  assert.equal(call.code, 0, `${call.stdout}\n${call.messages}`);
  const metrics = (await d.request('GET', '/metrics')).text;
  assert.match(metrics, /switchboard_http_requests_total\{route="\/demo\/voice",method="POST",status="200"\} 1/);
  assert.match(metrics, /switchboard_http_requests_total\{route="\/demo\/gather",method="POST",status="200"\} 1/,
    'the key reached the demo action');
  // The record says completed once its write lands, which may be just after sipp's exit.
  let calls;
  for (let i = 0; i < 100; ++i) {
    calls = await d.request('GET', d.accountPath('Calls.json'));
    if (calls.json.calls[0] && calls.json.calls[0].status === 'completed') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(calls.json.calls[0].to, '1000');
  assert.equal(calls.json.calls[0].status, 'completed');
  const notes = await d.request('GET', d.accountPath('Notifications.json'));
  assert.deepEqual(notes.json.notifications, [], 'the demo runs without warnings');
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('overload: beyond --max-calls a new INVITE gets 503 with Retry-After; the admitted call goes on', async (t) => {
  const d = await startDaemon(t, { args: ['--max-calls', '1'] });
  const app = await startApp(t, d.authToken);
  app.routes['/long'] = () => '<Response><Say loop="0">Still here.</Say></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550600', { VoiceUrl: app.url('/long'), StatusCallback: app.url('/status') });
  const first = runSipp({ sipPort: sipPort(d), service: '+15005550600', steps: [{ answer: true }, { pause: 4000 }, { bye: true }] });
  await app.waitFor((e) => e.path === '/long');
  const second = await runSipp({ sipPort: sipPort(d), service: '+15005550600', steps: [{ final: 503 }] });
  assert.equal(second.code, 0, `${second.stdout}\n${second.messages}`);
  assert.match(second.messages, /SIP\/2\.0 503 Service Unavailable[\s\S]*Retry-After: 5/);
  const admitted = await first;
  assert.equal(admitted.code, 0, `the admitted call was not disturbed: ${admitted.stdout}\n${admitted.messages}`);
  const done = await app.waitFor((e) => e.path === '/status' && e.params.CallStatus === 'completed');
  assert.ok(Number(done.params.CallDuration) >= 3);
  const metrics = (await d.request('GET', '/metrics')).text;
  assert.match(metrics, /switchboard_calls_refused_total\{reason="overloaded"\} 1/);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

// A UDP socket on 127.0.0.1 counting the PCMU RTP packets it receives.
async function rtpCounter(t) {
  const socket = dgram.createSocket('udp4');
  const counter = { packets: 0 };
  socket.on('message', (m) => {
    if (m.length > 12 && (m[0] >> 6) === 2 && (m[1] & 0x7f) === 0) counter.packets += 1;
  });
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  counter.port = socket.address().port;
  t.after(() => socket.close());
  return counter;
}

test('INVITE and re-INVITE without SDP: the daemon offers in its 200 OK, the ACK answers, RTP flows where each answer says', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => `<Response><Play loop="0">${app.url('/tone.wav')}</Play></Response>`;
  app.routes['/tone.wav'] = () => ({ body: toneWav(1000), type: 'audio/wav' });
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550700', { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });
  const first = await rtpCounter(t);
  const second = await rtpCounter(t);

  const call = await runSipp({
    sipPort: sipPort(d), service: '+15005550700', timeoutMs: 30000,
    scenarioFile: path.join(SCENARIOS, 'offerless_invite.xml'),
    keys: { audio_port: first.port, audio_port2: second.port },
  });
  assert.equal(call.code, 0, `sipp failed:\n${call.stdout}\n${call.messages}`);
  // Both 200 OKs carried our offer (sipp checked the m= line); the ACKs' answers were applied.
  assert.ok(first.packets >= 25, `RTP to the first answer's port: ${first.packets} packets`);
  assert.ok(second.packets >= 25, `RTP to the re-INVITE answer's port: ${second.packets} packets`);
  assert.doesNotMatch(call.messages, /SIP\/2\.0 488/);

  const voice = await app.waitFor((e) => e.path === '/voice');
  const done = await app.waitFor(completedFor(voice.params.CallSid));
  assert.ok(Number(done.params.CallDuration) >= 2, `CallDuration ${done.params.CallDuration}`);
  const rec = await d.request('GET', d.accountPath(`Calls/${voice.params.CallSid}.json`));
  assert.equal(rec.json.status, 'completed');
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});
