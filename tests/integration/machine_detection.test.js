'use strict';
// Answering-machine detection end to end: the official `twilio` client creates calls with
// MachineDetection; a sipp callee answers and plays what a person or a voicemail would say
// (espeak-ng speech, a beep, as PCMU RTP from a pcap); the daemon's detector listens and
// reports AnsweredBy as Twilio does: in the first TwiML request (synchronous), or to
// AsyncAmdStatusCallback while the TwiML runs (AsyncAmd), and on the call record, the status
// callbacks and the event stream. Bad settings are refused with the parameter named.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { startSippUas, uasScenarios } = require('./lib/sipp');
const { startApp } = require('./lib/app');
const { speech, silence, tone, concat, writeRtpPcap } = require('./lib/audio_pcap');

const FROM = '+15005550006';

function workDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-amd-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A callee that answers and plays `pcm`; a daemon whose trunk leads to it.
async function setup(t, pcm) {
  const dir = workDir(t);
  const pcap = path.join(dir, 'callee.pcap');
  writeRtpPcap(pcap, pcm);
  const uas = await startSippUas({ xml: uasScenarios.answerAndPlay(pcap) });
  const toml = path.join(dir, 'switchboard.toml');
  fs.writeFileSync(toml, `[[sip.trunks]]\nname = "carrier"\naddress = "127.0.0.1:${uas.port}"\nprefixes = ["+1"]\n`);
  const d = await startDaemon(t, { args: ['--config', toml] });
  const client = twilioClient(d);
  await client.incomingPhoneNumbers.create({ phoneNumber: FROM });
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  app.routes['/amd'] = () => ({ body: '', type: 'text/plain' });
  return { dir, uas, d, client, app };
}

const completed = (sid) => (e) => e.path === '/status' && e.params.CallSid === sid && e.params.CallStatus === 'completed';

test('a person who says "Hello?": the first TwiML request waits for AnsweredBy=human', async (t) => {
  const dir = workDir(t);
  const pcm = concat(silence(400), speech(dir, 'Hello?'), silence(8000));
  const { uas, client, app } = await setup(t, pcm);
  app.routes['/voice'] = () => '<Response><Say>Hi there</Say><Hangup/></Response>';

  const created = Date.now();
  const call = await client.calls.create({
    to: '+14155550100', from: FROM, url: app.url('/voice'), statusCallback: app.url('/status'),
    machineDetection: 'DetectMessageEnd',
  });
  const voice = await app.waitFor((e) => e.path === '/voice', 30000);
  assert.ok(voice.valid);
  assert.equal(voice.params.AnsweredBy, 'human');
  // Not before the speech ended and the speech-end threshold (1.2 s) of silence passed.
  assert.ok(voice.at - created >= 1600, `TwiML requested ${voice.at - created} ms after create`);
  const done = await app.waitFor(completed(call.sid), 30000);
  assert.equal(done.params.AnsweredBy, 'human');
  const fetched = await client.calls(call.sid).fetch();
  assert.equal(fetched.answeredBy, 'human');
  assert.equal((await uas.done).code, 0);
});

test('AsyncAmd with a voicemail greeting and a beep: the TwiML runs at once, the verdict is posted', async (t) => {
  const dir = workDir(t);
  const greeting = speech(dir, 'Hi, you have reached the voicemail of John Smith. I am not available right now. Please leave a message after the tone.');
  const greetingMs = (greeting.length / 8000) * 1000;
  const pcm = concat(silence(500), greeting, silence(400), tone(500, 1000), silence(15000));
  const { uas, d, client, app } = await setup(t, pcm);
  app.routes['/voice'] = () => '<Response><Pause length="30"/></Response>';

  const call = await client.calls.create({
    to: '+14155550100', from: FROM, url: app.url('/voice'), statusCallback: app.url('/status'),
    machineDetection: 'DetectMessageEnd', asyncAmd: 'true',
    asyncAmdStatusCallback: app.url('/amd'), asyncAmdStatusCallbackMethod: 'POST',
  });
  const voice = await app.waitFor((e) => e.path === '/voice', 20000);
  assert.equal(voice.params.AnsweredBy, undefined, 'asynchronous: no verdict in the first request');
  const amd = await app.waitFor((e) => e.path === '/amd', 40000);
  assert.ok(amd.valid, 'AsyncAmdStatusCallback is signed');
  assert.equal(amd.params.CallSid, call.sid);
  assert.equal(amd.params.AccountSid, d.accountSid);
  assert.equal(amd.params.AnsweredBy, 'machine_end_beep');
  const heard = Number(amd.params.MachineDetectionDuration);
  assert.ok(heard >= 500 + greetingMs, `decided after ${heard} ms, the greeting ends at ${500 + greetingMs}`);
  // Soon after the beep (AnsweredBy already says it was the beep, not the silence after it);
  // wide enough for a loaded machine's late media ticks.
  assert.ok(heard <= 500 + greetingMs + 400 + 500 + 3000, `decided late: ${heard} ms`);
  assert.ok(amd.at - voice.at >= greetingMs - 1000, 'the document ran while the detector listened');
  assert.equal((await client.calls(call.sid).fetch()).answeredBy, 'machine_end_beep');
  // And through the event router.
  const history = await d.request('GET', '/v1/Channels/calls.machine-detection/Events');
  assert.equal(history.status, 200, history.text);
  const event = history.json.events.find((e) => JSON.stringify(e).includes(call.sid));
  assert.ok(event, JSON.stringify(history.json));
  assert.equal(event.type, 'call.machine_detected');
  assert.equal(event.data.answered_by, 'machine_end_beep');
  assert.equal(event.data.machine_detection_duration, heard);

  // The application leaves its message now; here it just ends the call.
  await client.calls(call.sid).update({ status: 'completed' });
  const done = await app.waitFor(completed(call.sid), 20000);
  assert.equal(done.params.AnsweredBy, 'machine_end_beep');
  assert.equal((await uas.done).code, 0);
});

test('MachineDetection=Enable stops at machine_start, with the speech threshold given', async (t) => {
  const dir = workDir(t);
  const greeting = speech(dir, 'Thank you for calling Acme Dental. Our office is closed. Please leave a message and we will return your call.');
  const { uas, client, app } = await setup(t, concat(silence(300), greeting, silence(6000)));
  app.routes['/voice'] = () => '<Response><Hangup/></Response>';
  const call = await client.calls.create({
    to: '+14155550100', from: FROM, url: app.url('/voice'), statusCallback: app.url('/status'),
    machineDetection: 'Enable', machineDetectionSpeechThreshold: 1500,
  });
  const voice = await app.waitFor((e) => e.path === '/voice', 30000);
  assert.equal(voice.params.AnsweredBy, 'machine_start');
  await app.waitFor(completed(call.sid), 20000);
  assert.equal((await uas.done).code, 0);
});

test('a call that ends while the asynchronous detector listens: no verdict, no callback, a clean end', async (t) => {
  const dir = workDir(t);
  const greeting = speech(dir, 'The person you are trying to reach is not available. At the tone, please record your message.');
  const { uas, client, app } = await setup(t, concat(greeting, silence(5000)));
  app.routes['/voice'] = () => '<Response><Say>Goodbye</Say><Hangup/></Response>';
  const call = await client.calls.create({
    to: '+14155550100', from: FROM, url: app.url('/voice'), statusCallback: app.url('/status'),
    machineDetection: 'DetectMessageEnd', asyncAmd: 'true', asyncAmdStatusCallback: app.url('/amd'),
  });
  const done = await app.waitFor(completed(call.sid), 20000);
  assert.equal(done.params.AnsweredBy, undefined);
  assert.equal((await uas.done).code, 0);
  const fetched = await client.calls(call.sid).fetch();
  assert.equal(fetched.status, 'completed');
  assert.equal(fetched.answeredBy, null);
  assert.equal(app.seen.filter((e) => e.path === '/amd').length, 0);
});

test('Calls.json refuses bad detection settings, naming the parameter', async (t) => {
  const d = await startDaemon(t);
  const client = twilioClient(d);
  await client.incomingPhoneNumbers.create({ phoneNumber: FROM });
  const base = { to: '+14155550100', from: FROM, url: 'http://127.0.0.1:9/voice' };
  const cases = [
    [{ machineDetection: 'Sometimes' }, /MachineDetection must be Enable or DetectMessageEnd/],
    [{ machineDetection: 'Enable', machineDetectionTimeout: 2 }, /MachineDetectionTimeout must be between 3 and 60/],
    [{ machineDetection: 'Enable', machineDetectionSpeechThreshold: 900 }, /MachineDetectionSpeechThreshold must be between 1000 and 6000/],
    [{ machineDetection: 'Enable', machineDetectionSpeechEndThreshold: 6000 }, /MachineDetectionSpeechEndThreshold must be between 500 and 5000/],
    [{ machineDetection: 'Enable', machineDetectionSilenceTimeout: 'soon' }, /MachineDetectionSilenceTimeout must be a whole number/],
    [{ machineDetection: 'Enable', asyncAmd: 'maybe' }, /AsyncAmd must be true or false/],
    [{ machineDetection: 'Enable', asyncAmdStatusCallback: 'not a url' }, /AsyncAmdStatusCallback is not a valid URL/],
    [{ machineDetection: 'Enable', asyncAmdStatusCallbackMethod: 'PUT' }, /AsyncAmdStatusCallbackMethod must be GET or POST/],
  ];
  for (const [extra, message] of cases) {
    await assert.rejects(client.calls.create({ ...base, ...extra }), (err) => {
      assert.equal(err.status, 400, JSON.stringify(extra));
      assert.match(err.message, message);
      return true;
    });
  }
  assert.equal((await client.calls.list()).length, 0, 'nothing was queued');
});
