'use strict';
// Durability: data survives a graceful restart unchanged; every acknowledged write survives a
// SIGKILL in the middle of a burst of writes; a graceful stop lets in-flight requests finish.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const {
  API,
  startDaemon,
  makeDataDir,
  removeDataDir,
  connectRaw,
  readUntilClose,
  parseRawResponse,
} = require('./lib/daemon');

function ownedDataDir(t) {
  const dir = makeDataDir();
  t.after(() => removeDataDir(dir));
  return dir;
}

function sqlite(dbPath, sql) {
  try {
    return execFileSync('sqlite3', [dbPath, sql], { encoding: 'utf8', timeout: 30000 }).trim();
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('the sqlite3 command-line tool is not installed');
    throw err;
  }
}

function assertIntegrity(dataDir) {
  const db = path.join(dataDir, 'switchboard.db');
  assert.ok(fs.existsSync(db), `${db} exists`);
  assert.equal(sqlite(db, 'PRAGMA integrity_check'), 'ok');
  assert.equal(sqlite(db, 'PRAGMA foreign_key_check'), '', 'no dangling foreign keys');
}

async function ok(daemon, method, pathname, opts) {
  const res = await daemon.request(method, pathname, opts);
  const expected = method === 'POST' && !/\/Accounts\/AC[0-9a-f]{32}(\.json|\/\w+\/\w+\.json)$/.test(pathname) ? 201 : 200;
  assert.equal(res.status, expected, `${method} ${pathname}: ${res.status} ${res.text}`);
  return res.json;
}

// Everything the REST API shows about the data set built by buildDataSet, keyed by request.
async function snapshot(daemon, data) {
  const out = {};
  const get = async (label, pathname, auth) => {
    const res = await daemon.request('GET', pathname, { auth });
    out[label] = { status: res.status, body: res.json };
  };
  await get('accounts', `${API}/Accounts.json?PageSize=1000`);
  for (const acct of data.accounts) {
    await get(`account ${acct.sid}`, daemon.accountPath(null, acct.sid));
    await get(`numbers ${acct.sid}`, daemon.accountPath('IncomingPhoneNumbers.json?PageSize=1000', acct.sid));
    await get(`apps ${acct.sid}`, daemon.accountPath('Applications.json?PageSize=1000', acct.sid));
  }
  for (const n of data.numbers) {
    await get(`number ${n.sid}`, daemon.accountPath(`IncomingPhoneNumbers/${n.sid}.json`, n.account_sid));
  }
  for (const a of data.applications) {
    await get(`app ${a.sid}`, daemon.accountPath(`Applications/${a.sid}.json`, a.account_sid));
  }
  for (const n of data.deleted) {
    await get(`deleted ${n.sid}`, daemon.accountPath(`IncomingPhoneNumbers/${n.sid}.json`, n.account_sid));
  }
  // A subaccount's view with its own credentials.
  const sub = data.subActive;
  await get('sub view accounts', `${API}/Accounts.json`, daemon.auth(sub.sid, sub.auth_token));
  await get('sub view numbers', daemon.accountPath('IncomingPhoneNumbers.json', sub.sid),
    daemon.auth(sub.sid, sub.auth_token));
  return out;
}

async function buildDataSet(d) {
  const main = d.accountSid;
  const data = { accounts: [], numbers: [], applications: [], deleted: [] };
  data.accounts.push(await ok(d, 'GET', d.accountPath(null)));

  const app1 = await ok(d, 'POST', d.accountPath('Applications.json'), {
    body: { FriendlyName: 'Main IVR', VoiceUrl: 'https://example.com/ivr', VoiceMethod: 'GET' },
  });
  const app2 = await ok(d, 'POST', d.accountPath('Applications.json'), {
    body: {
      FriendlyName: 'Ünïcødé app ☎',
      VoiceUrl: 'https://example.com/a?x=1&y=2#rt=2000',
      VoiceFallbackUrl: 'https://example.com/fallback',
      StatusCallback: 'https://example.com/status',
      StatusCallbackMethod: 'GET',
      SmsUrl: 'https://example.com/sms',
    },
  });
  data.applications.push(app1, app2);

  for (let i = 0; i < 5; i += 1) {
    data.numbers.push(await ok(d, 'POST', d.accountPath('IncomingPhoneNumbers.json'), {
      body: {
        PhoneNumber: `+1202555010${i}`,
        FriendlyName: `main ${i}`,
        VoiceUrl: `https://example.com/voice/${i}`,
        VoiceMethod: i % 2 ? 'GET' : 'POST',
      },
    }));
  }
  data.numbers.push(await ok(d, 'POST', d.accountPath('IncomingPhoneNumbers.json'), {
    body: { PhoneNumber: 'support', VoiceApplicationSid: app1.sid },
  }));
  // An update and a delete must persist too.
  const updated = await ok(d, 'POST', d.accountPath(`IncomingPhoneNumbers/${data.numbers[1].sid}.json`), {
    body: { FriendlyName: 'updated', VoiceUrl: 'https://example.com/updated', VoiceApplicationSid: app2.sid },
  });
  data.numbers[1] = updated;
  const doomed = data.numbers.pop();
  const del = await d.request('DELETE', d.accountPath(`IncomingPhoneNumbers/${doomed.sid}.json`));
  assert.equal(del.status, 204);
  data.deleted.push(doomed);

  const subActive = await ok(d, 'POST', `${API}/Accounts.json`, { body: { FriendlyName: 'Tenant active' } });
  const subClosed = await ok(d, 'POST', `${API}/Accounts.json`, { body: { FriendlyName: 'Tenant closed' } });
  const subSuspended = await ok(d, 'POST', `${API}/Accounts.json`, { body: { FriendlyName: 'Tenant suspended' } });
  const subAuth = d.auth(subActive.sid, subActive.auth_token);
  data.numbers.push(await ok(d, 'POST', d.accountPath('IncomingPhoneNumbers.json', subActive.sid), {
    auth: subAuth,
    body: { PhoneNumber: '+12025550199', FriendlyName: 'tenant line' },
  }));
  const subApp = await ok(d, 'POST', d.accountPath('Applications.json', subActive.sid), {
    auth: subAuth,
    body: { FriendlyName: 'tenant app', VoiceUrl: 'https://tenant.example.com/voice' },
  });
  data.applications.push(subApp);
  await ok(d, 'POST', d.accountPath(null, subClosed.sid), { body: { Status: 'closed' } });
  await ok(d, 'POST', d.accountPath(null, subSuspended.sid), { body: { Status: 'suspended' } });
  data.accounts.push(subActive, subClosed, subSuspended);
  data.subActive = subActive;
  data.subClosed = subClosed;
  assert.equal(data.accounts[0].sid, main);
  return data;
}

test('a graceful restart keeps every record unchanged', async (t) => {
  const dataDir = ownedDataDir(t);
  const d1 = await startDaemon(t, { dataDir });
  const data = await buildDataSet(d1);
  const before = await snapshot(d1, data);
  assert.equal(before[`deleted ${data.deleted[0].sid}`].status, 404);
  assert.equal(before.accounts.body.accounts.length, 4);
  assert.equal(before[`numbers ${d1.accountSid}`].body.incoming_phone_numbers.length, 5);

  assert.equal(await d1.stop('SIGTERM'), 0, `exit code after SIGTERM; stderr:\n${d1.stderr}`);

  const d2 = await startDaemon(t, { dataDir });
  const after = await snapshot(d2, data);
  assert.deepStrictEqual(after, before);

  // The subaccount tokens persisted; the closed one still cannot authenticate.
  const closed = await d2.request('GET', d2.accountPath(null, data.subClosed.sid), {
    auth: d2.auth(data.subClosed.sid, data.subClosed.auth_token),
  });
  assert.equal(closed.status, 401);
  assert.equal(closed.json.code, 20003);

  // Uniqueness of phone numbers persisted; new writes get new SIDs.
  const dup = await d2.request('POST', d2.accountPath('IncomingPhoneNumbers.json'), {
    body: { PhoneNumber: '+12025550199' },
  });
  assert.equal(dup.status, 400);
  assert.equal(dup.json.code, 21422);
  const fresh = await ok(d2, 'POST', d2.accountPath('IncomingPhoneNumbers.json'), {
    body: { PhoneNumber: '+12025550142' },
  });
  assert.ok(!data.numbers.some((n) => n.sid === fresh.sid));

  assert.equal(await d2.stop('SIGTERM'), 0, `exit code after SIGTERM; stderr:\n${d2.stderr}`);
  assertIntegrity(dataDir);
});

test('SIGINT also stops gracefully, and after a graceful stop the .db file alone holds the data',
  async (t) => {
    const dataDir = ownedDataDir(t);
    const d1 = await startDaemon(t, { dataDir });
    const data = await buildDataSet(d1);
    const before = await snapshot(d1, data);
    assert.equal(await d1.stop('SIGINT'), 0, `exit code after SIGINT; stderr:\n${d1.stderr}`);

    // Copy only switchboard.db: a stop that left data in the WAL would lose it here.
    const copyDir = ownedDataDir(t);
    fs.copyFileSync(path.join(dataDir, 'switchboard.db'), path.join(copyDir, 'switchboard.db'));
    const d2 = await startDaemon(t, { dataDir: copyDir });
    assert.deepStrictEqual(await snapshot(d2, data), before);
    assert.equal(await d2.stop('SIGTERM'), 0);
  });

test('restarting with a rotated main auth token: the new token works, the old one does not',
  async (t) => {
    const dataDir = ownedDataDir(t);
    const d1 = await startDaemon(t, { dataDir });
    const n = await ok(d1, 'POST', d1.accountPath('IncomingPhoneNumbers.json'), {
      body: { PhoneNumber: '+12025550777' },
    });
    const oldToken = d1.authToken;
    assert.equal(await d1.stop('SIGTERM'), 0);

    const newToken = 'rotated-token-' + 'x'.repeat(20);
    const d2 = await startDaemon(t, { dataDir, authToken: newToken });
    const withOld = await d2.request('GET', d2.accountPath(`IncomingPhoneNumbers/${n.sid}.json`), {
      auth: d2.auth(d2.accountSid, oldToken),
    });
    assert.equal(withOld.status, 401);
    const withNew = await d2.request('GET', d2.accountPath(`IncomingPhoneNumbers/${n.sid}.json`));
    assert.equal(withNew.status, 200);
    assert.deepStrictEqual(withNew.json, n);
    assert.equal(await d2.stop('SIGTERM'), 0);
  });

// Fires `total` number creates, `concurrency` at a time. `onAck(count)` runs after each 201.
// Stops issuing new requests after the first transport failure (the daemon went away) or
// once `stop()` is called. Bounded: at most `total` requests.
async function createBurst(daemon, { total, concurrency, prefix, onAck }) {
  const acked = [];
  const otherResponses = [];
  const failures = [];
  let next = 0;
  let stopped = false;
  const path_ = daemon.accountPath('IncomingPhoneNumbers.json');
  async function worker() {
    while (!stopped && next < total) {
      const i = next;
      next += 1;
      const phone = `${prefix}${String(i).padStart(4, '0')}`;
      try {
        const res = await daemon.request('POST', path_, {
          body: { PhoneNumber: phone, FriendlyName: `burst ${i}`, VoiceUrl: `https://example.com/${i}` },
          timeoutMs: 20000,
        });
        if (res.status === 201) {
          acked.push(res.json);
          if (onAck) onAck(acked.length);
        } else {
          otherResponses.push({ phone, status: res.status, body: res.text });
        }
      } catch (err) {
        failures.push({ phone, error: err.cause ? `${err.message}: ${err.cause.code || err.cause.message}` : err.message });
        // The daemon is going away: every worker stops after its current request.
        stopped = true;
      }
    }
  }
  const stop = () => {
    stopped = true;
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker));
  return { acked, otherResponses, failures, stop, done, issued: () => next };
}

async function listAllNumbers(daemon) {
  const res = await daemon.request('GET', daemon.accountPath('IncomingPhoneNumbers.json?PageSize=1000'));
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.next_page_uri, null, 'fewer than 1000 numbers');
  return res.json.incoming_phone_numbers;
}

test('SIGKILL in the middle of a write burst loses no acknowledged write', async (t) => {
  const dataDir = ownedDataDir(t);
  const d1 = await startDaemon(t, { dataDir });
  const KILL_AFTER = 150;
  let killed = false;
  const burst = await createBurst(d1, {
    total: 400,
    concurrency: 16,
    prefix: '+1303555',
    onAck: (count) => {
      if (count >= KILL_AFTER && !killed) {
        killed = true;
        // The burst goes on until requests fail, so the kill lands with writes in flight.
        d1.proc.kill('SIGKILL');
      }
    },
  });
  await burst.done;
  await d1.exited;
  assert.ok(killed, `the burst reached ${KILL_AFTER} acknowledgements (got ${burst.acked.length}; ` +
    `other responses ${JSON.stringify(burst.otherResponses.slice(0, 3))}; ` +
    `failures ${JSON.stringify(burst.failures.slice(0, 3))})`);
  assert.equal(d1.exitSignal, 'SIGKILL');
  assert.deepEqual(burst.otherResponses, [], 'every response before the kill was a 201');
  assert.ok(burst.acked.length >= KILL_AFTER);
  assert.ok(burst.issued() < 400, 'the kill happened while the burst was still running');
  assert.ok(burst.failures.length > 0, 'requests were in flight when the daemon died');

  const d2 = await startDaemon(t, { dataDir });
  const stored = await listAllNumbers(d2);
  const bySid = new Map(stored.map((n) => [n.sid, n]));
  t.diagnostic(`issued ${burst.issued()}, acknowledged ${burst.acked.length}, ` +
    `failed ${burst.failures.length}, stored after restart ${stored.length}; failure kinds ` +
    JSON.stringify([...new Set(burst.failures.map((f) => f.error))]));
  const missing = burst.acked.filter((n) => !bySid.has(n.sid));
  assert.deepEqual(missing.map((n) => n.phone_number), [], 'acknowledged numbers missing after SIGKILL');
  for (const n of burst.acked) assert.deepStrictEqual(bySid.get(n.sid), n);
  // Nothing beyond what was sent, and no phone number twice.
  assert.ok(stored.length <= burst.issued());
  assert.equal(new Set(stored.map((n) => n.phone_number)).size, stored.length);

  // The restarted daemon takes writes again.
  await ok(d2, 'POST', d2.accountPath('IncomingPhoneNumbers.json'), { body: { PhoneNumber: '+13035559999' } });
  assert.equal(await d2.stop('SIGTERM'), 0, `stderr:\n${d2.stderr}`);
  assertIntegrity(dataDir);
});

test('SIGTERM during a write burst: every request that got a response persisted', async (t) => {
  const dataDir = ownedDataDir(t);
  const d1 = await startDaemon(t, { dataDir });
  const TERM_AFTER = 100;
  let stopping;
  const burst = await createBurst(d1, {
    total: 400,
    concurrency: 16,
    prefix: '+1720555',
    onAck: (count) => {
      if (count >= TERM_AFTER && !stopping) {
        stopping = d1.stop('SIGTERM');
      }
    },
  });
  await burst.done;
  assert.ok(stopping, `the burst reached ${TERM_AFTER} acknowledgements (got ${burst.acked.length}; ` +
    `failures ${JSON.stringify(burst.failures.slice(0, 3))})`);
  assert.equal(await stopping, 0, `exit code after SIGTERM; stderr:\n${d1.stderr}`);
  // A draining daemon either completes a request or refuses the connection; it never answers
  // with an error because of the shutdown.
  assert.deepEqual(burst.otherResponses, [], 'responses other than 201 during the drain');
  assert.ok(burst.acked.length >= TERM_AFTER);

  const d2 = await startDaemon(t, { dataDir });
  const stored = await listAllNumbers(d2);
  const bySid = new Map(stored.map((n) => [n.sid, n]));
  t.diagnostic(`issued ${burst.issued()}, acknowledged ${burst.acked.length}, ` +
    `failed ${burst.failures.length}, stored after restart ${stored.length}; failure kinds ` +
    JSON.stringify([...new Set(burst.failures.map((f) => f.error))]));
  const missing = burst.acked.filter((n) => !bySid.has(n.sid));
  assert.deepEqual(missing.map((n) => n.phone_number), [], 'acknowledged numbers missing after SIGTERM');
  for (const n of burst.acked) assert.deepStrictEqual(bySid.get(n.sid), n);
  assert.equal(await d2.stop('SIGTERM'), 0, `exit after SIGTERM; stderr:\n${d2.stderr}`);
  assertIntegrity(dataDir);
});

test('SIGTERM waits for a request whose body is still arriving, and refuses new connections',
  async (t) => {
    const dataDir = ownedDataDir(t);
    const d1 = await startDaemon(t, { dataDir });
    const body = 'PhoneNumber=%2B14045550123&FriendlyName=slow+request&VoiceUrl=' +
      encodeURIComponent('https://example.com/slow');
    // Expect: 100-continue makes the daemon say when it has read the header, so the SIGTERM
    // below lands while this request is in flight, not while the connection is idle.
    const head =
      `POST ${d1.accountPath('IncomingPhoneNumbers.json')} HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${d1.port}\r\n` +
      `Authorization: ${d1.auth()}\r\n` +
      'Content-Type: application/x-www-form-urlencoded\r\n' +
      'Expect: 100-continue\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const socket = await connectRaw(d1.port);
    const response = readUntilClose(socket, 15000);
    let received = '';
    const continued = new Promise((resolve) => {
      const onData = (c) => {
        received += c.toString('latin1');
        if (received.includes('\r\n\r\n')) {
          socket.off('data', onData);
          resolve(received);
        }
      };
      socket.on('data', onData);
      setTimeout(() => resolve('timeout'), 10000).unref();
    });
    socket.write(head);
    const interim = await continued;
    assert.match(interim, /^HTTP\/1\.1 100 /, 'the daemon read the header and asked for the body');
    socket.write(body.slice(0, 10));

    // A second, idle keep-alive connection must not hold up the shutdown.
    const idle = await connectRaw(d1.port);
    const idleClosed = readUntilClose(idle, 15000);

    d1.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(d1.running, 'the daemon waits for the in-flight request');
    const refused = await connectRaw(d1.port, 3000).then(
      (s) => {
        s.destroy();
        return false;
      },
      (err) => err.code === 'ECONNREFUSED',
    );
    assert.ok(refused, 'new connections are refused while draining');

    socket.write(body.slice(10));
    const got = await response;
    // Skip the interim 100 Continue.
    const raw = got.data.toString('latin1');
    const res = parseRawResponse(Buffer.from(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'latin1'));
    assert.ok(res, `a response arrived (got ${JSON.stringify(got.data.toString('latin1'))}, ` +
      `error ${got.error && got.error.code})`);
    assert.equal(res.statusCode, 201, res.body);
    const created = JSON.parse(res.body);
    assert.equal(created.phone_number, '+14045550123');
    assert.equal((res.headers.connection || '').toLowerCase(), 'close');
    assert.ok(got.closed && !got.timedOut, 'the daemon closes the connection after the response');

    const idleResult = await idleClosed;
    assert.ok(idleResult.closed && !idleResult.timedOut, 'the idle connection is closed');
    assert.equal(idleResult.data.length, 0);

    const { code } = await d1.exited;
    assert.equal(code, 0, `stderr:\n${d1.stderr}`);

    const d2 = await startDaemon(t, { dataDir });
    const fetched = await d2.request('GET', d2.accountPath(`IncomingPhoneNumbers/${created.sid}.json`));
    assert.equal(fetched.status, 200);
    assert.deepStrictEqual(fetched.json, created);
    assert.equal(await d2.stop('SIGTERM'), 0);
  });
