'use strict';
// Secrets never reach the log, even at trace level: a daemon logging everything goes through
// what handles secrets (a subaccount and its token, an API key and its secret, SIP credentials
// and a trunk's password, webhooks signed with the token, a call through a trunk that answers
// its digest challenge, failed logins with wrong tokens and wrong passwords), and none of them
// appears in anything it wrote. (The whole suite's logs are checked the same way by
// tests/secrets_in_logs.js after every integration test has run.)

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { runSipp, startSippUas, uasScenarios } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');

test('a daemon at trace level logs none of the secrets it handles', async (t) => {
  const d = await startDaemon(t, { logLevel: 'trace', fullOutput: true });
  const client = twilioClient(d);
  const secrets = [d.authToken];

  const sub = await client.api.v2010.accounts.create({ friendlyName: 'tenant' });
  secrets.push(sub.authToken);
  const key = await client.newKeys.create({ friendlyName: 'ci' });
  secrets.push(key.secret);
  const list = await client.sip.credentialLists.create({ friendlyName: 'staff' });
  const password = 'Sip9Password-not-logged';
  await client.sip.credentialLists(list.sid).credentials.create({ username: 'alice', password });
  secrets.push(password);
  const trunkPassword = 'Trunk7Password-not-logged';
  const uas = await startSippUas({ xml: uasScenarios.answer, calls: 1 });
  const trunk = await d.request('POST', d.accountPath('SIP/Trunks.json'), {
    body: { FriendlyName: 'carrier', Address: `127.0.0.1:${uas.port}`, Prefixes: ['+1415'], Username: 'acct', Password: trunkPassword },
  });
  assert.equal(trunk.status, 201, trunk.text);
  secrets.push(trunkPassword);

  // Failed logins: the wrong token and the wrong key secret must not be logged either.
  const wrongToken = 'wrong-token-never-logged-0123';
  const wrongSecret = 'wrong-secret-never-logged-4567';
  assert.equal((await d.request('GET', d.accountPath(), { auth: d.auth(d.accountSid, wrongToken) })).status, 401);
  assert.equal((await d.request('GET', d.accountPath(), { auth: d.auth(key.sid, wrongSecret) })).status, 401);
  assert.equal((await d.request('GET', '/v1/Channels', { auth: d.auth(d.accountSid, wrongToken) })).status, 401);
  secrets.push(wrongToken, wrongSecret);

  // Webhooks signed with the token; an outbound call through the trunk; an inbound call.
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Say>Hello.</Say><Hangup/></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550900', { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });
  const inbound = await runSipp({ sipPort: sipPort(d), service: '+15005550900', steps: [{ answer: true }, { awaitBye: 20000 }] });
  assert.equal(inbound.code, 0, `${inbound.stdout}\n${inbound.messages}`);
  const out = await client.calls.create({ to: '+14155550100', from: '+15005550900', twiml: '<Response><Hangup/></Response>', statusCallback: app.url('/status') });
  await app.waitFor((e) => e.path === '/status' && e.params.CallSid === out.sid && e.params.CallStatus === 'completed');
  await uas.done;
  assert.ok(app.seen.every((e) => e.valid), 'every webhook was signed with the token');

  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
  const log = d.stdout + d.stderr;
  assert.match(log, / debug call CA[0-9a-f]{32} from \+14155550100 to \+15005550900/, 'the log was written at trace level');
  for (const s of secrets) {
    assert.ok(s && s.length >= 8);
    const at = log.indexOf(s);
    assert.equal(at, -1, `a secret (${s.slice(0, 4)}…) is in the log: ${log.slice(Math.max(0, at - 200), at + 100)}`);
  }
});
