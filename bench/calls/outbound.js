'use strict';
// Outbound call benchmark driver: creates CALLS calls through POST Calls.json at RATE per second
// (keep-alive connections, bounded in flight), receives their status callbacks, and when every
// call has completed reads sipp's message log for the moment each INVITE (X-Twilio-CallSid)
// arrived. Prints one JSON line: created, completed by status, the create -> INVITE latency
// p50/p99 (from the API's 201 to the INVITE reaching the callee), and the spacing of INVITEs.
//   node outbound.js BASE SID TOKEN FROM TO CALLS RATE SIPP_MESSAGES TIMEOUT_S
const http = require('node:http');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const [base, sid, token, from, to, callsArg, rateArg, messagesFile, timeoutArg] = process.argv.slice(2);
const CALLS = Number(callsArg);
const RATE = Number(rateArg);
const TIMEOUT_MS = Number(timeoutArg || 120) * 1000;
const now = () => performance.timeOrigin + performance.now();  // ms, sub-ms precision
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const auth = 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');

const created = new Map();  // CallSid -> ms when the 201 arrived
const statuses = {};
let completed = 0;
let createErrors = 0;

const callbacks = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const p = new URLSearchParams(body);
    // A call that did not complete is counted with its SIP code ("no-answer/408").
    const status = p.get('CallStatus') === 'completed' ? 'completed' : `${p.get('CallStatus')}/${p.get('SipResponseCode')}`;
    statuses[status] = (statuses[status] || 0) + 1;
    ++completed;
    res.writeHead(204);
    res.end();
  });
});
callbacks.keepAliveTimeout = 60000;

function create(statusUrl) {
  return new Promise((resolve) => {
    const form = new URLSearchParams({
      To: to, From: from, StatusCallback: statusUrl,
      Twiml: '<Response><Pause length="3"/><Hangup/></Response>',
    }).toString();
    const u = new URL(`${base}/2010-04-01/Accounts/${sid}/Calls.json`);
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        const at = now();
        if (res.statusCode === 201) created.set(JSON.parse(text).sid, at);
        else ++createErrors;
        resolve();
      });
    });
    req.on('error', () => { ++createErrors; resolve(); });
    req.end(form);
  });
}

// sipp's -trace_msg log: a separator line with the date and time, then the message.
function inviteTimes(file) {
  const out = new Map();
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return out; }
  const blocks = text.split(/^-{10,} (\d{4}-\d{2}-\d{2})[ \t](\d{2}:\d{2}:\d{2}\.\d+)/m);
  for (let i = 1; i + 2 < blocks.length; i += 3) {
    const msg = blocks[i + 2];
    if (!/message received/.test(msg) || !/\nINVITE /.test(msg)) continue;
    const m = /X-Twilio-CallSid: (CA[0-9a-f]{32})/.exec(msg);
    if (!m || out.has(m[1])) continue;
    const [hms, frac] = blocks[i + 1].split('.');
    // sipp writes local time: parsed as local time, as Date.now() is compared in UTC ms.
    out.set(m[1], new Date(`${blocks[i]}T${hms}`).getTime() + Number(`0.${frac}`) * 1000);
  }
  return out;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

callbacks.listen(0, '127.0.0.1', async () => {
  const statusUrl = `http://127.0.0.1:${callbacks.address().port}/status`;
  const start = now();
  const inflight = new Set();
  for (let i = 0; i < CALLS; ++i) {
    const due = start + (i * 1000) / RATE;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = create(statusUrl).then(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 256) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const createdIn = (now() - start) / 1000;
  const deadline = now() + TIMEOUT_MS;
  while (completed < created.size && now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));  // sipp flushes its log
  const invites = inviteTimes(messagesFile);
  const lat = [];
  const arrivals = [];
  for (const [callSid, at] of created) {
    const inv = invites.get(callSid);
    if (inv === undefined) continue;
    lat.push(inv - at);
    arrivals.push(inv);
  }
  lat.sort((a, b) => a - b);
  arrivals.sort((a, b) => a - b);
  const spacing = arrivals.length > 1 ? (arrivals[arrivals.length - 1] - arrivals[0]) / (arrivals.length - 1) : 0;
  console.log(JSON.stringify({
    calls: CALLS, rate: RATE, created: created.size, create_errors: createErrors,
    create_seconds: Number(createdIn.toFixed(2)), completed, statuses,
    invites_seen: lat.length,
    create_to_invite_ms: lat.length ? { p50: Number(pct(lat, 50).toFixed(2)), p99: Number(pct(lat, 99).toFixed(2)), max: Number(lat[lat.length - 1].toFixed(2)) } : null,
    invite_spacing_ms: Number(spacing.toFixed(3)),
  }));
  process.exit(0);
});
