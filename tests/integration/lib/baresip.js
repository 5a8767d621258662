'use strict';
// baresip (Debian's baresip-core) as a SIP peer we did not write: SIP over TLS with certificate
// checks (libre's TLS), SDES-SRTP (its own srtp module, not libsrtp), G.711 from a WAV file, and
// what it heard written to a WAV file (the sndfile module's "-dec" dump). A peer either dials
// (`dial`) or answers every call (`answer: true`); it listens on `port` (UDP/TCP) and port + 1
// (TLS) on 127.0.0.1.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const dgram = require('node:dgram');
const { spawn } = require('node:child_process');

// A port p with p (TCP and UDP) and p + 1 (TCP) free now, as baresip takes both.
async function freePortPair() {
  for (let attempt = 0; attempt < 50; ++attempt) {
    const s = net.createServer();
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    const port = s.address().port;
    await new Promise((r) => s.close(r));
    if (port >= 65535) continue;
    const ok = await Promise.all([
      new Promise((resolve) => {
        const n = net.createServer();
        n.once('error', () => resolve(false));
        n.listen(port + 1, '127.0.0.1', () => n.close(() => resolve(true)));
      }),
      new Promise((resolve) => {
        const u = dgram.createSocket('udp4');
        u.once('error', () => resolve(false));
        u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
      }),
    ]);
    if (ok.every(Boolean)) return port;
  }
  throw new Error('no free port pair for baresip');
}

// Starts baresip in `dir` (created). Options:
//   user          the account's user ("peer")
//   transport     'udp' | 'tcp' | 'tls' for its account (the dial's transport)
//   mediaenc      undefined (plain RTP) | 'srtp' (offered, RTP/AVP) | 'srtp-mand' (RTP/SAVP only)
//   answer        true: answers every call at once
//   source        WAV file it sends (8 kHz mono 16-bit)
//   cert, ca      PEM: its TLS certificate with key (listening), the CA it trusts (dialing)
//   dial          a URI to call once it is up
//   seconds       it quits after this long (a bound; tests stop it sooner)
async function startBaresip(t, opts) {
  const dir = opts.dir;
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePortPair();
  const lines = [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${port}`,
    'net_interface 127.0.0.1',
    `audio_source aufile,${opts.source}`,
    'audio_player aufile,/dev/null',
    'audio_alert aufile,/dev/null',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aufile.so',
    'module srtp.so',
    'module sndfile.so',
    'module_tmp account.so',
    'module_app menu.so',
    `snd_path ${dir}`,
  ];
  if (opts.cert) lines.push(`sip_certificate ${opts.cert}`);
  if (opts.ca) lines.push(`sip_cafile ${opts.ca}`);
  fs.writeFileSync(path.join(dir, 'config'), `${lines.join('\n')}\n`);
  let account = `<sip:${opts.user || 'peer'}@127.0.0.1;transport=${opts.transport || 'udp'}>;regint=0;audio_codecs=PCMU`;
  if (opts.answer) account += ';answermode=auto';
  if (opts.mediaenc) account += `;mediaenc=${opts.mediaenc}`;
  fs.writeFileSync(path.join(dir, 'accounts'), `${account}\n`);
  const args = ['-f', dir, '-t', String(opts.seconds || 60)];
  if (opts.dial) args.push('-e', `/dial ${opts.dial}`);
  const proc = spawn('baresip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const peer = { proc, port, tlsPort: port + 1, out: '' };
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.stdout.on('data', (c) => { peer.out += c.toString('latin1'); });
  proc.stderr.on('data', (c) => { peer.out += c.toString('latin1'); });
  // Resolves once its output matches `re` (within `ms`).
  peer.waitFor = async (re, ms = 20000) => {
    const end = Date.now() + ms;
    while (!re.test(peer.out)) {
      if (Date.now() > end) throw new Error(`baresip: no ${re} in:\n${peer.log()}`);
      if (proc.exitCode !== null) throw new Error(`baresip exited before ${re}:\n${peer.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // Its log without the per-second statistics lines.
  peer.log = () => peer.out.replace(/\[\d+:\d+:\d+\] audio=[^\s]+ \(bit\/s\)\s*/g, '');
  // What it heard in its last call (the sndfile module's decoded dump), as 16-bit samples.
  peer.heard = () => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('-dec.wav')).sort();
    if (files.length === 0) return [];
    const wav = fs.readFileSync(path.join(dir, files[files.length - 1]));
    const out = [];
    for (let i = 44; i + 1 < wav.length; i += 2) out.push(wav.readInt16LE(i));
    return out;
  };
  peer.stop = async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  t.after(() => peer.stop());
  if (opts.answer) await peer.waitFor(/baresip is ready/);
  return peer;
}

module.exports = { startBaresip, freePortPair };
