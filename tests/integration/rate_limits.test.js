'use strict';
// The REST API's per-account request rate (api.account_rate), seen through the official
// `twilio` client: over the budget a request gets 429 with Twilio's 20429, a more_info link and
// Retry-After; the client raises it as a RestException; after Retry-After the same request
// succeeds; the client's own autoRetry (exponential backoff on 429) gets through; each account
// has its own budget; /metrics and /healthz are not limited. And the per-account call limits:
// live calls (calls.max_active_per_account) and incoming calls a second
// (calls.inbound_cps_per_account), with sipp as the callers.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon, twilioClient, twilioLib, daemonHttpClient } = require('./lib/daemon');
const { runSipp } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');

// A daemon whose accounts may make one request every two seconds (bursts of one): slow enough
// that nothing here refills a token between two requests made back to back.
async function startLimited(t) {
  const d0 = await startDaemon(t);
  await d0.stop('SIGTERM');
  const file = path.join(d0.dataDir, 'limits.toml');
  fs.writeFileSync(file, '[api]\naccount_rate = 0.5\naccount_burst = 1\n');
  return startDaemon(t, { dataDir: d0.dataDir, args: ['--config', file] });
}

async function count429(d) {
  const r = await d.request('GET', '/metrics', { auth: false });
  let n = 0;
  for (const m of r.text.matchAll(/^switchboard_http_requests_total\{[^}]*status="429"[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}

// Waits until /metrics (sampled from the SIP thread four times a second) counts `n` calls
// refused for the account's limits.
async function refusedCount(d, n) {
  const want = `switchboard_calls_refused_total{reason="account_limit"} ${n}`;
  for (let i = 0; ; ++i) {
    const text = (await d.request('GET', '/metrics', { auth: false })).text;
    if (text.includes(want)) return;
    if (i === 100) assert.fail(`${want} not in:\n${text.split('\n').filter((l) => l.includes('refused')).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Spends the account's budget: requests until one is refused; returns that refusal.
async function exhaust(d, auth) {
  for (let i = 0; i < 5; ++i) {
    const r = await d.request('GET', d.accountPath('IncomingPhoneNumbers.json'), { auth });
    if (r.status === 429) return r;
    assert.equal(r.status, 200, r.text);
  }
  throw new Error('the budget was never exhausted');
}

test('over its rate an account gets 429 with 20429 and Retry-After; the twilio client retries through it', async (t) => {
  const d = await startLimited(t);
  const client = twilioClient(d);

  const refused = await exhaust(d);
  assert.equal(refused.json.code, 20429);
  assert.equal(refused.json.status, 429);
  assert.equal(refused.json.more_info, 'https://www.twilio.com/docs/errors/20429');
  assert.match(refused.json.message, /api\.account_rate/);
  const retryAfter = Number(refused.headers.get('retry-after'));
  assert.equal(retryAfter, 2, 'a token comes back after 2 s at 0.5 requests a second');

  // The client raises it as Twilio's RestException.
  await assert.rejects(client.incomingPhoneNumbers.list(), (err) => {
    assert.equal(err.status, 429);
    assert.equal(err.code, 20429);
    assert.equal(err.moreInfo, 'https://www.twilio.com/docs/errors/20429');
    return true;
  });
  // Unlimited: the operator's scrape and the health check.
  assert.equal((await d.request('GET', '/healthz', { auth: false })).status, 200);

  // After Retry-After, the same call succeeds.
  await new Promise((r) => setTimeout(r, retryAfter * 1000));
  assert.deepEqual(await client.incomingPhoneNumbers.list(), []);

  // The client's autoRetry: its first attempt is refused (the budget was just spent) and a
  // later one, after its backoff, gets through.
  await exhaust(d);
  const before = await count429(d);
  const retrying = twilioLib()(d.accountSid, d.authToken, {
    httpClient: daemonHttpClient(d.baseUrl, { autoRetry: true, maxRetries: 40, maxRetryDelay: 1000 }),
  });
  const started = Date.now();
  const numbers = await retrying.incomingPhoneNumbers.list();
  assert.deepEqual(numbers, []);
  assert.ok(await count429(d) > before, 'the client was refused and retried');
  assert.ok(Date.now() - started < 30000);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('each account has its own budget', async (t) => {
  const d = await startLimited(t);
  // The main account spends its one request creating a subaccount.
  const sub = await d.request('POST', '/2010-04-01/Accounts.json', { body: { FriendlyName: 'tenant' } });
  assert.equal(sub.status, 201, sub.text);
  assert.equal((await d.request('GET', d.accountPath())).status, 429);
  // The subaccount is not held back by its parent's spending.
  const subAuth = d.auth(sub.json.sid, sub.json.auth_token);
  const own = await d.request('GET', d.accountPath(null, sub.json.sid), { auth: subAuth });
  assert.equal(own.status, 200, own.text);
  assert.equal((await d.request('GET', d.accountPath(null, sub.json.sid), { auth: subAuth })).status, 429);
  // Wrong credentials are refused (401) before any budget is looked at.
  assert.equal((await d.request('GET', d.accountPath(), { auth: d.auth(d.accountSid, 'wrong-token-0123456789') })).status, 401);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('an account at calls.max_active_per_account: new calls get 503 (SIP) and 429/20429 (REST), others are not held back', async (t) => {
  const d = await startDaemon(t, { env: { SWITCHBOARD_MAX_CALLS_PER_ACCOUNT: '1' } });
  const app = await startApp(t, d.authToken);
  app.routes['/long'] = () => '<Response><Say loop="0">Still here.</Say></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550700', { VoiceUrl: app.url('/long'), StatusCallback: app.url('/status') });
  // A subaccount with its own number: its calls count for it alone.
  const sub = await d.request('POST', '/2010-04-01/Accounts.json', { body: { FriendlyName: 'tenant' } });
  assert.equal(sub.status, 201, sub.text);
  const subNumber = await d.request('POST', d.accountPath('IncomingPhoneNumbers.json', sub.json.sid), {
    body: { PhoneNumber: '+15005550701', VoiceUrl: app.url('/long') },
  });
  assert.equal(subNumber.status, 201, subNumber.text);

  const first = runSipp({ sipPort: sipPort(d), service: '+15005550700', steps: [{ answer: true }, { pause: 5000 }, { bye: true }] });
  await app.waitFor((e) => e.path === '/long' && e.params.To === '+15005550700');
  const second = await runSipp({ sipPort: sipPort(d), service: '+15005550700', steps: [{ final: 503 }] });
  assert.equal(second.code, 0, `${second.stdout}\n${second.messages}`);
  assert.match(second.messages, /SIP\/2\.0 503 Service Unavailable[\s\S]*Retry-After: 5/);
  await assert.rejects(twilioClient(d).calls.create({ to: 'sip:nobody@127.0.0.1:9', from: '+15005550700', twiml: '<Response/>' }), (err) => {
    assert.equal(err.status, 429);
    assert.equal(err.code, 20429);
    assert.match(err.message, /max_active_per_account/);
    return true;
  });
  const other = await runSipp({ sipPort: sipPort(d), service: '+15005550701', steps: [{ answer: true }, { bye: true }] });
  assert.equal(other.code, 0, `the subaccount's call: ${other.stdout}\n${other.messages}`);

  const admitted = await first;
  assert.equal(admitted.code, 0, `${admitted.stdout}\n${admitted.messages}`);
  await app.waitFor((e) => e.path === '/status' && e.params.CallStatus === 'completed');
  // Its call over, the account may call again.
  const again = await runSipp({ sipPort: sipPort(d), service: '+15005550700', steps: [{ answer: true }, { bye: true }] });
  assert.equal(again.code, 0, `${again.stdout}\n${again.messages}`);
  await refusedCount(d, 1);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('calls.inbound_cps_per_account: a burst of calls beyond the rate gets 503', async (t) => {
  const d = await startDaemon(t, { env: { SWITCHBOARD_INBOUND_CPS_PER_ACCOUNT: '1' } });
  const app = await startApp(t, d.authToken);
  app.routes['/reject'] = () => '<Response><Reject reason="busy"/></Response>';
  await addNumber(d, '+15005550800', { VoiceUrl: app.url('/reject') });
  // Eight callers at once: a burst of two passes (then one a second), the rest get 503. The
  // admitted ones hear 486 from <Reject>; sipp expecting 486 fails on a 503 (which it logs).
  const results = await Promise.all(Array.from({ length: 8 }, () =>
    runSipp({ sipPort: sipPort(d), service: '+15005550800', steps: [{ final: 486 }] })));
  const admitted = results.filter((r) => r.code === 0).length;
  const refused = results.filter((r) => /SIP\/2\.0 503 Service Unavailable[\s\S]*Retry-After: 1/.test(r.messages)).length;
  assert.equal(admitted + refused, 8, results.map((r) => r.messages).join('\n----\n'));
  assert.ok(admitted >= 2, `the burst of two passes (admitted ${admitted})`);
  assert.ok(refused >= 1, `calls beyond the rate are refused (refused ${refused})`);
  await refusedCount(d, refused);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});
