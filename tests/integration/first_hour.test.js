'use strict';
// What a newcomer meets in the first hour: the shipped sipp scenario that presses a key, the
// log lines and figures that show a call happened and audio flowed, keys in a form the call did
// not negotiate named in the log, the credentials file, the demo number following the daemon to
// another port, and a busy port naming the setting that moves it.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startDaemon } = require('./lib/daemon');
const { runSipp } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');

const KEYS_SCENARIO = path.resolve(__dirname, '../../examples/sipp/keys.xml');
const NUMBER = '+15005550006';

async function metric(d, name, labels) {
  const r = await d.request('GET', '/metrics');
  assert.equal(r.status, 200);
  let total = 0;
  for (const line of r.text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    if (labels && !line.includes(labels)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

test('examples/sipp/keys.xml presses 1; the log and the call record show the call and its audio', async (t) => {
  const d = await startDaemon(t, { logLevel: 'info' });
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Gather numDigits="1" action="/key" timeout="20">' +
    '<Say>Press a key.</Say></Gather></Response>';
  app.routes['/key'] = () => '<Response><Say>Thanks.</Say><Hangup/></Response>';
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice') });

  const r = await runSipp({ sipPort: sipPort(d), service: NUMBER, scenarioFile: KEYS_SCENARIO });
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  const key = await app.waitFor((e) => e.path === '/key');
  assert.equal(key.params.Digits, '1');
  const sid = key.params.CallSid;

  // One info line when the call arrives and one when it ends, with the SID.
  const logged = async (re) => {
    for (let i = 0; i < 100 && !re.test(d.stderr); ++i) await new Promise((res) => setTimeout(res, 50));
    assert.match(d.stderr, re);
  };
  await logged(new RegExp(`call ${sid} arrived: .* -> ${NUMBER.replace('+', '\\+')} .*POST ${app.url('/voice')}`));
  await logged(new RegExp(`call ${sid} ended: completed, \\d+ s`));

  // The call record says audio flowed both ways (the key's event packets in, the Say out).
  let call;
  for (let i = 0; i < 100; ++i) {
    call = (await d.request('GET', d.accountPath(`Calls/${sid}.json`))).json;
    if (call.media && call.media.packets_sent > 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(call.status, 'completed');
  assert.ok(call.media.packets_received > 0, JSON.stringify(call.media));
  assert.ok(call.media.packets_sent > 50, JSON.stringify(call.media));
  assert.ok(call.media.bytes_sent >= call.media.packets_sent * 12 + 160, JSON.stringify(call.media));
  assert.equal(call.media.packets_lost, 0);

  // And so do the totals in /metrics (sampled every 250 ms).
  let sent = 0;
  for (let i = 0; i < 100 && sent < call.media.packets_sent; ++i) {
    sent = await metric(d, 'switchboard_rtp_packets_total', 'direction="sent"');
    if (sent < call.media.packets_sent) await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(sent >= call.media.packets_sent, `metrics sent ${sent}`);
  assert.ok(await metric(d, 'switchboard_rtp_packets_total', 'direction="received"') >= call.media.packets_received);
  assert.ok(await metric(d, 'switchboard_rtp_bytes_total', 'direction="sent"') >= call.media.bytes_sent);
});

test('keys from a caller whose SDP offered no telephone-event are named in the log, once', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-keys-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The shipped scenario without its telephone-event: what sipp's built-in uac offers.
  const plain = fs.readFileSync(KEYS_SCENARIO, 'utf8')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace('RTP/AVP 0 101', 'RTP/AVP 0')
    .replace(/^\s*a=(rtpmap|fmtp):101.*\n/gm, '');
  assert.ok(!plain.includes('telephone-event'));
  const file = path.join(dir, 'plain.xml');
  fs.writeFileSync(file, plain);

  const d = await startDaemon(t, { logLevel: 'info' });
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Gather numDigits="1" action="/key" timeout="5"><Say>Press a key.</Say>' +
    '</Gather><Say>Nothing.</Say><Hangup/></Response>';
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice') });
  const r = await runSipp({ sipPort: sipPort(d), service: NUMBER, scenarioFile: file });
  assert.equal(r.code, 0, `${r.stdout}\n${r.messages}`);
  const voice = await app.waitFor((e) => e.path === '/voice');
  assert.ok(!app.seen.some((e) => e.path === '/key'), 'no key reached the application');
  const re = new RegExp(`call ${voice.params.CallSid}: RTP payload type 101 was not negotiated .*no telephone-event`, 'g');
  for (let i = 0; i < 100 && !re.test(d.stderr); ++i) await new Promise((res) => setTimeout(res, 50));
  assert.equal((d.stderr.match(re) || []).length, 1, d.stderr.slice(-3000));
});

test('main-account.env loads into a shell; the demo number follows the daemon to another port', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-first-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // No pinned credentials: the daemon generates them, as on a first `make run`.
  const env = { SWITCHBOARD_ACCOUNT_SID: '', SWITCHBOARD_AUTH_TOKEN: '' };
  const load = () => {
    const file = path.join(dir, 'main-account.env');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const vars = {};
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
      if (m) vars[m[1]] = m[2];
    }
    return vars;
  };
  const demoUrl = async (vars) => {
    const auth = 'Basic ' + Buffer.from(`${vars.SID}:${vars.TOKEN}`).toString('base64');
    const res = await fetch(`${vars.API}/IncomingPhoneNumbers.json?PhoneNumber=1000`, { headers: { Authorization: auth } });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.incoming_phone_numbers.length, 1);
    return body.incoming_phone_numbers[0].voice_url;
  };

  const first = await startDaemon(t, { dataDir: dir, env, args: ['--demo'] });
  const a = load();
  assert.match(a.SID, /^AC[0-9a-f]{32}$/);
  assert.equal(a.API, `${first.baseUrl}/2010-04-01/Accounts/${a.SID}`);
  assert.equal(a.TWILIO_ACCOUNT_SID, a.SID);
  assert.equal(a.TWILIO_AUTH_TOKEN, a.TOKEN);
  assert.match(first.stdout, /auth token:\s+[0-9a-f]{32}\s+\(shown once\)/);
  assert.equal(await demoUrl(a), `${first.baseUrl}/demo/voice`);
  assert.equal(await first.stop('SIGTERM'), 0);

  // The shell the README describes: `. var/main-account.env`, then $SID $TOKEN $API.
  const second = await startDaemon(t, { dataDir: dir, env, args: ['--demo'] });
  assert.notEqual(second.baseUrl, first.baseUrl);
  assert.doesNotMatch(second.stdout, /shown once/);
  const b = load();
  assert.equal(b.SID, a.SID);
  assert.equal(b.TOKEN, a.TOKEN);
  assert.equal(b.API, `${second.baseUrl}/2010-04-01/Accounts/${a.SID}`);
  assert.equal(await demoUrl(b), `${second.baseUrl}/demo/voice`);
  assert.equal(await second.stop('SIGTERM'), 0);
});

test('a busy HTTP port ends start-up with the setting that moves it', async (t) => {
  const holder = net.createServer();
  await new Promise((r) => holder.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => holder.close(r)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-busy-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const proc = spawn(process.env.SWITCHBOARD_BIN, ['serve', '--data-dir', dir, '--http-listen',
    `127.0.0.1:${holder.address().port}`, '--sip-listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (b) => { stderr += b; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
  const code = await new Promise((r) => proc.on('exit', r));
  clearTimeout(timer);
  assert.notEqual(code, 0);
  assert.match(stderr, /Address already in use/i);
  assert.match(stderr, /--http-listen, SWITCHBOARD_HTTP_LISTEN or \[http\] listen/);
  assert.match(stderr, /make run ARGS=/);
});
