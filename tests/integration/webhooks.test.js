'use strict';
// The daemon's real webhook requests, checked by the official `twilio` package:
// `switchboard twiml fetch` requests an application URL exactly as a call does (signed call
// parameters, GET or POST, fallback with ErrorCode/ErrorUrl), and twilio.validateRequest must
// accept every signature. Also `switchboard twiml lint` exit codes on real files.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const twilio = require('twilio');

const BIN = process.env.SWITCHBOARD_BIN;
const TOKEN = 'webhook-signing-token-0123456789';
const ACCOUNT = 'AC' + 'abcdef0123456789'.repeat(2);

// An application server on loopback that records requests and answers per path.
function appServer(routes) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const rec = { method: req.method, url: req.url, headers: req.headers, body };
      requests.push(rec);
      const route = routes[req.url.split('?')[0]];
      if (!route) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('no route');
        return;
      }
      res.writeHead(route.status || 200, { 'Content-Type': route.type || 'text/xml' });
      res.end(route.body || '');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({ base, requests, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

function run(args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} timed out`));
    }, 30000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    if (input !== undefined) proc.stdin.end(input);
    else proc.stdin.end();
  });
}

const formParams = (body) => Object.fromEntries(new URLSearchParams(body));

test('POST webhooks carry the call state and a signature twilio.validateRequest accepts', async () => {
  const app = await appServer({ '/voice': { body: '<Response><Say>Hi</Say><Hangup/></Response>' } });
  try {
    const url = `${app.base}/voice?tenant=acme`;
    const r = await run(['twiml', 'fetch', '--url', url, '--token', TOKEN,
      '--account-sid', ACCOUNT, '--param', 'Digits=42']);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /Say/);
    assert.equal(app.requests.length, 1);
    const req = app.requests[0];
    assert.equal(req.method, 'POST');
    const params = formParams(req.body);
    assert.equal(params.AccountSid, ACCOUNT);
    assert.match(params.CallSid, /^CA[0-9a-f]{32}$/);
    assert.equal(params.Digits, '42');
    assert.equal(params.ApiVersion, '2010-04-01');
    for (const k of ['From', 'To', 'Called', 'Caller', 'CallStatus', 'Direction']) {
      assert.ok(params[k], `missing ${k}`);
    }
    const signature = req.headers['x-twilio-signature'];
    assert.ok(signature);
    assert.equal(twilio.validateRequest(TOKEN, signature, url, params), true);
    // And it is not a signature that validates anything: a changed parameter fails.
    assert.equal(twilio.validateRequest(TOKEN, signature, url, { ...params, Digits: '43' }), false);
    assert.equal(twilio.validateRequest('another-token-000000000000', signature, url, params), false);
  } finally {
    await app.close();
  }
});

test('GET webhooks put the state in the query and validate as a full URL', async () => {
  const app = await appServer({ '/voice': { body: '<Response><Hangup/></Response>' } });
  try {
    const r = await run(['twiml', 'fetch', '--url', `${app.base}/voice?x=1#rc=0`, '--method', 'GET',
      '--token', TOKEN, '--account-sid', ACCOUNT]);
    assert.equal(r.code, 0, r.out + r.err);
    const req = app.requests[0];
    assert.equal(req.method, 'GET');
    assert.equal(req.body, '');
    assert.ok(!req.url.includes('#') && !req.url.includes('rc=0'), 'the overrides fragment is never sent');
    const full = app.base + req.url;
    const query = Object.fromEntries(new URL(full).searchParams);
    assert.equal(query.x, '1');
    assert.equal(query.AccountSid, ACCOUNT);
    assert.equal(twilio.validateRequest(TOKEN, req.headers['x-twilio-signature'], full, {}), true);
  } finally {
    await app.close();
  }
});

test('a failing primary URL reaches the fallback with ErrorCode and ErrorUrl, signed', async () => {
  const app = await appServer({
    '/voice': { status: 500, type: 'text/plain', body: 'boom' },
    '/fallback': { body: '<Response><Say>Sorry</Say></Response>' },
  });
  try {
    const primary = `${app.base}/voice`;
    const fallback = `${app.base}/fallback`;
    const r = await run(['twiml', 'fetch', '--url', primary, '--fallback-url', fallback,
      '--token', TOKEN, '--account-sid', ACCOUNT]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /11217/);
    const fb = app.requests.find((q) => q.url === '/fallback');
    assert.ok(fb, 'the fallback was requested');
    const params = formParams(fb.body);
    assert.equal(params.ErrorCode, '11217');
    assert.equal(params.ErrorUrl, primary);
    assert.equal(twilio.validateRequest(TOKEN, fb.headers['x-twilio-signature'], fallback, params), true);
  } finally {
    await app.close();
  }
});

test('with no usable document the caller would hear the error message (exit 1)', async () => {
  const app = await appServer({ '/voice': { type: 'application/json', body: '{}' } });
  try {
    const r = await run(['twiml', 'fetch', '--url', `${app.base}/voice`, '--token', TOKEN]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /12300/);
    assert.match(r.out, /application error/);
  } finally {
    await app.close();
  }
});

test('twiml lint reports codes with positions and exits non-zero on errors', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-lint-'));
  try {
    const good = path.join(dir, 'good.xml');
    const bad = path.join(dir, 'bad.xml');
    const warn = path.join(dir, 'warn.xml');
    fs.writeFileSync(good, '<Response><Say>Hello</Say><Gather numDigits="1"><Say>Press</Say></Gather></Response>');
    fs.writeFileSync(bad, '<Response>\n  <Say>Hello</Say>\n  <Pause length="2">\n</Response>\n');
    fs.writeFileSync(warn, '<Response><Say colour="blue">Hi</Say>\n<Pause length="soon"/></Response>');
    const ok = await run(['twiml', 'lint', good]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    const failed = await run(['twiml', 'lint', good, bad]);
    assert.equal(failed.code, 1, failed.out + failed.err);
    assert.match(failed.out, /bad\.xml:\d+:\d+: error 12100/);
    const warned = await run(['twiml', 'lint', warn]);
    assert.equal(warned.code, 0, warned.out + warned.err);
    assert.match(warned.out, /warn\.xml:1:\d+: warning 12200/);
    assert.match(warned.out, /warn\.xml:2:\d+: warning 13910/);
    const stdin = await run(['twiml', 'lint', '-'], { input: '<Response><Say>unclosed' });
    assert.equal(stdin.code, 1);
    assert.match(stdin.out, /12100/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
