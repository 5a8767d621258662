'use strict';
// Live streams from the real daemon to the `ws` and `eventsource` npm clients: order, resume
// after a disconnect out of history (query parameter and Last-Event-ID), the explicit gap
// signal, heartbeats, access-token URLs and the slow-consumer policy.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const WebSocket = require('ws');
const { EventSource } = require('eventsource');
const { startDaemon } = require('./lib/daemon');
const { v1, createChannel, publish, waitFor } = require('./lib/events');

function wsUrl(d, path) {
  return d.baseUrl.replace(/^http/, 'ws') + path;
}

// Opens a WebSocket; collects messages (parsed) until closed.
function openWs(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 5000 });
    const client = { ws, messages: [], closed: null, pings: 0 };
    ws.on('message', (data) => client.messages.push(JSON.parse(String(data))));
    ws.on('ping', () => client.pings++);
    ws.on('close', (code, reason) => (client.closed = { code, reason: String(reason) }));
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function closeWs(client) {
  return new Promise((resolve) => {
    if (client.closed) return resolve();
    client.ws.once('close', () => resolve());
    client.ws.close();
  });
}

// An EventSource with Basic auth (or none) and an optional Last-Event-ID.
function openSse(d, path, { auth = d.auth(), lastEventId } = {}) {
  const messages = [];
  const controls = [];
  const es = new EventSource(d.baseUrl + path, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...init.headers,
          ...(auth ? { authorization: auth } : {}),
          ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}),
        },
      }),
  });
  es.onmessage = (e) => messages.push({ id: e.lastEventId, event: JSON.parse(e.data) });
  es.addEventListener('gap', (e) => controls.push(JSON.parse(e.data)));
  const opened = new Promise((resolve, reject) => {
    es.onopen = () => resolve();
    es.onerror = (err) => reject(new Error(`eventsource error: ${err.message || err.code}`));
  });
  return { es, messages, controls, opened };
}

// A raw TCP WebSocket handshake, for frames the `ws` client would never send; resolves with
// the socket and every byte read after the 101 response (see `raw.bytes`).
function rawWs(d, path) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(d.port, '127.0.0.1');
    const raw = { socket, bytes: Buffer.alloc(0), ended: false };
    let head = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('close', () => (raw.ended = true));
    socket.on('data', (chunk) => {
      if (head) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = head.subarray(0, end).toString();
        raw.bytes = head.subarray(end + 4);
        head = null;
        if (!status.startsWith('HTTP/1.1 101')) return reject(new Error(status));
        return resolve(raw);
      }
      raw.bytes = Buffer.concat([raw.bytes, chunk]);
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
        `Authorization: ${d.auth()}\r\n\r\n`,
    );
  });
}

// Publishes `count` events of about `pad` bytes each, 50 per request; returns their ids.
async function publishBulk(d, channel, count, pad = 16000) {
  const ids = [];
  const filler = 'x'.repeat(pad);
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, (_, k) => ({ type: 'bulk', data: { i: i + k, filler } }));
    const res = await publish(d, channel, batch);
    assert.equal(res.status, 201, res.text);
    ids.push(...res.json.events.map((e) => e.sid));
  }
  return ids;
}

async function publishN(d, channel, from, to) {
  const ids = [];
  for (let i = from; i < to; i++) {
    const res = await publish(d, channel, { type: 's.tick', data: { i } });
    assert.equal(res.status, 201, res.text);
    ids.push(res.json.sid);
  }
  return ids;
}

test('event streams', { timeout: 120000 }, async (t) => {
  const d = await startDaemon(t);
  await createChannel(d, 'live', { history: { max_events: 50 } });

  await t.test('a WebSocket client receives events in order and resumes without loss', async () => {
    const a = await openWs(wsUrl(d, '/v1/Channels/live/Stream'), { authorization: d.auth() });
    const first = await publishN(d, 'live', 0, 20);
    await waitFor(() => a.messages.length >= 20, 10000, '20 messages');
    assert.deepEqual(a.messages.map((m) => m.id), first);
    assert.deepEqual(a.messages.map((m) => m.data.i), [...Array(20).keys()]);
    await closeWs(a);
    const missed = await publishN(d, 'live', 20, 30);  // while disconnected
    const b = await openWs(wsUrl(d, `/v1/Channels/live/Stream?last_event_id=${first.at(-1)}`), { authorization: d.auth() });
    const more = await publishN(d, 'live', 30, 35);
    await waitFor(() => b.messages.length >= 15, 10000, '15 messages after resume');
    assert.deepEqual(b.messages.map((m) => m.id), [...missed, ...more], 'no loss, no duplicates, in order');
    await closeWs(b);
  });

  await t.test('an EventSource client receives in order and resumes with Last-Event-ID', async () => {
    const a = openSse(d, '/v1/Channels/live/Stream');
    await a.opened;
    const first = await publishN(d, 'live', 100, 110);
    await waitFor(() => a.messages.length >= 10, 10000, '10 SSE messages');
    assert.deepEqual(a.messages.map((m) => m.id), first);
    assert.deepEqual(a.messages.map((m) => m.event.id), first);
    a.es.close();
    const missed = await publishN(d, 'live', 110, 115);
    const b = openSse(d, '/v1/Channels/live/Stream', { lastEventId: first.at(-1) });
    await b.opened;
    const more = await publishN(d, 'live', 115, 118);
    await waitFor(() => b.messages.length >= 8, 10000, '8 SSE messages after resume');
    assert.deepEqual(b.messages.map((m) => m.id), [...missed, ...more]);
    assert.equal(b.controls.length, 0);
    b.es.close();
  });

  await t.test('a resume point no longer in history gets an explicit gap signal', async () => {
    await createChannel(d, 'short', { history: { max_events: 3 } });
    const ids = await publishN(d, 'short', 0, 6);
    const ws = await openWs(wsUrl(d, `/v1/Channels/short/Stream?last_event_id=${ids[0]}`), { authorization: d.auth() });
    await waitFor(() => ws.messages.length >= 4, 10000, 'gap + 3 events');
    assert.equal(ws.messages[0].control, 'gap');
    assert.equal(ws.messages[0].last_event_id, ids[0]);
    assert.deepEqual(ws.messages.slice(1).map((m) => m.id), ids.slice(3));
    await closeWs(ws);
    const sse = openSse(d, `/v1/Channels/short/Stream?last_event_id=${ids[1]}`);
    await sse.opened;
    await waitFor(() => sse.controls.length === 1 && sse.messages.length >= 3, 10000, 'SSE gap');
    assert.equal(sse.controls[0].oldest_event_id, ids[3]);
    sse.es.close();
  });

  await t.test('signed stream URLs from /v1/Tokens; no credentials is refused', async () => {
    const tok = await v1(d, 'POST', '/v1/Tokens', { form: { Channels: 'live', Permissions: 'subscribe' } });
    assert.equal(tok.status, 201, tok.text);
    const url = tok.json.stream_urls.live;
    assert.ok(url.startsWith(d.baseUrl + '/v1/Channels/live/Stream?token='));
    const ws = await openWs(url.replace(/^http/, 'ws'));
    const ids = await publishN(d, 'live', 200, 203);
    await waitFor(() => ws.messages.length >= 3, 10000, 'token stream');
    assert.deepEqual(ws.messages.map((m) => m.id), ids);
    await closeWs(ws);
    const sse = openSse(d, url.slice(d.baseUrl.length), { auth: null });
    await sse.opened;
    sse.es.close();
    await assert.rejects(openWs(wsUrl(d, '/v1/Channels/live/Stream')), /HTTP 401/);
    await createChannel(d, 'other');
    await assert.rejects(openWs(wsUrl(d, '/v1/Channels/other/Stream?token=' + tok.json.token)), /HTTP 404/);
    const plain = await v1(d, 'GET', '/v1/Channels/live/Stream');
    assert.equal(plain.status, 406);
  });

  await t.test('heartbeats keep idle streams alive', async () => {
    const ws = await openWs(wsUrl(d, '/v1/Channels/live/Stream?heartbeat_ms=200'), { authorization: d.auth() });
    await waitFor(() => ws.pings >= 2, 5000, 'two pings');
    await closeWs(ws);
    const res = await fetch(d.baseUrl + '/v1/Channels/live/Stream?heartbeat_ms=200', {
      headers: { authorization: d.auth(), accept: 'text/event-stream' },
      signal: AbortSignal.timeout(5000),
    });
    const reader = res.body.getReader();
    let text = '';
    while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
  });

  await t.test('the WebSocket protocol: pings answered, close echoed, violations and dead peers closed', async () => {
    const a = await openWs(wsUrl(d, '/v1/Channels/live/Stream'), { authorization: d.auth() });
    const pong = new Promise((resolve) => a.ws.once('pong', (data) => resolve(String(data))));
    a.ws.ping('are you there');
    assert.equal(await pong, 'are you there');
    const closed = new Promise((resolve) => a.ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    a.ws.close(4000, 'done here');
    assert.equal((await closed).code, 4000, 'the server echoes the close code');

    // An unmasked client frame is a protocol error: close 1002, then the connection ends.
    const bad = await rawWs(d, '/v1/Channels/live/Stream');
    bad.socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    await waitFor(() => bad.ended, 5000, 'the server to end the connection');
    assert.equal(bad.bytes[0], 0x88, 'a close frame');
    assert.equal(bad.bytes.readUInt16BE(2), 1002);

    // A client that never answers pings is dropped after two heartbeats.
    const t0 = Date.now();
    const silent = await rawWs(d, '/v1/Channels/live/Stream?heartbeat_ms=200');
    await waitFor(() => silent.ended, 5000, 'the server to drop a silent client');
    assert.ok(Date.now() - t0 >= 400, 'not before two heartbeats');
    assert.equal(silent.bytes[0], 0x89, 'it was pinged first');
    silent.socket.destroy();
  });

  await t.test('a long replay does not count against a client that answers pings', async () => {
    await createChannel(d, 'backlog', { history: { max_events: 2000 } });
    const ids = await publishBulk(d, 'backlog', 1000);  // 16 MB of history
    const c = await openWs(wsUrl(d, `/v1/Channels/backlog/Stream?heartbeat_ms=100&last_event_id=${ids[0]}`), { authorization: d.auth() });
    c.ws.pause();  // the replay's writes stall for a while, as on a slow link
    await new Promise((r) => setTimeout(r, 150));
    c.ws.resume();
    await waitFor(() => c.messages.length >= 999 || c.closed, 20000, 'the replay');
    assert.equal(c.messages.length, 999);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(c.closed, null, 'still connected after the replay');
    assert.ok(c.pings > 0, 'pinged, and it answered');
    await closeWs(c);
  });

  await t.test('a client that stops reading is let go; SSE finishes a partly written batch', async () => {
    await createChannel(d, 'bulk');
    // WebSocket: nothing read while 40 MB are published (more than loopback buffers hold);
    // the stalled write gives up after two heartbeats and the connection ends.
    // It keeps sending unsolicited pongs (RFC 6455 5.5.3), so it is not silent: only the stall
    // can end it.
    const stuck = await rawWs(d, '/v1/Channels/bulk/Stream?heartbeat_ms=200');
    stuck.socket.pause();
    // The end shows while it is still not reading: its next write meets a closed connection.
    stuck.socket.on('error', () => {});
    const pongs = setInterval(() => stuck.ended || stuck.socket.write(Buffer.from([0x8a, 0x80, 1, 2, 3, 4])), 50);
    try {
      await publishBulk(d, 'bulk', 2500);
      await waitFor(() => stuck.ended, 10000, 'the server to end a connection that stopped reading');
    } finally {
      clearInterval(pongs);
    }

    // SSE: a client that pauses while 16 MB arrive gets all of it promptly once it reads
    // again, not at the next heartbeat (8 s).
    const sse = net.connect(d.port, '127.0.0.1');
    let text = '';
    sse.on('data', (chunk) => (text += chunk.toString()));
    sse.write(`GET /v1/Channels/bulk/Stream?heartbeat_ms=8000 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Accept: text/event-stream\r\nAuthorization: ${d.auth()}\r\n\r\n`);
    await waitFor(() => text.includes(': connected'), 5000, 'the SSE stream');
    sse.pause();
    await publishBulk(d, 'bulk', 1000);
    await new Promise((r) => setTimeout(r, 200));
    const resumed = Date.now();
    sse.resume();
    await waitFor(() => (text.match(/^id: /gm) || []).length >= 1000, 4000, 'all 1000 events within 4 s of reading again');
    assert.ok(Date.now() - resumed < 4000);
    sse.destroy();
  });

  await t.test('a slow consumer overflowing its queue is disconnected', async () => {
    await createChannel(d, 'flood');
    const sub = await v1(d, 'POST', '/v1/Channels/flood/Subscribers', {
      form: { Type: 'stream', Attributes: JSON.stringify({ queue: { max_events: 5 }, rate_limit: { per_second: 1, burst: 1 } }) },
    });
    assert.equal(sub.status, 201, sub.text);
    const ws = await openWs(wsUrl(d, `/v1/Channels/flood/Stream?subscriber=${sub.json.sid}`), { authorization: d.auth() });
    await publish(d, 'flood', Array.from({ length: 20 }, (_, i) => ({ type: 'f', data: { i } })));
    await waitFor(() => ws.closed, 10000, 'the disconnect');
    assert.equal(ws.closed.code, 1008);
    assert.ok(ws.messages.some((m) => m.control === 'overflow'));
    assert.ok(ws.messages.filter((m) => m.id).length < 20);
  });

  await t.test('a draining daemon tells WebSocket clients it is going away (1001)', async () => {
    const ws = await openWs(wsUrl(d, '/v1/Channels/live/Stream'), { authorization: d.auth() });
    assert.equal(await d.stop('SIGTERM'), 0);
    await waitFor(() => ws.closed, 5000, 'the close');
    assert.equal(ws.closed.code, 1001);
  });
});
