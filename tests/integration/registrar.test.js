'use strict';
// Registered users end to end: the official `twilio` client sets up a credential list, a
// credential and a SIP domain with its registration and call mappings (Twilio's SIP API);
// sipp registers as alice with digest, calls.create({to: 'client:alice'}) rings it (every
// registration at once, the first answer wins), unregistering makes the call fail, a wrong
// password gets 403, a REGISTER flood runs out of budget, and alice calling in runs the
// domain's VoiceUrl. sipp reads only the first challenge and knows only MD5: the daemon here
// offers MD5 first (sip.digest = "md5,sha-256").

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { startSippUas, uasScenarios, freeUdpPort, sdp, OK_TO_LAST, runSipp } = require('./lib/sipp');
const { startApp, sipPort } = require('./lib/app');

const DOMAIN = 'office.example.test';
const PASSWORD = 'Secret123Pass';

// A daemon with a domain whose users (alice) may register and call.
async function startWithDomain(t) {
  const d = await startDaemon(t, { env: { SWITCHBOARD_SIP_DIGEST: 'md5,sha-256' } });
  const client = twilioClient(d);
  const app = await startApp(t, d.authToken);
  app.routes['/status'] = () => ({ body: '', type: 'text/plain' });
  const list = await client.sip.credentialLists.create({ friendlyName: 'staff' });
  const cred = await client.sip.credentialLists(list.sid).credentials.create({ username: 'alice', password: PASSWORD });
  const domain = await client.sip.domains.create({
    domainName: DOMAIN, sipRegistration: true, voiceUrl: app.url('/domain'),
  });
  await client.sip.domains(domain.sid).auth.registrations.credentialListMappings.create({ credentialListSid: list.sid });
  await client.sip.domains(domain.sid).auth.calls.credentialListMappings.create({ credentialListSid: list.sid });
  return { d, client, app, list, cred, domain, sip: sipPort(d) };
}

// One REGISTER for alice (`auth`: sipp's [authentication] line answering the challenge).
const registerRequest = (cseq, expires, auth = '') => `
  <send retrans="500"><![CDATA[
      REGISTER sip:${DOMAIN} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:alice@${DOMAIN}>;tag=[pid]r[call_number]
      To: <sip:alice@${DOMAIN}>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: <sip:alice@[local_ip]:[local_port]>${auth ? `\n      ${auth}` : ''}
      Expires: ${expires}
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>`;
const register = (expires, password) => `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register">${registerRequest(1, expires)}
  <recv response="401" auth="true"/>${registerRequest(2, expires, `[authentication username=alice password=${password}]`)}
  <recv response="[$expect]"/>
</scenario>
`;

// Runs a sipp scenario as a UAC from local port `port`; resolves {code, messages}.
// sipp exits 254 when a port picked free was taken before it bound: run again on a new media
// port (nothing was sent).
async function sipp(xml, sip, port, expect = 200) {
  for (let attempt = 1; ; ++attempt) {
    const r = await sippOnce(xml, sip, port, expect);
    if (r.code !== 254 || attempt === 5) return r;
  }
}

async function sippOnce(xml, sip, port, expect) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-reg-'));
  const file = path.join(dir, 'scenario.xml');
  fs.writeFileSync(file, xml.replace('[$expect]', String(expect)));
  const messages = path.join(dir, 'messages.log');
  const mediaPort = await freeUdpPort(4);
  const proc = spawn('sipp', ['-sf', file, `127.0.0.1:${sip}`, '-s', 'bob', '-m', '1', '-i', '127.0.0.1',
    '-p', String(port), '-mi', '127.0.0.1', '-mp', String(mediaPort), '-nostdin', '-timeout', '20s',
    '-timeout_error', '-trace_msg', '-message_file', messages], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (b) => { out += b; });
  proc.stderr.on('data', (b) => { out += b; });
  const code = await new Promise((resolve) => proc.on('exit', resolve));
  let log = '';
  try { log = fs.readFileSync(messages, 'utf8'); } catch { /* none */ }
  fs.rmSync(dir, { recursive: true, force: true });
  return { code, messages: log, out };
}

async function registerFrom(port, sip, { expires = 300, password = PASSWORD, expect = 200 } = {}) {
  const r = await sipp(register(expires, password), sip, port, expect);
  assert.equal(r.code, 0, `REGISTER (expect ${expect}) failed:\n${r.out}\n${r.messages}`);
  return r;
}

const statusOf = (sid, status) => (e) =>
  e.path === '/status' && e.params.CallSid === sid && e.params.CallStatus === status;

test('alice registers with digest; client:alice rings her; after unregistering the call fails', async (t) => {
  const { d, client, app, sip } = await startWithDomain(t);
  const port = await freeUdpPort();
  const reg = await registerFrom(port, sip);
  assert.match(reg.messages, /WWW-Authenticate: Digest realm="switchboard".*algorithm=MD5/);
  assert.match(reg.messages, /WWW-Authenticate: Digest realm="switchboard".*algorithm=SHA-256/);
  assert.match(reg.messages, new RegExp(`SIP/2.0 200 OK[\\s\\S]*Contact: <sip:alice@127\\.0\\.0\\.1:${port}>;expires=300`));

  // The phone (sipp as callee on the port it registered from) answers the call.
  const phone = await startSippUas({ xml: uasScenarios.answer, port });
  const call = await client.calls.create({
    to: 'client:alice', from: 'client:operator',
    twiml: '<Response><Say>Hello alice</Say><Hangup/></Response>', statusCallback: app.url('/status'),
  });
  const done = await app.waitFor(statusOf(call.sid, 'completed'));
  assert.equal(done.params.To, 'client:alice');
  assert.equal(done.params.SipResponseCode, '200');
  const answered = await phone.done;
  assert.equal(answered.code, 0, `phone failed:\n${answered.stdout}\n${answered.messages}`);
  assert.match(answered.messages, new RegExp(`INVITE sip:alice@127\\.0\\.0\\.1:${port} SIP/2.0`));
  assert.match(answered.messages, /From: <sip:operator@/);

  // Unregister (Expires: 0): the same call now fails, with a notification saying why.
  await registerFrom(port, sip, { expires: 0 });
  const again = await client.calls.create({
    to: 'client:alice', from: 'client:operator', twiml: '<Response><Hangup/></Response>',
    statusCallback: app.url('/status'),
  });
  await app.waitFor(statusOf(again.sid, 'failed'));
  const notes = await client.calls(again.sid).notifications.list();
  assert.ok(notes.some((n) => /alice is not registered/.test(n.messageText)), JSON.stringify(notes));
  assert.equal((await client.calls(again.sid).fetch()).status, 'failed');
  assert.ok(d);
});

test('two registrations ring at once: the first to answer wins, the other gets CANCEL', async (t) => {
  const { client, app, sip } = await startWithDomain(t);
  const desk = await freeUdpPort();
  const mobile = await freeUdpPort();
  await registerFrom(desk, sip);
  await registerFrom(mobile, sip);
  const deskPhone = await startSippUas({ xml: uasScenarios.ringUntilCancel, port: desk });
  const mobilePhone = await startSippUas({ xml: uasScenarios.answer, port: mobile });
  const call = await client.calls.create({
    to: 'client:alice', from: 'client:operator', twiml: '<Response><Pause length="1"/><Hangup/></Response>',
    statusCallback: app.url('/status'),
  });
  await app.waitFor(statusOf(call.sid, 'completed'));
  const m = await mobilePhone.done;
  assert.equal(m.code, 0, `answering phone:\n${m.stdout}\n${m.messages}`);
  const k = await deskPhone.done;
  assert.equal(k.code, 0, `ringing phone:\n${k.stdout}\n${k.messages}`);
  assert.match(k.messages, /^CANCEL /m);
  // Exactly one completed callback: the losing branch is not the call's business.
  assert.equal(app.seen.filter(statusOf(call.sid, 'completed')).length, 1);
});

test('a message to client:alice reaches each of her registered devices; one offline device does not fail it', async (t) => {
  const { client, sip } = await startWithDomain(t);
  await client.incomingPhoneNumbers.create({ phoneNumber: '+15005550006' });
  const phone = (status) => `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone">
  <recv request="MESSAGE"/>
  <send><![CDATA[
      SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]p[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
</scenario>`;
  const desk = await freeUdpPort();
  const mobile = await freeUdpPort();
  await registerFrom(desk, sip);
  await registerFrom(mobile, sip);
  const deskPhone = await startSippUas({ xml: phone('200 OK'), port: desk, timeoutMs: 20000 });
  const mobilePhone = await startSippUas({ xml: phone('480 Temporarily Unavailable'), port: mobile, timeoutMs: 20000 });
  const m = await client.messages.create({ to: 'client:alice', from: '+15005550006', body: 'to every device' });
  for (const p of [await deskPhone.done, await mobilePhone.done]) {
    assert.equal(p.code, 0, `phone:\n${p.stdout}\n${p.messages}`);
    assert.match(p.messages, /to every device/);
  }
  let row;
  for (let i = 0; i < 100; ++i) {
    row = await client.messages(m.sid).fetch();
    if (row.status === 'delivered') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(row.status, 'delivered');
});

test('<Dial><Client>alice</Client></Dial> from a caller rings her phone and bridges them', async (t) => {
  const { d, app, sip } = await startWithDomain(t);
  const port = await freeUdpPort();
  await registerFrom(port, sip);
  const phone = await startSippUas({ xml: uasScenarios.answer, port });
  app.routes['/dial'] = () => '<Response><Dial callerId="client:reception" action="/after">' +
    '<Client statusCallback="/status"><Identity>alice</Identity><Parameter name="ticket" value="42"/>' +
    '<Parameter name="X-Lang" value="fr"/></Client></Dial></Response>';
  app.routes['/after'] = () => '<Response><Hangup/></Response>';
  const number = await d.request('POST', d.accountPath('IncomingPhoneNumbers.json'), {
    body: { PhoneNumber: '+15005550006', VoiceUrl: app.url('/dial') },
  });
  assert.equal(number.status, 201, number.text);
  // The caller hangs up after a second of talk: the bridge ends, alice gets BYE.
  const caller = await runSipp({ sipPort: sip, service: '+15005550006', steps: [{ answer: true }, { pause: 1000 }, { bye: true }] });
  assert.equal(caller.code, 0, caller.messages);
  const rang = await phone.done;
  assert.equal(rang.code, 0, `phone failed:\n${rang.stdout}\n${rang.messages}`);
  assert.match(rang.messages, new RegExp(`INVITE sip:alice@127\\.0\\.0\\.1:${port} SIP/2.0`));
  assert.match(rang.messages, /From: <sip:reception@/);
  assert.match(rang.messages, /^X-ticket: 42\r?$/m, 'a <Parameter> goes to the phone as an X- header');
  assert.match(rang.messages, /^X-Lang: fr\r?$/m);
  const after = await app.waitFor((e) => e.path === '/after');
  assert.equal(after.params.DialCallStatus, 'completed');
  assert.equal(after.params.DialBridged, 'true');
  const done = await app.waitFor((e) => e.path === '/status' && e.params.CallSid === after.params.DialCallSid &&
    e.params.CallStatus === 'completed');
  assert.equal(done.params.To, 'client:alice');
  assert.equal(done.params.From, 'client:reception');
  assert.equal(done.params.ParentCallSid, after.params.CallSid);
});

test('a wrong password gets 403; deleting the credential list logs alice out', async (t) => {
  const { client, app, list, sip } = await startWithDomain(t);
  const port = await freeUdpPort();
  const wrong = await registerFrom(port, sip, { password: 'Wrong123Password', expect: 403 });
  assert.match(wrong.messages, /SIP\/2.0 403 Wrong credentials/);
  await registerFrom(port, sip);

  await client.sip.credentialLists(list.sid).remove();
  const call = await client.calls.create({
    to: 'client:alice', from: 'client:operator', twiml: '<Response><Hangup/></Response>',
    statusCallback: app.url('/status'),
  });
  await app.waitFor(statusOf(call.sid, 'failed'));
  // alice is not a user any more: her next REGISTER is refused.
  await registerFrom(port, sip, { expect: 403 });
});

test('a REGISTER flood from one address runs out of budget (503 with Retry-After)', async (t) => {
  const { sip } = await startWithDomain(t);
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => sock.close());
  const statuses = [];
  sock.on('message', (m) => {
    const first = m.toString().split('\r\n')[0];
    statuses.push(Number(first.split(' ')[1]));
  });
  const N = 200;
  for (let i = 0; i < N; ++i) {
    const msg = [`REGISTER sip:${DOMAIN} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${sock.address().port};branch=z9hG4bKflood${i}`,
      `From: <sip:alice@${DOMAIN}>;tag=f${i}`, `To: <sip:alice@${DOMAIN}>`, `Call-ID: flood-${i}`,
      'CSeq: 1 REGISTER', `Contact: <sip:alice@127.0.0.1:${sock.address().port}>`, 'Max-Forwards: 70',
      'Content-Length: 0', '', ''].join('\r\n');
    sock.send(msg, sip, '127.0.0.1');
  }
  const until = Date.now() + 10000;
  while (statuses.length < N && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(statuses.length, N, 'every REGISTER answered');
  const limited = statuses.filter((s) => s === 503).length;
  const challenged = statuses.filter((s) => s === 401).length;
  assert.ok(challenged >= 40 && challenged < 80, `401s: ${challenged}`);
  assert.equal(limited + challenged, N);
});

test('alice calls in through the domain: its VoiceUrl runs with From=sip:alice@domain', async (t) => {
  const { app, domain, sip } = await startWithDomain(t);
  app.routes['/domain'] = () => '<Response><Say>Welcome</Say><Hangup/></Response>';
  const invite = (cseq, auth) => `
  <send retrans="500"><![CDATA[
      INVITE sip:bob@${DOMAIN} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:alice@${DOMAIN}>;tag=[pid]c[call_number]
      To: <sip:bob@${DOMAIN}>
      Call-ID: [call_id]
      CSeq: ${cseq} INVITE
      Contact: <sip:alice@[local_ip]:[local_port]>${auth ? `\n      ${auth}` : ''}
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

${sdp()}
  ]]></send>`;
  const ack = (cseq) => `
  <send><![CDATA[
      ACK sip:bob@${DOMAIN} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:alice@${DOMAIN}>;tag=[pid]c[call_number]
      To: <sip:bob@${DOMAIN}>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>`;
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="domain call">${invite(1, '')}
  <recv response="100" optional="true"/>
  <recv response="401" auth="true"/>${ack(1)}${invite(2, '[authentication username=alice password=' + PASSWORD + ']')}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>${ack(2)}
  <recv request="BYE"/>${OK_TO_LAST}
</scenario>
`;
  const r = await sipp(xml, sip, await freeUdpPort());
  assert.equal(r.code, 0, `domain call failed:\n${r.out}\n${r.messages}`);
  const hook = await app.waitFor((e) => e.path === '/domain');
  assert.ok(hook.valid, 'signed');
  assert.equal(hook.params.From, `sip:alice@${DOMAIN}`);
  assert.equal(hook.params.To, `sip:bob@${DOMAIN}`);
  assert.equal(hook.params.SipDomain, DOMAIN);
  assert.equal(hook.params.SipDomainSid, domain.sid);
  assert.equal(hook.params.Direction, 'inbound');
});

test('alice texts a number through the domain: the SmsUrl hears client:alice; the reply and messages.create reach her phone', async (t) => {
  const { d, client, app, sip } = await startWithDomain(t);
  const NUMBER = '+15005550006';
  app.routes['/sms'] = () => '<Response><Message>hi alice</Message></Response>';
  await client.incomingPhoneNumbers.create({ phoneNumber: NUMBER, smsUrl: app.url('/sms') });
  const port = await freeUdpPort();
  await registerFrom(port, sip);
  // Her phone receives both messages (each MESSAGE is one sipp "call"), answering 200.
  const phone = await startSippUas({ port, calls: 2, timeoutMs: 20000, xml: `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone">
  <recv request="MESSAGE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]p[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
</scenario>` });
  const message = (cseq, auth) => `
  <send retrans="500"><![CDATA[
      MESSAGE sip:${NUMBER}@${DOMAIN} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:alice@${DOMAIN}>;tag=[pid]m[call_number]
      To: <sip:${NUMBER}@${DOMAIN}>
      Call-ID: [call_id]
      CSeq: ${cseq} MESSAGE${auth ? `\n      ${auth}` : ''}
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: [len]

hello from alice]]></send>`;
  const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="text">${message(1, '')}
  <recv response="401" auth="true"/>${message(2, `[authentication username=alice password=${PASSWORD}]`)}
  <recv response="202"/>
</scenario>
`;
  const sent = await sipp(xml, sip, await freeUdpPort());
  assert.equal(sent.code, 0, `MESSAGE failed:\n${sent.out}\n${sent.messages}`);
  const hook = await app.waitFor((e) => e.path === '/sms');
  assert.ok(hook.valid, 'signed');
  assert.equal(hook.params.From, 'client:alice');
  assert.equal(hook.params.To, NUMBER);
  assert.equal(hook.params.Body, 'hello from alice');
  // The reply has gone to her registration; now one from the API.
  const m = await client.messages.create({ to: 'client:alice', from: NUMBER, body: 'second' });
  const got = await phone.done;
  assert.equal(got.code, 0, `phone failed:\n${got.stdout}\n${got.messages}`);
  assert.match(got.messages, new RegExp(`MESSAGE sip:alice@127\\.0\\.0\\.1:${port} SIP/2.0[\\s\\S]*hi alice`));
  assert.match(got.messages, /second/);
  for (let i = 0; i < 100 && (await client.messages(m.sid).fetch()).status !== 'delivered'; ++i) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await client.messages(m.sid).fetch()).status, 'delivered');
  // A wrong password is refused like a call's.
  const wrong = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="text">${message(1, '')}
  <recv response="401" auth="true"/>${message(2, '[authentication username=alice password=nope]')}
  <recv response="403"/>
</scenario>
`;
  assert.equal((await sipp(wrong, sip, await freeUdpPort())).code, 0);
  assert.ok(d);
});

test('the SIP API refuses bad input with clear errors and keeps accounts apart', async (t) => {
  const { d, client, list, domain } = await startWithDomain(t);
  const post = (p, body) => d.request('POST', d.accountPath(p), { body });
  let r = await post(`SIP/CredentialLists/${list.sid}/Credentials.json`, { Username: 'bob', Password: 'short' });
  assert.equal(r.status, 400);
  assert.match(r.json.message, /12 to 128 characters/);
  r = await post(`SIP/CredentialLists/${list.sid}/Credentials.json`, { Username: 'bo b', Password: PASSWORD });
  assert.match(r.json.message, /Username may hold only/);
  r = await post(`SIP/CredentialLists/${list.sid}/Credentials.json`, { Username: 'alice', Password: PASSWORD });
  assert.equal(r.status, 400);
  assert.match(r.json.message, /already in this credential list/);
  r = await post('SIP/Domains.json', { DomainName: DOMAIN.toUpperCase() });
  assert.match(r.json.message, /already in use/);
  r = await post('SIP/Domains.json', { DomainName: '10.0.0.1' });
  assert.match(r.json.message, /not a valid host name/);
  r = await post('SIP/Domains.json', { DomainName: 'x.example.test', VoiceUrl: 'not a url' });
  assert.equal(r.json.code, 21402);
  // The domain's own media encryption (an extension): checked, shown, reset to media.srtp.
  r = await post(`SIP/Domains/${domain.sid}.json`, { Srtp: 'sometimes' });
  assert.equal(r.status, 400);
  assert.match(r.json.message, /Srtp must be off, optional, required or default/);
  r = await post(`SIP/Domains/${domain.sid}.json`, { Srtp: 'required' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.srtp, 'required');
  r = await post(`SIP/Domains/${domain.sid}.json`, { Srtp: 'default' });
  assert.equal(r.json.srtp, null);
  r = await post(`SIP/Domains/${domain.sid}/Auth/Calls/CredentialListMappings.json`,
    { CredentialListSid: 'CL00000000000000000000000000000000' });
  assert.match(r.json.message, /is not a credential list of this account/);
  r = await post(`SIP/Domains/${domain.sid}/Auth/Calls/CredentialListMappings.json`, { CredentialListSid: list.sid });
  assert.match(r.json.message, /already mapped/);
  // Passwords are never shown.
  const creds = await client.sip.credentialLists(list.sid).credentials.list();
  assert.equal(creds.length, 1);
  assert.equal(creds[0].username, 'alice');
  assert.ok(!JSON.stringify(creds[0].toJSON()).includes(PASSWORD));
  const fetched = await client.sip.domains(domain.sid).fetch();
  assert.equal(fetched.authType, 'CREDENTIAL_LIST');
  assert.equal(fetched.sipRegistration, true);
  const mappings = await client.sip.domains(domain.sid).auth.registrations.credentialListMappings.list();
  assert.deepEqual(mappings.map((m) => m.sid), [list.sid]);

  // A subaccount sees none of it, and cannot use the parent's list.
  const sub = await client.api.v2010.accounts.create({ friendlyName: 'tenant' });
  const subClient = twilioClient(d, sub.sid, sub.authToken);
  assert.equal((await subClient.sip.domains.list()).length, 0);
  await assert.rejects(subClient.sip.credentialLists(list.sid).fetch(), (e) => e.status === 404);
  const subDomain = await subClient.sip.domains.create({ domainName: 'tenant.example.test' });
  await assert.rejects(
    subClient.sip.domains(subDomain.sid).auth.calls.credentialListMappings.create({ credentialListSid: list.sid }),
    (e) => e.status === 400);
  // Deleting a domain frees its name.
  await client.sip.domains(domain.sid).remove();
  const again = await client.sip.domains.create({ domainName: DOMAIN });
  assert.equal(again.domainName, DOMAIN);
});
