'use strict';
// Auth token rotation as Twilio's Accounts API does it (accounts.twilio.com/v1, served under
// /accounts/v1), driven by the official `twilio` client: create a secondary token (both work),
// deploy it, promote it (the old primary stops working), delete a secondary; API keys may not;
// the secondary survives a restart.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, twilioClient } = require('./lib/daemon');

test('secondary auth token: create, both accepted, promote, delete; through the twilio client', async (t) => {
  let d = await startDaemon(t);
  const made = await d.request('POST', '/2010-04-01/Accounts.json', { body: { FriendlyName: 'rotating' } });
  assert.equal(made.status, 201, made.text);
  const sid = made.json.sid;
  const primary = made.json.auth_token;
  const works = async (token) => (await d.request('GET', d.accountPath(null, sid), { auth: d.auth(sid, token) })).status;

  const client = twilioClient(d, sid, primary);
  const first = await client.accounts.v1.secondaryAuthToken().create();
  assert.equal(first.accountSid, sid);
  assert.match(first.secondaryAuthToken, /^[0-9a-f]{32}$/);
  assert.ok(first.dateCreated instanceof Date && !Number.isNaN(first.dateCreated.getTime()));
  assert.match(first.url, /\/accounts\/v1\/AuthTokens\/Secondary$/);
  assert.equal(await works(primary), 200);
  assert.equal(await works(first.secondaryAuthToken), 200);

  // A new secondary replaces the old one.
  const second = await client.accounts.v1.secondaryAuthToken().create();
  assert.notEqual(second.secondaryAuthToken, first.secondaryAuthToken);
  assert.equal(await works(first.secondaryAuthToken), 401);
  assert.equal(await works(second.secondaryAuthToken), 200);

  // It survives a restart.
  await d.stop('SIGTERM');
  d = await startDaemon(t, { dataDir: d.dataDir });
  assert.equal(await works(second.secondaryAuthToken), 200);

  // Promoted (here by a client that already uses the new token): the old primary stops working.
  const rotated = twilioClient(d, sid, second.secondaryAuthToken);
  const promoted = await rotated.accounts.v1.authTokenPromotion().update();
  assert.equal(promoted.accountSid, sid);
  assert.equal(promoted.authToken, second.secondaryAuthToken);
  assert.equal(await works(primary), 401);
  assert.equal(await works(second.secondaryAuthToken), 200);
  const fetched = await d.request('GET', d.accountPath(null, sid), { auth: d.auth(sid, second.secondaryAuthToken) });
  assert.equal(fetched.json.auth_token, second.secondaryAuthToken);
  // Nothing left to promote: 400.
  await assert.rejects(rotated.accounts.v1.authTokenPromotion().update(), (err) => {
    assert.equal(err.status, 400);
    assert.equal(err.code, 20001);
    return true;
  });

  // Create and delete: the deleted secondary no longer works; deleting again is a 404.
  const third = await rotated.accounts.v1.secondaryAuthToken().create();
  assert.equal(await works(third.secondaryAuthToken), 200);
  assert.equal(await rotated.accounts.v1.secondaryAuthToken().remove(), true);
  assert.equal(await works(third.secondaryAuthToken), 401);
  await assert.rejects(rotated.accounts.v1.secondaryAuthToken().remove(), (err) => err.status === 404);

  // API keys cannot rotate tokens; nobody can without credentials.
  const key = await rotated.newKeys.create({ friendlyName: 'ci' });
  const keyClient = twilioClient(d, key.sid, key.secret, { accountSid: sid });
  await assert.rejects(keyClient.accounts.v1.secondaryAuthToken().create(), (err) => {
    assert.equal(err.status, 403);
    assert.equal(err.code, 70051);
    return true;
  });
  assert.equal((await d.request('POST', '/accounts/v1/AuthTokens/Secondary', { auth: false })).status, 401);
  assert.equal((await d.request('GET', '/accounts/v1/AuthTokens/Secondary', { auth: d.auth(sid, second.secondaryAuthToken) })).status, 405);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});
