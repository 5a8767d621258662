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
const { startRtpPeer } = require('./lib/rtp_peer');
const { noise, writeRtpPcap, ulawPayloads } = require('./lib/audio_pcap');

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

  // What the caller sent reached the callee byte for byte, in order, as one clean stream.
  const audio = heard.received.filter((p) => p.pt === 0);
  assert.ok(audio.length >= 100, `only ${audio.length} packets reached the callee`);
  const first = sent.indexOf(audio[0].payload.toString('hex'));
  assert.ok(first >= 0, 'the first relayed payload is one the caller sent');
  for (let i = 0; i < audio.length; ++i) {
    assert.equal(audio[i].payload.toString('hex'), sent[first + i], `payload ${i} relayed untouched`);
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
