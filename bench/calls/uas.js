'use strict';
// A minimal SIP callee for the outbound benchmark at rates where sipp's message log cannot keep
// up: answers every INVITE at once (200 OK with PCMU SDP, sent again for a retransmitted
// INVITE), takes the ACK, answers BYE (and CANCEL: 200, then 487) and stamps the moment each
// INVITE arrived, by its X-Twilio-CallSid. Its SDP names a media port nobody reads (RTP to it is
// dropped by the kernel). It writes {CallSid: ms} to OUT 300 ms after a BYE (so the map is
// complete shortly after the last call ends) and on SIGTERM or after TIMEOUT_S, then exits.
//   node uas.js PORT OUT TIMEOUT_S
const dgram = require('node:dgram');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const [portArg, out, timeoutArg] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const sock = dgram.createSocket('udp4');
const invites = {};   // CallSid -> ms the first INVITE arrived
const answers = new Map();  // Call-ID -> the 200 OK we sent (for retransmissions)
let tags = 0;
let writing = null;

function header(msg, name) {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(msg);
  return m ? m[1].trim() : '';
}
// A response to `req` carrying its Via, From, To (with our tag), Call-ID and CSeq.
function reply(req, status, reason, { tag, body = '' } = {}) {
  const vias = req.split('\r\n').filter((l) => /^(Via|v):/i.test(l));
  let to = header(req, 'To');
  if (tag && !/;tag=/i.test(to)) to += `;tag=${tag}`;
  const lines = [`SIP/2.0 ${status} ${reason}`, ...vias, `From: ${header(req, 'From')}`, `To: ${to}`,
    `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`,
    `Contact: <sip:uas@127.0.0.1:${sock.address().port}>`];
  if (body) lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return lines.join('\r\n');
}
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
  'm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

sock.on('message', (buf, rinfo) => {
  const msg = buf.toString('latin1');
  const send = (text) => sock.send(text, rinfo.port, rinfo.address);
  const method = msg.slice(0, msg.indexOf(' '));
  const callId = header(msg, 'Call-ID');
  if (method === 'INVITE') {
    const sid = header(msg, 'X-Twilio-CallSid');
    if (sid && invites[sid] === undefined) invites[sid] = now();
    let ok = answers.get(callId);
    if (!ok) {
      ok = reply(msg, 200, 'OK', { tag: `u${++tags}`, body: SDP });
      answers.set(callId, ok);
    }
    send(ok);
  } else if (method === 'BYE') {
    send(reply(msg, 200, 'OK'));
    answers.delete(callId);
    if (!writing) writing = setTimeout(() => { writing = null; fs.writeFileSync(out, JSON.stringify(invites)); }, 300);
  } else if (method === 'CANCEL') {
    send(reply(msg, 200, 'OK'));
  } else if (method === 'OPTIONS') {
    send(reply(msg, 200, 'OK'));
  }
  // ACK and responses: nothing to do.
});

function finish() {
  fs.writeFileSync(out, JSON.stringify(invites));
  process.exit(0);
}
process.on('SIGTERM', finish);
setTimeout(finish, Number(timeoutArg || 300) * 1000).unref();
sock.bind(Number(portArg), '127.0.0.1');
