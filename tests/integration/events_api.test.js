'use strict';
// The /v1 eventing API against the real daemon: channels and subscribers CRUD, publish and
// history, validation errors, idempotency and access tokens.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { v1, createChannel, publish } = require('./lib/events');

test('eventing REST API', { timeout: 120000 }, async (t) => {
  const d = await startDaemon(t);

  await t.test('auth is required and checked', async () => {
    const res = await v1(d, 'GET', '/v1/Channels', { auth: false });
    assert.equal(res.status, 401);
    assert.equal(res.json.code, 20003);
    const wrong = await v1(d, 'GET', '/v1/Channels', { auth: d.auth(d.accountSid, 'x'.repeat(32)) });
    assert.equal(wrong.status, 401);
  });

  await t.test('channels: create, fetch by sid and name, update, list, delete', async () => {
    const ch = await createChannel(d, 'crud.one', { history: { max_events: 10 } });
    assert.match(ch.sid, /^CH[0-9a-f]{32}$/);
    assert.match(ch.webhook_secret, /^whsec_/);
    assert.equal(ch.attributes.history.max_events, 10);
    const byName = await v1(d, 'GET', '/v1/Channels/crud.one');
    assert.equal(byName.status, 200);
    assert.equal(byName.json.sid, ch.sid);
    assert.equal(byName.json.webhook_secret, undefined, 'the secret is shown once');
    const upd = await v1(d, 'POST', `/v1/Channels/${ch.sid}`, {
      json: { Attributes: { filter: { types: ['a.*'] } } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.deepEqual(upd.json.attributes, { filter: { types: ['a.*'] } });
    const dup = await v1(d, 'POST', '/v1/Channels', { form: { UniqueName: 'crud.one' } });
    assert.equal(dup.status, 409);
    const list = await v1(d, 'GET', '/v1/Channels?PageSize=1000');
    assert.ok(list.json.channels.some((c) => c.sid === ch.sid));
    assert.equal(list.json.meta.key, 'channels');
    const del = await v1(d, 'DELETE', `/v1/Channels/${ch.sid}`);
    assert.equal(del.status, 204);
    assert.equal((await v1(d, 'GET', `/v1/Channels/${ch.sid}`)).status, 404);
  });

  await t.test('bad input gets Twilio-style 4xx errors', async () => {
    const badName = await v1(d, 'POST', '/v1/Channels', { form: { UniqueName: 'no spaces' } });
    assert.equal(badName.status, 400);
    assert.equal(badName.json.code, 20001);
    assert.match(badName.json.more_info, /twilio.com\/docs\/errors\/20001/);
    const unknown = await v1(d, 'POST', '/v1/Channels', {
      form: { UniqueName: 'x1', Attributes: JSON.stringify({ colour: 'red' }) },
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.message, /colour/);
    const badType = await v1(d, 'POST', '/v1/Channels', {
      form: { UniqueName: 'x2', Attributes: JSON.stringify({ rate_limit: { per_second: 'fast' } }) },
    });
    assert.equal(badType.status, 400);
    const notJson = await v1(d, 'POST', '/v1/Channels', { form: { UniqueName: 'x3', Attributes: '{' } });
    assert.equal(notJson.status, 400);
    await createChannel(d, 'bad.input');
    const malformed = await publish(d, 'bad.input', '{"type":');
    assert.equal(malformed.status, 400);
    const noType = await publish(d, 'bad.input', { data: {} });
    assert.equal(noType.status, 400);
    const big = await publish(d, 'bad.input', { type: 't', data: 'x'.repeat(70 * 1024) });
    assert.equal(big.status, 413);
    const missing = await publish(d, 'no.such.channel', { type: 't' });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 20404);
  });

  await t.test('publish one or a batch, then read history after an id', async () => {
    await createChannel(d, 'hist');
    const one = await publish(d, 'hist', { type: 'h.one', data: { i: 0 } });
    assert.equal(one.status, 201, one.text);
    assert.match(one.json.sid, /^EV[0-9a-f]{32}$/);
    const batch = await publish(d, 'hist', [1, 2, 3].map((i) => ({ type: 'h.many', data: { i } })));
    assert.equal(batch.status, 201);
    assert.equal(batch.json.events.length, 3);
    const form = await v1(d, 'POST', '/v1/Channels/hist/Events', {
      form: { Type: 'h.form', Data: JSON.stringify({ i: 4 }) },
    });
    assert.equal(form.status, 201, form.text);
    const all = await v1(d, 'GET', '/v1/Channels/hist/Events?Limit=2');
    assert.deepEqual(all.json.events.map((e) => e.data.i), [0, 1]);
    assert.equal(all.json.events[0].specversion, '1.0');
    const next = await v1(d, 'GET', all.json.meta.next_page_url);
    assert.deepEqual(next.json.events.map((e) => e.data.i), [2, 3]);
    const after = await v1(d, 'GET', `/v1/Channels/hist/Events?After=${batch.json.events[2].sid}`);
    assert.deepEqual(after.json.events.map((e) => e.data.i), [4]);
    assert.equal(after.json.meta.gap, false);
  });

  await t.test('an Idempotency-Key returns the first response again', async () => {
    await createChannel(d, 'idem');
    const headers = { 'Idempotency-Key': 'order-42' };
    const a = await publish(d, 'idem', { type: 'i' }, headers);
    const b = await publish(d, 'idem', { type: 'i' }, headers);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.equal(a.json.sid, b.json.sid);
    const hist = await v1(d, 'GET', '/v1/Channels/idem/Events');
    assert.equal(hist.json.events.length, 1);
  });

  await t.test('subscribers: generated secret shown once, update, delete', async () => {
    await createChannel(d, 'subs');
    const res = await v1(d, 'POST', '/v1/Channels/subs/Subscribers', {
      form: { Type: 'webhook', Url: 'http://127.0.0.1:9/hook', Attributes: JSON.stringify({ queue: { max_events: 10 } }) },
    });
    assert.equal(res.status, 201, res.text);
    assert.match(res.json.sid, /^SB[0-9a-f]{32}$/);
    assert.match(res.json.secret, /^whsec_/);
    const fetched = await v1(d, 'GET', `/v1/Channels/subs/Subscribers/${res.json.sid}`);
    assert.equal(fetched.json.secret, undefined);
    const badUrl = await v1(d, 'POST', '/v1/Channels/subs/Subscribers', { form: { Type: 'webhook', Url: 'ftp://x' } });
    assert.equal(badUrl.status, 400);
    assert.equal(badUrl.json.code, 21402);
    const badType = await v1(d, 'POST', '/v1/Channels/subs/Subscribers', { form: { Type: 'pigeon' } });
    assert.equal(badType.status, 400);
    const upd = await v1(d, 'POST', `/v1/Channels/subs/Subscribers/${res.json.sid}`, { form: { Status: 'disabled' } });
    assert.equal(upd.json.status, 'disabled');
    const list = await v1(d, 'GET', '/v1/Channels/subs/Subscribers');
    assert.equal(list.json.subscribers.length, 1);
    const deliveries = await v1(d, 'GET', `/v1/Subscribers/${res.json.sid}/Deliveries`);
    assert.equal(deliveries.status, 200);
    assert.deepEqual(deliveries.json.deliveries, []);
    assert.equal((await v1(d, 'DELETE', `/v1/Channels/subs/Subscribers/${res.json.sid}`)).status, 204);
    assert.equal((await v1(d, 'GET', `/v1/Subscribers/${res.json.sid}`)).status, 404);
  });

  await t.test('access tokens are scoped to channels and permissions', async () => {
    await createChannel(d, 'tok.ok');
    await createChannel(d, 'tok.other');
    const res = await v1(d, 'POST', '/v1/Tokens', {
      form: { Channels: ['tok.ok'], Permissions: ['publish'], Ttl: '120' },
    });
    assert.equal(res.status, 201, res.text);
    const bearer = { authorization: `Bearer ${res.json.token}` };
    const ok = await publish(d, 'tok.ok', { type: 't' }, bearer);
    assert.equal(ok.status, 201, ok.text);
    const outOfScope = await publish(d, 'tok.other', { type: 't' }, bearer);
    assert.equal(outOfScope.status, 404);
    const noSubscribe = await v1(d, 'GET', '/v1/Channels/tok.ok/Events', { auth: bearer.authorization });
    assert.equal(noSubscribe.status, 403);
    const notForChannels = await v1(d, 'GET', '/v1/Channels', { auth: bearer.authorization });
    assert.equal(notForChannels.status, 403);
    const forged = await publish(d, 'tok.ok', { type: 't' }, { authorization: `Bearer ${res.json.token}x` });
    assert.equal(forged.status, 401);
    // A channel that only the platform may publish on refuses account publishes.
    await createChannel(d, 'sys.only', { permissions: { publish: ['system'] } });
    const refused = await publish(d, 'sys.only', { type: 't' });
    assert.equal(refused.status, 403);
  });
});
