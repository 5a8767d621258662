'use strict';
// Outbound calls end to end: the official `twilio` client creates calls (calls.create), the
// daemon dials a sipp callee through a SIP trunk from its TOML configuration (or a sip: URI),
// runs the call's TwiML once it answers, and reports every step to the status callback in
// order, signed. Busy, no-answer (Timeout, then CANCEL), failed (404), canceled while ringing
// or while queued, a digest-challenged trunk, and Twilio's errors for bad requests.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { startSippUas, uasScenarios } = require('./lib/sipp');
const { startApp } = require('./lib/app');

const SCENARIOS = path.join(__dirname, '..', 'interop', 'sip', 'scenarios');
const FROM = '+15005550006';

// A daemon whose trunks ([[sip.trunks]]) lead to the given sipp callees, with FROM as one of
// the account's numbers.
async function startWithTrunks(t, trunks, extra = '', daemonOpts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-trunks-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'switchboard.toml');
  let toml = extra;
  for (const tr of trunks) {
    toml += `\n[[sip.trunks]]\nname = "${tr.name}"\naddress = "127.0.0.1:${tr.port}"\n` +
      `prefixes = [${tr.prefixes.map((p) => `"${p}"`).join(', ')}]\n`;
    if (tr.username) toml += `username = "${tr.username}"\npassword = "${tr.password}"\n`;
  }
  fs.writeFileSync(file, toml);
  const d = await startDaemon(t, { args: ['--config', file], ...daemonOpts });
  const client = twilioClient(d);
  await client.incomingPhoneNumbers.create({ phoneNumber: FROM });
  return { d, client, file };
}

const statusOf = (sid, status) => (e) =>
  e.path === '/status' && e.params.CallSid === sid && e.params.CallStatus === status;
const callbacksFor = (app, sid) => app.seen.filter((e) => e.path === '/status' && e.params.CallSid === sid);

async function finalCall(client, sid, statuses, ms = 20000) {
  const until = Date.now() + ms;
  for (;;) {
    const call = await client.calls(sid).fetch();
    if (statuses.includes(call.status) || Date.now() > until) return call;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('calls.create through a trunk: the callee answers, <Say> then <Hangup/>, callbacks in order', async (t) => {
  const uas = await startSippUas({ xml: uasScenarios.answer });
  const { d, client } = await startWithTrunks(t, [{ name: 'carrier', port: uas.port, prefixes: ['+1'] }]);
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Say>Hello from Switchboard</Say><Hangup/></Response>';
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });

  const call = await client.calls.create({
    to: '+14155550100', from: FROM, url: app.url('/voice'), statusCallback: app.url('/status'),
    statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
  });
  assert.match(call.sid, /^CA[0-9a-f]{32}$/);
  assert.equal(call.status, 'queued');
  assert.equal(call.direction, 'outbound-api');
  assert.equal(call.to, '+14155550100');
  assert.equal(call.from, FROM);
  assert.equal(call.uri, `/2010-04-01/Accounts/${d.accountSid}/Calls/${call.sid}.json`);

  await app.waitFor(statusOf(call.sid, 'completed'));
  const sipp = await uas.done;
  assert.equal(sipp.code, 0, `sipp callee failed:\n${sipp.stdout}\n${sipp.messages}`);
  assert.match(sipp.messages, /INVITE sip:\+14155550100@127\.0\.0\.1:\d+ SIP\/2\.0/);
  assert.match(sipp.messages, /From: <sip:\+15005550006@/);
  assert.match(sipp.messages, new RegExp(`X-Twilio-CallSid: ${call.sid}`));
  assert.match(sipp.messages, new RegExp(`X-Twilio-AccountSid: ${d.accountSid}`));
  assert.match(sipp.messages, /^BYE /m);

  const callbacks = callbacksFor(app, call.sid);
  assert.deepEqual(callbacks.map((e) => e.params.CallStatus), ['initiated', 'ringing', 'in-progress', 'completed']);
  assert.deepEqual(callbacks.map((e) => e.params.SequenceNumber), ['0', '1', '2', '3']);
  for (const e of callbacks) {
    assert.ok(e.valid, `unsigned callback ${JSON.stringify(e.params)}`);
    assert.equal(e.params.Direction, 'outbound-api');
    assert.equal(e.params.CallbackSource, 'call-progress-events');
    assert.ok(e.params.Timestamp);
  }
  const done = callbacks[3].params;
  assert.equal(done.SipResponseCode, '200');
  assert.ok(Number(done.CallDuration) >= 0);
  const voice = app.seen.find((e) => e.path === '/voice');
  assert.ok(voice.valid);
  assert.equal(voice.params.CallStatus, 'in-progress');
  assert.equal(voice.params.Direction, 'outbound-api');

  const listed = await client.calls.list({ to: '+14155550100' });
  assert.equal(listed.length, 1);
  assert.equal(listed[0].status, 'completed');
  assert.equal(listed[0].direction, 'outbound-api');
  assert.match(String(listed[0].duration), /^\d+$/);
  assert.match(listed[0].queueTime, /^\d+$/, 'queue_time: the milliseconds it waited queued');
  assert.ok(listed[0].startTime && listed[0].endTime);
});

test('busy, not found and no answer end the call with their status and SIP code', async (t) => {
  const busy = await startSippUas({ xml: uasScenarios.fail(486, 'Busy Here') });
  const missing = await startSippUas({ xml: uasScenarios.fail(404, 'Not Found') });
  const ringing = await startSippUas({ xml: uasScenarios.ringUntilCancel });
  const { d, client } = await startWithTrunks(t, [
    { name: 'busy', port: busy.port, prefixes: ['+1415'] },
    { name: 'missing', port: missing.port, prefixes: ['+1212'] },
    { name: 'ringing', port: ringing.port, prefixes: ['+1312'] },
  ]);
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Say>never</Say></Response>';
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const create = (to, extra = {}) => client.calls.create({
    to, from: FROM, url: app.url('/voice'), statusCallback: app.url('/status'), ...extra,
  });
  const [b, m, r] = await Promise.all([
    create('+14155550100'), create('+12125550100'), create('+13125550100', { timeout: 1 }),
  ]);
  const expect = [[b, 'busy', '486'], [m, 'failed', '404'], [r, 'no-answer', '487']];
  for (const [call, status, code] of expect) {
    const e = await app.waitFor(statusOf(call.sid, status));
    assert.equal(e.params.SipResponseCode, code, `${status}: ${JSON.stringify(e.params)}`);
    assert.equal(e.params.CallDuration, '0');
    assert.ok(e.valid);
    const fetched = await finalCall(client, call.sid, [status]);
    assert.equal(fetched.status, status);
    assert.equal(fetched.startTime, null);
    assert.ok(fetched.endTime);
  }
  assert.equal(app.seen.filter((e) => e.path === '/voice').length, 0, 'no TwiML for unanswered calls');
  for (const uas of [busy, missing, ringing]) {
    const sipp = await uas.done;
    assert.equal(sipp.code, 0, `sipp callee failed:\n${sipp.stdout}\n${sipp.messages}`);
  }
  assert.match((await ringing.done).messages, /^CANCEL /m);
});

test('Status=canceled while it rings sends CANCEL; a queued call canceled never dials', async (t) => {
  const ringing = await startSippUas({ xml: uasScenarios.ringUntilCancel });
  // One call per 30 s: the second call waits in the queue.
  const { d, client } = await startWithTrunks(t, [{ name: 'ringing', port: ringing.port, prefixes: [''] }],
    '[calls]\ncps_per_account = 0.033\nmax_queued_per_account = 1\n');
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const create = () => client.calls.create({
    to: '+14155550100', from: FROM, twiml: '<Response><Say>hi</Say></Response>',
    statusCallback: app.url('/status'), statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
  });
  const first = await create();
  const second = await create();
  await app.waitFor(statusOf(first.sid, 'ringing'));
  assert.equal((await client.calls(second.sid).fetch()).status, 'queued');
  // The account's queue holds one call: a third is refused, not queued.
  await assert.rejects(create(), (e) => e.status === 429 && e.code === 20429 && /Too many calls queued/.test(e.message));

  const canceledQueued = await client.calls(second.sid).update({ status: 'canceled' });
  assert.equal(canceledQueued.status, 'canceled');
  await client.calls(first.sid).update({ status: 'canceled' });
  const e = await app.waitFor(statusOf(first.sid, 'canceled'));
  assert.equal(e.params.SipResponseCode, '487');
  assert.equal((await finalCall(client, first.sid, ['canceled'])).status, 'canceled');
  const sipp = await ringing.done;
  assert.equal(sipp.code, 0, `sipp callee failed:\n${sipp.stdout}\n${sipp.messages}`);
  assert.match(sipp.messages, /^CANCEL /m);

  assert.equal((await client.calls(second.sid).fetch()).status, 'canceled');
  assert.equal(callbacksFor(app, second.sid).length, 0, 'no callbacks for a call canceled while queued');
  assert.deepEqual(callbacksFor(app, first.sid).map((x) => x.params.CallStatus), ['initiated', 'ringing', 'canceled']);
});

test('a trunk that challenges gets the digest of its credentials', async (t) => {
  const uas = await startSippUas({ scenarioFile: path.join(SCENARIOS, 'uas_401.xml') });
  const { d, client } = await startWithTrunks(t, [{
    name: 'auth', port: uas.port, prefixes: ['+1'], username: 'trunkuser', password: 'trunkpass',
  }]);
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const call = await client.calls.create({
    to: '+14155550100', from: FROM, twiml: '<Response><Pause length="1"/><Hangup/></Response>',
    statusCallback: app.url('/status'),
  });
  const e = await app.waitFor(statusOf(call.sid, 'completed'));
  assert.equal(e.params.SipResponseCode, '200');
  const sipp = await uas.done;
  assert.equal(sipp.code, 0, `sipp callee failed:\n${sipp.stdout}\n${sipp.messages}`);
  assert.match(sipp.messages, /Authorization: Digest username="trunkuser"/);
});

test('a sip: URI is dialled directly, without a trunk', async (t) => {
  const uas = await startSippUas({ xml: uasScenarios.answer });
  const { d, client } = await startWithTrunks(t, []);
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const call = await client.calls.create({
    to: `sip:alice@127.0.0.1:${uas.port}?X-Customer=42`, from: 'Switchboard',
    twiml: '<Response><Hangup/></Response>', statusCallback: app.url('/status'),
  });
  await app.waitFor(statusOf(call.sid, 'completed'));
  const sipp = await uas.done;
  assert.equal(sipp.code, 0, `sipp callee failed:\n${sipp.stdout}\n${sipp.messages}`);
  assert.match(sipp.messages, /INVITE sip:alice@127\.0\.0\.1:\d+ SIP\/2\.0/);
  assert.match(sipp.messages, /X-Customer: 42/);
});

test('an unroutable number fails the call with a notification', async (t) => {
  const { d, client } = await startWithTrunks(t, []);
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const call = await client.calls.create({
    to: '+14155550100', from: FROM, url: 'http://127.0.0.1:9/voice', statusCallback: app.url('/status'),
  });
  const e = await app.waitFor(statusOf(call.sid, 'failed'));
  assert.ok(e.valid);
  assert.equal((await finalCall(client, call.sid, ['failed'])).status, 'failed');
  const notes = await client.calls(call.sid).notifications.list();
  assert.ok(notes.some((n) => n.errorCode === '13224' && /No SIP trunk/.test(n.messageText)),
    JSON.stringify(notes));
});

test('bad requests get Twilio\'s error codes', async (t) => {
  const { d, client } = await startWithTrunks(t, []);
  const url = 'http://127.0.0.1:9/voice';
  // The helper library refuses a missing To or From itself: those go raw.
  for (const [body, code] of [[{ From: FROM, Url: url }, 21201], [{ To: '+14155550100', Url: url }, 21213]]) {
    const res = await d.request('POST', d.accountPath('Calls.json'), { body });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, code, res.text);
    assert.equal(res.json.more_info, `https://www.twilio.com/docs/errors/${code}`);
  }
  const cases = [
    [{ to: '+14155550100', from: 'Alice', url }, 21212],
    [{ to: '+14155550100', from: '+15005550001', url }, 21210],
    [{ to: '+14155550100', from: FROM }, 21200],
    [{ to: '+14155550100', from: FROM, url: 'not a url' }, 21205],
    [{ to: '+14155550100', from: FROM, url, timeout: 601 }, 21208],
    [{ to: '+14155550100', from: FROM, twiml: '<Response><Say>Tom & Jerry</Say></Response>' }, 12100],
    [{ to: '+14155550100', from: FROM, applicationSid: 'AP' + '0'.repeat(32) }, 21218],
    [{ to: '+14155550100', from: FROM, url, sendDigits: '12x' }, 20001],
    [{ to: 'sip:alice@127.0.0.1', from: 'Bad Name', url }, 21212],
    [{ to: 'sip:alice@127.0.0.1', from: 'x\r\nVia: evil', url }, 21212],
  ];
  for (const [params, code] of cases) {
    await assert.rejects(client.calls.create(params), (err) => {
      assert.equal(err.status, 400, JSON.stringify(params));
      assert.equal(err.code, code, `${JSON.stringify(params)}: ${err.message}`);
      return true;
    });
  }
  assert.equal((await client.calls.list()).length, 0, 'no call recorded for a refused request');
  const other = await d.request('POST', d.accountPath('Calls.json'), { body: { To: '+14155550100', From: FROM, Url: url }, auth: d.auth(d.accountSid, 'wrong-token-000000') });
  assert.equal(other.status, 401);
});

test('after a crash, the calls it left ringing or queued are ended at the next start', async (t) => {
  const ringing = await startSippUas({ xml: uasScenarios.ringUntilCancel, timeoutMs: 20000 });
  const { d, client, file } = await startWithTrunks(t, [{ name: 'r', port: ringing.port, prefixes: [''] }],
    '[calls]\ncps_per_account = 0.033\nmax_queued_per_account = 1\n');
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const create = () => client.calls.create({
    to: '+14155550100', from: FROM, twiml: '<Response><Say>hi</Say></Response>',
    statusCallback: app.url('/status'), statusCallbackEvent: ['ringing'],
  });
  const rang = await create();
  const queued = await create();
  await app.waitFor(statusOf(rang.sid, 'ringing'));
  assert.equal((await client.calls(rang.sid).fetch()).status, 'ringing');
  d.proc.kill('SIGKILL');
  await d.exited;
  ringing.stop();

  const d2 = await startDaemon(t, { dataDir: d.dataDir, args: ['--config', file] });
  const client2 = twilioClient(d2);
  const [a, b] = await Promise.all([client2.calls(rang.sid).fetch(), client2.calls(queued.sid).fetch()]);
  assert.equal(a.status, 'failed');
  assert.ok(a.endTime);
  assert.equal(b.status, 'canceled');
  assert.ok(b.endTime);
});

test('a verified caller ID (validationRequests.create, OutgoingCallerIds) may be the From; once deleted it may not', async (t) => {
  const uas = await startSippUas({ xml: uasScenarios.answer });
  const { d, client } = await startWithTrunks(t, [{ name: 'c', port: uas.port, prefixes: ['+1'] }]);
  const cellphone = '+14155550199';
  const twiml = '<Response><Hangup/></Response>';
  await assert.rejects(client.calls.create({ to: '+14155550100', from: cellphone, twiml }),
    (err) => err.code === 21210);

  const validation = await client.validationRequests.create({ phoneNumber: cellphone, friendlyName: 'My cell' });
  assert.equal(validation.phoneNumber, cellphone);
  assert.equal(validation.friendlyName, 'My cell');
  assert.match(validation.validationCode, /^\d{6}$/);
  await assert.rejects(client.validationRequests.create({ phoneNumber: cellphone }), (err) => err.code === 21450);
  await assert.rejects(client.validationRequests.create({ phoneNumber: '4155550199' }), (err) => err.code === 21401);

  const ids = await client.outgoingCallerIds.list();
  assert.equal(ids.length, 1);
  assert.match(ids[0].sid, /^PN[0-9a-f]{32}$/);
  assert.equal(ids[0].phoneNumber, cellphone);
  const renamed = await client.outgoingCallerIds(ids[0].sid).update({ friendlyName: 'Work cell' });
  assert.equal(renamed.friendlyName, 'Work cell');
  assert.equal((await client.outgoingCallerIds.list({ phoneNumber: cellphone }))[0].friendlyName, 'Work cell');

  const call = await client.calls.create({ to: '+14155550100', from: cellphone, twiml });
  assert.equal(call.from, cellphone);
  assert.equal(call.phoneNumberSid, null);
  assert.equal((await finalCall(client, call.sid, ['completed'])).status, 'completed');
  assert.equal((await uas.done).code, 0);

  await client.outgoingCallerIds(ids[0].sid).remove();
  await assert.rejects(client.outgoingCallerIds(ids[0].sid).fetch(), (err) => err.status === 404);
  await assert.rejects(client.calls.create({ to: '+14155550100', from: cellphone, twiml }),
    (err) => err.code === 21210);
  // Another account's caller ID is not this account's.
  const sub = await client.api.v2010.accounts.create({ friendlyName: 'sub' });
  const subClient = twilioClient(d, sub.sid, sub.authToken);
  await subClient.validationRequests.create({ phoneNumber: cellphone });
  await assert.rejects(client.calls.create({ to: '+14155550100', from: cellphone, twiml }),
    (err) => err.code === 21210);
});

test('a far end that answers without a usable SDP, or redirects, fails the call with a notification', async (t) => {
  const noSdp = await startSippUas({ xml: uasScenarios.badAnswer('') });
  const garbage = await startSippUas({ xml: uasScenarios.badAnswer('      this is not SDP') });
  const moved = await startSippUas({ xml: uasScenarios.fail(302, 'Moved Temporarily') });
  const { d, client } = await startWithTrunks(t, [
    { name: 'nosdp', port: noSdp.port, prefixes: ['+1415'] },
    { name: 'garbage', port: garbage.port, prefixes: ['+1212'] },
    { name: 'moved', port: moved.port, prefixes: ['+1312'] },
  ]);
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const create = (to) => client.calls.create({
    to, from: FROM, twiml: '<Response><Say>never heard</Say></Response>', statusCallback: app.url('/status'),
  });
  const calls = await Promise.all([create('+14155550100'), create('+12125550100'), create('+13125550100')]);
  for (const [call, code] of [[calls[0], '32102'], [calls[1], '32102'], [calls[2], '32219']]) {
    await app.waitFor(statusOf(call.sid, 'failed'));
    const fetched = await finalCall(client, call.sid, ['failed']);
    assert.equal(fetched.status, 'failed');
    const notes = await client.calls(call.sid).notifications.list();
    assert.ok(notes.some((n) => n.errorCode === code), `${code}: ${JSON.stringify(notes)}`);
  }
  for (const uas of [noSdp, garbage, moved]) {
    const sipp = await uas.done;
    assert.equal(sipp.code, 0, `sipp callee failed:\n${sipp.stdout}\n${sipp.messages}`);
  }
});

test('SIP/Trunks.json: an account adds, changes and removes its trunks live; they survive a restart', async (t) => {
  const uas = await startSippUas({ xml: uasScenarios.answer, calls: 2 });
  const { d, client, file } = await startWithTrunks(t, []);
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const trunks = d.accountPath('SIP/Trunks.json');
  const bad = await d.request('POST', trunks, { body: { FriendlyName: 'x', Address: 'no-port' } });
  assert.equal(bad.status, 400, bad.text);
  const injected = await d.request('POST', trunks, {
    body: { FriendlyName: 'x', Address: '127.0.0.1:5060', FromDomain: 'a.example\r\nVia: evil' },
  });
  assert.equal(injected.status, 400, injected.text);
  assert.equal(injected.json.code, 20001);
  const made = await d.request('POST', trunks, {
    body: { FriendlyName: 'carrier', Address: `127.0.0.1:${uas.port}`, Prefixes: ['+1415', '+1212'],
      Username: 'acct', Password: 'trunk-secret' },
  });
  assert.equal(made.status, 201, made.text);
  assert.match(made.json.sid, /^TK[0-9a-f]{32}$/);
  assert.deepEqual(made.json.prefixes, ['+1415', '+1212']);
  assert.equal(made.json.username, 'acct');
  assert.equal(made.json.transport, 'udp');
  assert.equal(made.json.tls_verify, true);
  assert.equal(made.json.srtp, null, 'media.srtp decides');
  assert.ok(!made.text.includes('trunk-secret'), 'the password is never shown');
  const listed = await d.request('GET', trunks);
  assert.equal(listed.json.trunks.length, 1);

  const twiml = '<Response><Hangup/></Response>';
  const first = await client.calls.create({ to: '+14155550100', from: FROM, twiml, statusCallback: app.url('/status') });
  await app.waitFor(statusOf(first.sid, 'completed'));

  // After a restart the stored trunk routes again; then, changed, it no longer takes +1415.
  await d.stop();
  const d2 = await startDaemon(t, { dataDir: d.dataDir, args: ['--config', file] });
  const client2 = twilioClient(d2);
  const second = await client2.calls.create({ to: '+12125550100', from: FROM, twiml, statusCallback: app.url('/status') });
  await app.waitFor(statusOf(second.sid, 'completed'));
  assert.equal((await uas.done).code, 0);

  const path = d2.accountPath(`SIP/Trunks/${made.json.sid}.json`);
  const changed = await d2.request('POST', path, { body: { Prefixes: '+44' } });
  assert.equal(changed.status, 200, changed.text);
  assert.deepEqual(changed.json.prefixes, ['+44']);
  const third = await client2.calls.create({ to: '+14155550100', from: FROM, twiml, statusCallback: app.url('/status') });
  await app.waitFor(statusOf(third.sid, 'failed'));
  // TLS and SRTP settings: set, shown, checked.
  const secured = await d2.request('POST', path, { body: { Transport: 'tls', TlsVerify: 'false', Srtp: 'required' } });
  assert.equal(secured.status, 200, secured.text);
  assert.equal(secured.json.transport, 'tls');
  assert.equal(secured.json.tls_verify, false);
  assert.equal(secured.json.srtp, 'required');
  for (const body of [{ Transport: 'sctp' }, { Transport: 'TLS' }, { TlsVerify: 'maybe' }, { Srtp: 'always' }]) {
    const r = await d2.request('POST', path, { body });
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
  }
  const reset = await d2.request('POST', path, { body: { Srtp: 'default' } });
  assert.equal(reset.json.srtp, null);
  assert.equal((await d2.request('DELETE', path)).status, 204);
  assert.equal((await d2.request('GET', path)).status, 404);
  // Another account does not see it.
  const sub = await client2.api.v2010.accounts.create({ friendlyName: 'sub' });
  const theirs = await d2.request('GET', d2.accountPath('SIP/Trunks.json', sub.sid), { auth: d2.auth(sub.sid, sub.authToken) });
  assert.equal(theirs.status, 200);
  assert.equal(theirs.json.trunks.length, 0);
});

test('a trunk with register = true registers with digest and refreshes before it lapses', async (t) => {
  const registrar = await startSippUas({ scenarioFile: path.join(SCENARIOS, 'uas_registrar.xml'), timeoutMs: 30000 });
  const extra = `[[sip.trunks]]\nname = "provider"\naddress = "127.0.0.1:${registrar.port}"\n` +
    'prefixes = ["+44"]\nusername = "acct"\npassword = "acctpass"\nfrom_domain = "provider.test"\n' +
    'register = true\nregister_expires = 60\n';
  const { d } = await startWithTrunks(t, [], extra);
  // Three registrations (the first and two refreshes at half the granted 4 s), each challenged.
  const sipp = await registrar.done;
  assert.equal(sipp.code, 0, `sipp registrar failed:\n${sipp.stdout}\n${sipp.messages}`);
  assert.equal((sipp.messages.match(/^REGISTER sip:provider\.test SIP\/2\.0/gm) || []).length, 6);
  assert.match(sipp.messages, /Authorization: Digest username="acct", realm="provider\.test"/);
  assert.match(sipp.messages, /To: <sip:acct@provider\.test>/);
  assert.match(sipp.messages, /Expires: 60/);
  // The figures are sampled every 250 ms.
  let text = '';
  for (const until = Date.now() + 5000; Date.now() < until;) {
    text = (await d.request('GET', '/metrics')).text;
    if (/switchboard_sip_trunk_registrations_total\{trunk="provider"\} 3/.test(text)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(text, /switchboard_sip_trunk_registrations_total\{trunk="provider"\} 3/);
});

test('Record=true records the whole answered call (dual channels) and calls RecordingStatusCallback', async (t) => {
  const uas = await startSippUas({ xml: uasScenarios.answer });
  const { d, client } = await startWithTrunks(t, [{ name: 'carrier', port: uas.port, prefixes: ['+1'] }]);
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  app.routes['/recording'] = () => ({ body: '', type: 'text/plain' });
  const call = await client.calls.create({
    to: '+14155550100', from: FROM, twiml: '<Response><Say>Recorded</Say><Pause length="1"/><Hangup/></Response>',
    statusCallback: app.url('/status'), record: true, recordingChannels: 'dual', trim: 'do-not-trim',
    recordingStatusCallback: app.url('/recording'),
  });
  const hook = await app.waitFor((e) => e.path === '/recording');
  assert.ok(hook.valid, 'signed');
  assert.equal(hook.params.CallSid, call.sid);
  assert.equal(hook.params.RecordingStatus, 'completed');
  assert.equal(hook.params.RecordingChannels, '2');
  assert.equal(hook.params.RecordingSource, 'OutboundAPI');
  assert.ok(Number(hook.params.RecordingDuration) >= 1, JSON.stringify(hook.params));
  assert.match(hook.params.RecordingSid, /^RE[0-9a-f]{32}$/);
  const recs = await client.recordings.list({ callSid: call.sid });
  assert.equal(recs.length, 1);
  assert.equal(recs[0].sid, hook.params.RecordingSid);
  assert.equal(recs[0].channels, 2);
  assert.equal(recs[0].source, 'OutboundAPI');
  const wav = await fetch(d.baseUrl + d.accountPath(`Recordings/${recs[0].sid}.wav`),
    { headers: { authorization: d.auth() } });
  assert.equal(wav.status, 200);
  const bytes = Buffer.from(await wav.arrayBuffer());
  assert.equal(bytes.readUInt16LE(22), 2, 'two channels');
  assert.ok(bytes.length > 44 + 8000 * 2 * 2, `at least a second of stereo audio (${bytes.length} bytes)`);
  await uas.done;

  // Bad values are refused with the parameter named.
  await assert.rejects(client.calls.create({ to: '+14155550100', from: FROM, twiml: '<Response/>', recordingChannels: 'quad' }),
    (e) => e.status === 400 && /RecordingChannels/.test(e.message));
  await assert.rejects(client.calls.create({ to: '+14155550100', from: FROM, twiml: '<Response/>', record: 'yes' }),
    (e) => e.status === 400 && /Record must be true or false/.test(e.message));
  await assert.rejects(client.calls.create({ to: '+14155550100', from: FROM, twiml: '<Response/>', trim: 'some' }),
    (e) => e.status === 400 && /Trim must be trim-silence or do-not-trim/.test(e.message));
});
