'use strict';
// API keys against the real daemon: the Keys resource through the official `twilio` client,
// that client authenticating with a key (twilio(SK…, secret, {accountSid})), and the /v1 events
// API with publish-only and subscribe-only keys.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startDaemon, twilioClient, twilioLib } = require('./lib/daemon');
const { v1, createChannel, publish } = require('./lib/events');

const twilio = twilioLib();
const SK = /^SK[0-9a-f]{32}$/;

// Awaits `promise`, which must reject with a twilio RestException of that status and code.
function assertRestError(promise, status, code) {
  return assert.rejects(promise, (e) => {
    assert.ok(e instanceof twilio.RestException, `expected a RestException, got ${e && e.stack}`);
    assert.deepEqual([e.status, e.code], [status, code], e.message);
    return true;
  });
}

describe('API keys', { timeout: 120000 }, () => {
  let daemon;
  let client; // the account's own credentials

  before(async () => {
    daemon = await startDaemon();
    client = twilioClient(daemon);
  });
  after(() => daemon && daemon.cleanup());

  it('creates, fetches, lists, updates and deletes keys with Twilio shapes', async () => {
    const created = await client.newKeys.create({ friendlyName: 'ci' });
    assert.match(created.sid, SK);
    assert.match(created.secret, /^[0-9a-f]{32}$/);
    assert.equal(created.friendlyName, 'ci');
    assert.ok(created.dateCreated instanceof Date);

    const fetched = await client.keys(created.sid).fetch();
    assert.equal(fetched.sid, created.sid);
    assert.equal(fetched.friendlyName, 'ci');
    assert.equal(fetched.secret, undefined, 'the secret is shown only on create');

    const updated = await client.keys(created.sid).update({ friendlyName: 'renamed' });
    assert.equal(updated.friendlyName, 'renamed');

    const listed = await client.keys.list();
    assert.ok(listed.some((k) => k.sid === created.sid && k.friendlyName === 'renamed'));

    assert.equal(await client.keys(created.sid).remove(), true);
    await assertRestError(client.keys(created.sid).fetch(), 404, 20404);
  });

  it('the twilio client authenticates with a key and lists IncomingPhoneNumbers', async () => {
    const number = await client.incomingPhoneNumbers.create({
      phoneNumber: '+14155550170',
      voiceUrl: 'https://app.example/voice',
    });
    const key = await client.newKeys.create({ friendlyName: 'server' });
    const keyed = twilioClient(daemon, key.sid, key.secret, { accountSid: daemon.accountSid });
    const numbers = await keyed.incomingPhoneNumbers.list();
    assert.ok(numbers.some((n) => n.sid === number.sid && n.phoneNumber === '+14155550170'));

    // A Standard key cannot manage keys or the account (it would see the auth token).
    await assertRestError(keyed.newKeys.create({ friendlyName: 'escalate' }), 403, 70051);
    await assertRestError(keyed.keys.list(), 403, 70051);
    await assertRestError(keyed.api.v2010.accounts(daemon.accountSid).fetch(), 403, 70051);

    const wrong = twilioClient(daemon, key.sid, 'f'.repeat(32), { accountSid: daemon.accountSid });
    await assertRestError(wrong.incomingPhoneNumbers.list(), 401, 20003);

    await client.keys(key.sid).remove();
    await assertRestError(keyed.incomingPhoneNumbers.list(), 401, 20003);
  });

  it('a key without the rest scope is refused on the REST API', async () => {
    const res = await daemon.request('POST', `/2010-04-01/Accounts/${daemon.accountSid}/Keys.json`, {
      body: 'FriendlyName=events&Scopes=publish&Scopes=subscribe',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json.scopes, ['publish', 'subscribe']);
    const keyed = twilioClient(daemon, res.json.sid, res.json.secret, { accountSid: daemon.accountSid });
    await assertRestError(keyed.incomingPhoneNumbers.list(), 403, 70051);
  });

  it('publish-only and subscribe-only keys on /v1', async () => {
    await createChannel(daemon, 'keys.orders');
    const make = async (scopes) => {
      const res = await daemon.request('POST', `/2010-04-01/Accounts/${daemon.accountSid}/Keys.json`, {
        body: `Scopes=${scopes}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(res.status, 201, res.text);
      return daemon.auth(res.json.sid, res.json.secret);
    };
    const publisher = await make('publish');
    const subscriber = await make('subscribe');
    const event = { type: 'order.paid', data: { order: 7 } };

    const ok = await publish(daemon, 'keys.orders', event, { authorization: publisher });
    assert.equal(ok.status, 201, ok.text);

    const refused = await publish(daemon, 'keys.orders', event, { authorization: subscriber });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.code, 70051);
    assert.equal(refused.json.status, 403);
    assert.match(refused.json.message, /'publish' scope/);
    assert.equal(refused.json.more_info, 'https://www.twilio.com/docs/errors/70051');

    const history = await v1(daemon, 'GET', '/v1/Channels/keys.orders/Events', { auth: subscriber });
    assert.equal(history.status, 200, history.text);
    assert.equal(history.json.events.length, 1);
    assert.deepEqual(history.json.events[0].data, { order: 7 });

    const noRead = await v1(daemon, 'GET', '/v1/Channels/keys.orders/Events', { auth: publisher });
    assert.equal(noRead.status, 403);
    assert.equal(noRead.json.code, 70051);
  });
});
