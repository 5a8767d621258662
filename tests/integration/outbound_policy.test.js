'use strict';
// The outbound request policy with a real call: a number whose application URL is a cloud
// metadata address is refused at connect time (11205 naming the rule, then the fallback URL
// runs, told why), and with http.outbound_deny_private an application on loopback is refused
// the same way, by the address its name resolves to.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { runSipp } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');

const NUMBER = '+15005550006';

async function notificationsOf(d, sid) {
  for (let i = 0; i < 200; ++i) {
    const r = await d.request('GET', d.accountPath(`Notifications.json?CallSid=${sid}`));
    assert.equal(r.status, 200, r.text);
    if (r.json.notifications.length) return r.json.notifications;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`no notification for ${sid}`);
}

test('a metadata-address VoiceUrl is refused at connect time; the fallback runs, told why', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/fallback'] = () => '<Response><Say>Fallback.</Say><Hangup/></Response>';
  const metadata = 'http://169.254.169.254/latest/meta-data/';
  await addNumber(d, NUMBER, { VoiceUrl: metadata, VoiceFallbackUrl: app.url('/fallback') });
  const started = Date.now();
  const r = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  const fallback = await app.waitFor((e) => e.path === '/fallback');
  assert.equal(fallback.valid, true);
  assert.equal(fallback.params.ErrorCode, '11205');
  assert.equal(fallback.params.ErrorUrl, metadata);
  // Refused before any packet: no connect timeout (5 s) or retry was waited for. Timed to the
  // fallback's arrival (not to sipp's exit, which includes the fallback's Say on a busy box).
  assert.ok(fallback.at - started < 4000, `the fallback came ${fallback.at - started} ms after the call`);
  const notes = await notificationsOf(d, fallback.params.CallSid);
  const refused = notes.find((n) => n.error_code === '11205');
  assert.ok(refused, JSON.stringify(notes));
  const detail = await d.request('GET', d.accountPath(`Notifications/${refused.sid}.json`));
  assert.match(detail.json.message_text, /outbound request policy/);
  assert.match(detail.json.message_text, /169\.254\.169\.254 is a cloud metadata address/);
  assert.match(detail.json.message_text, /\(1 attempt, /, 'no retry after a refusal');
});

test('http.outbound_deny_private: an application on loopback is refused, by name as by address', async (t) => {
  const d = await startDaemon(t, { env: { SWITCHBOARD_OUTBOUND_DENY_PRIVATE: '1' } });
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Say>Should not be asked.</Say></Response>';
  const byName = app.url('/voice').replace('127.0.0.1', 'localhost');
  await addNumber(d, NUMBER, { VoiceUrl: byName });
  const r = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  let notes;
  for (let i = 0; i < 200 && !notes; ++i) {
    const list = await d.request('GET', d.accountPath('Notifications.json'));
    if (list.json.notifications.length) notes = list.json.notifications;
    else await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(notes, 'a notification');
  const refused = notes.find((n) => n.error_code === '11205');
  assert.ok(refused, JSON.stringify(notes));
  const detail = await d.request('GET', d.accountPath(`Notifications/${refused.sid}.json`));
  assert.match(detail.json.message_text, /is loopback and http\.outbound_deny_private = true/);
  assert.equal(app.seen.filter((e) => e.path === '/voice').length, 0, 'the application was never asked');
});

test('a <Stream> to the metadata address is refused: stream-error naming the rule, the call goes on', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Start><Stream url="ws://169.254.169.254/media" ' +
    `statusCallback="${app.url('/stream-status')}"/></Start><Say>Still here.</Say><Hangup/></Response>`;
  app.routes['/stream-status'] = () => ({ status: 204 });
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice') });
  const r = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  const status = await app.waitFor((e) => e.path === '/stream-status');
  assert.equal(status.params.StreamEvent, 'stream-error');
  assert.match(status.params.StreamError, /outbound request policy: 169\.254\.169\.254 is a cloud metadata address/);
});

test("an account's own policy (the operator's /admin/v1/Accounts): trusted on a denying daemon, denied on its own", async (t) => {
  const d = await startDaemon(t, { env: { SWITCHBOARD_OUTBOUND_DENY_PRIVATE: '1' } });
  const app = await startApp(t, d.authToken);
  app.routes['/main'] = () => '<Response><Say>Trusted.</Say><Hangup/></Response>';
  app.routes['/sub'] = () => '<Response><Say>Should not be asked.</Say></Response>';
  const created = await d.request('POST', `/2010-04-01/Accounts.json`, { body: { FriendlyName: 'tenant' } });
  assert.equal(created.status, 201, created.text);
  const sub = created.json;
  const settings = (sid) => `/admin/v1/Accounts/${sid}.json`;

  const before = await d.request('GET', settings(sub.sid));
  assert.equal(before.status, 200, before.text);
  assert.equal(before.json.outbound_deny_private, null);
  assert.equal(before.json.effective_outbound_deny_private, true, "the daemon's setting");
  // A tenant cannot lift its own restriction: operator endpoints refuse subaccounts.
  const bySub = await d.request('POST', settings(sub.sid), { body: { OutboundDenyPrivate: 'false' }, auth: d.auth(sub.sid, sub.auth_token) });
  assert.equal(bySub.status, 403);
  const bad = await d.request('POST', settings(sub.sid), { body: { OutboundDenyPrivate: 'maybe' } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /true, false or default/);
  const trusted = await d.request('POST', settings(d.accountSid), { body: { OutboundDenyPrivate: 'false' } });
  assert.equal(trusted.status, 200, trusted.text);
  assert.equal(trusted.json.outbound_deny_private, false);
  assert.equal(trusted.json.effective_outbound_deny_private, false);
  const denied = await d.request('POST', settings(sub.sid), { body: { OutboundDenyPrivate: 'true' } });
  assert.equal(denied.json.outbound_deny_private, true);

  // The trusted main account's application beside the daemon answers its calls.
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/main') });
  const r1 = await runSipp({ sipPort: sipPort(d), service: NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(r1.code, 0, `${r1.stdout}\n${r1.messages}`);
  const asked = await app.waitFor((e) => e.path === '/main');
  assert.equal(asked.valid, true);

  // The tenant's number on the same application is refused, naming the account's setting.
  const SUB_NUMBER = '+15005550007';
  const num = await d.request('POST', d.accountPath('IncomingPhoneNumbers.json', sub.sid), {
    body: { PhoneNumber: SUB_NUMBER, VoiceUrl: app.url('/sub') },
  });
  assert.equal(num.status, 201, num.text);
  const r2 = await runSipp({ sipPort: sipPort(d), service: SUB_NUMBER, steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(r2.code, 0, `${r2.stdout}\n${r2.messages}`);
  let notes;
  for (let i = 0; i < 200 && !notes; ++i) {
    const list = await d.request('GET', d.accountPath('Notifications.json', sub.sid));
    if (list.json.notifications.length) notes = list.json.notifications;
    else await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(notes, "a notification on the tenant's account");
  const refused = notes.find((n) => n.error_code === '11205');
  assert.ok(refused, JSON.stringify(notes));
  const detail = await d.request('GET', d.accountPath(`Notifications/${refused.sid}.json`, sub.sid));
  assert.match(detail.json.message_text, /127\.0\.0\.1 is loopback and the account's OutboundDenyPrivate = true/);
  assert.equal(app.seen.filter((e) => e.path === '/sub').length, 0, "the tenant's application was never asked");

  // Back to the daemon's setting.
  const reset = await d.request('POST', settings(sub.sid), { body: { OutboundDenyPrivate: 'default' } });
  assert.equal(reset.json.outbound_deny_private, null);
});
