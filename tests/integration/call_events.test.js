'use strict';
// Calls/{Sid}/Events.json: every HTTP exchange of a real call with its application — the TwiML
// request that failed, the fallback that answered, the Gather action, the status callback —
// read through the official `twilio` client (client.calls(sid).events.list()), with Twilio's
// shape: request {url, method, parameters in snake_case}, response {response_code,
// request_duration, content_type, response_body}. And the webhook figures on /metrics.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { startApp, sipPort, addNumber } = require('./lib/app');
const { runSipp } = require('./lib/sipp');

test('a call lists its webhook exchanges, fallback and status callback included', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/broken'] = () => ({ status: 500, body: 'boom <script>x</script>' });
  app.routes['/fallback'] = () => '<Response><Pause length="1"/><Redirect>/next</Redirect></Response>';
  app.routes['/next'] = () => '<Response><Say>bye</Say><Hangup/></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550710', {
    VoiceUrl: app.url('/broken'),
    VoiceFallbackUrl: app.url('/fallback'),
    StatusCallback: app.url('/status'),
  });
  const call = await runSipp({
    sipPort: sipPort(d), service: '+15005550710', steps: [{ answer: true }, { awaitBye: 20000 }],
  });
  assert.equal(call.code, 0, `${call.stdout}\n${call.messages}`);
  const first = await app.waitFor((e) => e.path === '/broken');
  const sid = first.params.CallSid;
  await app.waitFor((e) => e.path === '/status' && e.params.CallSid === sid);

  const client = twilioClient(d);
  // The status callback is recorded once its answer came back: wait for it to be listed.
  let events = [];
  for (const deadline = Date.now() + 10000; Date.now() < deadline;) {
    events = await client.calls(sid).events.list();
    if (events.some((e) => e.request.url.endsWith('/status'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const urls = events.map((e) => new URL(e.request.url).pathname);
  assert.deepEqual(urls, ['/broken', '/fallback', '/next', '/status']);

  const [broken, fallback, next, status] = events;
  assert.equal(broken.request.method, 'POST');
  assert.equal(broken.request.parameters.call_sid, sid);
  assert.equal(broken.request.parameters.to, '+15005550710');
  assert.equal(broken.request.parameters.call_status, 'ringing');
  assert.equal(broken.response.response_code, 500);
  assert.equal(broken.response.response_body, 'boom <script>x</script>');
  assert.equal(typeof broken.response.request_duration, 'number');
  // The fallback is asked with the error that sent the call there.
  assert.equal(fallback.request.parameters.error_code, '11217');
  assert.equal(fallback.request.parameters.error_url, app.url('/broken'));
  assert.equal(fallback.response.response_code, 200);
  assert.match(fallback.response.content_type, /text\/xml/);
  assert.match(fallback.response.response_body, /<Redirect>/);
  assert.match(next.response.response_body, /<Say>bye<\/Say>/);
  assert.equal(status.request.parameters.call_status, 'completed');
  assert.equal(status.response.response_code, 204);

  // Not visible to another account.
  const other = await d.request('POST', '/2010-04-01/Accounts.json', { body: { FriendlyName: 'other' } });
  assert.equal(other.status, 201, other.text);
  const theirs = await d.request('GET',
    `/2010-04-01/Accounts/${other.json.sid}/Calls/${sid}/Events.json`,
    { auth: d.auth(other.json.sid, other.json.auth_token) });
  assert.equal(theirs.status, 404);

  const metrics = await d.request('GET', '/metrics');
  const requests = /^switchboard_webhook_requests_total (\d+)$/m.exec(metrics.text);
  const errors = /^switchboard_webhook_errors_total (\d+)$/m.exec(metrics.text);
  assert.ok(requests && Number(requests[1]) >= 4, metrics.text);
  assert.ok(errors && Number(errors[1]) >= 1, metrics.text);
  assert.match(metrics.text, /^switchboard_webhook_duration_seconds_bucket\{le="0.001"\} \d+$/m);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});
