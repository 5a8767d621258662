'use strict';
// kill -9 during a burst of accepted events loses none: every event the API answered 201 for
// is delivered to the webhook after a restart on the same data dir, duplicates only with the
// same webhook-id. Bounded: up to 12,000 events in batches of 100, killed once 10,000 are accepted.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon } = require('./lib/daemon');
const { createChannel, createWebhook, publish, waitFor, startReceiver } = require('./lib/events');

const TOTAL = 12000;
const BATCH = 100;
const KILL_AFTER = 10000;

test('kill -9 during a burst loses no accepted event', { timeout: 240000 }, async (t) => {
  const receiver = await startReceiver(() => ({ status: 200 }));
  t.after(() => receiver.close());
  const d1 = await startDaemon(t);
  await createChannel(d1, 'burst');
  const sub = await createWebhook(d1, 'burst', receiver.url('/burst'));
  receiver.setSecret(sub.secret);

  const accepted = new Set();
  let killed = false;
  let next = 0;
  const worker = async () => {
    while (!killed && next < TOTAL) {
      const start = next;
      next += BATCH;
      const events = Array.from({ length: BATCH }, (_, i) => ({ type: 'burst.n', data: { n: start + i } }));
      let res;
      try {
        res = await publish(d1, 'burst', events);
      } catch {
        return; // the daemon died under this request: not accepted
      }
      if (res.status === 201) for (const e of res.json.events) accepted.add(e.sid);
      if (!killed && accepted.size >= KILL_AFTER) {
        killed = true;
        d1.proc.kill('SIGKILL');
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  if (!killed) d1.proc.kill('SIGKILL');
  await d1.exited;
  assert.equal(d1.exitSignal, 'SIGKILL');
  assert.ok(accepted.size >= KILL_AFTER, `only ${accepted.size} accepted before the kill`);

  const d2 = await startDaemon(t, { dataDir: d1.dataDir });
  const seen = new Set();
  let scanned = 0;
  const missing = () => {
    for (; scanned < receiver.records.length; ++scanned) seen.add(receiver.records[scanned].headers['webhook-id']);
    let n = 0;
    for (const id of accepted) if (!seen.has(id)) ++n;
    return n;
  };
  const started = Date.now();
  try {
    await waitFor(() => missing() === 0, 150000, `all ${accepted.size} accepted events`);
  } finally {
    t.diagnostic(`after ${Date.now() - started} ms: ${receiver.records.length} webhook requests, ${missing()} accepted events missing`);
  }
  for (const r of receiver.records) {
    assert.equal(r.verified, true, r.verifyError);
    assert.equal(r.headers['webhook-id'], r.json.id, 'a duplicate carries the same webhook-id');
  }
  const ids = receiver.records.map((r) => r.json.id);
  t.diagnostic(`accepted ${accepted.size}, webhook requests ${ids.length}, distinct ${new Set(ids).size}`);
  await d2.stop();
});
