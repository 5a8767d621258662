'use strict';
// The application side of call tests: an HTTP application server in the test process that
// answers TwiML and status callbacks and checks each request's X-Twilio-Signature with the
// official `twilio` library; where a started daemon listens for SIP; a number for a test; a
// loopback port nobody listens on.

const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const twilio = require('twilio');

function sipPort(daemon) {
  const m = /sip:\s+udp\+tcp 127\.0\.0\.1:(\d+)/.exec(daemon.stdout);
  assert.ok(m, `no sip line in:\n${daemon.stdout}`);
  return Number(m[1]);
}

// An application server: `routes[path](req, params)` returns {status, body, delayMs, type}
// or a string of TwiML. Every request is kept (with its signature check) in `seen`.
async function startApp(t, token) {
  const app = { seen: [], routes: {}, waiters: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      const url = new URL(req.url, app.base);
      const params = Object.fromEntries(new URLSearchParams(req.method === 'POST' ? body : url.search));
      const full = `${app.base}${req.url}`;
      const valid = twilio.validateRequest(token, req.headers['x-twilio-signature'] || '', full,
        req.method === 'POST' ? params : {});
      const entry = { path: url.pathname, method: req.method, params, valid, headers: req.headers, at: Date.now() };
      app.seen.push(entry);
      for (const w of [...app.waiters]) if (w.match(entry)) { app.waiters.splice(app.waiters.indexOf(w), 1); w.resolve(entry); }
      const route = app.routes[url.pathname];
      let out = route ? await route(req, params) : { status: 404, body: 'no route' };
      if (typeof out === 'string') out = { body: out };
      if (out.hang) return; // never answer (a timeout)
      if (out.delayMs) await new Promise((r) => setTimeout(r, out.delayMs));
      res.writeHead(out.status || 200, { 'Content-Type': out.type || 'text/xml' });
      res.end(out.body || '');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  app.base = `http://127.0.0.1:${server.address().port}`;
  app.url = (p) => `${app.base}${p}`;
  // Resolves with the first request (already seen or future) that `match` accepts.
  app.waitFor = (match, ms = 20000) => {
    const found = app.seen.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { match, resolve };
      app.waiters.push(w);
      setTimeout(() => reject(new Error(`timed out waiting; seen: ${JSON.stringify(app.seen.map((s) => [s.path, s.params.CallStatus]))}`)), ms);
    });
  };
  t.after(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return app;
}

async function addNumber(d, number, fields) {
  const r = await d.request('POST', d.accountPath('IncomingPhoneNumbers.json'), {
    body: { PhoneNumber: number, ...fields },
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}
module.exports = { startApp, sipPort, addNumber, closedPort };
