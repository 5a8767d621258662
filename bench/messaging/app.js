'use strict';
// The application of bench/messaging/messaging.sh (keep-alive HTTP on 127.0.0.1): answers
// POST /sms (the number's SmsUrl; form Body "ping ID") with <Response><Message>pong ID</Message>
// </Response>, POST /status (status callbacks) with 204, recording each MessageSid's statuses in
// the order they came, and GET /stats with what it saw:
//   {sms, sms_unparsed, callbacks, by_status, messages, in_order, sequences, connections, peak_open}
// `in_order` counts messages whose callbacks were exactly queued, sending, sent, delivered;
// `sequences` counts every other sequence seen. Prints its port on stdout.
//   node app.js [PORT]
const http = require('node:http');

let sms = 0;
let smsUnparsed = 0;
let callbacks = 0;
let connections = 0;  // accepted, and the most open at once (the daemon's client reusing them?)
let open = 0;
let peakOpen = 0;
const byStatus = {};
const sequences = new Map();  // MessageSid -> "queued,sending,..."

function readForm(req, done) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => done(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    req.resume();
    const counts = {};
    let inOrder = 0;
    for (const seq of sequences.values()) {
      if (seq === 'queued,sending,sent,delivered') ++inOrder;
      else counts[seq] = (counts[seq] || 0) + 1;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ sms, sms_unparsed: smsUnparsed, callbacks, by_status: byStatus,
      messages: sequences.size, in_order: inOrder, sequences: counts, connections,
      peak_open: peakOpen }));
    return;
  }
  readForm(req, (form) => {
    if (req.url.startsWith('/status')) {
      ++callbacks;
      const status = form.get('MessageStatus') || '?';
      byStatus[status] = (byStatus[status] || 0) + 1;
      const sid = form.get('MessageSid') || '?';
      const seq = sequences.get(sid);
      sequences.set(sid, seq ? `${seq},${status}` : status);
      res.writeHead(204);
      res.end();
      return;
    }
    ++sms;
    const m = /^ping (\d+)$/.exec(form.get('Body') || '');
    if (!m) ++smsUnparsed;
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(m ? `<Response><Message>pong ${m[1]}</Message></Response>` : '<Response/>');
  });
});
server.on('connection', (socket) => {
  ++connections;
  peakOpen = Math.max(peakOpen, ++open);
  socket.on('close', () => { --open; });
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(server.address().port);
});
process.on('SIGTERM', () => {
  console.error(`app: ${sms} sms webhooks, ${callbacks} status callbacks`);
  process.exit(0);
});
