'use strict';
// Helpers for the event-router integration tests: JSON/form calls to /v1, a loopback webhook
// receiver that verifies every request with the official `standardwebhooks` package, and
// bounded polling.

const http = require('node:http');
const { Webhook } = require('standardwebhooks');

// Calls the daemon's /v1 API. `json` is sent as application/json, `form` form-encoded.
async function v1(daemon, method, path, { json, form, headers = {}, auth, raw } = {}) {
  const h = { ...headers };
  let body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = typeof json === 'string' ? json : JSON.stringify(json);
  } else if (raw !== undefined) {
    body = raw;
  } else if (form !== undefined) {
    body = form;
  }
  return daemon.request(method, path, { body, headers: h, auth });
}

async function createChannel(daemon, name, attributes) {
  const form = { UniqueName: name };
  if (attributes) form.Attributes = JSON.stringify(attributes);
  const res = await v1(daemon, 'POST', '/v1/Channels', { form });
  if (res.status !== 201) throw new Error(`create channel ${name}: ${res.status} ${res.text}`);
  return res.json;
}

async function createWebhook(daemon, channel, url, attributes) {
  const form = { Type: 'webhook', Url: url };
  if (attributes) form.Attributes = JSON.stringify(attributes);
  const res = await v1(daemon, 'POST', `/v1/Channels/${channel}/Subscribers`, { form });
  if (res.status !== 201) throw new Error(`create subscriber: ${res.status} ${res.text}`);
  return res.json;
}

// `headers.authorization` replaces the default Basic credentials (e.g. a Bearer token).
async function publish(daemon, channel, events, headers = {}) {
  const { authorization, ...rest } = headers;
  return v1(daemon, 'POST', `/v1/Channels/${channel}/Events`, { json: events, headers: rest, auth: authorization });
}

// Polls `fn` (sync or async) until it returns a truthy value or `timeoutMs` passes.
async function waitFor(fn, timeoutMs = 10000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A webhook receiver on 127.0.0.1. `respond(req, record)` returns {status, headers, body}
// (default 200). Every request is checked with standardwebhooks against `secret()` when set;
// `record.verified` says whether it passed.
async function startReceiver(respond = () => ({ status: 200 })) {
  const records = [];
  let secretFn = null;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const record = { method: req.method, path: req.url, headers: req.headers, body, verified: null };
      const secret = secretFn && secretFn(record);
      if (secret) {
        try {
          new Webhook(secret).verify(body, {
            'webhook-id': req.headers['webhook-id'],
            'webhook-timestamp': req.headers['webhook-timestamp'],
            'webhook-signature': req.headers['webhook-signature'],
          });
          record.verified = true;
        } catch (err) {
          record.verified = false;
          record.verifyError = err.message;
        }
      }
      try {
        record.json = JSON.parse(body);
      } catch {
        record.json = undefined;
      }
      records.push(record);
      let answer;
      try {
        answer = (await respond(req, record)) || { status: 200 };
      } catch (err) {
        answer = { status: 500, body: String(err) };
      }
      res.writeHead(answer.status, answer.headers || {});
      res.end(answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    records,
    url: (p = '/hook') => `http://127.0.0.1:${port}${p}`,
    setSecret(fn) {
      secretFn = typeof fn === 'function' ? fn : () => fn;
    },
    to: (p) => records.filter((r) => r.path === p),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

module.exports = { v1, createChannel, createWebhook, publish, waitFor, startReceiver };
