'use strict';
// The SIP signalling summary a call's record keeps (Calls/{Sid}.json's `sip`, the console's
// call page): the peer, Call-ID, codec, final response, who hung up and the dialog's messages
// in order, for sipp calls that end each way — we hang up, the caller hangs up, the caller
// gives up while it rings, we refuse — and for an outbound call through a trunk.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { runSipp, startSippUas, uasScenarios } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');

const NUMBER = '+15005550006';

// The call's record once its summary is written (the call has ended).
async function summaryOf(d, sid) {
  for (let i = 0; i < 200; ++i) {
    const r = await d.request('GET', d.accountPath(`Calls/${sid}.json`));
    assert.equal(r.status, 200, r.text);
    if (r.json.sip) return r.json;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`no SIP summary on ${sid}`);
}

const ladder = (sip) => sip.steps.map((s) => `${s.dir} ${s.message}`);

async function callerSetup(t, twiml) {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => twiml;
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice') });
  return { d, app };
}

test('we hang up: INVITE, 180, 200 OK, ACK, our BYE; the caller\'s address, Call-ID and codec', async (t) => {
  const { d, app } = await callerSetup(t, '<Response><Say>Bye.</Say><Hangup/></Response>');
  const r = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  const asked = await app.waitFor((e) => e.path === '/voice');
  const call = await summaryOf(d, asked.params.CallSid);
  const sip = call.sip;
  assert.deepEqual(ladder(sip), ['in INVITE', 'out 180 Ringing', 'out 200 OK', 'in ACK', 'out BYE']);
  assert.match(sip.peer, /^127\.0\.0\.1:\d+\/udp$/);
  assert.match(sip.call_id, /\S+/);
  assert.ok(r.messages.includes(`Call-ID: ${sip.call_id}`), `sipp saw no Call-ID ${sip.call_id}`);
  assert.equal(sip.codec, 'PCMU/8000');
  assert.match(sip.remote_media, /^127\.0\.0\.1:\d+$/);
  assert.equal(sip.final_status, 200);
  assert.equal(sip.ended_by, 'switchboard');
  assert.match(sip.request_uri, new RegExp(`^sip:\\${NUMBER}@`));
  // Times run from the INVITE, in order.
  assert.equal(sip.steps[0].ms, 0);
  for (let i = 1; i < sip.steps.length; ++i) assert.ok(sip.steps[i].ms >= sip.steps[i - 1].ms);
});

test('the caller hangs up: its BYE ends the ladder and the summary says so', async (t) => {
  const { d, app } = await callerSetup(t, '<Response><Pause length="30"/></Response>');
  const r = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { pause: 300 }, { bye: true }] });
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  const asked = await app.waitFor((e) => e.path === '/voice');
  const { sip } = await summaryOf(d, asked.params.CallSid);
  assert.deepEqual(ladder(sip), ['in INVITE', 'out 180 Ringing', 'out 200 OK', 'in ACK', 'in BYE']);
  assert.equal(sip.ended_by, 'caller');
});

test('<Reject reason="busy"/>: 486 is the final response, sent by us', async (t) => {
  const { d, app } = await callerSetup(t, '<Response><Reject reason="busy"/></Response>');
  const r = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ final: 486 }] });
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  const asked = await app.waitFor((e) => e.path === '/voice');
  const call = await summaryOf(d, asked.params.CallSid);
  assert.equal(call.status, 'busy');
  assert.deepEqual(ladder(call.sip), ['in INVITE', 'out 180 Ringing', 'out 486 Busy Here']);
  assert.equal(call.sip.final_status, 486);
  assert.equal(call.sip.ended_by, 'switchboard');
});

test('the caller gives up while the application is slow: CANCEL, 487', async (t) => {
  const { d, app } = await callerSetup(t, '<Response><Say>Too late.</Say></Response>');
  let release;
  const held = new Promise((res) => { release = res; });
  app.routes['/voice'] = async () => { await held; return '<Response><Say>Too late.</Say></Response>'; };
  t.after(() => release());
  const sipp = runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ ringing: true }, { pause: 200 }, { cancel: true }] });
  const asked = await app.waitFor((e) => e.path === '/voice');
  const r = await sipp;
  release();
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  const call = await summaryOf(d, asked.params.CallSid);
  assert.equal(call.status, 'canceled');
  assert.deepEqual(ladder(call.sip), ['in INVITE', 'out 180 Ringing', 'in CANCEL', 'out 487 Request Terminated']);
  assert.equal(call.sip.final_status, 487);
  assert.equal(call.sip.ended_by, 'caller');
});

test('an outbound call through a trunk: our INVITE, 180, 200 OK, our ACK, our BYE', async (t) => {
  const uas = await startSippUas({ xml: uasScenarios.answer });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-sipsum-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'switchboard.toml');
  fs.writeFileSync(file, `[[sip.trunks]]\nname = "carrier"\naddress = "127.0.0.1:${uas.port}"\nprefixes = ["+1"]\n`);
  const d = await startDaemon(t, { args: ['--config', file] });
  const client = twilioClient(d);
  await client.incomingPhoneNumbers.create({ phoneNumber: NUMBER });
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Hangup/></Response>';
  const created = await client.calls.create({ to: '+14155550100', from: NUMBER, url: app.url('/voice') });
  const done = await uas.done;
  assert.equal(done.code, 0, `${done.stdout}\n${done.messages || ''}`);
  const { sip } = await summaryOf(d, created.sid);
  assert.deepEqual(ladder(sip), ['out INVITE', 'in 180 Ringing', 'in 200 OK', 'out ACK', 'out BYE']);
  assert.equal(sip.peer, `127.0.0.1:${uas.port}/udp`);
  assert.match(sip.request_uri, /^sip:\+14155550100@127\.0\.0\.1/);
  assert.equal(sip.ended_by, 'switchboard');
  assert.equal(sip.final_status, 200);
  assert.equal(sip.codec, 'PCMU/8000');
});
