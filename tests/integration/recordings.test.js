'use strict';
// The Recordings resource through the official `twilio` client, and the recording media over
// plain HTTP. No API call makes a recording yet, so the test seeds rows into the daemon's
// SQLite file (with the daemon stopped) next to real WAV files made by sox, then restarts it.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { API, startDaemon, makeDataDir, removeDataDir, twilioClient, twilioLib } = require('./lib/daemon');

const twilio = twilioLib();

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 30000 }).trim();
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error(`the ${cmd} command is not installed (scripts/install-deps)`);
    throw err;
  }
}

const sid = (prefix) => prefix + crypto.randomBytes(16).toString('hex');
const unix = (iso) => Math.floor(Date.parse(iso) / 1000);
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

// A mono 8 kHz 16-bit WAV of a tone, as the recorder writes them.
function makeWav(file, seconds, freq) {
  run('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', file, 'synth', String(seconds), 'sine', String(freq)]);
  return fs.readFileSync(file);
}

// Awaits `promise`, which must reject with a twilio RestException 404 / 20404.
async function assertNotFound(promise) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof twilio.RestException, `expected a RestException, got ${err && err.stack}`);
    assert.equal(err.status, 404, err.message);
    assert.equal(err.code, 20404, err.message);
    return true;
  });
}

describe('recordings', () => {
  let dataDir;
  let daemon;
  let client;
  const callA = sid('CA');
  const callB = sid('CA');
  const other = { sid: sid('AC'), token: crypto.randomBytes(16).toString('hex') };
  const recs = {};

  before(async () => {
    dataDir = makeDataDir();
    // A first start creates the data file at the current schema; then seed it while stopped.
    const first = await startDaemon(null, { dataDir });
    const accountSid = first.accountSid;
    assert.equal(await first.stop(), 0, first.stderr);

    const mediaDir = path.join(dataDir, 'recordings');
    fs.mkdirSync(mediaDir, { recursive: true });
    const seed = [
      ['old', accountSid, callA, '2026-11-30T23:00:00Z', 2, 440],
      ['first', accountSid, callA, '2026-12-01T09:00:00Z', 1, 660],
      ['second', accountSid, callB, '2026-12-01T10:00:00Z', 3, 880],
      ['theirs', other.sid, callA, '2026-12-01T09:00:00Z', 1, 330],
    ];
    const sql = [
      `INSERT INTO accounts (sid, auth_token, date_created, date_updated) VALUES (${q(other.sid)}, ${q(other.token)}, 1, 1);`,
    ];
    for (const [name, account, call, created, seconds, freq] of seed) {
      const rsid = sid('RE');
      const file = path.join(mediaDir, `${rsid}.wav`);
      const bytes = makeWav(file, seconds, freq);
      const t = unix(created);
      recs[name] = { sid: rsid, account, call, file, bytes, created: t, seconds };
      sql.push(
        'INSERT INTO recordings (sid, account_sid, call_sid, status, source, channels, duration,' +
          ' start_time, media_path, error_code, date_created, date_updated) VALUES (' +
          [q(rsid), q(account), q(call), q('completed'), q('RecordVerb'), 1, seconds, t - seconds, q(file), 0, t, t].join(', ') +
          ');',
      );
    }
    run('sqlite3', [path.join(dataDir, 'switchboard.db'), sql.join('\n')]);

    daemon = await startDaemon(null, { dataDir });
    client = twilioClient(daemon);
  });

  after(async () => {
    if (daemon) await daemon.cleanup();
    if (dataDir) removeDataDir(dataDir);
  });

  it('lists newest first with the Twilio fields', async () => {
    const listed = await client.recordings.list();
    assert.deepEqual(
      listed.map((r) => r.sid),
      [recs.second.sid, recs.first.sid, recs.old.sid],
    );
    const r = listed[0];
    assert.equal(r.accountSid, daemon.accountSid);
    assert.equal(r.callSid, callB);
    assert.equal(r.apiVersion, '2010-04-01');
    assert.equal(r.conferenceSid, null);
    assert.equal(r.status, 'completed');
    assert.equal(r.source, 'RecordVerb');
    assert.equal(r.channels, 1);
    assert.equal(r.duration, '3');
    assert.equal(r.price, null);
    assert.equal(r.priceUnit, 'USD');
    assert.equal(r.errorCode, null);
    assert.equal(r.encryptionDetails, null);
    assert.equal(r.dateCreated.toISOString(), '2026-12-01T10:00:00.000Z');
    assert.equal(r.startTime.toISOString(), '2026-12-01T09:59:57.000Z');
    assert.equal(r.uri, `${API}/Accounts/${daemon.accountSid}/Recordings/${r.sid}.json`);
    assert.equal(r.mediaUrl, `${daemon.baseUrl}${API}/Accounts/${daemon.accountSid}/Recordings/${r.sid}`);
    assert.equal(r.subresourceUris.transcriptions, `${API}/Accounts/${daemon.accountSid}/Recordings/${r.sid}/Transcriptions.json`);
  });

  it('filters by call and creation date, and pages', async () => {
    const byCall = await client.recordings.list({ callSid: callA });
    assert.deepEqual(byCall.map((r) => r.sid), [recs.first.sid, recs.old.sid]);
    // The client sends these as date-times (DateCreated>=2026-12-01T09:00:00Z).
    const since = await client.recordings.list({ dateCreatedAfter: new Date('2026-12-01T09:00:00Z') });
    assert.deepEqual(since.map((r) => r.sid), [recs.second.sid, recs.first.sid]);
    const until = await client.recordings.list({ dateCreatedBefore: new Date('2026-12-01T09:00:00Z') });
    assert.deepEqual(until.map((r) => r.sid), [recs.first.sid, recs.old.sid]);
    const onDay = await client.recordings.list({ dateCreated: new Date('2026-11-30T12:00:00Z') });
    assert.deepEqual(onDay.map((r) => r.sid), [recs.old.sid]);
    // One record a page: the client follows next_page_uri through all three.
    const paged = await client.recordings.list({ pageSize: 1 });
    assert.deepEqual(paged.map((r) => r.sid), [recs.second.sid, recs.first.sid, recs.old.sid]);
  });

  it("fetches, and lists one call's recordings", async () => {
    const fetched = await client.recordings(recs.first.sid).fetch();
    assert.equal(fetched.sid, recs.first.sid);
    assert.equal(fetched.callSid, callA);
    assert.equal(fetched.duration, '1');
    const ofCall = await client.calls(callA).recordings.list();
    assert.deepEqual(ofCall.map((r) => r.sid), [recs.first.sid, recs.old.sid]);
    const viaCall = await client.calls(callA).recordings(recs.old.sid).fetch();
    assert.equal(viaCall.sid, recs.old.sid);
    await assertNotFound(client.calls(callB).recordings(recs.old.sid).fetch());
  });

  it('serves the WAV without credentials; the JSON needs them', async () => {
    const r = await client.recordings(recs.first.sid).fetch();
    for (const url of [r.mediaUrl, `${r.mediaUrl}.wav`]) {
      const res = await fetch(url, { signal: AbortSignal.timeout(15000) });
      assert.equal(res.status, 200, url);
      assert.equal(res.headers.get('content-type'), 'audio/x-wav');
      const body = Buffer.from(await res.arrayBuffer());
      assert.ok(body.equals(recs.first.bytes), `${url}: ${body.length} bytes, file ${recs.first.bytes.length}`);
    }
    const head = await fetch(`${r.mediaUrl}.wav`, { method: 'HEAD', signal: AbortSignal.timeout(15000) });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), recs.first.bytes.length);
    const mp3 = await daemon.request('GET', new URL(`${r.mediaUrl}.mp3`).pathname, { auth: false });
    assert.equal(mp3.status, 406);
    assert.match(mp3.json.message, /MP3/);

    const json = await daemon.request('GET', r.uri, { auth: false });
    assert.equal(json.status, 401);
    assert.equal(json.json.code, 20003);
    const list = await daemon.request('GET', `${API}/Accounts/${daemon.accountSid}/Recordings.json`, { auth: false });
    assert.equal(list.status, 401);
  });

  it("keeps other accounts' recordings out of reach", async () => {
    const theirs = twilioClient(daemon, other.sid, other.token);
    const listed = await theirs.recordings.list();
    assert.deepEqual(listed.map((r) => r.sid), [recs.theirs.sid]);
    await assertNotFound(client.recordings(recs.theirs.sid).fetch());
    await assertNotFound(client.recordings(recs.theirs.sid).remove());
    await assertNotFound(theirs.recordings(recs.first.sid).fetch());
    assert.ok(fs.existsSync(recs.theirs.file));
    // Media under the wrong account's path is not found either.
    const wrongPath = await daemon.request('GET', `${API}/Accounts/${daemon.accountSid}/Recordings/${recs.theirs.sid}.wav`, { auth: false });
    assert.equal(wrongPath.status, 404);
  });

  it('with EnforceMediaAuth on, the WAV needs credentials that reach the account', async () => {
    const settings = `/admin/v1/Accounts/${daemon.accountSid}.json`;
    const on = await daemon.request('POST', settings, { body: { EnforceMediaAuth: 'true' } });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.json.enforce_media_auth, true);
    const media = `${API}/Accounts/${daemon.accountSid}/Recordings/${recs.first.sid}.wav`;
    const anonymous = await daemon.request('GET', media, { auth: false });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.json.code, 20003);
    assert.match(anonymous.headers.get('www-authenticate'), /^Basic /);
    const owner = await fetch(daemon.baseUrl + media, {
      headers: { authorization: daemon.auth() },
      signal: AbortSignal.timeout(15000),
    });
    assert.equal(owner.status, 200);
    assert.ok(Buffer.from(await owner.arrayBuffer()).equals(recs.first.bytes));
    const stranger = await daemon.request('GET', media, { auth: daemon.auth(other.sid, other.token) });
    assert.equal(stranger.status, 404, 'another account cannot tell the recording exists');
    const wrong = await daemon.request('GET', media, { auth: daemon.auth(daemon.accountSid, 'not-the-token') });
    assert.equal(wrong.status, 401);
    // Another account's setting is its own: theirs is still served without credentials.
    const theirs = await daemon.request('GET', `${API}/Accounts/${other.sid}/Recordings/${recs.theirs.sid}.wav`, { auth: false });
    assert.equal(theirs.status, 200);
    // Only an operator changes it, and only for its own accounts.
    const byOther = await daemon.request('POST', settings, { body: { EnforceMediaAuth: 'false' }, auth: daemon.auth(other.sid, other.token) });
    assert.equal(byOther.status, 404);
    const off = await daemon.request('POST', settings, { body: { EnforceMediaAuth: 'false' } });
    assert.equal(off.status, 200);
    assert.equal((await daemon.request('GET', media, { auth: false })).status, 200);
    const bad = await daemon.request('POST', settings, { body: { EnforceMediaAuth: 'yes' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /EnforceMediaAuth must be true or false/);
  });

  it('remove deletes the row and the WAV file', async () => {
    assert.equal(await client.recordings(recs.old.sid).remove(), true);
    assert.equal(fs.existsSync(recs.old.file), false, 'the WAV file is gone');
    await assertNotFound(client.recordings(recs.old.sid).fetch());
    const media = await daemon.request('GET', `${API}/Accounts/${daemon.accountSid}/Recordings/${recs.old.sid}.wav`, { auth: false });
    assert.equal(media.status, 404);
    const left = await client.recordings.list();
    assert.deepEqual(left.map((r) => r.sid), [recs.second.sid, recs.first.sid]);
    // Through the call's path too.
    assert.equal(await client.calls(callB).recordings(recs.second.sid).remove(), true);
    assert.equal(fs.existsSync(recs.second.file), false);
    assert.deepEqual((await client.calls(callB).recordings.list()).map((r) => r.sid), []);
  });
});
