'use strict';
// Audio for sipp to send: speech synthesized with espeak-ng, tones and silence, made into a
// pcap of PCMU RTP packets (20 ms each, Ethernet/IPv4/UDP framing) that sipp's
// play_pcap_audio replays to the far end's media port with the capture's timing.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const RATE = 8000;

// 8 kHz mono 16-bit samples of `text` spoken by espeak-ng (resampled by sox); a voice named
// "flite:NAME" (kal, slt, rms, awb) speaks with flite instead.
function speech(dir, text, voice = 'en-us') {
  const wav = path.join(dir, 'speech.wav');
  const raw = path.join(dir, 'speech.raw');
  if (voice.startsWith('flite:')) {
    execFileSync('flite', ['-voice', voice.slice(6), '-t', text, '-o', wav]);
  } else {
    execFileSync('espeak-ng', ['-v', voice, '-w', wav, text]);
  }
  execFileSync('sox', [wav, '-t', 'raw', '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed', raw]);
  const buf = fs.readFileSync(raw);
  return new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2).slice();
}

const silence = (ms) => new Int16Array((ms * RATE) / 1000);

function tone(ms, hz, amplitude = 12000) {
  const out = new Int16Array((ms * RATE) / 1000);
  for (let i = 0; i < out.length; ++i) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));
  return out;
}

function concat(...parts) {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// G.711 mu-law, as ITU-T G.711 encodes it.
function ulaw(sample) {
  const BIAS = 0x84;
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s = Math.min(s, 32635) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

// `samples` of a tone as mu-law bytes (one RTP payload).
function ulawTone(hz, samples, amplitude = 8000) {
  const out = Buffer.alloc(samples);
  for (let i = 0; i < samples; ++i) out[i] = ulaw(Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / RATE)));
  return out;
}

// Deterministic noise (a fixed linear congruential sequence): every 20 ms of it differs, so
// packets carrying it can be told apart and matched byte for byte.
function noise(ms, amplitude = 6000) {
  const out = new Int16Array((ms * RATE) / 1000);
  let x = 12345;
  for (let i = 0; i < out.length; ++i) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = Math.round(((x / 2147483648) * 2 - 1) * amplitude);
  }
  return out;
}

// The PCMU payloads writeRtpPcap puts in its packets, in order.
function ulawPayloads(pcm) {
  const out = [];
  for (let n = 0; n * 160 < pcm.length; ++n) {
    const b = Buffer.alloc(160);
    for (let i = 0; i < 160; ++i) b[i] = ulaw(n * 160 + i < pcm.length ? pcm[n * 160 + i] : 0);
    out.push(b);
  }
  return out;
}

// Writes `pcm` as a pcap of PCMU RTP packets (payload type 0, 20 ms) to `file`.
function writeRtpPcap(file, pcm) {
  const packets = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);  // Ethernet
  packets.push(header);
  const frame = 160;
  for (let n = 0; n * frame < pcm.length; ++n) {
    const rtp = Buffer.alloc(12 + frame);
    rtp[0] = 0x80;
    rtp[1] = n === 0 ? 0x80 : 0x00;  // marker on the first packet; PT 0
    rtp.writeUInt16BE((1000 + n) & 0xffff, 2);
    rtp.writeUInt32BE((n * frame) >>> 0, 4);
    rtp.writeUInt32BE(0x5eed1234, 8);
    for (let i = 0; i < frame; ++i) {
      const at = n * frame + i;
      rtp[12 + i] = ulaw(at < pcm.length ? pcm[at] : 0);
    }
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(6000, 0);
    udp.writeUInt16BE(6000, 2);
    udp.writeUInt16BE(8 + rtp.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + rtp.length, 2);
    ip[8] = 64;
    ip[9] = 17;  // UDP
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const body = Buffer.concat([eth, ip, udp, rtp]);
    const record = Buffer.alloc(16);
    const us = n * 20000;
    record.writeUInt32LE(Math.floor(us / 1e6), 0);
    record.writeUInt32LE(us % 1e6, 4);
    record.writeUInt32LE(body.length, 8);
    record.writeUInt32LE(body.length, 12);
    packets.push(record, body);
  }
  fs.writeFileSync(file, Buffer.concat(packets));
}

// G.711 mu-law back to linear.
function unulaw(byte) {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

// The RMS level of `hz` in PCMU packets (Goertzel over the decoded samples), as an amplitude
// comparable to a sine's peak; packets filtered to arrival times within [from, to).
function toneLevel(packets, hz, from = 0, to = Infinity) {
  const pcm = [];
  for (const p of packets) {
    if (p.pt !== 0 || p.at < from || p.at >= to) continue;
    for (const b of p.payload) pcm.push(unulaw(b));
  }
  return level(pcm, hz);
}

// The amplitude of `hz` in 8 kHz 16-bit samples (Goertzel), comparable to a sine's peak.
function level(pcm, hz) {
  if (pcm.length === 0) return 0;
  const k = 2 * Math.cos((2 * Math.PI * hz) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (const x of pcm) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return (2 * Math.sqrt(Math.max(power, 0))) / pcm.length;
}

// 8 kHz 16-bit mono WAV of a tone (a <Play> for an application to serve).
function toneWav(ms, freq = 440) {
  const n = (8000 * ms) / 1000;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; ++i) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * freq * i) / 8000)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24); h.writeUInt32LE(16000, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write('data', 36); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

module.exports = { toneWav, speech, silence, tone, noise, concat, writeRtpPcap, ulawTone, ulawPayloads, ulaw, unulaw, toneLevel, level };
