'use strict';
// Relay delay probe for bridged calls (bench/calls/bridge.sh delay): one process plays both
// ends, so both ends read the same clock. A caller INVITEs the daemon's probe number, whose
// <Dial> places a child call through the probe trunk to our own callee; once the bridge is up
// each end sends PCMU every 20 ms whose payload carries its send time (process.hrtime, ns, in
// the first 8 bytes), a per-stream counter and a stream id, and each end stamps what arrives.
// Alongside, "direct" pairs send the same packets socket to socket over loopback without the
// daemon (the baseline: Node's own send/receive and wake-up cost under the same load), from
// the same 20 ms tick. Everything on 127.0.0.1; bounded in calls, packets and time.
//
//   node bench/calls/bridge_probe.js --sip-port P --number +1... --callee-port Q
//        [--calls 4] [--seconds 20] [--direct 2] [--json out.json]
//
// --callee-port is the port the daemon's probe trunk points at. Prints one line per path and
// direction (sent, received, lost, delay p50/p90/p99/max) and the figures as JSON.

const dgram = require('node:dgram');
const fs = require('node:fs');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const SIP_PORT = Number(args['sip-port']);
const NUMBER = args.number || '+15005550007';
const CALLEE_PORT = Number(args['callee-port']);
const CALLS = Math.min(Number(args.calls || 4), 50);
const SECONDS = Math.min(Number(args.seconds || 20), 120);
const DIRECT = Math.min(Number(args.direct || 2), 20);
const PACKETS = SECONDS * 50;  // per stream
const HOST = '127.0.0.1';
const STAGGER_MS = 150;        // between call setups (and between direct pairs)
if (!SIP_PORT || !CALLEE_PORT) {
  console.error('usage: bridge_probe.js --sip-port P --number N --callee-port Q [--calls 4] [--seconds 20] [--direct 2]');
  process.exit(2);
}

const now = () => process.hrtime.bigint();
const bind = (sock, port = 0) => new Promise((resolve, reject) => {
  sock.once('error', reject);
  sock.bind(port, HOST, () => { sock.removeListener('error', reject); resolve(sock.address().port); });
});
const header = (msg, name) => {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(msg);
  return m ? m[1].trim() : '';
};
const sdpPeer = (msg) => {
  const c = /^c=IN IP4 (\S+)/m.exec(msg);
  const m = /^m=audio (\d+)/m.exec(msg);
  return c && m ? { address: c[1], port: Number(m[1]) } : null;
};
const sdp = (port, id) => 'v=0\r\n' + `o=- ${id} 1 IN IP4 ${HOST}\r\n` + 's=-\r\n' + `c=IN IP4 ${HOST}\r\n` +
  't=0 0\r\n' + `m=audio ${port} RTP/AVP 0\r\n` + 'a=rtpmap:0 PCMU/8000\r\n' + 'a=sendrecv\r\n';

// ---- RTP streams: each has a socket it sends from, a destination and a record of arrivals ---
let nextStreamId = 1;
const streams = [];   // outgoing: {id, path, dir, sock, to, sent, done}
const received = new Map();   // stream id -> {path, dir, delays: [], seen: Set}

function startStream(path, dir, sock, to) {
  const s = { id: nextStreamId++, path, dir, sock, to, sent: 0, done: false, seq: 0, ts: 0,
    ssrc: (Math.random() * 0xffffffff) >>> 0 };
  received.set(s.id, { path, dir, delays: [], seen: new Set(), dup: 0 });
  streams.push(s);
  return s;
}

// Every arrival on a socket of ours: decode the stamp and counter of a probe packet.
function listen(sock) {
  sock.on('message', (b) => {
    const at = now();
    if (b.length !== 172 || (b[1] & 0x7f) !== 0) return;  // RTCP or anything else
    const p = b.subarray(12);
    const id = p.readUInt32BE(12);
    const r = received.get(id);
    if (!r || p.readUInt32BE(16) !== 0x50524f42) return;  // "PROB"
    const n = p.readUInt32BE(8);
    if (r.seen.has(n)) { r.dup += 1; return; }
    r.seen.add(n);
    r.delays.push(Number(at - p.readBigUInt64BE(0)) / 1e6);
  });
}

function sendOne(s) {
  const b = Buffer.alloc(172, 0xff);
  b[0] = 0x80;
  b[1] = s.seq === 0 ? 0x80 : 0x00;
  b.writeUInt16BE(s.seq & 0xffff, 2);
  b.writeUInt32BE(s.ts >>> 0, 4);
  b.writeUInt32BE(s.ssrc, 8);
  b.writeUInt32BE(s.sent, 20);        // payload[8..12): counter
  b.writeUInt32BE(s.id, 24);          // payload[12..16): stream id
  b.writeUInt32BE(0x50524f42, 28);    // payload[16..20): "PROB"
  b.writeBigUInt64BE(now(), 12);      // payload[0..8): send time, last thing before the send
  s.sock.send(b, s.to.port, s.to.address);
  s.seq += 1;
  s.ts += 160;
  s.sent += 1;
  if (s.sent >= PACKETS) s.done = true;
}

// One 20 ms clock for every stream (as a media server would), catching up if a tick is late.
const clockStart = Date.now();
let ticks = 0;
const clock = setInterval(() => {
  const due = Math.floor((Date.now() - clockStart) / 20);
  let burst = 0;
  while (ticks < due && burst < 5) {
    ticks += 1;
    burst += 1;
    for (const s of streams) if (!s.done) sendOne(s);
  }
  if (ticks < due) ticks = due;  // more than 100 ms behind: skip rather than flood
}, 5);

// ---- the callee: our end of the daemon's child call -----------------------------------------
const calleeDialogs = new Map();   // Call-ID -> {rtp, stream, remote, started}
const callee = dgram.createSocket('udp4');

function reply(req, status, reason, extra = [], body = '') {
  const vias = req.split('\r\n').filter((l) => /^(Via|v):/i.test(l));
  let to = header(req, 'To');
  if (!/;tag=/i.test(to)) to += `;tag=probe${CALLEE_PORT}`;
  return [`SIP/2.0 ${status} ${reason}`, ...vias, `From: ${header(req, 'From')}`, `To: ${to}`,
    `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`,
    `Contact: <sip:probe@${HOST}:${CALLEE_PORT}>`, ...extra,
    ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

callee.on('message', async (buf, rinfo) => {
  const msg = buf.toString('latin1');
  if (msg.startsWith('SIP/2.0')) return;
  const method = msg.slice(0, msg.indexOf(' '));
  const callId = header(msg, 'Call-ID');
  const send = (text) => callee.send(text, rinfo.port, rinfo.address);
  if (method === 'INVITE') {
    let d = calleeDialogs.get(callId);
    if (!d) {
      const user = /<sip:([^@>]+)@/.exec(header(msg, 'From'));
      d = { rtp: dgram.createSocket('udp4'), remote: sdpPeer(msg), stream: null, answer: null,
        caller: user ? user[1] : '' };
      calleeDialogs.set(callId, d);
      const port = await bind(d.rtp);
      listen(d.rtp);
      // The callee's stream starts with the first packet relayed to it: the bridge is up.
      d.rtp.once('message', () => {
        if (!d.stream && d.remote) {
          d.stream = startStream('daemon', 'B->A', d.rtp, d.remote);
          d.stream.caller = d.caller;
        }
      });
      d.answer = reply(msg, 200, 'OK', [], sdp(port, 2));
    }
    if (d.answer) send(d.answer);
  } else if (method === 'ACK') {
    // nothing to do
  } else if (method === 'BYE') {
    send(reply(msg, 200, 'OK'));
    const d = calleeDialogs.get(callId);
    if (d) {
      if (d.stream) d.stream.done = true;
      setTimeout(() => d.rtp.close(), 300);
    }
  } else if (method === 'CANCEL') {
    send(reply(msg, 200, 'OK'));
  } else {
    send(reply(msg, 200, 'OK'));
  }
});

// ---- the callers ---------------------------------------------------------------------------
const callerNumber = (index) => `+1415555${String(1000 + index).padStart(4, '0')}`;

async function call(index) {
  const sip = dgram.createSocket('udp4');
  const rtp = dgram.createSocket('udp4');
  const port = await bind(sip);
  const mediaPort = await bind(rtp);
  listen(rtp);
  const callId = `probe-${process.pid}-${index}-${Date.now()}`;
  // The daemon gives the child call the caller's number as its From: the callee tells the
  // calls apart by it.
  const from = `<sip:${callerNumber(index)}@${HOST}:${port}>;tag=p${index}`;
  const uri = `sip:${NUMBER}@${HOST}:${SIP_PORT}`;
  const request = (method, cseq, to, target, body = '') => [`${method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK${method}${cseq}x${port}`, `From: ${from}`, `To: ${to}`,
    `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, `Contact: <sip:probe@${HOST}:${port}>`, 'Max-Forwards: 70',
    ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  const send = (text) => sip.send(text, SIP_PORT, HOST);
  const result = { index, status: 0, setupMs: null, how: '' };
  const started = Date.now();
  return new Promise((resolve) => {
    let toHeader = `<${uri}>`;
    let contact = uri;
    let stream = null;
    let byeTimer = null;
    let retrans = null;
    let finished = false;
    const finish = (how) => {
      if (finished) return;
      finished = true;
      result.how = how;
      clearInterval(retrans);
      clearInterval(byeTimer);
      clearTimeout(deadline);
      if (stream) stream.done = true;
      setTimeout(() => { sip.close(); rtp.close(); resolve(result); }, 300);
    };
    const deadline = setTimeout(() => finish('timeout'), (SECONDS + 30) * 1000);
    const invite = request('INVITE', 1, toHeader, uri, sdp(mediaPort, 1));
    send(invite);
    let tries = 0;
    retrans = setInterval(() => { if (++tries <= 6 && !result.status) send(invite); }, 500);
    // BYE once both directions have sent all their packets (or SECONDS + 5 s have passed).
    const hangUpWhenDone = () => {
      const t0 = Date.now();
      byeTimer = setInterval(() => {
        const theirs = streams.find((s) => s.path === 'daemon' && s.dir === 'B->A' && s.caller === callerNumber(index));
        const done = stream.done && (!theirs || theirs.done);
        if (done || Date.now() - t0 > (SECONDS + 5) * 1000) {
          clearInterval(byeTimer);
          setTimeout(() => {
            const bye = request('BYE', 2, toHeader, contact);
            send(bye);
            let byeTries = 0;
            byeTimer = setInterval(() => { if (++byeTries <= 6) send(bye); else finish('no 200 to BYE'); }, 500);
          }, 200);  // the last packets in flight
        }
      }, 50);
    };
    sip.on('message', (b) => {
      const msg = b.toString('latin1');
      const status = /^SIP\/2\.0 (\d+)/.exec(msg);
      if (!status) {
        if (msg.startsWith('BYE ')) {  // the daemon hung up first
          const vias = msg.split('\r\n').filter((l) => /^(Via|v):/i.test(l));
          sip.send(['SIP/2.0 200 OK', ...vias, `From: ${header(msg, 'From')}`, `To: ${header(msg, 'To')}`,
            `Call-ID: ${callId}`, `CSeq: ${header(msg, 'CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n'), SIP_PORT, HOST);
          finish('their BYE');
        }
        return;
      }
      const code = Number(status[1]);
      const cseq = header(msg, 'CSeq');
      if (/INVITE/.test(cseq)) {
        if (code < 200) { result.status = result.status || code; return; }
        const first = result.status < 200;
        result.status = code;
        toHeader = header(msg, 'To');
        const c = /^Contact:\s*<?([^>;\r\n]+)/im.exec(msg);
        if (c) contact = c[1];
        send(request('ACK', 1, toHeader, contact));
        if (!first) return;  // a retransmitted final response
        clearInterval(retrans);
        if (code !== 200) { finish(`refused ${code}`); return; }
        result.setupMs = Date.now() - started;
        const peer = sdpPeer(msg);
        if (!peer) { finish('200 without SDP'); return; }
        stream = startStream('daemon', 'A->B', rtp, peer);
        hangUpWhenDone();
      } else if (/BYE/.test(cseq) && code >= 200) {
        finish('our BYE');
      }
    });
  });
}

async function directPair(index) {
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  const pa = await bind(a);
  const pb = await bind(b);
  listen(a);
  listen(b);
  const sa = startStream('direct', 'A->B', a, { address: HOST, port: pb });
  const sb = startStream('direct', 'B->A', b, { address: HOST, port: pa });
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (sa.done && sb.done) {
        clearInterval(t);
        setTimeout(() => { a.close(); b.close(); resolve(index); }, 300);
      }
    }, 50);
  });
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main() {
  await bind(callee, CALLEE_PORT);
  const hardStop = setTimeout(() => { console.error('probe: overall timeout'); report([]); process.exit(1); },
    (SECONDS + 60) * 1000);
  const jobs = [];
  for (let i = 0; i < Math.max(CALLS, DIRECT); ++i) {
    if (i < CALLS) jobs.push(call(i));
    if (i < DIRECT) jobs.push(directPair(i));
    await new Promise((r) => setTimeout(r, STAGGER_MS));
  }
  const results = await Promise.all(jobs);
  clearTimeout(hardStop);
  report(results.filter((r) => typeof r === 'object'));
  clearInterval(clock);
  callee.close();
}

function report(calls) {
  const out = { calls: calls.map((c) => ({ status: c.status, setup_ms: c.setupMs, how: c.how })), paths: {} };
  for (const path of ['direct', 'daemon']) {
    for (const dir of ['A->B', 'B->A']) {
      const ss = streams.filter((s) => s.path === path && s.dir === dir);
      if (!ss.length) continue;
      let sent = 0;
      let got = 0;
      let dup = 0;
      const delays = [];
      for (const s of ss) {
        const r = received.get(s.id);
        sent += s.sent;
        got += r.seen.size;
        dup += r.dup;
        for (const d of r.delays) delays.push(d);
      }
      delays.sort((x, y) => x - y);
      const f = (v) => (v === null ? null : Number(v.toFixed(3)));
      out.paths[`${path} ${dir}`] = { streams: ss.length, sent, received: got, lost: sent - got, duplicates: dup,
        p50_ms: f(quantile(delays, 0.5)), p90_ms: f(quantile(delays, 0.9)), p99_ms: f(quantile(delays, 0.99)),
        p999_ms: f(quantile(delays, 0.999)), max_ms: f(delays.length ? delays[delays.length - 1] : null) };
    }
  }
  for (const [k, v] of Object.entries(out.paths)) {
    console.log(`${k.padEnd(13)} streams ${v.streams}, sent ${v.sent}, received ${v.received}, lost ${v.lost}` +
      `${v.duplicates ? `, duplicates ${v.duplicates}` : ''}; one-way delay p50 ${v.p50_ms} ms, p90 ${v.p90_ms} ms, ` +
      `p99 ${v.p99_ms} ms, p99.9 ${v.p999_ms} ms, max ${v.max_ms} ms`);
  }
  const bad = out.calls.filter((c) => c.status !== 200 || c.how !== 'our BYE');
  console.log(`probe calls: ${out.calls.length}, answered ${out.calls.filter((c) => c.status === 200).length}` +
    `${bad.length ? `, trouble: ${JSON.stringify(bad)}` : ''}; setup ms ${out.calls.map((c) => c.setup_ms).join(' ')}`);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(out, null, 1));
}

main().catch((e) => { console.error(e); process.exit(1); });
