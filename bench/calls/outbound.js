'use strict';
// Outbound call benchmark driver: creates CALLS calls through POST Calls.json at RATE per second
// (keep-alive connections, bounded in flight), receives their status callbacks, and when every
// call has completed reads sipp's message log for the moment each INVITE (X-Twilio-CallSid)
// arrived. Prints one JSON line: created, completed by status, the create -> INVITE latency
// p50/p99 (from the API's 201 to the INVITE reaching the callee), and the spacing of INVITEs.
// With PLAY_S set, each call plays a PLAY_S-second prompt (a WAV this driver serves, fetched
// once into the daemon's media cache) instead of pausing 3 s, and the daemon's /metrics is
// sampled every 100 ms for the peak of calls up and of media streams.
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

const PLAY_S = Number(process.env.PLAY_S || 0);
// A 16-bit 8 kHz WAV of a tone that changes every 100 ms (not silence: every packet carries audio).
function promptWav(seconds) {
  const n = seconds * 8000;
  const wav = Buffer.alloc(44 + n * 2);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + n * 2, 4); wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(8000, 24); wav.writeUInt32LE(16000, 28); wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; ++i) {
    const hz = 300 + 100 * (Math.floor(i / 800) % 20);
    wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + 2 * i);
  }
  return wav;
}
const prompt = PLAY_S > 0 ? promptWav(PLAY_S) : null;
let promptFetches = 0;

const callbacks = http.createServer((req, res) => {
  if (req.url === '/prompt.wav') {
    ++promptFetches;
    res.writeHead(200, { 'content-type': 'audio/wav', 'cache-control': 'max-age=3600' });
    res.end(prompt);
    return;
  }
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
    const twiml = PLAY_S > 0
      ? `<Response><Play>${statusUrl.replace('/status', '/prompt.wav')}</Play><Hangup/></Response>`
      : '<Response><Pause length="3"/><Hangup/></Response>';
    const form = new URLSearchParams({ To: to, From: from, StatusCallback: statusUrl, Twiml: twiml }).toString();
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
// Or bench/calls/uas.js's map (a .json file): {CallSid: ms}.
function inviteTimes(file) {
  const out = new Map();
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return out; }
  if (file.endsWith('.json')) return new Map(Object.entries(JSON.parse(text)));
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

// Peaks from the daemon's /metrics, sampled while the run lasts.
const peaks = { calls_active: 0, media_streams: 0 };
function sampleMetrics() {
  http.get(`${base}/metrics`, { agent }, (res) => {
    let text = '';
    res.on('data', (c) => { text += c; });
    res.on('end', () => {
      for (const key of Object.keys(peaks)) {  // summed over labels (one line per worker)
        let sum = 0;
        for (const m of text.matchAll(new RegExp(`^switchboard_${key}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
        peaks[key] = Math.max(peaks[key], sum);
      }
    });
  }).on('error', () => {});
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

callbacks.listen(0, '127.0.0.1', async () => {
  const statusUrl = `http://127.0.0.1:${callbacks.address().port}/status`;
  const start = now();
  const sampler = setInterval(sampleMetrics, 100);
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
    peak_calls_active: peaks.calls_active, peak_media_streams: peaks.media_streams,
    ...(PLAY_S > 0 ? { play_s: PLAY_S, prompt_fetches: promptFetches } : {}),
  }));
  clearInterval(sampler);
  process.exit(0);
});
