'use strict';
// The attackers' tools against the daemon (sipvicious, as Debian ships it): svmap finds a SIP
// server; svwar cannot tell the users of a SIP domain from names that do not exist; svcrack,
// which does find a password it is given early, is banned after sip.ban_after wrong guesses and
// never reaches the right one later in its list. The ban is visible in /metrics and through
// /admin/v1/SipBans.json, and lifting it there lets the address in again. Meanwhile a real call
// from another address runs to its end.
//
// The scanners send from 127.0.0.1 (svcrack and svwar ignore their -b option); the real call
// comes from 127.0.0.5, another source to the daemon.

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { runSipp } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');

const DOMAIN = 'office.example.test';
const PASSWORD = 'Secret123Pass';
const BAN_AFTER = 6;
// svcrack sends a new REGISTER whenever no answer has come for this long (its default, 5 ms,
// floods a slow daemon with REGISTERs that then meet the REGISTER budget's 503 and stop the
// tool before any ban): 0.3 s keeps it to one request per answer on a busy machine.
const PACE = '0.3';

// Runs a sipvicious tool; resolves {code, out} (stdout and stderr together).
function sipvicious(tool, args, timeoutMs = 60000) {
  return new Promise((resolve) => {
    const proc = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (b) => { out += b; });
    proc.stderr.on('data', (b) => { out += b; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

function dictionary(words) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-scan-'));
  const file = path.join(dir, 'words.txt');
  fs.writeFileSync(file, words.join('\n') + '\n');
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

// Sends one OPTIONS from `address` and resolves with the answer's first line, or null when
// nothing comes back within `ms`.
function optionsFrom(address, sip, ms = 1500) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.on('error', reject);
    sock.bind(0, address, () => {
      const port = sock.address().port;
      const msg = [`OPTIONS sip:${DOMAIN} SIP/2.0`,
        `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bKopt${Date.now()}`,
        `From: <sip:probe@${DOMAIN}>;tag=p1`, `To: <sip:${DOMAIN}>`, `Call-ID: opt-${Date.now()}@${address}`,
        'CSeq: 1 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join('\r\n');
      const timer = setTimeout(() => { sock.close(); resolve(null); }, ms);
      sock.on('message', (b) => { clearTimeout(timer); sock.close(); resolve(b.toString().split('\r\n')[0]); });
      sock.send(msg, sip, '127.0.0.1');
    });
  });
}

async function metric(d, name) {
  const r = await d.request('GET', '/metrics', { auth: false });
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(r.text);
  assert.ok(m, `${name} not in /metrics`);
  return Number(m[1]);
}

async function waitFor(fn, what, ms = 10000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A daemon with a SIP domain whose users alice, 101 and 120 may register (MD5 offered first:
// sipvicious answers only the first challenge, and only MD5), and a number for a real call.
async function start(t) {
  const d = await startDaemon(t, {
    env: { SWITCHBOARD_SIP_DIGEST: 'md5,sha-256', SWITCHBOARD_SIP_BAN_AFTER: String(BAN_AFTER) },
  });
  const client = twilioClient(d);
  const list = await client.sip.credentialLists.create({ friendlyName: 'staff' });
  for (const username of ['alice', '101', '120']) {
    await client.sip.credentialLists(list.sid).credentials.create({ username, password: PASSWORD });
  }
  const domain = await client.sip.domains.create({ domainName: DOMAIN, sipRegistration: true });
  await client.sip.domains(domain.sid).auth.registrations.credentialListMappings.create({ credentialListSid: list.sid });
  await client.sip.domains(domain.sid).auth.calls.credentialListMappings.create({ credentialListSid: list.sid });
  return { d, sip: sipPort(d) };
}

test('svmap finds the server; svwar cannot tell existing users from missing ones', async (t) => {
  const { d, sip } = await start(t);

  const map = await sipvicious('svmap', [`127.0.0.1`, '-p', String(sip)]);
  assert.equal(map.code, 0, map.out);
  assert.match(map.out, new RegExp(`127\\.0\\.0\\.1:${sip}\\s*\\|\\s*Switchboard`), map.out);

  // Users alice, 101 and 120 exist among 100-130; svwar's first probe of a random name is
  // challenged like any other, and it says it cannot work that way.
  const words = dictionary(['alice', 'bob', 'admin', 'carol']);
  t.after(words.remove);
  const refused = await sipvicious('svwar', ['-e', '100-130', '--domain', DOMAIN,
    `udp://127.0.0.1:${sip}`]);
  assert.match(refused.out, /authentication request for an unknown extension/, refused.out);
  // Forced on, it sees the same answer (401) for every name: nothing found.
  for (const args of [['-e', '100-130'], ['-d', words.file], ['-e', '100-130', '-m', 'INVITE']]) {
    const scan = await sipvicious('svwar', [...args, '--force', '--domain', DOMAIN,
      `udp://127.0.0.1:${sip}`]);
    assert.doesNotMatch(scan.out, /reqauth|noauth|weird|exists/, `${args.join(' ')}:\n${scan.out}`);
    assert.match(scan.out, /found nothing/, `${args.join(' ')}:\n${scan.out}`);
  }
  assert.equal(await metric(d, 'switchboard_sip_bans_total'), 0, 'scanning names alone bans nobody');
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});

test('svcrack is banned after the configured failures, finds no password, and a real call goes on', async (t) => {
  const { d, sip } = await start(t);
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => '<Response><Say>This call goes on while someone guesses passwords.</Say><Pause length="2"/><Hangup/></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  await addNumber(d, '+15005550100', { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });

  // svcrack works against us: with the password third in its list (fewer failures than a ban
  // takes) it finds it.
  const early = dictionary(['123456', 'password', PASSWORD, 'letmein']);
  t.after(early.remove);
  const found = await sipvicious('svcrack', ['-t', PACE, '-u', 'alice', '-d', early.file,
    '--domain', DOMAIN, `udp://127.0.0.1:${sip}`]);
  assert.match(found.out, new RegExp(`\\|\\s*alice\\s*\\|\\s*${PASSWORD}\\s*\\|`), found.out);

  // The password 30th in the list: the ban comes first (the two failures above count too).
  const guesses = Array.from({ length: 29 }, (_, i) => `guess${i}pw`);
  const late = dictionary([...guesses, PASSWORD]);
  t.after(late.remove);
  const call = runSipp({ sipPort: sip, service: '+15005550100', localIp: '127.0.0.5',
    steps: [{ answer: true }, { awaitBye: 30000 }] });
  const crack = await sipvicious('svcrack', ['-t', PACE, '-u', 'alice', '-d', late.file,
    '--maximumtime', '3', '--domain', DOMAIN, `udp://127.0.0.1:${sip}`]);
  assert.doesNotMatch(crack.out, /\|\s*alice\s*\|/, crack.out);
  assert.doesNotMatch(crack.out, new RegExp(PASSWORD), crack.out);

  const bans = await waitFor(async () => {
    const r = await d.request('GET', '/admin/v1/SipBans.json');
    assert.equal(r.status, 200, r.text);
    return r.json.sip_bans.length ? r.json.sip_bans : null;
  }, 'the ban to be listed');
  assert.equal(bans.length, 1);
  assert.equal(bans[0].address, '127.0.0.1');
  assert.equal(bans[0].failures, BAN_AFTER);
  assert.ok(bans[0].messages_dropped > 0, JSON.stringify(bans[0]));
  assert.ok(bans[0].seconds_left > 500 && bans[0].seconds_left <= 600, JSON.stringify(bans[0]));
  assert.equal(await metric(d, 'switchboard_sip_bans_total'), 1);
  assert.equal(await metric(d, 'switchboard_sip_banned_sources'), 1);
  assert.ok(await metric(d, 'switchboard_sip_banned_messages_dropped_total') > 0);
  assert.equal(await metric(d, 'switchboard_sip_auth_failures_total'), BAN_AFTER);

  // The real call, from 127.0.0.5, ran to its end meanwhile.
  const done = await call;
  assert.equal(done.code, 0, `${done.stdout}\n${done.messages}`);
  const completed = await app.waitFor((e) => e.path === '/status' && e.params.CallStatus === 'completed');
  assert.equal(completed.params.To, '+15005550100');

  // Banned: nothing answers 127.0.0.1, not even an OPTIONS; another address is answered.
  assert.equal(await optionsFrom('127.0.0.1', sip), null);
  assert.match(await optionsFrom('127.0.0.4', sip), /^SIP\/2\.0 200/);

  // Only a main account's own credentials reach the operator endpoints.
  const child = await d.request('POST', '/2010-04-01/Accounts.json', { body: { FriendlyName: 'tenant' } });
  assert.equal(child.status, 201, child.text);
  const asChild = await d.request('GET', '/admin/v1/SipBans.json', { auth: d.auth(child.json.sid, child.json.auth_token) });
  assert.equal(asChild.status, 403, asChild.text);
  assert.equal(asChild.json.code, 70051);
  assert.equal((await d.request('GET', '/admin/v1/SipBans.json', { auth: false })).status, 401);

  // Lifted by the operator: the address is answered again.
  assert.equal((await d.request('DELETE', '/admin/v1/SipBans/127.0.0.1.json')).status, 204);
  assert.equal((await d.request('DELETE', '/admin/v1/SipBans/127.0.0.1.json')).status, 404);
  assert.match(await waitFor(() => optionsFrom('127.0.0.1', sip, 500), 'an answer after the lift'), /^SIP\/2\.0 200/);
  assert.equal(await metric(d, 'switchboard_sip_bans_total'), 1);
  assert.equal(d.running, true);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});
