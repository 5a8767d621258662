'use strict';
// Outgoing-message load for bench/messaging/messaging.sh `out`: POSTs COUNT Messages.json
// creates (Body "out ID", StatusCallback to app.js) at RATE per second over keep-alive
// connections, at most INFLIGHT at a time, never retried. The daemon stores each (201) and sends
// it as a MESSAGE through the trunk to the receiver (receiver.js, a UDP socket in this process:
// answers 200, stamps each arrival by its Body ID). Waits, at most WAIT_S seconds after the last
// create, for every MESSAGE and every status callback (4 per message: queued, sending, sent,
// delivered; app.js /stats), then prints one JSON line: creates by HTTP status, 201/s, MESSAGE
// arrivals and arrivals/s, create latency, 201 -> MESSAGE arrival and request -> MESSAGE arrival
// latency (the daemon hands the message to the SIP thread before it writes the 201, so the
// former can be negative), the callbacks, and this process' CPU.
//   node creator.js BASE SID TOKEN FROM TO COUNT RATE RECV_PORT APP_BASE WAIT_S INFLIGHT
const http = require('node:http');
const { startReceiver, percentiles, now } = require('./receiver.js');

const [base, sid, token, from, to, countArg, rateArg, recvArg, appBase, waitArg, inflightArg] =
  process.argv.slice(2);
const COUNT = Number(countArg);
const RATE = Number(rateArg);
const WAIT_MS = Number(waitArg || 15) * 1000;
const INFLIGHT = Number(inflightArg || 64);
const agent = new http.Agent({ keepAlive: true, maxSockets: INFLIGHT });
const auth = 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');
const url = new URL(`${base}/2010-04-01/Accounts/${sid}/Messages.json`);
const statusUrl = `${appBase}/status`;

const requestAt = new Float64Array(COUNT);
const createdAt = new Float64Array(COUNT);  // ms the 201 arrived (0: not created)
const creates = {};                         // HTTP status (or "error") -> count
let errorSample = '';
let last201 = 0;

function create(id) {
  return new Promise((resolve) => {
    const form = new URLSearchParams({ To: to, From: from, Body: `out ${id}`, StatusCallback: statusUrl }).toString();
    requestAt[id] = now();
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(form) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const at = now();
        creates[res.statusCode] = (creates[res.statusCode] || 0) + 1;
        if (res.statusCode === 201) {
          createdAt[id] = at;
          last201 = at;
        } else if (!errorSample) {
          errorSample = Buffer.concat(chunks).toString('utf8').slice(0, 300);
        }
        resolve();
      });
    });
    req.on('error', (e) => {
      creates.error = (creates.error || 0) + 1;
      if (!errorSample) errorSample = String(e);
      resolve();
    });
    req.end(form);
  });
}

function appStats() {
  return new Promise((resolve) => {
    http.get(`${appBase}/stats`, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => { try { resolve(JSON.parse(text)); } catch { resolve(null); } });
    }).on('error', () => resolve(null));
  });
}

async function main() {
  const receiver = await startReceiver(Number(recvArg), 'out');
  const cpu0 = process.cpuUsage();
  const start = now();
  const inflight = new Set();
  for (let id = 0; id < COUNT; ++id) {
    const wait = start + (id * 1000) / RATE - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = create(id).then(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= INFLIGHT) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const createSeconds = (now() - start) / 1000;
  const created = creates[201] || 0;
  const deadline = now() + WAIT_MS;
  let stats = await appStats();
  while (now() < deadline &&
         (receiver.arrivals.size < created || !stats || stats.callbacks < 4 * created)) {
    await new Promise((r) => setTimeout(r, 100));
    if (receiver.arrivals.size >= created) stats = await appStats();
  }
  await new Promise((r) => setTimeout(r, 200));  // late duplicates, if any
  stats = await appStats();
  const cpu = process.cpuUsage(cpu0);

  const fromCreated = [];
  const fromRequest = [];
  let lastArrival = 0;
  let missing = 0;
  let notCreated = 0;
  for (let id = 0; id < COUNT; ++id) {
    const a = receiver.arrivals.get(id);
    if (a === undefined) {
      if (createdAt[id] !== 0) ++missing;
      continue;
    }
    if (createdAt[id] === 0) { ++notCreated; continue; }
    fromCreated.push(a - createdAt[id]);
    fromRequest.push(a - requestAt[id]);
    lastArrival = Math.max(lastArrival, a);
  }
  const toCreated = [];
  for (let id = 0; id < COUNT; ++id) if (createdAt[id] !== 0) toCreated.push(createdAt[id] - requestAt[id]);
  const r2 = (x) => Number(x.toFixed(2));
  console.log(JSON.stringify({
    mode: 'out', count: COUNT, rate: RATE, inflight: INFLIGHT,
    creates, error_sample: errorSample || undefined, create_seconds: r2(createSeconds),
    created_per_s: created ? r2(created / ((last201 - start) / 1000)) : 0,
    arrivals: receiver.arrivals.size, arrivals_missing: missing, arrivals_not_created: notCreated,
    arrivals_per_s: receiver.arrivals.size ? r2(receiver.arrivals.size / ((lastArrival - start) / 1000)) : 0,
    receiver: receiver.stats, repeat_after_ms: percentiles(receiver.repeats),
    request_to_201_ms: percentiles(toCreated),
    created_to_message_ms: percentiles(fromCreated),
    request_to_message_ms: percentiles(fromRequest),
    callbacks: stats && { total: stats.callbacks, expected: 4 * created, by_status: stats.by_status,
      messages: stats.messages, in_order: stats.in_order, other_sequences: stats.sequences,
      app_connections: stats.connections, app_peak_open: stats.peak_open },
    tool_cpu_ms: r2((cpu.user + cpu.system) / 1000),
  }));
  receiver.close();
  agent.destroy();
}
main().catch((e) => { console.error(e); process.exit(1); });
