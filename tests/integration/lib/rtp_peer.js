'use strict';
// A SIP callee that keeps what it hears: answers an INVITE (after `ringMs` of 180), sends a
// stream of PCMU RTP (a tone of `toneHz`, 20 ms packets) to the caller's media address, and
// records every RTP packet that reaches its media port (sequence number, timestamp, SSRC,
// payload type, payload). It hangs up (BYE) after `hangupAfterMs` when given, else waits for
// the caller's BYE. For bridging tests where the packets themselves are the evidence.

const dgram = require('node:dgram');
const { ulawTone } = require('./audio_pcap');

function header(msg, name) {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(msg);
  return m ? m[1].trim() : '';
}

async function bind(sock) {
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return sock.address().port;
}

// Sends a PCMU tone of `hz` (20 ms packets, one SSRC) to `to` for `ms` or until `over()`;
// returns the interval to clear.
function streamTone(rtp, to, hz, ms, over) {
  const payload = ulawTone(hz, 160);
  let seq = 1000;
  let ts = 5000;
  const ssrc = 0x12345678;
  const started = Date.now();
  let sent = 0;
  const tick = setInterval(() => {
    if (over() || Date.now() - started > ms) { clearInterval(tick); return; }
    // Paced by the clock, not by the timer: a timer that fires late (a busy test process)
    // sends the packets it owes at once, as a sender with a real clock would after a stall,
    // so the stream never falls behind its own timestamps.
    const due = Math.min(Math.floor((Date.now() - started) / 20) + 1, sent + 10);
    for (; sent < due; ++sent) {
      const b = Buffer.alloc(12 + payload.length);
      b[0] = 0x80;
      b[1] = seq === 1000 ? 0x80 : 0;
      b.writeUInt16BE(seq & 0xffff, 2);
      b.writeUInt32BE(ts >>> 0, 4);
      b.writeUInt32BE(ssrc, 8);
      payload.copy(b, 12);
      rtp.send(b, to.port, to.address);
      seq += 1;
      ts += 160;
    }
  }, 20);
  return tick;
}

async function startRtpPeer({ ringMs = 0, toneHz = 1000, hangupAfterMs = 0, streamMs = 3000, answerSdp = null, earlyMedia = false, answerHeaders = [] } = {}) {
  const sip = dgram.createSocket('udp4');
  const rtp = dgram.createSocket('udp4');
  const port = await bind(sip);
  const mediaPort = await bind(rtp);
  const received = [];
  const messages = [];
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  let invite = null;
  let remote = null;  // the caller's SIP address
  let timers = [];
  let ended = false;
  const tag = `peer${port}`;
  const times = {};

  rtp.on('message', (b) => {
    if (b.length < 12) return;
    received.push({
      pt: b[1] & 0x7f, marker: (b[1] & 0x80) !== 0, seq: b.readUInt16BE(2),
      ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), payload: Buffer.from(b.subarray(12)),
      at: Date.now(),
    });
  });

  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
    `m=audio ${mediaPort} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n` +
    'a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n';

  function reply(req, status, reason, body = '', extra = []) {
    const vias = req.split('\r\n').filter((l) => /^(Via|v):/i.test(l));
    let to = header(req, 'To');
    if (!/;tag=/i.test(to)) to += `;tag=${tag}`;
    const lines = [`SIP/2.0 ${status} ${reason}`, ...vias, `From: ${header(req, 'From')}`, `To: ${to}`,
      `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`,
      `Contact: <sip:peer@127.0.0.1:${port}>`, ...extra];
    if (body) lines.push('Content-Type: application/sdp');
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
    return lines.join('\r\n');
  }
  const send = (text) => { messages.push(text); sip.send(text, remote.port, remote.address); };

  function stream(to) {
    timers.push(streamTone(rtp, to, toneHz, streamMs, () => ended));
  }

  function finish(how) {
    if (ended) return;
    ended = true;
    for (const t of timers) { clearTimeout(t); clearInterval(t); }
    setTimeout(() => { sip.close(); rtp.close(); resolveDone({ how, received, messages, invite, times }); }, 200);
  }

  sip.on('message', (buf, rinfo) => {
    const msg = buf.toString('latin1');
    messages.push(msg);
    const method = msg.slice(0, msg.indexOf(' '));
    if (method === 'INVITE') {
      if (invite) { send(reply(msg, 200, 'OK', sdp)); return; }  // a retransmission
      invite = msg;
      times.invite = Date.now();
      remote = rinfo;
      const m = /m=audio (\d+)/.exec(msg);
      const c = /c=IN IP4 ([0-9.]+)/.exec(msg);
      const media = { port: Number(m[1]), address: c[1] };
      if (earlyMedia) {
        // 183 with our SDP: the ringing tone (or announcement) is ours, in-band, from now on.
        times.early = Date.now();
        send(reply(msg, 183, 'Session Progress', sdp));
        stream(media);
      } else {
        send(reply(msg, 180, 'Ringing'));
      }
      timers.push(setTimeout(() => {
        if (ended) return;
        times.answered = Date.now();
        send(reply(msg, 200, 'OK', answerSdp ? answerSdp(mediaPort) : sdp, answerHeaders));
        if (!earlyMedia) stream(media);
        if (hangupAfterMs) {
          timers.push(setTimeout(() => {
            const lines = [`BYE ${/Contact:\s*<?([^>;\r\n]+)/i.exec(msg)[1]} SIP/2.0`,
              `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKpeer${Date.now()}`,
              `From: ${header(msg, 'To')};tag=${tag}`, `To: ${header(msg, 'From')}`,
              `Call-ID: ${header(msg, 'Call-ID')}`, 'CSeq: 1 BYE', 'Max-Forwards: 70',
              'Content-Length: 0', '', ''];
            send(lines.join('\r\n'));
          }, hangupAfterMs));
        }
      }, ringMs));
    } else if (method === 'BYE') {
      send(reply(msg, 200, 'OK'));
      finish('their BYE');
    } else if (method === 'CANCEL') {
      send(reply(msg, 200, 'OK'));
      const inv = invite;
      const lines = reply(inv, 487, 'Request Terminated');
      send(lines);
      finish('CANCEL');
    } else if (/^SIP\/2\.0 200/.test(msg) && /CSeq:\s*\d+ BYE/i.test(msg)) {
      finish('our BYE');
    }
  });
  return { port, mediaPort, done, received, times, stop: () => finish('stopped') };
}

// A SIP caller that keeps what it hears: INVITEs `number` at the daemon's SIP port (PCMU and
// telephone-event offered), records every response (status and when) and every RTP packet
// reaching its media port from the first 18x on, ACKs the 200 and sends BYE `hangupAfterMs`
// later (or answers the daemon's BYE). Resolves {responses, received, how}.
async function callWithRtp({ sipPort, number, hangupAfterMs = 0, timeoutMs = 20000, toneHz = 0, from: caller = '+14155550100' }) {
  const sip = dgram.createSocket('udp4');
  const rtp = dgram.createSocket('udp4');
  const port = await bind(sip);
  const mediaPort = await bind(rtp);
  const received = [];
  const responses = [];
  rtp.on('message', (b) => {
    if (b.length < 12) return;
    received.push({ pt: b[1] & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8),
      payload: Buffer.from(b.subarray(12)), at: Date.now() });
  });
  const callId = `rtpcaller-${port}-${Date.now()}`;
  const from = `<sip:${caller}@127.0.0.1:${port}>;tag=c${port}`;
  let toneTimer = null;
  const call = { hangup: null };  // set once answered: sends BYE now
  const uri = `sip:${number}@127.0.0.1:${sipPort}`;
  const sdp = 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
    `m=audio ${mediaPort} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n` +
    'a=fmtp:101 0-15\r\na=sendrecv\r\n';
  const request = (method, cseq, to, body = '', target = uri) => [`${method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${method}${cseq}${port}`, `From: ${from}`, `To: ${to}`,
    `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, `Contact: <sip:caller@127.0.0.1:${port}>`, 'Max-Forwards: 70',
    ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  const send = (text) => sip.send(text, sipPort, '127.0.0.1');
  let toHeader = `<${uri}>`;
  let contact = uri;
  let result;
  const done = new Promise((resolve) => { result = resolve; });
  let ended = false;
  const finish = (how) => {
    if (ended) return;
    ended = true;
    if (toneTimer) clearInterval(toneTimer);
    setTimeout(() => { sip.close(); rtp.close(); result({ how, responses, received }); }, 200);
  };
  const timer = setTimeout(() => finish('timeout'), timeoutMs);
  sip.on('message', (buf) => {
    const msg = buf.toString('latin1');
    const status = /^SIP\/2\.0 (\d+)/.exec(msg);
    if (status) {
      const code = Number(status[1]);
      const cseq = header(msg, 'CSeq');
      if (/INVITE/.test(cseq)) {
        responses.push({ status: code, at: Date.now(), sdp: /\r\n\r\nv=0/.test(msg) });
        if (code >= 200) {
          toHeader = header(msg, 'To');
          const c = /Contact:\s*<?([^>;\r\n]+)/i.exec(msg);
          if (c) contact = c[1];
          send(request('ACK', 1, toHeader, '', contact));
          if (code === 200) {
            call.answeredAt = Date.now();
            call.hangup = () => send(request('BYE', 2, toHeader, '', contact));
          }
          if (code === 200 && toneHz && !toneTimer) {
            const m = /m=audio (\d+)/.exec(msg);
            const c = /c=IN IP4 ([0-9.]+)/.exec(msg);
            if (m && c) toneTimer = streamTone(rtp, { port: Number(m[1]), address: c[1] }, toneHz, timeoutMs, () => ended);
          }
          if (code === 200 && hangupAfterMs) {
            setTimeout(() => send(request('BYE', 2, toHeader, '', contact)), hangupAfterMs);
          }
          if (code >= 300) finish(`refused ${code}`);
        }
      } else if (/BYE/.test(cseq)) {
        clearTimeout(timer);
        finish('our BYE');
      }
      return;
    }
    if (msg.startsWith('BYE ')) {
      const vias = msg.split('\r\n').filter((l) => /^(Via|v):/i.test(l));
      send([`SIP/2.0 200 OK`, ...vias, `From: ${header(msg, 'From')}`, `To: ${header(msg, 'To')}`,
        `Call-ID: ${callId}`, `CSeq: ${header(msg, 'CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n'));
      clearTimeout(timer);
      finish('their BYE');
    }
  });
  send(request('INVITE', 1, toHeader, sdp));
  if (toneHz) {
    // With a tone the caller is driven by the test: the call object (hangup(), received) now,
    // its end in `done`.
    call.done = done;
    call.received = received;
    return call;
  }
  return done;
}

module.exports = { startRtpPeer, callWithRtp };
