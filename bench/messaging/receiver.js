'use strict';
// The trunk's far end for bench/messaging: a UDP socket that answers every MESSAGE with 200 OK
// (its Via lines, From, To with our tag, Call-ID and CSeq copied) and stamps the moment each one
// arrived, keyed by the ID in its text body ("pong ID" or "out ID"). A MESSAGE whose ID was seen
// before (a retransmission: our 200 came too late, or a duplicate send) is answered and counted,
// not stamped again. Anything else (OPTIONS, ...) gets 200 too; responses are ignored.
// Used in-process by sender.js and creator.js, so that their stamps share one clock.
//   const r = await startReceiver(PORT, 'pong');  r.arrivals: Map ID -> ms; r.stats;
//   r.repeats: ms from first arrival to each repeat
const dgram = require('node:dgram');
const { performance } = require('node:perf_hooks');

const now = () => performance.timeOrigin + performance.now();  // ms, sub-ms precision

function header(msg, name, short) {
  const re = new RegExp(`^(?:${name}${short ? `|${short}` : ''})[ \\t]*:[ \\t]*(.*)$`, 'im');
  const m = re.exec(msg);
  return m ? m[1].trim() : '';
}

// A response to `req`: its Via lines in order, From, To (with `tag` added when it has none),
// Call-ID and CSeq.
function response(req, status, reason, tag) {
  const head = req.slice(0, req.indexOf('\r\n\r\n') >>> 0);
  const vias = head.split('\r\n').filter((l) => /^(Via|v)[ \t]*:/i.test(l));
  let to = header(head, 'To', 't');
  if (tag && !/;tag=/i.test(to)) to += `;tag=${tag}`;
  return [`SIP/2.0 ${status} ${reason}`, ...vias, `From: ${header(head, 'From', 'f')}`, `To: ${to}`,
    `Call-ID: ${header(head, 'Call-ID', 'i')}`, `CSeq: ${header(head, 'CSeq')}`,
    'Content-Length: 0', '', ''].join('\r\n');
}

function startReceiver(port, word) {
  const sock = dgram.createSocket('udp4');
  const arrivals = new Map();  // ID -> ms of the first MESSAGE carrying it
  const stats = { messages: 0, duplicates: 0, unparsed: 0, other_requests: 0, responses: 0 };
  const repeats = [];  // ms from a message's first arrival to each repeat (500 ms: Timer E)
  const bodyRe = new RegExp(`^${word} (\\d+)\\s*$`);
  let tags = 0;
  sock.on('message', (buf, rinfo) => {
    const at = now();
    const msg = buf.toString('utf8');
    if (msg.startsWith('SIP/2.0 ')) {
      ++stats.responses;
      return;
    }
    const method = msg.slice(0, msg.indexOf(' '));
    sock.send(response(msg, 200, 'OK', `r${++tags}`), rinfo.port, rinfo.address);
    if (method !== 'MESSAGE') {
      ++stats.other_requests;
      return;
    }
    ++stats.messages;
    const cut = msg.indexOf('\r\n\r\n');
    const m = cut < 0 ? null : bodyRe.exec(msg.slice(cut + 4));
    if (!m) {
      ++stats.unparsed;
      return;
    }
    const id = Number(m[1]);
    const first = arrivals.get(id);
    if (first !== undefined) {
      ++stats.duplicates;
      if (repeats.length < 100000) repeats.push(at - first);
    } else {
      arrivals.set(id, at);
    }
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, '127.0.0.1', () => {
      // Bursts of thousands of datagrams: the kernel's default buffer would drop some.
      try { sock.setRecvBufferSize(8 << 20); sock.setSendBufferSize(8 << 20); } catch { /* capped */ }
      resolve({ sock, arrivals, stats, repeats, close: () => sock.close() });
    });
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
// {p50, p99, max} of an array of ms, rounded to 0.01 ms; null when empty.
function percentiles(values) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const r = (x) => Number(x.toFixed(2));
  return { p50: r(pct(s, 50)), p99: r(pct(s, 99)), max: r(s[s.length - 1]) };
}

module.exports = { startReceiver, percentiles, header, now };
