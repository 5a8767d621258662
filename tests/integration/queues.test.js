'use strict';
// Call queues end to end: two SIP callers <Enqueue>; their waitUrl is requested again and again
// with their positions and a rising QueueTime; an agent (a third SIP caller) <Dial><Queue>s and
// is bridged to the front caller, whose <Queue url> runs first; each hears the other's tone;
// the second caller is dequeued through the official `twilio` client (members('Front')) and
// runs the given URL with QueueResult=redirected; the Queues and Members resources agree.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { startApp, sipPort, addNumber } = require('./lib/app');
const { callWithRtp } = require('./lib/rtp_peer');
const { toneLevel } = require('./lib/audio_pcap');

const NUMBER = '+15005550006';
const AGENT_NUMBER = '+15005550007';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('enqueue, waitUrl loop, agent bridged through <Dial><Queue>, REST dequeue of the front', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const client = twilioClient(d);
  app.routes['/voice'] = () => '<Response><Enqueue action="/enqueued" waitUrl="/wait">support</Enqueue>' +
    '<Say>not reached</Say></Response>';
  app.routes['/wait'] = () => '<Response><Pause length="1"/></Response>';
  app.routes['/enqueued'] = () => '<Response><Hangup/></Response>';
  app.routes['/dequeued'] = () => '<Response><Hangup/></Response>';
  app.routes['/agent'] = () => '<Response><Dial action="/agent-after" timeout="20"><Queue url="/whisper">support</Queue></Dial></Response>';
  app.routes['/whisper'] = () => '<Response><Pause length="1"/></Response>';
  app.routes['/agent-after'] = () => '<Response><Hangup/></Response>';
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice') });
  await addNumber(d, AGENT_NUMBER, { VoiceUrl: app.url('/agent') });
  const port = sipPort(d);
  const waits = (from) => app.seen.filter((e) => e.path === '/wait' && e.params.From === from);

  const first = await callWithRtp({ sipPort: port, number: NUMBER, toneHz: 1100, from: '+14155550301', timeoutMs: 40000 });
  await app.waitFor((e) => e.path === '/wait' && e.params.From === '+14155550301');
  const second = await callWithRtp({ sipPort: port, number: NUMBER, toneHz: 1700, from: '+14155550302', timeoutMs: 40000 });
  await app.waitFor((e) => e.path === '/wait' && e.params.From === '+14155550302' && Number(e.params.QueueTime) >= 1);
  await app.waitFor(() => waits('+14155550301').length >= 3);

  const w1 = waits('+14155550301');
  assert.ok(w1.every((e) => e.valid && e.params.QueuePosition === '1'), 'the first caller is at position 1');
  const times = w1.map((e) => Number(e.params.QueueTime));
  assert.ok(times[times.length - 1] > times[0], `QueueTime rises: ${times}`);
  assert.match(w1[0].params.QueueSid, /^QU[0-9a-f]{32}$/);
  const queueSid = w1[0].params.QueueSid;
  assert.ok(waits('+14155550302').every((e) => e.params.QueuePosition === '2'), 'the second caller is at position 2');
  const last = waits('+14155550302').at(-1);
  assert.equal(last.params.CurrentQueueSize, '2');

  // The REST view while both wait.
  const queue = await client.queues(queueSid).fetch();
  assert.equal(queue.friendlyName, 'support');
  assert.equal(queue.currentSize, 2);
  assert.equal(queue.maxSize, 1000);
  const members = await client.queues(queueSid).members.list();
  assert.deepEqual(members.map((m) => m.position), [1, 2]);
  const firstSid = members[0].callSid;
  const secondSid = members[1].callSid;
  assert.equal((await client.queues(queueSid).members('Front').fetch()).callSid, firstSid);

  // The agent takes the front caller.
  const agent = await callWithRtp({ sipPort: port, number: AGENT_NUMBER, toneHz: 2300, from: '+14155550399', timeoutMs: 40000 });
  const whisper = await app.waitFor((e) => e.path === '/whisper');
  assert.equal(whisper.params.CallSid, firstSid, 'the <Queue url> runs on the dequeued caller');
  assert.equal(whisper.params.QueueSid, queueSid);
  assert.match(whisper.params.DequeingCallSid, /^CA/);
  await sleep(3500);
  const bridgedFrom = Date.now() - 2000;
  const bridgedTo = Date.now();
  agent.hangup();
  const after = await app.waitFor((e) => e.path === '/enqueued' && e.params.CallSid === firstSid);
  assert.equal(after.params.QueueResult, 'bridged');
  assert.equal(after.params.QueueSid, queueSid);
  assert.ok(Number(after.params.QueueTime) >= 2);
  const agentAfter = await app.waitFor((e) => e.path === '/agent-after');
  assert.equal(agentAfter.params.DialCallStatus, 'completed');
  assert.equal(agentAfter.params.DialCallSid, firstSid);
  await first.done;
  await agent.done;
  const heardByCaller = toneLevel(first.received, 2300, bridgedFrom, bridgedTo);
  const heardByAgent = toneLevel(agent.received, 1100, bridgedFrom, bridgedTo);
  assert.ok(heardByCaller > 1000, `the caller hears the agent (${heardByCaller})`);
  assert.ok(heardByAgent > 1000, `the agent hears the caller (${heardByAgent})`);
  assert.ok(toneLevel(agent.received, 1700, bridgedFrom, bridgedTo) < 300, 'the agent does not hear the second caller');

  // The second caller, now at the front, is dequeued to a URL.
  await app.waitFor((e) => e.path === '/wait' && e.params.From === '+14155550302' && e.params.QueuePosition === '1');
  const dequeued = await client.queues(queueSid).members('Front').update({ url: app.url('/dequeued'), method: 'POST' });
  assert.equal(dequeued.callSid, secondSid);
  const redirected = await app.waitFor((e) => e.path === '/dequeued');
  assert.equal(redirected.params.QueueResult, 'redirected');
  assert.equal(redirected.params.CallSid, secondSid);
  await second.done;
  assert.ok(!app.seen.some((e) => e.path === '/enqueued' && e.params.CallSid === secondSid), 'no action after a REST dequeue');

  // Empty now: Front is 404, the queue can be deleted.
  await assert.rejects(client.queues(queueSid).members('Front').fetch(), (e) => e.status === 404);
  const empty = await client.queues(queueSid).fetch();
  assert.equal(empty.currentSize, 0);
  assert.ok(empty.averageWaitTime >= 1);
  await client.queues(queueSid).remove();
  await assert.rejects(client.queues(queueSid).fetch(), (e) => e.status === 404);
});

test('a caller who hangs up while waiting leaves the queue (QueueResult=hangup); REST create, limits', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const client = twilioClient(d);
  const q = await client.queues.create({ friendlyName: 'small', maxSize: 1 });
  assert.equal(q.maxSize, 1);
  await assert.rejects(client.queues.create({ friendlyName: 'small' }), (e) => e.status === 400);
  await assert.rejects(client.queues.create({ friendlyName: 'big', maxSize: 5001 }), (e) => e.status === 400);
  app.routes['/voice'] = () => '<Response><Enqueue action="/enqueued" waitUrl="/wait">small</Enqueue></Response>';
  app.routes['/wait'] = () => '<Response><Pause length="1"/></Response>';
  app.routes['/enqueued'] = () => '<Response><Hangup/></Response>';
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice') });
  const port = sipPort(d);
  const first = await callWithRtp({ sipPort: port, number: NUMBER, toneHz: 1100, from: '+14155550401', timeoutMs: 30000 });
  await app.waitFor((e) => e.path === '/wait' && e.params.From === '+14155550401');
  // Full (MaxSize 1): the next caller's action gets queue-full at once.
  const second = await callWithRtp({ sipPort: port, number: NUMBER, toneHz: 1700, from: '+14155550402', timeoutMs: 30000 });
  const full = await app.waitFor((e) => e.path === '/enqueued' && e.params.From === '+14155550402');
  assert.equal(full.params.QueueResult, 'queue-full');
  await second.done;
  // A non-empty queue cannot be deleted.
  await assert.rejects(client.queues(q.sid).remove(), (e) => e.status === 400);
  first.hangup();
  const gone = await app.waitFor((e) => e.path === '/enqueued' && e.params.From === '+14155550401');
  assert.equal(gone.params.QueueResult, 'hangup');
  await first.done;
  assert.equal((await client.queues(q.sid).fetch()).currentSize, 0);
  await assert.rejects(client.queues(q.sid).members('Front').update({ url: app.url('/x') }), (e) => e.status === 404);
});
