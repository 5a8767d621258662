'use strict';
// SIP over TLS and SDES-SRTP with baresip, a peer we did not write (libre's TLS and its own SRTP,
// not libsrtp): callers over TLS with RTP/SAVP, a <Dial> whose legs differ (plain RTP on UDP to
// the caller, SRTP on TLS to the trunk), a trunk whose certificate no trusted CA signed (refused,
// then reached with tls_verify = false), a plain offer to a daemon that requires SRTP (488), and
// `openssl s_client` on the SIP TLS port. The audio itself is the evidence: each side hears the
// other's tone only if the other side's packets decrypted and authenticated.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDaemon } = require('./lib/daemon');
const { startApp, sipPort, addNumber } = require('./lib/app');
const { toneWav, level } = require('./lib/audio_pcap');
const { startBaresip } = require('./lib/baresip');
const { makePki, sClient } = require('./lib/pki');

const NUMBER = '+15005550006';
const DIAL_NUMBER = '+15005550007';
// How baresip says a call ended (its BYE or ours).
const ENDED = /terminated|session closed/;

function tlsPort(d) {
  const m = /sip tls:\s+127\.0\.0\.1:(\d+)/.exec(d.stdout);
  assert.ok(m, `no sip tls line in:\n${d.stdout}`);
  return Number(m[1]);
}

async function metric(d, name) {
  const r = await d.request('GET', '/metrics');
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(r.text);
  assert.ok(m, `no ${name} in /metrics`);
  return Number(m[1]);
}

async function waitUntil(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function call(d, sid) {
  const r = await d.request('GET', d.accountPath(`Calls/${sid}.json`));
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function endedCall(d, sid) {
  return waitUntil(`call ${sid} to end with its SIP summary`, async () => {
    const c = await call(d, sid);
    return ['completed', 'failed', 'busy', 'no-answer', 'canceled'].includes(c.status) && c.sip ? c : null;
  });
}

test('SIP over TLS and SRTP with baresip', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-sip-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pki = makePki(dir);
  pki.issue('daemon');
  pki.issue('callee');
  const rogue = makePki(fs.mkdtempSync(path.join(dir, 'rogue-')), 'rogue');
  rogue.issue('impostor');
  const wav = (name, hz) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, toneWav(12000, hz));
    return file;
  };
  const tone440 = wav('tone440.wav', 440);
  const tone1000 = wav('tone1000.wav', 1000);

  // The trunks' far ends: a callee that takes only SRTP, and one whose certificate no CA we
  // trust signed.
  const callee = await startBaresip(t, { dir: path.join(dir, 'callee'), user: '+15551230000', answer: true,
    mediaenc: 'srtp-mand', source: tone440, cert: pki.file('callee-combined.pem'), ca: pki.caFile });
  const impostor = await startBaresip(t, { dir: path.join(dir, 'impostor'), user: '+15551230002', answer: true,
    source: tone440, cert: rogue.file('impostor-combined.pem'), ca: pki.caFile });
  const toml = path.join(dir, 'switchboard.toml');
  fs.writeFileSync(toml, `
[sip]
tls_listen = "127.0.0.1:0"
tls_cert = "${pki.file('daemon.pem')}"
tls_key = "${pki.file('daemon.key')}"
tls_ca = "${pki.caFile}"

[[sip.trunks]]
name = "secure"
address = "127.0.0.1:${callee.tlsPort}"
transport = "tls"
srtp = "required"
prefixes = ["+15551230000"]

[[sip.trunks]]
name = "impostor"
address = "127.0.0.1:${impostor.tlsPort}"
transport = "tls"
prefixes = ["+15551230001"]

[[sip.trunks]]
name = "unchecked"
address = "127.0.0.1:${impostor.tlsPort}"
transport = "tls"
tls_verify = false
prefixes = ["+15551230002"]
`);
  const d = await startDaemon(t, { args: ['--config', toml] });
  const app = await startApp(t, d.authToken);
  const tonePlay = toneWav(1500, 1000);
  app.routes['/tone.wav'] = () => ({ body: tonePlay, type: 'audio/wav' });
  app.routes['/voice'] = () => `<Response><Play>${app.url('/tone.wav')}</Play>` +
    '<Record maxLength="2" playBeep="false" action="/recorded"/></Response>';
  app.routes['/recorded'] = () => '<Response><Hangup/></Response>';
  // The bridge lasts 4 s (timeLimit): then the daemon hangs up both legs.
  app.routes['/dial'] = () => '<Response><Dial timeout="10" timeLimit="4"><Number>+15551230000</Number></Dial></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  app.routes['/wait'] = () => '<Response><Pause length="30"/></Response>';
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });
  await addNumber(d, DIAL_NUMBER, { VoiceUrl: app.url('/dial') });

  await t.test('openssl s_client: the SIP TLS port speaks TLS 1.2+ with the configured certificate', () => {
    const port = tlsPort(d);
    const v12 = sClient(port, ['-tls1_2'], pki.caFile);
    assert.equal(v12.status, 0, v12.out);
    assert.match(v12.out, /Protocol\s*:\s*TLSv1\.2/);
    assert.match(v12.out, /Verify return code: 0 \(ok\)/);
    assert.match(v12.out, /subject=CN ?= ?daemon\.switchboard\.test/);
    const v11 = sClient(port, ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'], pki.caFile);
    assert.notEqual(v11.status, 0, 'TLS 1.1 is refused');
  });

  await t.test('a caller over TLS offering only SRTP: answered with RTP/SAVP, each side hears the other', async () => {
    const caller = await startBaresip(t, { dir: path.join(dir, 'caller-tls'), user: 'alice', transport: 'tls',
      mediaenc: 'srtp-mand', source: tone440, ca: pki.caFile, seconds: 30,
      dial: `sip:${NUMBER}@127.0.0.1:${tlsPort(d)}` });
    const recorded = await app.waitFor((e) => e.path === '/recorded');
    assert.equal(recorded.valid, true);
    await caller.waitFor(ENDED);
    assert.match(caller.log(), /SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/);
    assert.doesNotMatch(caller.log(), /failed to decrypt/);
    // What the daemon played reached the caller: the 1 kHz tone decrypted.
    const heard = caller.heard();
    assert.ok(level(heard, 1000) > 1000, `the caller heard the prompt: ${level(heard, 1000)}`);
    assert.ok(level(heard, 1000) > 10 * level(heard, 440));
    // What the caller sent reached the daemon: its 440 Hz tone in the <Record>.
    const res = await fetch(`${recorded.params.RecordingUrl}.wav`, { headers: { authorization: d.auth() } });
    assert.equal(res.status, 200);
    const rec = Buffer.from(await res.arrayBuffer());
    const samples = [];
    for (let i = 44; i + 1 < rec.length; i += 2) samples.push(rec.readInt16LE(i));
    assert.ok(level(samples, 440) > 1000, `the recording holds the caller's tone: ${level(samples, 440)}`);
    const c = await endedCall(d, recorded.params.CallSid);
    assert.equal(c.sip.srtp, 'AES_CM_128_HMAC_SHA1_80');
    assert.match(c.sip.peer, /\/tls$/);
  });

  await t.test('Dial: plain RTP on the caller\'s UDP leg, SRTP on the TLS trunk leg; the connection is reused', async () => {
    const handshakes = await metric(d, 'switchboard_sip_tls_handshakes_total');
    for (let round = 0; round < 2; ++round) {
      const caller = await startBaresip(t, { dir: path.join(dir, `caller-udp-${round}`), user: 'bob',
        source: tone1000, seconds: 30, dial: `sip:${DIAL_NUMBER}@127.0.0.1:${sipPort(d)}` });
      await caller.waitFor(/Call established/);
      await caller.waitFor(ENDED, 20000);
      assert.doesNotMatch(caller.log(), /SRTP is Enabled/, 'the caller\'s leg is plain RTP');
      const toCaller = caller.heard();
      assert.ok(level(toCaller, 440) > 1000, `the caller heard the callee: ${level(toCaller, 440)}`);
      await waitUntil('the callee to see the call end',
        () => (callee.log().match(new RegExp(ENDED.source, 'g')) || []).length > round);
      const toCallee = callee.heard();
      assert.ok(level(toCallee, 1000) > 1000, `the callee heard the caller: ${level(toCallee, 1000)}`);
    }
    assert.doesNotMatch(callee.log(), /failed to decrypt/);
    // One TLS connection to the trunk carried both calls.
    const after = await waitUntil('the handshake in /metrics', async () => {
      const n = await metric(d, 'switchboard_sip_tls_handshakes_total');
      return n > handshakes ? n : 0;
    });
    assert.equal(after, handshakes + 1);
    const list = await d.request('GET', d.accountPath('Calls.json?To=%2B15551230000'));
    const children = list.json.calls;
    assert.equal(children.length, 2);
    for (const child of children) {
      const c = await endedCall(d, child.sid);
      assert.equal(c.sip.srtp, 'AES_CM_128_HMAC_SHA1_80', 'the trunk leg is SRTP');
      assert.match(c.sip.peer, /\/tls$/);
      const parent = await endedCall(d, child.parent_call_sid);
      assert.equal(parent.sip.srtp, null, 'the caller leg is plain RTP');
    }
  });

  await t.test('a trunk with a certificate no trusted CA signed is refused; tls_verify = false reaches it', async () => {
    const failures = await metric(d, 'switchboard_sip_tls_handshake_failures_total');
    app.routes['/refused'] = () => ({ status: 204 });
    const started = Date.now();
    const r = await d.request('POST', d.accountPath('Calls.json'), {
      body: { To: '+15551230001', From: NUMBER, Url: app.url('/wait'), StatusCallback: app.url('/refused') },
    });
    assert.equal(r.status, 201, r.text);
    const failed = await app.waitFor((e) => e.path === '/refused' && e.params.CallSid === r.json.sid &&
      e.params.CallStatus === 'failed');
    assert.ok(failed.at - started < 8000, 'refused at the handshake, not after a SIP timeout');
    // /metrics samples the SIP thread's figures every 250 ms.
    await waitUntil('the failed handshake in /metrics',
      async () => (await metric(d, 'switchboard_sip_tls_handshake_failures_total')) > failures);
    assert.doesNotMatch(impostor.log(), /Call established/);

    const ok = await d.request('POST', d.accountPath('Calls.json'), {
      body: { To: '+15551230002', From: NUMBER, Url: app.url('/wait') },
    });
    assert.equal(ok.status, 201, ok.text);
    await waitUntil('the unchecked trunk to answer', async () => (await call(d, ok.json.sid)).status === 'in-progress');
    const hang = await d.request('POST', d.accountPath(`Calls/${ok.json.sid}.json`), { body: { Status: 'completed' } });
    assert.equal(hang.status, 200, hang.text);
    await impostor.waitFor(ENDED);
  });

  await t.test('media.srtp = required: a plain RTP offer gets 488', async () => {
    const strict = await startDaemon(t, { env: { SWITCHBOARD_MEDIA_SRTP: 'required' } });
    const strictApp = await startApp(t, strict.authToken);
    strictApp.routes['/voice'] = () => '<Response><Say>Encrypted.</Say><Hangup/></Response>';
    await addNumber(strict, NUMBER, { VoiceUrl: strictApp.url('/voice') });
    const plain = await startBaresip(t, { dir: path.join(dir, 'caller-plain'), user: 'carol', source: tone440,
      seconds: 15, dial: `sip:${NUMBER}@127.0.0.1:${sipPort(strict)}` });
    await plain.waitFor(/488 Not Acceptable Here/);
    const secure = await startBaresip(t, { dir: path.join(dir, 'caller-srtp'), user: 'dave', source: tone440,
      mediaenc: 'srtp-mand', seconds: 15, dial: `sip:${NUMBER}@127.0.0.1:${sipPort(strict)}` });
    await secure.waitFor(/SRTP is Enabled/);
    await secure.waitFor(ENDED);
    assert.doesNotMatch(secure.log(), /488/);
  });
});
