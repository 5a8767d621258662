'use strict';
// Incoming-message load for bench/messaging/messaging.sh `in`: sends COUNT SIP MESSAGE requests
// ("ping ID", text/plain) at RATE per second from one UDP socket to the daemon, each with its own
// Call-ID, branch and From tag, and never retransmits. The daemon answers 202 once the message
// is stored, asks the number's SmsUrl (bench/messaging/app.js, which answers
// <Message>pong ID</Message>) and sends that reply as a MESSAGE through the trunk to the
// receiver (receiver.js, a second socket in this process, so both stamps share one clock).
// Waits, at most WAIT_S seconds after the last send, for every final response and every reply,
// then prints one JSON line: final responses by status (first one per ID; later ones counted as
// duplicate_responses), no-response, 202/s over the sending window, replies and replies/s,
// MESSAGE -> 202 and MESSAGE -> reply arrival latency, and this process' CPU.
//   node sender.js DAEMON_PORT RECV_PORT COUNT RATE WAIT_S TO FROM
const dgram = require('node:dgram');
const { startReceiver, percentiles, header, now } = require('./receiver.js');

const [daemonArg, recvArg, countArg, rateArg, waitArg, to, from] = process.argv.slice(2);
const DAEMON = Number(daemonArg);
const COUNT = Number(countArg);
const RATE = Number(rateArg);
const WAIT_MS = Number(waitArg || 15) * 1000;
const HOST = '127.0.0.1';
const RUN = Math.random().toString(36).slice(2, 8);  // keeps Call-IDs unique across runs

const sentAt = new Float64Array(COUNT);   // ms each MESSAGE left
const finalAt = new Float64Array(COUNT);  // ms its first final response arrived (0: none)
const finalStatus = new Uint16Array(COUNT);  // its status
const finals = {};                        // status -> count (first final response per ID)
let finalCount = 0;
let duplicateResponses = 0;
let strayResponses = 0;
let provisional = 0;
let sendErrors = 0;
let last202 = 0;

function request(sock, id) {
  const port = sock.address().port;
  const body = `ping ${id}`;
  return [`MESSAGE sip:${to}@${HOST}:${DAEMON} SIP/2.0`,
    `Via: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK-${RUN}-${id};rport`,
    'Max-Forwards: 70',
    `From: <sip:${from}@${HOST}:${port}>;tag=f${RUN}${id}`,
    `To: <sip:${to}@${HOST}:${DAEMON}>`,
    `Call-ID: ping-${RUN}-${id}@${HOST}`,
    'CSeq: 1 MESSAGE',
    'Content-Type: text/plain',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '', body].join('\r\n');
}

async function main() {
  const receiver = await startReceiver(Number(recvArg), 'pong');
  const sock = dgram.createSocket('udp4');
  const callIdRe = new RegExp(`^ping-${RUN}-(\\d+)@`);
  sock.on('message', (buf) => {
    const at = now();
    const msg = buf.toString('latin1');
    if (!msg.startsWith('SIP/2.0 ')) return;  // nothing sends us requests
    const status = Number(msg.slice(8, 11));
    if (status < 200) { ++provisional; return; }
    const m = callIdRe.exec(header(msg, 'Call-ID', 'i'));
    if (!m) { ++strayResponses; return; }
    const id = Number(m[1]);
    if (finalAt[id] !== 0) { ++duplicateResponses; return; }
    finalAt[id] = at;
    finalStatus[id] = status;
    ++finalCount;
    finals[status] = (finals[status] || 0) + 1;
    if (status === 202) last202 = at;
  });
  await new Promise((r) => sock.bind(0, HOST, r));
  try { sock.setRecvBufferSize(8 << 20); sock.setSendBufferSize(8 << 20); } catch { /* capped */ }

  const cpu0 = process.cpuUsage();
  const start = now();
  // Paced: every wake-up sends what is due by now (at most 1 ms worth late at 1 ms timers).
  let next = 0;
  while (next < COUNT) {
    const t = now();
    while (next < COUNT && start + (next * 1000) / RATE <= t) {
      const id = next++;
      sentAt[id] = now();
      sock.send(request(sock, id), DAEMON, HOST, (err) => { if (err) ++sendErrors; });
    }
    if (next < COUNT) {
      const wait = start + (next * 1000) / RATE - now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
  }
  const lastSend = now();
  const sendSeconds = (lastSend - start) / 1000;
  const deadline = lastSend + WAIT_MS;
  // Done when every MESSAGE has its final response and every accepted one its reply.
  while (now() < deadline &&
         (finalCount < COUNT || receiver.arrivals.size < (finals[202] || 0))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 200));  // late duplicates, if any
  const cpu = process.cpuUsage(cpu0);

  const accepted = finals[202] || 0;
  const toFinal = [];
  const toReply = [];
  let lastReply = 0;
  let replyWithout202 = 0;
  let repliesMissing = 0;
  for (let id = 0; id < COUNT; ++id) {
    if (finalAt[id] !== 0) toFinal.push(finalAt[id] - sentAt[id]);
    const r = receiver.arrivals.get(id);
    if (r === undefined) {
      if (finalStatus[id] === 202) ++repliesMissing;
      continue;
    }
    toReply.push(r - sentAt[id]);
    lastReply = Math.max(lastReply, r);
    if (finalStatus[id] !== 202) ++replyWithout202;
  }
  const replies = receiver.arrivals.size;
  const r2 = (x) => Number(x.toFixed(2));
  console.log(JSON.stringify({
    mode: 'in', count: COUNT, rate: RATE,
    sent: COUNT - sendErrors, send_errors: sendErrors, send_seconds: r2(sendSeconds),
    offered_per_s: r2((COUNT - sendErrors) / Math.max(sendSeconds, 1e-3)),
    finals, no_response: COUNT - finalCount, duplicate_responses: duplicateResponses,
    stray_responses: strayResponses, provisional,
    accepted_per_s: accepted ? r2(accepted / ((last202 - start) / 1000)) : 0,
    replies, replies_missing: repliesMissing, reply_without_202: replyWithout202,
    replies_per_s: replies ? r2(replies / ((lastReply - start) / 1000)) : 0,
    receiver: receiver.stats, repeat_after_ms: percentiles(receiver.repeats),
    message_to_final_ms: percentiles(toFinal),
    message_to_reply_ms: percentiles(toReply),
    tool_cpu_ms: r2((cpu.user + cpu.system) / 1000),
  }));
  sock.close();
  receiver.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
