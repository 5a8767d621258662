'use strict';
// The REST side of bench/store/hotreads.sh, on 127.0.0.1 only, bounded in count and time.
//   node load.js read  PORT SID TOKEN RATE SECONDS
//     GET /2010-04-01/Accounts/{SID}.json at RATE per second for SECONDS; latency from each
//     request's scheduled start (a stalled server delays the requests queued behind it too).
//     Prints "read n=… errors=… p50=… p99=… max=… ms".
//   node load.js write PORT SID TOKEN CONCURRENCY MAX_WRITES SECONDS
//     POSTs Applications with CONCURRENCY in flight until MAX_WRITES or SECONDS, whichever
//     comes first. Prints "write n=… errors=… per_s=…".
const http = require('node:http');

const [mode, port, sid, token, ...rest] = process.argv.slice(2);
const auth = 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(method, path, body) {
  return new Promise((resolve) => {
    const headers = { Authorization: auth };
    if (body) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = http.request(
      { host: '127.0.0.1', port: Number(port), method, path, headers, agent, timeout: 30000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    if (body) req.write(body);
    req.end();
  });
}

function quantile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

async function read(rate, seconds) {
  const path = `/2010-04-01/Accounts/${sid}.json`;
  const interval = 1000 / rate;
  const total = Math.floor(rate * seconds);
  const start = performance.now();
  const latencies = [];
  let errors = 0;
  const pending = [];
  for (let i = 0; i < total; ++i) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      request('GET', path).then((status) => {
        if (status === 200) latencies.push(performance.now() - due);
        else ++errors;
      }),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const f = (v) => v.toFixed(2);
  console.log(
    `read n=${latencies.length} errors=${errors} p50=${f(quantile(latencies, 0.5))}` +
      ` p99=${f(quantile(latencies, 0.99))} max=${f(latencies[latencies.length - 1] ?? NaN)} ms`,
  );
}

async function write(concurrency, maxWrites, seconds) {
  const path = `/2010-04-01/Accounts/${sid}/Applications.json`;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let issued = 0;
  let done = 0;
  let errors = 0;
  async function lane() {
    while (issued < maxWrites && performance.now() < deadline) {
      const n = issued++;
      const status = await request(
        'POST',
        path,
        `FriendlyName=bulk${n}&VoiceUrl=${encodeURIComponent(`http://127.0.0.1:9/app/${n}`)}`,
      );
      if (status === 201) ++done;
      else ++errors;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const secs = (performance.now() - start) / 1000;
  console.log(`write n=${done} errors=${errors} per_s=${(done / secs).toFixed(0)}`);
}

(async () => {
  if (mode === 'read') await read(Number(rest[0]), Number(rest[1]));
  else if (mode === 'write') await write(Number(rest[0]), Number(rest[1]), Number(rest[2]));
  else throw new Error('mode: read | write');
  agent.destroy();
})();
