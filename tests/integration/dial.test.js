'use strict';
// <Dial> end to end with real SIP peers: sipp calls a number whose application dials
// +1555123000x; the daemon places the child call through a SIP trunk to a callee (a second sipp,
// or a small RTP-recording callee where the packets themselves are the evidence), bridges the
// two legs' media, and reports to the Dial's action URL and the child's status callback.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDaemon } = require('./lib/daemon');
const { runSipp, startSippUas, uasScenarios } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');
const { startRtpPeer, callWithRtp } = require('./lib/rtp_peer');
const { noise, tone, writeRtpPcap, ulawPayloads, ulawTone } = require('./lib/audio_pcap');

const NUMBER = '+15005550006';

// A daemon whose trunk leads to `port` for +1555…, its application answering with `routes`.
async function setup(t, trunkPorts, routes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-dial-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'switchboard.toml');
  let toml = '';
  trunkPorts.forEach((port, i) => {
    toml += `\n[[sip.trunks]]\nname = "t${i}"\naddress = "127.0.0.1:${port}"\nprefixes = ["+1555123000${i}"]\n`;
  });
  fs.writeFileSync(file, toml);
  const d = await startDaemon(t, { args: ['--config', file] });
  const app = await startApp(t, d.authToken);
  Object.assign(app.routes, routes);
  app.routes['/status'] ||= () => ({ status: 204 });
  app.routes['/child-status'] ||= () => ({ status: 204 });
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });
  return { d, app, dir };
}

const childDone = (e) => e.path === '/child-status' && e.params.CallStatus !== 'ringing' &&
  e.params.CallStatus !== 'initiated' && e.params.CallStatus !== 'in-progress';

test('Dial Number: media relayed untouched both ways, action and child call reported', async (t) => {
  const peer = await startRtpPeer({ hangupAfterMs: 3000, toneHz: 700 });
  const { d, app, dir } = await setup(t, [peer.port], {
    '/voice': () => '<Response><Dial action="/after" timeout="10">' +
      '<Number statusCallback="/child-status" statusCallbackEvent="initiated ringing answered completed">' +
      '+15551230000</Number></Dial><Say>not reached</Say></Response>',
    '/after': () => '<Response><Hangup/></Response>',
  });
  const pcm = noise(5000);
  const pcap = path.join(dir, 'a.pcap');
  writeRtpPcap(pcap, pcm);
  const sent = ulawPayloads(pcm).map((b) => b.toString('hex'));

  const caller = await runSipp({
    sipPort: sipPort(d), service: NUMBER,
    steps: [{ answer: true }, { pcap }, { awaitBye: 20000 }],
  });
  assert.equal(caller.code, 0, `sipp caller failed:\n${caller.stdout}\n${caller.messages}`);
  const heard = await peer.done;
  assert.equal(heard.how, 'our BYE', 'the callee hung up and the daemon answered its BYE');
  assert.match(heard.invite, /^INVITE sip:\+15551230000@127\.0\.0\.1:\d+ SIP\/2\.0/);
  assert.match(heard.invite, /From: <sip:\+14155550100@/, 'the caller ID is the caller\'s number');

  // What the caller sent reached the callee byte for byte, in order, as one clean stream (the
  // child leg's own silence may come first, until the bridge is up).
  const audio = heard.received.filter((p) => p.pt === 0);
  const start = audio.findIndex((p) => sent.includes(p.payload.toString('hex')));
  assert.ok(start >= 0, 'what the caller sent reached the callee');
  assert.ok(audio.slice(0, start).every((p) => p.payload.every((b) => b === 0xff || b === 0x7f)),
    'before the bridge the callee heard only silence');
  assert.ok(audio.length - start >= 100, `only ${audio.length - start} packets were relayed`);
  const first = sent.indexOf(audio[start].payload.toString('hex'));
  for (let i = 0; i < audio.length; ++i) {
    if (i >= start) {
      assert.equal(audio[i].payload.toString('hex'), sent[first + i - start], `payload ${i} relayed untouched`);
    }
    if (i > 0) {
      assert.equal((audio[i].seq - audio[i - 1].seq) & 0xffff, 1, `sequence continuous at ${i}`);
      assert.equal((audio[i].ts - audio[i - 1].ts) >>> 0, 160, `timestamps continuous at ${i}`);
      assert.equal(audio[i].ssrc, audio[0].ssrc, 'one SSRC');
    }
  }

  const after = await app.waitFor((e) => e.path === '/after');
  assert.equal(after.valid, true);
  assert.equal(after.params.DialCallStatus, 'completed');
  assert.equal(after.params.DialBridged, 'true');
  assert.match(after.params.DialCallSid, /^CA[0-9a-f]{32}$/);
  const duration = Number(after.params.DialCallDuration);
  assert.ok(duration >= 2 && duration <= 5, `DialCallDuration ${duration}`);
  const parentSid = after.params.CallSid;

  const child = await d.request('GET', d.accountPath(`Calls/${after.params.DialCallSid}.json`));
  assert.equal(child.status, 200, child.text);
  assert.equal(child.json.parent_call_sid, parentSid);
  assert.equal(child.json.direction, 'outbound-dial');
  assert.equal(child.json.to, '+15551230000');
  const listed = await d.request('GET', d.accountPath(`Calls.json?ParentCallSid=${parentSid}`));
  assert.deepEqual(listed.json.calls.map((c) => c.sid), [after.params.DialCallSid]);

  await app.waitFor((e) => childDone(e) && e.params.CallSid === after.params.DialCallSid);
  const statuses = app.seen.filter((e) => e.path === '/child-status');
  assert.deepEqual(statuses.map((e) => e.params.CallStatus), ['initiated', 'ringing', 'in-progress', 'completed']);
  for (const e of statuses) {
    assert.equal(e.valid, true);
    assert.equal(e.params.ParentCallSid, parentSid);
    assert.equal(e.params.CallbackSource, 'call-progress-events');
    assert.equal(e.params.Direction, 'outbound-dial');
  }
  assert.deepEqual(statuses.map((e) => e.params.SequenceNumber), ['0', '1', '2', '3']);
});

// Numbers +1500555001N each run /voice-N; trunk N leads to callee N.
async function setupMany(t, callees, docs) {
  const routes = {};
  docs.forEach((doc, i) => { routes[`/voice-${i}`] = doc; });
  const s = await setup(t, callees.map((c) => c.port), routes);
  for (let i = 0; i < docs.length; ++i) {
    await addNumber(s.d, `+150055500${10 + i}`, { VoiceUrl: s.app.url(`/voice-${i}`) });
  }
  return s;
}

test('Dial outcomes: busy, failed, no-answer after timeout, and the caller leaving while it rings', async (t) => {
  const callees = await Promise.all([
    startSippUas({ xml: uasScenarios.fail(486, 'Busy Here') }),
    startSippUas({ xml: uasScenarios.fail(404, 'Not Found') }),
    startSippUas({ xml: uasScenarios.ringUntilCancel }),
    startSippUas({ xml: uasScenarios.ringUntilCancel }),
  ]);
  const dial = (i, extra = '') => () => `<Response><Dial action="/after-${i}"${extra}>` +
    `<Number statusCallback="/child-status">+1555123000${i}</Number></Dial></Response>`;
  const { d, app } = await setupMany(t, callees, [dial(0), dial(1), dial(2, ' timeout="5"'), dial(3)]);
  for (let i = 0; i < 4; ++i) app.routes[`/after-${i}`] = () => '<Response><Hangup/></Response>';

  const started = Date.now();
  const callers = await Promise.all([0, 1, 2, 3].map((i) => runSipp({
    sipPort: sipPort(d), service: `+150055500${10 + i}`,
    steps: i === 3 ? [{ answer: true }, { pause: 1500 }, { bye: true }] : [{ answer: true }, { awaitBye: 20000 }],
  })));
  callers.forEach((c, i) => assert.equal(c.code, 0, `caller ${i}:\n${c.stdout}\n${c.messages}`));
  for (const [i, c] of callees.entries()) {
    const r = await c.done;
    assert.equal(r.code, 0, `callee ${i}:\n${r.stdout}\n${r.messages}`);
  }
  const after = await Promise.all([0, 1, 2, 3].map((i) => app.waitFor((e) => e.path === `/after-${i}`)));
  assert.deepEqual(after.map((e) => e.params.DialCallStatus), ['busy', 'failed', 'no-answer', 'canceled']);
  for (const e of after) {
    assert.equal(e.params.DialBridged, 'false');
    assert.match(e.params.DialCallSid, /^CA[0-9a-f]{32}$/);
  }
  assert.equal(after[3].params.CallStatus, 'completed', 'the caller had hung up');
  const noAnswerAt = after[2].at;
  assert.ok(noAnswerAt - started >= 4500, 'no-answer came after the 5 s timeout');

  const finals = await Promise.all(after.map((e) => app.waitFor((s) => childDone(s) && s.params.CallSid === e.params.DialCallSid)));
  assert.deepEqual(finals.map((e) => e.params.CallStatus), ['busy', 'failed', 'no-answer', 'canceled']);
  assert.equal(finals[0].params.SipResponseCode, '486');
  const notes = await d.request('GET', d.accountPath(`Notifications.json?PageSize=50`));
  assert.ok(notes.json.notifications.some((n) => n.call_sid === after[1].params.DialCallSid && n.error_code === '32011'),
    'the 404 is in the debugger');
});

test('Dial rings three at once: the second answers, the others get CANCEL, each gets its completed callback', async (t) => {
  const first = await startSippUas({ xml: uasScenarios.ringUntilCancel });
  const second = await startRtpPeer({ ringMs: 800, hangupAfterMs: 1500 });
  const third = await startSippUas({ xml: uasScenarios.ringUntilCancel });
  const n = (i) => `<Number statusCallback="/child-status">+1555123000${i}</Number>`;
  const { d, app } = await setup(t, [first.port, second.port, third.port], {
    '/voice': () => `<Response><Dial action="/after">${n(0)}${n(1)}${n(2)}</Dial></Response>`,
    '/after': () => '<Response><Hangup/></Response>',
  });
  const caller = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(caller.code, 0, caller.messages);
  for (const c of [first, third]) {
    const r = await c.done;
    assert.equal(r.code, 0, `a losing callee:\n${r.stdout}\n${r.messages}`);
    assert.match(r.messages, /^CANCEL /m);
  }
  const won = await second.done;
  assert.equal(won.how, 'our BYE');
  const after = await app.waitFor((e) => e.path === '/after');
  assert.equal(after.params.DialCallStatus, 'completed');
  const winner = /X-Twilio-CallSid: (CA[0-9a-f]{32})/.exec(won.invite)[1];
  assert.equal(after.params.DialCallSid, winner);
  const children = await d.request('GET', d.accountPath(`Calls.json?ParentCallSid=${after.params.CallSid}`));
  assert.equal(children.json.calls.length, 3);
  await Promise.all(children.json.calls.map((c) => app.waitFor((e) => childDone(e) && e.params.CallSid === c.sid)));
  const byTo = {};
  for (const e of app.seen.filter(childDone)) byTo[e.params.To] = e.params.CallStatus;
  assert.deepEqual(byTo, { '+15551230000': 'canceled', '+15551230001': 'completed', '+15551230002': 'canceled' });
});

test('Dial sequential: the first is busy, the second answers', async (t) => {
  const busy = await startSippUas({ xml: uasScenarios.fail(486, 'Busy Here') });
  const peer = await startRtpPeer({ hangupAfterMs: 1000 });
  const { d, app } = await setup(t, [busy.port, peer.port], {
    '/voice': () => '<Response><Dial sequential="true" action="/after"><Number>+15551230000</Number>' +
      '<Number>+15551230001</Number></Dial></Response>',
    '/after': () => '<Response><Hangup/></Response>',
  });
  const caller = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(caller.code, 0, caller.messages);
  assert.equal((await busy.done).code, 0);
  const won = await peer.done;
  const after = await app.waitFor((e) => e.path === '/after');
  assert.equal(after.params.DialCallStatus, 'completed');
  assert.equal(after.params.DialCallSid, /X-Twilio-CallSid: (CA[0-9a-f]{32})/.exec(won.invite)[1]);
});

test('hangupOnStar ends the bridge at the caller\'s * and timeLimit at its limit; the documents go on', async (t) => {
  const star = await startRtpPeer({ streamMs: 20000 });
  const limited = await startRtpPeer({ streamMs: 20000 });
  const { d, app } = await setupMany(t, [star, limited], [
    () => '<Response><Dial hangupOnStar="true" action="/after-0"><Number>+15551230000</Number></Dial></Response>',
    () => '<Response><Dial timeLimit="2" action="/after-1"><Number>+15551230001</Number></Dial></Response>',
  ]);
  app.routes['/after-0'] = () => '<Response><Say>You pressed star.</Say><Hangup/></Response>';
  app.routes['/after-1'] = () => '<Response><Hangup/></Response>';
  const [a, b] = await Promise.all([
    runSipp({ sipPort: sipPort(d), service: '+15005550010',
      steps: [{ answer: true }, { pause: 1500 }, { pcap: 'dtmf_2833_star.pcap' }, { awaitBye: 20000 }] }),
    runSipp({ sipPort: sipPort(d), service: '+15005550011', steps: [{ answer: true }, { awaitBye: 20000 }] }),
  ]);
  assert.equal(a.code, 0, a.messages);
  assert.equal(b.code, 0, b.messages);
  assert.equal((await star.done).how, 'their BYE', 'the daemon hung up the called party at *');
  assert.equal((await limited.done).how, 'their BYE', 'the daemon hung up the called party at the time limit');
  const afterStar = await app.waitFor((e) => e.path === '/after-0');
  assert.equal(afterStar.params.DialCallStatus, 'completed');
  assert.equal(afterStar.params.CallStatus, 'in-progress', 'the caller is still there');
  const afterLimit = await app.waitFor((e) => e.path === '/after-1');
  assert.equal(afterLimit.params.DialCallStatus, 'completed');
  assert.ok(['2', '3'].includes(afterLimit.params.DialCallDuration), `timeLimit 2: ${afterLimit.params.DialCallDuration} s`);
});

// The moment (ms) sipp logged the first message matching `re`.
function loggedAt(messages, re) {
  const parts = messages.split(/^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    if (re.test(parts[i + 1])) return Date.parse(`${parts[i].replace(' ', 'T')}Z`);
  }
  return NaN;
}

test('answerOnBridge: the caller hears 180 until the called party answers, then 200', async (t) => {
  const peer = await startRtpPeer({ ringMs: 1500, hangupAfterMs: 1000 });
  const { d, app } = await setup(t, [peer.port], {
    '/voice': () => '<Response><Dial answerOnBridge="true"><Number>+15551230000</Number></Dial>' +
      '<Say>The call ended.</Say></Response>',
  });
  const caller = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ ringing: true }, { answer: true }, { awaitBye: 20000 }] });
  assert.equal(caller.code, 0, caller.messages);
  const heard = await peer.done;
  const ok = loggedAt(caller.messages, /^SIP\/2\.0 200 OK[\s\S]*CSeq: 1 INVITE/m);
  const ringing = loggedAt(caller.messages, /^SIP\/2\.0 180/m);
  assert.ok(ringing < heard.times.invite + 200, 'the caller heard 180 before the called party was dialled');
  assert.ok(ok >= heard.times.answered, `the caller's 200 came after the called party answered (${ok - heard.times.answered} ms)`);
  await app.waitFor((e) => e.path === '/status' && e.params.CallStatus === 'completed');
});

// The power of `hz` in `samples` (Goertzel).
function power(samples, hz) {
  const k = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s = x + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

test('record-from-answer-dual: a two-channel WAV, the caller in channel 1 and the called party in 2', async (t) => {
  const peer = await startRtpPeer({ hangupAfterMs: 3000, toneHz: 700, streamMs: 5000 });
  const { d, app, dir } = await setup(t, [peer.port], {
    '/voice': () => '<Response><Dial record="record-from-answer-dual" recordingStatusCallback="/rec" ' +
      'action="/after"><Number>+15551230000</Number></Dial></Response>',
    '/after': () => '<Response><Hangup/></Response>',
    '/rec': () => ({ status: 204 }),
  });
  const pcap = path.join(dir, 'tone.pcap');
  writeRtpPcap(pcap, tone(6000, 500, 8000));
  const caller = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { pcap }, { awaitBye: 20000 }] });
  assert.equal(caller.code, 0, caller.messages);
  const heard = await peer.done;
  const after = await app.waitFor((e) => e.path === '/after');
  assert.match(after.params.RecordingUrl, /\/Recordings\/RE[0-9a-f]{32}$/);
  const rec = await app.waitFor((e) => e.path === '/rec');
  assert.equal(rec.valid, true);
  assert.equal(rec.params.CallSid, after.params.CallSid, 'the parent call');
  assert.equal(rec.params.RecordingSource, 'DialVerb');
  assert.equal(rec.params.RecordingChannels, '2');
  assert.equal(rec.params.RecordingStatus, 'completed');
  assert.ok(Number(rec.params.RecordingDuration) >= 2, rec.params.RecordingDuration);

  const res = await fetch(`${after.params.RecordingUrl}.wav`, { headers: { authorization: d.auth() } });
  assert.equal(res.status, 200);
  const wav = Buffer.from(await res.arrayBuffer());
  assert.equal(wav.readUInt16LE(22), 2, 'two channels');
  const frames = (wav.length - 44) / 4;
  const ch = [[], []];
  for (let i = 0; i < frames; ++i) {
    ch[0].push(wav.readInt16LE(44 + i * 4));
    ch[1].push(wav.readInt16LE(46 + i * 4));
  }
  const p = ch.map((c) => ({ caller: power(c, 500), callee: power(c, 700) }));
  assert.ok(p[0].caller > 20 * p[0].callee, `channel 1 is the caller: ${JSON.stringify(p[0])}`);
  assert.ok(p[1].callee > 20 * p[1].caller, `channel 2 is the called party: ${JSON.stringify(p[1])}`);
  // The bridge decoded (it was recorded) and still carried the caller's tone to the callee.
  const audio = heard.received.filter((x) => x.pt === 0);
  assert.ok(audio.length > 50, `${audio.length} packets reached the callee`);
});

test('live modification: the parent redirected mid-bridge hangs up the child; the child redirected leaves the bridge', async (t) => {
  const first = await startRtpPeer({ streamMs: 20000 });
  const second = await startRtpPeer({ streamMs: 20000 });
  const { d, app } = await setupMany(t, [first, second], [
    () => '<Response><Dial action="/after-0"><Number>+15551230000</Number></Dial></Response>',
    () => '<Response><Dial action="/after-1"><Number>+15551230001</Number></Dial><Say>not reached</Say></Response>',
  ]);
  app.routes['/after-0'] = () => '<Response><Hangup/></Response>';
  app.routes['/after-1'] = () => '<Response><Say>The other party left.</Say><Hangup/></Response>';
  app.routes['/moved'] = () => '<Response><Say>Goodbye.</Say><Hangup/></Response>';
  const running = [0, 1].map((i) => runSipp({ sipPort: sipPort(d), service: `+150055500${10 + i}`,
    steps: [{ answer: true }, { awaitBye: 20000 }] }));
  // Both bridged: find the parents and their children.
  const bridged = async (to) => {
    for (let i = 0; i < 100; ++i) {
      const r = await d.request('GET', d.accountPath(`Calls.json?To=${encodeURIComponent(to)}&Status=in-progress`));
      if (r.json.calls.length) return r.json.calls[0];
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${to} never answered`);
  };
  const child0 = await bridged('+15551230000');
  const child1 = await bridged('+15551230001');
  await new Promise((r) => setTimeout(r, 500));
  const moved = await d.request('POST', d.accountPath(`Calls/${child0.parent_call_sid}.json`), {
    body: { Twiml: '<Response><Say>Moved.</Say><Hangup/></Response>' },
  });
  assert.equal(moved.status, 200, moved.text);
  const left = await d.request('POST', d.accountPath(`Calls/${child1.sid}.json`), { body: { Url: app.url('/moved') } });
  assert.equal(left.status, 200, left.text);
  const [a, b] = await Promise.all(running);
  assert.equal(a.code, 0, a.messages);
  assert.equal(b.code, 0, b.messages);
  assert.equal((await first.done).how, 'their BYE', 'the child of the redirected parent was hung up');
  assert.equal((await second.done).how, 'their BYE', 'the redirected child ran its document and hung up');
  assert.ok(app.seen.some((e) => e.path === '/moved' && e.params.CallSid === child1.sid));
  const after1 = await app.waitFor((e) => e.path === '/after-1');
  assert.equal(after1.params.DialCallStatus, 'completed');
  assert.equal(after1.params.DialCallSid, child1.sid);
  assert.equal(after1.params.DialCallDuration, undefined, 'no duration for a child that was redirected');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!app.seen.some((e) => e.path === '/after-0'), 'a redirected parent does not request the action');
});

test('bad input: an unroutable number, a codec the callee lacks, a Dial in a whisper, a callee gone mid-whisper', async (t) => {
  const g729 = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n';
  const noCodec = await startSippUas({ xml: uasScenarios.badAnswer(g729) });
  const whisperer = await startRtpPeer({ streamMs: 10000, hangupAfterMs: 4000 });
  const leaver = await startRtpPeer({ streamMs: 10000, hangupAfterMs: 600 });
  const unused = await startRtpPeer();
  const { d, app } = await setupMany(t, [unused, noCodec, whisperer, leaver], [
    () => '<Response><Dial action="/after-0"><Number>+442071234567</Number></Dial></Response>',
    () => '<Response><Dial action="/after-1"><Number>+15551230001</Number></Dial></Response>',
    () => '<Response><Dial action="/after-2"><Number url="/whisper-dial">+15551230002</Number></Dial></Response>',
    () => '<Response><Dial action="/after-3"><Number url="/whisper-long">+15551230003</Number></Dial></Response>',
  ]);
  for (let i = 0; i < 4; ++i) app.routes[`/after-${i}`] = () => '<Response><Hangup/></Response>';
  app.routes['/whisper-dial'] = () => '<Response><Say>Screening.</Say><Dial>+15551230000</Dial></Response>';
  app.routes['/whisper-long'] = () => '<Response><Pause length="5"/></Response>';
  const callers = await Promise.all([0, 1, 2, 3].map((i) => runSipp({
    sipPort: sipPort(d), service: `+150055500${10 + i}`, steps: [{ answer: true }, { awaitBye: 20000 }],
  })));
  callers.forEach((c, i) => assert.equal(c.code, 0, `caller ${i}:\n${c.messages}`));
  const after = await Promise.all([0, 1, 2, 3].map((i) => app.waitFor((e) => e.path === `/after-${i}`)));
  assert.deepEqual(after.map((e) => e.params.DialCallStatus), ['failed', 'failed', 'completed', 'completed']);
  assert.deepEqual(after.map((e) => e.params.DialBridged), ['false', 'false', 'true', 'false']);
  assert.equal((await noCodec.done).code, 0, 'the callee offering only G.729 got our ACK and BYE');
  assert.equal((await whisperer.done).how, 'our BYE');
  assert.equal((await leaver.done).how, 'our BYE');
  const notes = (await d.request('GET', d.accountPath('Notifications.json?PageSize=100'))).json.notifications;
  const codes = (sid) => notes.filter((n) => n.call_sid === sid).map((n) => n.error_code);
  assert.ok(codes(after[0].params.DialCallSid).includes('13224'), JSON.stringify(notes));
  assert.ok(codes(after[1].params.DialCallSid).includes('32102'), JSON.stringify(notes));
  assert.ok(codes(after[2].params.DialCallSid).includes('13201'), JSON.stringify(notes));
  assert.ok(!app.seen.some((e) => e.path === '/voice-0' && e.params.CallSid === after[2].params.DialCallSid));
  unused.stop();
});

test('a caller on PCMA and a callee on PCMU: the child offers PCMA first, the bridge transcodes', async (t) => {
  const peer = await startRtpPeer({ hangupAfterMs: 2500 });  // answers PCMU whatever is offered
  const { d, app } = await setup(t, [peer.port], {
    '/voice': () => '<Response><Dial action="/after"><Number>+15551230000</Number></Dial></Response>',
    '/after': () => '<Response><Hangup/></Response>',
  });
  const caller = await runSipp({ sipPort: sipPort(d), service: NUMBER, codecs: 'PCMA',
    steps: [{ answer: true }, { pcap: 'g711a.pcap' }, { awaitBye: 20000 }] });
  assert.equal(caller.code, 0, caller.messages);
  const heard = await peer.done;
  assert.match(heard.invite, /m=audio \d+ RTP\/AVP 8 0 /, 'the caller\'s codec is offered first');
  const audio = heard.received.filter((p) => p.pt === 0);
  const loud = audio.filter((p) => p.payload.some((b) => (b & 0x7f) < 0x60));
  assert.ok(loud.length > 20, `the caller's PCMA audio reached the callee as PCMU (${loud.length}/${audio.length} loud packets)`);
  for (let i = 1; i < audio.length; ++i) {
    assert.equal((audio[i].seq - audio[i - 1].seq) & 0xffff, 1, `sequence continuous at ${i}`);
  }
  const after = await app.waitFor((e) => e.path === '/after');
  assert.equal(after.params.DialCallStatus, 'completed');
});

test('early media: the called party\'s 183 audio reaches the caller before answer, with or without answerOnBridge', async (t) => {
  const peers = await Promise.all([0, 1].map(() => startRtpPeer({ earlyMedia: true, ringMs: 1500, hangupAfterMs: 1000, toneHz: 700, streamMs: 4000 })));
  const { d } = await setupMany(t, peers, [
    () => '<Response><Dial answerOnBridge="true"><Number>+15551230000</Number></Dial></Response>',
    () => '<Response><Dial ringTone="uk"><Number>+15551230001</Number></Dial></Response>',
  ]);
  const [waiting, answered] = await Promise.all([0, 1].map((i) =>
    callWithRtp({ sipPort: sipPort(d), number: `+150055500${10 + i}` })));
  const heard = await Promise.all(peers.map((p) => p.done));
  const tonePayload = ulawTone(700, 160).toString('hex');
  for (const [i, call] of [waiting, answered].entries()) {
    assert.equal(call.how, 'their BYE', `call ${i}: the Dial ended when the called party hung up`);
    // From the first packet of the called party's tone until its answer, nothing else: its audio
    // untouched and no ringback of ours (before it, the answered caller may hear our silence).
    const audio = call.received.filter((p) => p.at < heard[i].times.answered && p.pt === 0);
    const from = audio.findIndex((p) => p.payload.toString('hex') === tonePayload);
    assert.ok(from >= 0, `call ${i}: no early media reached the caller`);
    const early = audio.slice(from);
    assert.ok(early.length >= 25, `call ${i}: ${early.length} packets of early media before the answer`);
    assert.ok(early.every((p) => p.payload.toString('hex') === tonePayload),
      `call ${i}: what rang was the called party's audio, untouched (no ringback of ours)`);
  }
  const progress = waiting.responses.find((r) => r.status === 183);
  const ok = waiting.responses.find((r) => r.status === 200);
  assert.ok(progress && progress.sdp, 'answerOnBridge: a 183 with SDP while the called party rings');
  assert.ok(ok.at >= heard[0].times.answered, 'answerOnBridge: the 200 after the called party\'s');
  assert.ok(answered.responses.find((r) => r.status === 200).at < heard[1].times.answered,
    'without answerOnBridge the caller is answered first');
});

test('Dial Sip: the URI\'s X- headers go in the INVITE, the action gets DialSipCallId, DialSipResponseCode and the answer\'s X- headers', async (t) => {
  const peer = await startRtpPeer({ hangupAfterMs: 800, answerHeaders: ['X-Queue: sales', 'X-Agent: 7', 'Subject: not passed'] });
  const { d, app } = await setup(t, [], {
    '/voice': () => `<Response><Dial action="/after" callerId="reception">` +
      `<Sip username="bob" password="secret">sip:bob@127.0.0.1:${peer.port}?x-team=blue&amp;x-ticket=42</Sip>` +
      '</Dial></Response>',
    '/after': () => '<Response><Hangup/></Response>',
  });
  const caller = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(caller.code, 0, caller.messages);
  const heard = await peer.done;
  assert.match(heard.invite, /^INVITE sip:bob@127\.0\.0\.1:\d+ SIP\/2\.0/);
  assert.match(heard.invite, /^X-team: blue\r$/mi);
  assert.match(heard.invite, /^X-ticket: 42\r$/mi);
  assert.match(heard.invite, /From: <sip:reception@/);
  const after = await app.waitFor((e) => e.path === '/after');
  assert.equal(after.params.DialCallStatus, 'completed');
  assert.equal(after.params.DialSipResponseCode, '200');
  assert.equal(after.params.DialSipCallId, /^Call-ID: (.*)\r$/m.exec(heard.invite)[1]);
  assert.equal(after.params['DialSipHeader_X-Queue'], 'sales');
  assert.equal(after.params['DialSipHeader_X-Agent'], '7');
  assert.ok(!Object.keys(after.params).some((k) => /Subject/.test(k)), 'only X- headers are passed');
});
