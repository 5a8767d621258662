'use strict';
// Messaging over SIP MESSAGE with real peers: sipp sends a MESSAGE to a number, the application
// (checked with the official `twilio` library's signature validation) replies with TwiML and a
// second sipp, the sender's side of a trunk, receives the reply; messages.create() goes out to
// sipp through a trunk with its status callbacks in order; media as links; fallback,
// scheduling, STOP, a restart, and the MESSAGE requests the daemon must refuse.

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { runSipp, startSippUas } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');

const NUMBER = '+15005550006';
const SENDER = '+15557770001';

const HEAD = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n';

// sipp sends one MESSAGE with `body` from SENDER to [service] and expects `status`.
function senderScenario(body, status = 202) {
  return `${HEAD}<scenario name="send-message">
  <send>
    <![CDATA[
      MESSAGE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:${SENDER}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 MESSAGE
      Max-Forwards: 70
      Content-Type: text/plain;charset=UTF-8
      Content-Length: [len]

${body}]]>
  </send>
  <recv response="${status}"/>
</scenario>`;
}

// sipp as the far end of a trunk: answers each MESSAGE with `status`, its body checked against
// `expect` (a regular expression; the call fails when it does not match).
function receiverScenario(status = 200, reason = 'OK', expect = '.') {
  return `${HEAD}<scenario name="receive-message">
  <recv request="MESSAGE">
    <action><ereg regexp="${expect}" search_in="body" check_it="true" assign_to="body"/></action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 ${status} ${reason}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="body"/>
</scenario>`;
}

async function sendWithSipp(d, body, status = 202) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-msg-'));
  const file = path.join(dir, 'send.xml');
  fs.writeFileSync(file, senderScenario(body, status));
  try {
    return await runSipp({ sipPort: sipPort(d), service: NUMBER, scenarioFile: file, timeoutMs: 20000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function addTrunk(d, port, prefixes) {
  const r = await d.request('POST', d.accountPath('SIP/Trunks.json'), {
    body: { FriendlyName: 'carrier', Address: `127.0.0.1:${port}`, Prefixes: prefixes },
  });
  assert.equal(r.status, 201, r.text);
}

async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const callbacks = (app, sid) =>
  app.seen.filter((e) => e.path === '/status' && e.params.MessageSid === sid).map((e) => e.params.MessageStatus);

const sippOk = (r) => assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${r.messages}`);

test('a MESSAGE reaches the SmsUrl, signed; the <Message> reply goes back through the trunk; the twilio client lists both', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/sms'] = () => '<Response><Message>pong</Message></Response>';
  await addNumber(d, NUMBER, { SmsUrl: app.url('/sms') });
  const receiver = await startSippUas({ xml: receiverScenario(200, 'OK', '^pong$'), calls: 1, timeoutMs: 20000 });
  await addTrunk(d, receiver.port, ['+1555']);

  sippOk(await sendWithSipp(d, 'ping'));
  const hook = await app.waitFor((e) => e.path === '/sms');
  assert.ok(hook.valid, 'X-Twilio-Signature checks out');
  assert.equal(hook.params.Body, 'ping');
  assert.equal(hook.params.From, SENDER);
  assert.equal(hook.params.To, NUMBER);
  assert.equal(hook.params.SmsStatus, 'received');
  assert.equal(hook.params.NumSegments, '1');
  assert.equal(hook.params.NumMedia, '0');
  assert.equal(hook.params.ApiVersion, '2010-04-01');
  assert.match(hook.params.MessageSid, /^SM[0-9a-f]{32}$/);
  assert.equal(hook.params.SmsSid, hook.params.MessageSid);
  assert.equal(hook.params.SmsMessageSid, hook.params.MessageSid);
  assert.equal(hook.params.AccountSid, d.accountSid);

  const got = await receiver.done;
  sippOk(got);
  assert.match(got.messages, /MESSAGE sip:\+15557770001@127\.0\.0\.1/);
  assert.match(got.messages, /From: <sip:\+15005550006@/);

  const client = twilioClient(d);
  const list = await until(async () => {
    const l = await client.messages.list();
    return l.length === 2 && l.some((m) => m.status === 'delivered') ? l : null;
  }, 'both messages listed, the reply delivered');
  const inbound = list.find((m) => m.direction === 'inbound');
  const reply = list.find((m) => m.direction === 'outbound-reply');
  assert.equal(inbound.sid, hook.params.MessageSid);
  assert.equal(inbound.status, 'received');
  assert.equal(inbound.body, 'ping');
  assert.equal(reply.status, 'delivered');
  assert.equal(reply.body, 'pong');
  assert.equal(reply.to, SENDER);
  assert.equal(reply.from, NUMBER);
  assert.ok(reply.dateSent instanceof Date);
  const fetched = await client.messages(reply.sid).fetch();
  assert.equal(fetched.numSegments, '1');
  const filtered = await client.messages.list({ to: SENDER });
  assert.deepEqual(filtered.map((m) => m.sid), [reply.sid]);

  // The conversation on the event router: received, then the reply sent and delivered.
  const events = await until(async () => {
    const r = await d.request('GET', '/v1/Channels/messages/Events?Limit=100');
    assert.equal(r.status, 200, r.text);
    const e = r.json.events;
    return e.some((x) => x.type === 'message.delivered') ? e : null;
  }, 'message.delivered on the messages channel');
  assert.deepEqual(events.map((e) => [e.type, e.data.message_sid]), [
    ['message.received', inbound.sid], ['message.sent', reply.sid], ['message.delivered', reply.sid]]);
  assert.equal(events[0].data.body, 'ping');

  // And in /metrics (sampled every 250 ms).
  await until(async () => {
    const m = (await d.request('GET', '/metrics')).text;
    return /switchboard_messages_total\{outcome="delivered"\} 1/.test(m) &&
      /switchboard_messages_total\{outcome="received"\} 1/.test(m) &&
      /switchboard_sip_message_requests_total 1/.test(m);
  }, 'message figures in /metrics');
});

test('messages.create goes out through the trunk; status callbacks arrive in order; a 480 fails it with an ErrorCode; media go as links', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ status: 204, body: '' });
  await addNumber(d, NUMBER, {});
  const ok = await startSippUas({ xml: receiverScenario(200, 'OK', '^héllo wörld$'), calls: 1, timeoutMs: 20000 });
  await addTrunk(d, ok.port, ['+1415']);
  const client = twilioClient(d);

  const m = await client.messages.create({ to: '+14155550100', from: NUMBER, body: 'héllo wörld', statusCallback: app.url('/status') });
  assert.match(m.sid, /^SM[0-9a-f]{32}$/);
  assert.equal(m.status, 'queued');
  assert.equal(m.direction, 'outbound-api');
  assert.equal(m.numSegments, '1');
  sippOk(await ok.done);
  await until(() => callbacks(app, m.sid).includes('delivered'), 'delivered callback');
  assert.deepEqual(callbacks(app, m.sid), ['queued', 'sending', 'sent', 'delivered']);
  assert.ok(app.seen.filter((e) => e.path === '/status').every((e) => e.valid));
  const delivered = app.seen.find((e) => e.params.MessageStatus === 'delivered');
  assert.match(delivered.params.RawDlrDoneDate, /^\d{10}$/);
  assert.equal((await client.messages(m.sid).fetch()).status, 'delivered');

  // A far end answering 480: undelivered, with Twilio's unreachable-handset code.
  const busy = await startSippUas({ xml: receiverScenario(480, 'Temporarily Unavailable'), calls: 1, timeoutMs: 20000 });
  await addTrunk(d, busy.port, ['+1212']);
  const failed = await client.messages.create({ to: '+12125550100', from: NUMBER, body: 'x', statusCallback: app.url('/status') });
  await busy.done;
  await until(() => callbacks(app, failed.sid).includes('undelivered'), 'undelivered callback');
  const cb = app.seen.find((e) => e.params.MessageSid === failed.sid && e.params.MessageStatus === 'undelivered');
  assert.equal(cb.params.ErrorCode, '30003');
  const row = await client.messages(failed.sid).fetch();
  assert.equal(row.status, 'undelivered');
  assert.equal(row.errorCode, 30003);

  // Twilio's synchronous errors.
  const bad = async (params, code) => {
    await assert.rejects(client.messages.create(params), (e) => { assert.equal(e.code, code, e.message); return true; });
  };
  await bad({ to: '+14155550100', from: NUMBER }, 21602);
  await bad({ to: '+14155550100', from: NUMBER, body: 'x'.repeat(1601) }, 21617);
  await bad({ to: 'nonsense', from: NUMBER, body: 'x' }, 21211);
  await bad({ to: '+14155550100', from: '+19995550000', body: 'x' }, 21606);
  await bad({ to: '+4420555', from: NUMBER, body: 'x' }, 21612);
  await bad({ to: '+14155550100', from: NUMBER, body: 'x', mediaUrl: Array(11).fill(app.url('/m.png')) }, 21623);
  // 1600 characters of two-byte text are fine, and count as UCS-2 segments (67 each).
  const long = await startSippUas({ xml: receiverScenario(), calls: 1, timeoutMs: 20000 });
  await addTrunk(d, long.port, ['+1646']);
  const ucs = await client.messages.create({ to: '+16465550100', from: NUMBER, body: 'ж'.repeat(1600) });
  assert.equal(ucs.numSegments, '24');
  sippOk(await long.done);

  // Media go as links, each fetched first: a picture that is there is linked in the body...
  app.routes['/cat.png'] = () => ({ body: 'png', type: 'image/png' });
  const pic = await startSippUas({ xml: receiverScenario(200, 'OK', 'cat\\.png'), calls: 1, timeoutMs: 20000 });
  await addTrunk(d, pic.port, ['+1718']);
  const withMedia = await client.messages.create({ to: '+17185550100', from: NUMBER, body: 'look', mediaUrl: [app.url('/cat.png')] });
  assert.equal(withMedia.numMedia, '1');
  const picGot = await pic.done;
  sippOk(picGot);
  assert.ok(picGot.messages.includes(`look\n${app.url('/cat.png')}`), picGot.messages);
  // ...and one that 404s fails the message with 11200 before anything is sent.
  const broken = await client.messages.create({ to: '+17185550100', from: NUMBER, body: 'x', mediaUrl: [app.url('/gone.png')], statusCallback: app.url('/status') });
  await until(() => callbacks(app, broken.sid).includes('failed'), 'failed callback');
  assert.deepEqual(callbacks(app, broken.sid), ['queued', 'sending', 'failed']);
  const brokenRow = await client.messages(broken.sid).fetch();
  assert.equal(brokenRow.status, 'failed');
  assert.equal(brokenRow.errorCode, 11200);
  const brokenCb = app.seen.find((e) => e.params.MessageSid === broken.sid && e.params.MessageStatus === 'failed');
  assert.equal(brokenCb.params.ErrorCode, '11200');
});

test('fallback when the SmsUrl fails; STOP blocks sends with 21610 until START; a scheduled message leaves at SendAt', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/broken'] = () => ({ status: 500, body: 'down' });
  app.routes['/fallback'] = () => ({ body: '', type: 'text/plain' });
  await addNumber(d, NUMBER, { SmsUrl: app.url('/broken'), SmsFallbackUrl: app.url('/fallback') });
  const client = twilioClient(d);

  sippOk(await sendWithSipp(d, 'hello'));
  const fb = await app.waitFor((e) => e.path === '/fallback');
  assert.ok(fb.valid);
  assert.equal(fb.params.ErrorCode, '11217');
  assert.equal(fb.params.ErrorUrl, app.url('/broken'));
  assert.equal(fb.params.Body, 'hello');

  // STOP from the sender (recorded before the application hears of it): a send to it is refused.
  sippOk(await sendWithSipp(d, 'Stop'));
  const stop = await app.waitFor((e) => e.path === '/fallback' && e.params.Body === 'Stop');
  assert.equal(stop.params.OptOutType, 'STOP');
  const receiver = await startSippUas({ xml: receiverScenario(200, 'OK', '^later$'), calls: 1, timeoutMs: 30000 });
  await addTrunk(d, receiver.port, ['+1555']);
  await assert.rejects(client.messages.create({ to: SENDER, from: NUMBER, body: 'x' }),
    (e) => { assert.equal(e.code, 21610, e.message); return true; });
  sippOk(await sendWithSipp(d, 'START'));
  const start = await app.waitFor((e) => e.path === '/fallback' && e.params.Body === 'START');
  assert.equal(start.params.OptOutType, 'START');

  // Scheduled: stored as scheduled, sent at SendAt (2 s ahead).
  const sendAt = new Date(Date.now() + 2000);
  const scheduled = await client.messages.create({ to: SENDER, from: NUMBER, body: 'later', sendAt, scheduleType: 'fixed' });
  assert.equal(scheduled.status, 'scheduled');
  sippOk(await receiver.done);
  const sentRow = await until(async () => {
    const r = await client.messages(scheduled.sid).fetch();
    return r.status === 'delivered' ? r : null;
  }, 'scheduled message delivered');
  assert.ok(sentRow.dateSent.getTime() >= Math.floor(sendAt.getTime() / 1000) * 1000 - 1000);

  // A scheduled message can be canceled before it leaves; a finished one redacted.
  const later = await client.messages.create({ to: SENDER, from: NUMBER, body: 'never', sendAt: new Date(Date.now() + 3600e3), scheduleType: 'fixed' });
  const canceled = await client.messages(later.sid).update({ status: 'canceled' });
  assert.equal(canceled.status, 'canceled');
  await until(async () => {
    const r = await d.request('GET', '/v1/Channels/messages.canceled/Events');
    return r.status === 200 && r.json.events.some((e) => e.type === 'message.canceled' && e.data.message_sid === later.sid);
  }, 'message.canceled published');
  const redacted = await client.messages(sentRow.sid).update({ body: '' });
  assert.equal(redacted.body, '');
});

test('accepted messages survive a restart: a scheduled one is sent by the next process', async (t) => {
  const d = await startDaemon(t);
  await addNumber(d, NUMBER, {});
  const receiver = await startSippUas({ xml: receiverScenario(200, 'OK', '^after restart$'), calls: 1, timeoutMs: 30000 });
  await addTrunk(d, receiver.port, ['+1555']);
  const client = twilioClient(d);
  const m = await client.messages.create({ to: SENDER, from: NUMBER, body: 'after restart', sendAt: new Date(Date.now() + 3000), scheduleType: 'fixed' });
  assert.equal(m.status, 'scheduled');
  d.proc.kill('SIGKILL');
  await d.exited;
  const d2 = await startDaemon(t, { dataDir: d.dataDir });
  sippOk(await receiver.done);
  const client2 = twilioClient(d2);
  const row = await until(async () => {
    const r = await client2.messages(m.sid).fetch();
    return r.status === 'delivered' ? r : null;
  }, 'delivered after the restart');
  assert.equal(row.body, 'after restart');
});

// One MESSAGE over UDP from a test socket; resolves with the final response.
function rawMessage(port, { to = NUMBER, type = 'text/plain;charset=UTF-8', body = Buffer.from('hi') }) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const local = s.address().port;
      const head = [
        `MESSAGE sip:${to}@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${Math.random().toString(16).slice(2)}`,
        `From: <sip:${SENDER}@127.0.0.1:${local}>;tag=t1`,
        `To: <sip:${to}@127.0.0.1:${port}>`,
        `Call-ID: ${Math.random().toString(16).slice(2)}@test`,
        'CSeq: 1 MESSAGE',
        'Max-Forwards: 70',
        `Content-Type: ${type}`,
        `Content-Length: ${body.length}`,
        '', ''].join('\r\n');
      s.send(Buffer.concat([Buffer.from(head), body]), port, '127.0.0.1');
    });
    const timer = setTimeout(() => { s.close(); reject(new Error('no response')); }, 10000);
    s.on('message', (msg) => {
      const m = /^SIP\/2\.0 (\d+)/.exec(msg.toString('latin1'));
      if (m && Number(m[1]) >= 200) {
        clearTimeout(timer);
        s.close();
        resolve({ status: Number(m[1]), text: msg.toString('latin1') });
      }
    });
  });
}

test('MESSAGE requests the daemon refuses: type, unknown number, too long, not UTF-8; received media is stored and served', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  app.routes['/sms'] = () => '<Response/>';
  await addNumber(d, NUMBER, { SmsUrl: app.url('/sms') });
  const port = sipPort(d);

  const wrongType = await rawMessage(port, { type: 'application/im-iscomposing+xml' });
  assert.equal(wrongType.status, 415);
  assert.match(wrongType.text, /Accept: text\/plain, multipart\/mixed/);
  assert.equal((await rawMessage(port, { to: '+19998887777' })).status, 404);
  assert.equal((await rawMessage(port, { body: Buffer.from('é'.repeat(1601)) })).status, 413);
  assert.equal((await rawMessage(port, { body: Buffer.from([0x68, 0xff, 0xfe]) })).status, 400);
  assert.equal((await rawMessage(port, { type: 'text/plain;charset=ISO-8859-1' })).status, 415);
  assert.equal((await rawMessage(port, { body: Buffer.from('é'.repeat(1600)) })).status, 202);
  const full = await app.waitFor((e) => e.params.Body === 'é'.repeat(1600));
  assert.equal(full.params.NumSegments, '11');  // é is GSM-7: 153 characters per segment

  // A picture with its caption, as a multipart MESSAGE.
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]);
  const body = Buffer.concat([
    Buffer.from('--b1\r\nContent-Type: text/plain\r\n\r\nlook\r\n--b1\r\nContent-Type: image/png\r\n\r\n'),
    png, Buffer.from('\r\n--b1--\r\n')]);
  assert.equal((await rawMessage(port, { type: 'multipart/mixed;boundary=b1', body })).status, 202);
  const hook = await app.waitFor((e) => e.params.Body === 'look');
  assert.equal(hook.params.NumMedia, '1');
  assert.equal(hook.params.MediaContentType0, 'image/png');
  const media = await fetch(hook.params.MediaUrl0);  // no credentials, as Twilio serves it
  assert.equal(media.status, 200);
  assert.equal(media.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await media.arrayBuffer()), png);
  const list = await d.request('GET', d.accountPath(`Messages/${hook.params.MessageSid}/Media.json`));
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.media_list.length, 1);
  assert.equal(list.json.media_list[0].content_type, 'image/png');

  // A reply with 12 <Message> verbs: as Twilio, the first ten are sent, with warning 14109.
  app.routes['/many'] = () => `<Response>${'<Message>one of many</Message>'.repeat(12)}</Response>`;
  await addNumber(d, '+15005550007', { SmsUrl: app.url('/many') });
  const receiver = await startSippUas({ xml: receiverScenario(200, 'OK', '^one of many$'), calls: 10, timeoutMs: 20000 });
  await addTrunk(d, receiver.port, ['+1555']);
  assert.equal((await rawMessage(port, { to: '+15005550007' })).status, 202);
  sippOk(await receiver.done);
  const client = twilioClient(d);
  const replies = await until(async () => {
    const l = (await client.messages.list({ from: '+15005550007' })).filter((x) => x.status === 'delivered');
    return l.length === 10 ? l : null;
  }, 'ten replies delivered');
  assert.equal(replies.length, 10);
  const notes = (await d.request('GET', d.accountPath('Notifications.json'))).json.notifications;
  assert.ok(notes.some((n) => n.error_code === '14109' || n.error_code === 14109), JSON.stringify(notes.map((n) => n.error_code)));
});
