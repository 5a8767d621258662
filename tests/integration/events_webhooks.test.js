'use strict';
// Webhook delivery from the real daemon to loopback receivers: Standard Webhooks signatures
// checked by the official `standardwebhooks` package, CloudEvents bodies, retries with the same
// webhook-id, delegates that rewrite and drop, 410 disabling an endpoint, and replay.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { v1, createChannel, createWebhook, publish, waitFor, startReceiver } = require('./lib/events');

// Short retries so the test runs in seconds (read by the events module).
const env = { SWITCHBOARD_EVENTS_RETRY_SCHEDULE: '200,400,400' };

test('event webhooks', { timeout: 120000 }, async (t) => {
  const d = await startDaemon(t, { env });
  const receivers = [];
  t.after(() => Promise.all(receivers.map((r) => r.close())));
  const receiver = async (respond) => {
    const r = await startReceiver(respond);
    receivers.push(r);
    return r;
  };

  await t.test('every webhook verifies with standardwebhooks and is a CloudEvent', async () => {
    const r = await receiver();
    await createChannel(d, 'wh.orders');
    await createChannel(d, 'wh');
    const sub = await createWebhook(d, 'wh.orders', r.url('/orders'));
    const parent = await createWebhook(d, 'wh', r.url('/parent'));
    const secrets = { '/orders': sub.secret, '/parent': parent.secret };
    r.setSecret((rec) => secrets[rec.path]);
    const sent = [];
    for (let i = 0; i < 5; i++) {
      const res = await publish(d, 'wh.orders', { type: 'order.paid', data: { i }, metadata: { k: 'v' } });
      assert.equal(res.status, 201, res.text);
      sent.push(res.json.sid);
    }
    await waitFor(() => r.records.length >= 10, 10000, '10 webhooks');
    for (const rec of r.records) {
      assert.equal(rec.verified, true, rec.verifyError);
      assert.equal(rec.headers['content-type'], 'application/cloudevents+json');
      assert.equal(rec.json.specversion, '1.0');
      assert.equal(rec.json.type, 'order.paid');
      assert.equal(rec.headers['webhook-id'], rec.json.id);
      assert.ok(rec.json.source && rec.json.time);
    }
    assert.deepEqual(new Set(r.to('/orders').map((x) => x.json.id)), new Set(sent));
    assert.ok(r.to('/parent').every((x) => x.json.channel === 'wh'));
  });

  await t.test('a receiver answering 500 then 200 gets the event again with the same webhook-id', async () => {
    let calls = 0;
    const r = await receiver(() => ({ status: ++calls === 1 ? 500 : 200 }));
    await createChannel(d, 'wh.retry');
    const sub = await createWebhook(d, 'wh.retry', r.url('/retry'));
    r.setSecret(sub.secret);
    const res = await publish(d, 'wh.retry', { type: 'r' });
    await waitFor(() => r.records.length >= 2, 10000, 'the retry');
    assert.equal(r.records.length, 2);
    assert.equal(r.records[0].headers['webhook-id'], res.json.sid);
    assert.equal(r.records[1].headers['webhook-id'], res.json.sid);
    assert.ok(r.records.every((x) => x.verified));
    const deliveries = await waitFor(async () => {
      const dl = await v1(d, 'GET', `/v1/Subscribers/${sub.sid}/Deliveries`);
      return dl.json.deliveries[0]?.status === 'delivered' && dl.json;
    }, 5000, 'delivered status');
    const attempts = deliveries.deliveries[0].attempts;
    assert.deepEqual(attempts.map((a) => a.status_code), [500, 200]);
    assert.ok(attempts[0].next_retry);
  });

  await t.test('Retry-After on 429 is honoured', async () => {
    const times = [];
    const r = await receiver(() => {
      times.push(Date.now());
      return times.length === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 };
    });
    await createChannel(d, 'wh.slow');
    await createWebhook(d, 'wh.slow', r.url('/slow'));
    await publish(d, 'wh.slow', { type: 's' });
    await waitFor(() => times.length >= 2, 10000, 'the second attempt');
    assert.ok(times[1] - times[0] >= 950, `retried after ${times[1] - times[0]} ms, not the 1 s asked`);
  });

  await t.test('410 disables the endpoint and an event says so', async () => {
    const r = await receiver(() => ({ status: 410 }));
    await createChannel(d, 'wh.gone');
    const sub = await createWebhook(d, 'wh.gone', r.url('/gone'));
    await publish(d, 'wh.gone', { type: 'g' });
    await waitFor(async () => (await v1(d, 'GET', `/v1/Subscribers/${sub.sid}`)).json.status === 'disabled', 10000, 'disabled');
    const ev = await waitFor(async () => {
      const h = await v1(d, 'GET', '/v1/Channels/switchboard.subscribers/Events');
      return h.status === 200 && h.json.events.find((e) => e.data.subscriber_sid === sub.sid);
    }, 10000, 'the disabled event');
    assert.equal(ev.type, 'switchboard.subscriber.disabled');
    await publish(d, 'wh.gone', { type: 'g' });
    await publish(d, 'wh.orders', { type: 'order.paid' });  // a round trip through the router
    assert.equal(r.records.length, 1, 'a disabled endpoint gets nothing more');
  });

  await t.test('an endpoint that keeps failing is disabled after its retries', async () => {
    const r = await receiver(() => ({ status: 503 }));
    await createChannel(d, 'wh.fail');
    const sub = await createWebhook(d, 'wh.fail', r.url('/fail'));
    await publish(d, 'wh.fail', { type: 'f' });
    await waitFor(async () => (await v1(d, 'GET', `/v1/Subscribers/${sub.sid}`)).json.status === 'disabled', 15000, 'disabled');
    assert.equal(r.records.length, 4, '1 attempt + 3 retries');
    assert.equal(new Set(r.records.map((x) => x.headers['webhook-id'])).size, 1);
  });

  await t.test('delegates rewrite and drop events; failures follow on_failure', async () => {
    const delegate = await receiver((req, rec) => {
      if (rec.path === '/broken') return { status: 500 };
      if (rec.json.data?.drop) return { status: 204 };
      const ev = rec.json;
      return {
        status: 200,
        headers: { 'content-type': 'application/cloudevents+json' },
        body: { ...ev, data: { ...ev.data, enriched: true }, metadata: { ...ev.metadata, vip: ev.data.amount > 100 } },
      };
    });
    const hooks = await receiver();
    await createChannel(d, 'wh.audit');
    await createChannel(d, 'wh.deleg', {
      delegates: [
        { url: delegate.url('/enrich'), timeout_ms: 2000 },
        { url: delegate.url('/broken'), on_failure: 'pass' },
      ],
      routes: [{ to: 'wh.audit', when: { 'metadata.vip': true } }],
      publish_to_parent: false,
    });
    const sub = await createWebhook(d, 'wh.deleg', hooks.url('/deleg'));
    const audit = await createWebhook(d, 'wh.audit', hooks.url('/audit'));
    const secrets = { '/deleg': sub.secret, '/audit': audit.secret };
    hooks.setSecret((rec) => secrets[rec.path]);
    const small = await publish(d, 'wh.deleg', { type: 'pay', data: { amount: 5 } });
    const big = await publish(d, 'wh.deleg', { type: 'pay', data: { amount: 500 } });
    const dropped = await publish(d, 'wh.deleg', { type: 'pay', data: { drop: true } });
    assert.equal(dropped.status, 201);
    assert.equal(dropped.json.dropped, true);
    // wh.deleg does not climb; the audit channel it routed to does (to wh).
    assert.deepEqual(big.json.channels, ['wh.deleg', 'wh.audit', 'wh']);
    assert.deepEqual(small.json.channels, ['wh.deleg']);
    await waitFor(() => hooks.records.length >= 3, 10000, '3 webhooks');
    assert.ok(hooks.records.every((x) => x.verified));
    const deleg = hooks.to('/deleg');
    assert.deepEqual(deleg.map((x) => x.json.id).sort(), [small.json.sid, big.json.sid].sort());
    assert.ok(deleg.every((x) => x.json.data.enriched === true));
    assert.deepEqual(hooks.to('/audit').map((x) => x.json.id), [big.json.sid]);
    assert.equal(hooks.to('/audit')[0].json.metadata.vip, true);

    await createChannel(d, 'wh.strict', { delegates: [{ url: delegate.url('/broken'), on_failure: 'drop' }] });
    const strict = await publish(d, 'wh.strict', { type: 'x' });
    assert.equal(strict.json.dropped, true);
    // A delegate that never answers in time: on_failure pass keeps the event.
    await createChannel(d, 'wh.timeout', { delegates: [{ url: 'http://127.0.0.1:9/nothing', timeout_ms: 300 }] });
    const timed = await publish(d, 'wh.timeout', { type: 'x' });
    assert.equal(timed.json.dropped, false);
  });

  await t.test('the channel webhook attribute with a when condition', async () => {
    const r = await receiver();
    const ch = await createChannel(d, 'wh.attr', { webhook: { url: r.url('/attr'), when: { 'metadata.vip': true } } });
    r.setSecret(ch.webhook_secret);
    await publish(d, 'wh.attr', { type: 'a', metadata: { vip: false } });
    const vip = await publish(d, 'wh.attr', { type: 'a', metadata: { vip: true } });
    await waitFor(() => r.records.length >= 1, 10000, 'the webhook');
    await publish(d, 'wh.orders', { type: 'order.paid' });
    assert.equal(r.records.length, 1);
    assert.equal(r.records[0].json.id, vip.json.sid);
    assert.equal(r.records[0].verified, true, r.records[0].verifyError);
  });

  await t.test('replay of a time window re-sends with the same webhook-ids', async () => {
    const r = await receiver();
    await createChannel(d, 'wh.replay');
    const from = new Date(Date.now() - 1000).toISOString();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await publish(d, 'wh.replay', { type: 'p', data: { i } })).json.sid);
    const sub = await createWebhook(d, 'wh.replay', r.url('/replay'));  // subscribed afterwards
    r.setSecret(sub.secret);
    const res = await v1(d, 'POST', `/v1/Subscribers/${sub.sid}/Replay`, { form: { From: from, To: new Date(Date.now() + 1000).toISOString() } });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.queued, 3);
    await waitFor(() => r.records.length >= 3, 10000, 'the replayed webhooks');
    assert.deepEqual(r.records.map((x) => x.headers['webhook-id']).sort(), ids.sort());
    assert.ok(r.records.every((x) => x.verified));
    const bad = await v1(d, 'POST', `/v1/Subscribers/${sub.sid}/Replay`, { form: { From: 'yesterday' } });
    assert.equal(bad.status, 400);
  });

  await t.test('secret rotation signs with both secrets', async () => {
    const r = await receiver();
    await createChannel(d, 'wh.rotate');
    const sub = await createWebhook(d, 'wh.rotate', r.url('/rot'));
    const rotated = await v1(d, 'POST', `/v1/Channels/wh.rotate/Subscribers/${sub.sid}`, { form: { RotateSecret: 'true' } });
    assert.match(rotated.json.secret, /^whsec_/);
    await publish(d, 'wh.rotate', { type: 'r' });
    await waitFor(() => r.records.length >= 1, 10000, 'the webhook');
    const { Webhook } = require('standardwebhooks');
    const rec = r.records[0];
    const hdrs = { 'webhook-id': rec.headers['webhook-id'], 'webhook-timestamp': rec.headers['webhook-timestamp'], 'webhook-signature': rec.headers['webhook-signature'] };
    assert.equal(rec.headers['webhook-signature'].split(' ').length, 2);
    new Webhook(sub.secret).verify(rec.body, hdrs);
    new Webhook(rotated.json.secret).verify(rec.body, hdrs);
  });
});
