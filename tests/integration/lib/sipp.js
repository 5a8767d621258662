'use strict';
// sipp as the caller in integration tests: scenarios are built here from small parts (so one
// test can say "INVITE, wait, press 7, wait for the daemon's BYE") and run with a bounded
// timeout on 127.0.0.1. Every media port is picked free; sipp's RTP pcap playback sends the
// RFC 2833 and G.711 captures shipped in /usr/share/sip-tester.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dgram = require('node:dgram');

const PCAP_DIR = '/usr/share/sip-tester';

// Ports handed out by this process: a port just closed here can come back from the kernel to
// the next caller before the first one's sipp has bound it.
const handedOut = new Set();

function bindUdp(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => { s.close(); resolve(null); });
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

// A UDP port that is free right now, even, with the `span - 1` ports above it free too (sipp's
// media port takes its RTCP neighbour and the video pair above it: pass span 4 for -mp).
async function freeUdpPort(span = 2) {
  for (let i = 0; i < 100; ++i) {
    const first = await bindUdp(0);
    const port = first.address().port;
    const held = [first];
    let ok = port % 2 === 0 && port + span < 65000 && !handedOut.has(port);
    for (let k = 1; ok && k < span; ++k) {
      const s = handedOut.has(port + k) ? null : await bindUdp(port + k);
      if (s) held.push(s); else ok = false;
    }
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    if (ok) {
      for (let k = 0; k < span; ++k) handedOut.add(port + k);
      return port;
    }
  }
  throw new Error('no free UDP port');
}

// sipp exits 254 when it cannot bind a socket: a port picked free was taken before sipp bound
// it (by the daemon's RTP, or another test's peer). Nothing was sent yet, so a retry on fresh
// ports is the same run.
const SIPP_BIND_FAILED = 254;

const FROM = '"Test Caller" <sip:+14155550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]';

// sipp's SDP: its media address and port, G.711 (PCMU or PCMA) and RFC 4733 events.
function sdp(codecs = 'PCMU') {
  const pts = codecs === 'PCMA' ? '8 101' : '0 101';
  const map = codecs === 'PCMA' ? 'a=rtpmap:8 PCMA/8000' : 'a=rtpmap:0 PCMU/8000';
  return `      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP ${pts}
      ${map}
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
`;
}

function invite(codecs) {
  return `
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

${sdp(codecs)}
    ]]>
  </send>
  <recv response="100" optional="true"/>`;
}

const ACK = `
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;

// 200 OK to the request just received (a BYE), its headers copied.
const OK_TO_LAST = `
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>`;

// Steps, in order:
//   {answer: true}                 expect 200 to the INVITE and ACK it
//   {ringing: true}                expect 180
//   {pause: ms}
//   {pcap: 'dtmf_2833_7.pcap'}     play a capture from /usr/share/sip-tester (async in sipp)
//   {awaitBye: ms}                 expect the daemon's BYE within ms, answer 200
//   {bye: true}                    send BYE, expect 200
//   {cancel: true}                 CANCEL the INVITE: expect 200 for it and 487 for the INVITE
//   {final: 486}                   expect this final response to the INVITE, then ACK it
function scenario({ codecs = 'PCMU', steps }) {
  let xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="test">${invite(codecs)}`;
  for (const s of steps) {
    if (s.answer) {
      xml += `\n  <recv response="180" optional="true"/>\n  <recv response="200" rtd="true"/>${ACK}`;
    } else if (s.ringing) {
      xml += '\n  <recv response="180"/>';
    } else if (s.pause !== undefined) {
      xml += `\n  <pause milliseconds="${s.pause}"/>`;
    } else if (s.pcap) {
      xml += `\n  <nop><action><exec play_pcap_audio="${path.resolve(PCAP_DIR, s.pcap)}"/></action></nop>`;
    } else if (s.awaitBye) {
      xml += `
  <recv request="BYE" timeout="${s.awaitBye}"/>${OK_TO_LAST}`;
    } else if (s.bye) {
      xml += `
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="5000"/>`;
    } else if (s.cancel) {
      xml += `
  <send>
    <![CDATA[
      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: ${FROM}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="5000"/>
  <recv response="487" timeout="5000"/>${ACK}`;
    } else if (s.final) {
      xml += `\n  <recv response="180" optional="true"/>\n  <recv response="${s.final}" timeout="10000"/>${ACK}`;
    } else {
      throw new Error(`unknown step ${JSON.stringify(s)}`);
    }
  }
  return `${xml}\n</scenario>\n`;
}

// Runs one call; resolves {code, stdout, stderr, messages} (code 0: the scenario passed).
// `scenarioFile` runs a scenario file instead of `steps`; `keys` fill its [keywords].
async function runSipp(opts) {
  for (let attempt = 1; ; ++attempt) {
    const r = await runSippOnce(opts);
    if (r.code !== SIPP_BIND_FAILED || attempt === 5) return r;
  }
}

async function runSippOnce({ sipPort, service, codecs, steps, scenarioFile, keys = {}, timeoutMs = 60000, extraArgs = [], localIp = '127.0.0.1' }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-sipp-'));
  const file = scenarioFile || path.join(dir, 'scenario.xml');
  if (!scenarioFile) fs.writeFileSync(file, scenario({ codecs, steps }));
  const mediaPort = await freeUdpPort(4);
  const messages = path.join(dir, 'messages.log');
  const args = ['-sf', file, `127.0.0.1:${sipPort}`, '-s', service, '-m', '1', '-l', '1',
    '-i', localIp, '-mi', localIp, '-mp', String(mediaPort), '-nostdin',
    '-timeout', `${Math.ceil(timeoutMs / 1000)}s`, '-timeout_error',
    '-trace_msg', '-message_file', messages, ...extraArgs];
  for (const [k, v] of Object.entries(keys)) args.push('-key', k, String(v));
  const proc = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (b) => { stdout += b; });
  proc.stderr.on('data', (b) => { stderr += b; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs + 5000);
  const code = await new Promise((resolve) => proc.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  let log = '';
  try { log = fs.readFileSync(messages, 'utf8'); } catch { /* sipp may not have written it */ }
  fs.rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, messages: log, mediaPort };
}

// sipp as the callee: listens on a free UDP port of 127.0.0.1 for `calls` INVITEs and runs
// `xml` (a whole scenario) or a scenario file for each. Resolves once sipp is up with
// {port, done}: `done` resolves {code, messages} when sipp exits (every call run, or the
// timeout), and `stop()` ends it early. `port`: listen there instead (a phone that registered
// from it).
async function startSippUas(opts) {
  for (let attempt = 1; ; ++attempt) {
    const uas = await startSippUasOnce(opts);
    if (uas.up || attempt === 5) return uas;
  }
}

// True once something holds UDP `port` on 127.0.0.1.
function udpPortHeld(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => { s.close(); resolve(true); });  // EADDRINUSE
    s.bind(port, '127.0.0.1', () => { s.close(); resolve(false); });
  });
}

async function startSippUasOnce({ xml, scenarioFile, calls = 1, timeoutMs = 60000, keys = {}, port: fixedPort }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-sipp-uas-'));
  const file = scenarioFile || path.join(dir, 'uas.xml');
  if (!scenarioFile) fs.writeFileSync(file, xml);
  const port = fixedPort || await freeUdpPort();
  const mediaPort = await freeUdpPort(4);
  const messages = path.join(dir, 'messages.log');
  const args = ['-sf', file, '-i', '127.0.0.1', '-p', String(port), '-m', String(calls),
    '-mi', '127.0.0.1', '-mp', String(mediaPort), '-nostdin',
    '-timeout', `${Math.ceil(timeoutMs / 1000)}s`, '-timeout_error',
    '-trace_msg', '-message_file', messages];
  for (const [k, v] of Object.entries(keys)) args.push('-key', k, String(v));
  const proc = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = null;
  proc.stdout.on('data', (b) => { stdout += b; });
  proc.stderr.on('data', (b) => { stderr += b; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs + 5000);
  const done = new Promise((resolve) => proc.on('exit', (code) => {
    exited = code;
    clearTimeout(timer);
    let log = '';
    try { log = fs.readFileSync(messages, 'utf8'); } catch { /* none written */ }
    fs.rmSync(dir, { recursive: true, force: true });
    resolve({ code, stdout, stderr, messages: log });
  }));
  // sipp binds its SIP port, then the audio and video media ports: up once the last of them is
  // held and sipp is still running (one that could not bind exits 254 and is started again).
  for (let i = 0; i < 200 && exited === null; ++i) {
    if (await udpPortHeld(mediaPort + 2)) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (exited === SIPP_BIND_FAILED) await done;
  return { port, done, up: exited !== SIPP_BIND_FAILED, stop: () => proc.kill('SIGTERM') };
}

// The callee's scenarios: what a far end does with our INVITE.
const UAS_HEAD = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="uas">';
function uasReply(status, reason) {
  return `
  <send>
    <![CDATA[
      SIP/2.0 ${status} ${reason}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>`;
}

const UAS_BYE_OK = `
  <recv request="BYE"/>${uasReply(200, 'OK')}`;
// A 200 OK with `body` as its SDP (none when empty), then the caller's ACK and, since we
// cannot use it, our BYE.
function uasAnswerWith(body) {
  const type = body ? '\n      Content-Type: application/sdp' : '';
  return `
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>${type}
      Content-Length: [len]

${body}
    ]]>
  </send>`;
}
const UAS_ANSWER = uasAnswerWith(sdp());
const uasScenarios = {
  // 180, 200 with SDP, then the caller's BYE.
  answer: `${UAS_HEAD}
  <recv request="INVITE"/>${uasReply(180, 'Ringing')}${UAS_ANSWER}
  <recv request="ACK"/>${UAS_BYE_OK}
</scenario>`,
  // 180, 200 with SDP, then plays a capture (sipp's play_pcap_audio: RTP from `pcap` to our
  // media port) and waits for our BYE.
  answerAndPlay: (pcap) => `${UAS_HEAD}
  <recv request="INVITE"/>${uasReply(180, 'Ringing')}${UAS_ANSWER}
  <recv request="ACK"/>
  <nop><action><exec play_pcap_audio="${pcap}"/></action></nop>${UAS_BYE_OK}
</scenario>`,
  // Answers with an unusable SDP (none, or garbage): our ACK, then our BYE.
  badAnswer: (body) => `${UAS_HEAD}
  <recv request="INVITE"/>${uasAnswerWith(body)}
  <recv request="ACK"/>${UAS_BYE_OK}
</scenario>`,
  // A final failure (486 Busy Here, 404 Not Found, ...), ACKed.
  fail: (status, reason) => `${UAS_HEAD}
  <recv request="INVITE"/>${uasReply(100, 'Trying')}${uasReply(status, reason)}
  <recv request="ACK"/>
</scenario>`,
  // Rings until the caller's CANCEL: 200 to the CANCEL, 487 to the INVITE.
  ringUntilCancel: `${UAS_HEAD}
  <recv request="INVITE">
    <action><ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="1"/></action>
  </recv>${uasReply(180, 'Ringing')}
  <recv request="CANCEL"/>${uasReply(200, 'OK')}
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq:[$1]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>`,
};

// Many calls from one sipp (load): `calls` INVITEs at `rate` per second, each running `steps`
// (see scenario()), all to `service`. `fromName` replaces the caller's display name. Resolves
// once sipp is started with {done, stop}; `done` resolves {code, stdout, stderr} at sipp's exit.
async function startSippLoad({ sipPort, service, calls, rate = 50, steps, fromName, timeoutMs = 60000 }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-sipp-load-'));
  let xml = scenario({ steps });
  if (fromName !== undefined) xml = xml.split('"Test Caller"').join(`"${fromName}"`);
  const file = path.join(dir, 'scenario.xml');
  fs.writeFileSync(file, xml);
  const mediaPort = await freeUdpPort(4);
  const args = ['-sf', file, `127.0.0.1:${sipPort}`, '-s', service, '-m', String(calls),
    '-l', String(calls), '-r', String(rate), '-i', '127.0.0.1', '-mi', '127.0.0.1',
    '-mp', String(mediaPort), '-nostdin', '-max_socket', '65000',
    '-timeout', `${Math.ceil(timeoutMs / 1000)}s`, '-timeout_error'];
  const proc = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (b) => { stdout = (stdout + b).slice(-20000); });
  proc.stderr.on('data', (b) => { stderr = (stderr + b).slice(-20000); });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs + 5000);
  const done = new Promise((resolve) => proc.on('exit', (code) => {
    clearTimeout(timer);
    fs.rmSync(dir, { recursive: true, force: true });
    resolve({ code, stdout, stderr });
  }));
  return { done, stop: () => proc.kill('SIGTERM'), kill: () => proc.kill('SIGKILL'), pid: proc.pid };
}

module.exports = { runSipp, startSippLoad, scenario, freeUdpPort, startSippUas, uasScenarios, sdp, PCAP_DIR, OK_TO_LAST };
