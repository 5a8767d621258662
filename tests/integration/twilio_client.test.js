'use strict';
// The REST API driven by the official `twilio` npm client (tests/clients/node_modules):
// incoming numbers, applications, paging, filters, subaccounts and their isolation, errors.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startDaemon, twilioClient, twilioLib } = require('./lib/daemon');

const twilio = twilioLib();
const SID = (prefix) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

// Distinct E.164 numbers for every create in this file, so tests never collide.
let numberSeq = 0;
function nextNumber() {
  numberSeq += 1;
  return `+1415555${String(numberSeq).padStart(4, '0')}`;
}

// Awaits `promise`, which must reject with a twilio RestException of that status and code.
async function assertRestError(promise, status, code) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a RestException ${status}/${code}, but the call succeeded`);
  assert.ok(err instanceof twilio.RestException, `expected a RestException, got ${err && err.stack}`);
  assert.equal(err.status, status, `HTTP status (message: ${err.message})`);
  assert.equal(err.code, code, `error code (message: ${err.message})`);
  assert.equal(err.moreInfo, `https://www.twilio.com/docs/errors/${code}`);
  assert.equal(typeof err.message, 'string');
  assert.ok(err.message.length > 0);
  return err;
}

describe('incoming phone numbers', () => {
  let daemon;
  let client;
  before(async () => {
    daemon = await startDaemon();
    client = twilioClient(daemon);
  });
  after(() => daemon && daemon.cleanup());

  it('create, fetch, update and delete', async () => {
    const phone = nextNumber();
    const created = await client.incomingPhoneNumbers.create({
      phoneNumber: phone,
      friendlyName: 'Front desk',
      voiceUrl: 'https://example.com/voice?x=1',
      voiceMethod: 'GET',
      statusCallback: 'https://example.com/status',
    });
    assert.match(created.sid, SID('PN'));
    assert.equal(created.accountSid, daemon.accountSid);
    assert.equal(created.phoneNumber, phone);
    assert.equal(created.friendlyName, 'Front desk');
    assert.equal(created.voiceUrl, 'https://example.com/voice?x=1');
    assert.equal(created.voiceMethod, 'GET');
    assert.equal(created.voiceFallbackUrl, null);
    assert.equal(created.voiceFallbackMethod, 'POST');
    assert.equal(created.statusCallback, 'https://example.com/status');
    assert.equal(created.statusCallbackMethod, 'POST');
    assert.equal(created.voiceApplicationSid, null);
    assert.equal(created.apiVersion, '2010-04-01');
    assert.ok(created.dateCreated instanceof Date && !Number.isNaN(created.dateCreated.getTime()));
    assert.ok(Math.abs(created.dateCreated.getTime() - Date.now()) < 24 * 3600 * 1000);
    assert.equal(
      created.uri,
      `/2010-04-01/Accounts/${daemon.accountSid}/IncomingPhoneNumbers/${created.sid}.json`,
    );

    const fetched = await client.incomingPhoneNumbers(created.sid).fetch();
    assert.deepEqual(fetched.toJSON(), created.toJSON());

    const updated = await client.incomingPhoneNumbers(created.sid).update({
      voiceUrl: 'https://example.com/other',
      friendlyName: 'Reception',
    });
    assert.equal(updated.sid, created.sid);
    assert.equal(updated.voiceUrl, 'https://example.com/other');
    assert.equal(updated.friendlyName, 'Reception');
    // Fields the update did not name keep their values.
    assert.equal(updated.voiceMethod, 'GET');
    assert.equal(updated.statusCallback, 'https://example.com/status');
    assert.equal(updated.phoneNumber, phone);

    const refetched = await client.incomingPhoneNumbers(created.sid).fetch();
    assert.equal(refetched.voiceUrl, 'https://example.com/other');
    assert.equal(refetched.friendlyName, 'Reception');
    assert.equal(refetched.voiceMethod, 'GET');

    assert.equal(await client.incomingPhoneNumbers(created.sid).remove(), true);
    await assertRestError(client.incomingPhoneNumbers(created.sid).fetch(), 404, 20404);
    await assertRestError(client.incomingPhoneNumbers(created.sid).remove(), 404, 20404);
    await assertRestError(
      client.incomingPhoneNumbers(created.sid).update({ friendlyName: 'gone' }),
      404,
      20404,
    );
    const remaining = await client.incomingPhoneNumbers.list({ phoneNumber: phone });
    assert.deepEqual(remaining, []);
  });

  it('accepts a SIP user part as the phone number and defaults friendly_name to it', async () => {
    const created = await client.incomingPhoneNumbers.create({ phoneNumber: 'alice.smith-1' });
    assert.equal(created.phoneNumber, 'alice.smith-1');
    assert.equal(created.friendlyName, 'alice.smith-1');
    const fetched = await client.incomingPhoneNumbers(created.sid).fetch();
    assert.equal(fetched.phoneNumber, 'alice.smith-1');
  });

  it('a deleted number can be created again', async () => {
    const phone = nextNumber();
    const first = await client.incomingPhoneNumbers.create({ phoneNumber: phone });
    await client.incomingPhoneNumbers(first.sid).remove();
    const second = await client.incomingPhoneNumbers.create({ phoneNumber: phone });
    assert.notEqual(second.sid, first.sid);
    assert.equal(second.phoneNumber, phone);
  });

  it('filters by PhoneNumber (partial, * wildcard) and FriendlyName (exact)', async () => {
    const a = await client.incomingPhoneNumbers.create({
      phoneNumber: '+442071230001',
      friendlyName: 'filter-london',
    });
    const b = await client.incomingPhoneNumbers.create({
      phoneNumber: '+442071230002',
      friendlyName: 'filter-london',
    });
    const c = await client.incomingPhoneNumbers.create({
      phoneNumber: '+33142000003',
      friendlyName: 'filter-paris',
    });
    const sids = (list) => list.map((n) => n.sid).sort();

    assert.deepEqual(sids(await client.incomingPhoneNumbers.list({ phoneNumber: '+44207123' })),
      [a.sid, b.sid].sort());
    assert.deepEqual(sids(await client.incomingPhoneNumbers.list({ phoneNumber: '+442071230002' })),
      [b.sid]);
    assert.deepEqual(sids(await client.incomingPhoneNumbers.list({ phoneNumber: '0003' })), [c.sid]);
    assert.deepEqual(sids(await client.incomingPhoneNumbers.list({ phoneNumber: '+4420712300*1' })),
      [a.sid]);
    assert.deepEqual(await client.incomingPhoneNumbers.list({ phoneNumber: '+49' }), []);

    assert.deepEqual(sids(await client.incomingPhoneNumbers.list({ friendlyName: 'filter-london' })),
      [a.sid, b.sid].sort());
    assert.deepEqual(sids(await client.incomingPhoneNumbers.list({ friendlyName: 'filter-paris' })),
      [c.sid]);
    assert.deepEqual(await client.incomingPhoneNumbers.list({ friendlyName: 'filter' }), []);

    assert.deepEqual(
      sids(await client.incomingPhoneNumbers.list({
        friendlyName: 'filter-london',
        phoneNumber: '0002',
      })),
      [b.sid],
    );
  });

  it('validation errors come back as RestExceptions with Twilio codes', async () => {
    const numbers = client.incomingPhoneNumbers;
    for (const bad of ['not a number', '+0123456', '+1', '+1415555abc', '+1234567890123456']) {
      await assertRestError(numbers.create({ phoneNumber: bad }), 400, 21401);
    }
    const phone = nextNumber();
    for (const bad of ['not a url', 'ftp://example.com/voice', 'http://', '/relative/path']) {
      await assertRestError(numbers.create({ phoneNumber: phone, voiceUrl: bad }), 400, 21402);
    }
    await assertRestError(
      numbers.create({ phoneNumber: phone, voiceUrl: 'https://example.com/a', voiceMethod: 'PUT' }),
      400,
      21403,
    );
    await assertRestError(
      numbers.create({ phoneNumber: phone, voiceFallbackUrl: 'https://example.com/fallback' }),
      400,
      21405,
    );
    // None of the refused creates left a number behind.
    assert.deepEqual(await numbers.list({ phoneNumber: phone }), []);

    // The same checks apply to updates, against the number's current settings.
    const n = await numbers.create({ phoneNumber: phone });
    await assertRestError(numbers(n.sid).update({ voiceUrl: 'nope' }), 400, 21402);
    await assertRestError(numbers(n.sid).update({ voiceMethod: 'DELETE' }), 400, 21403);
    await assertRestError(
      numbers(n.sid).update({ voiceFallbackUrl: 'https://example.com/fb' }),
      400,
      21405,
    );
    await numbers(n.sid).update({
      voiceUrl: 'https://example.com/v',
      voiceFallbackUrl: 'https://example.com/fb',
    });
    await assertRestError(numbers(n.sid).update({ voiceUrl: '' }), 400, 21405);
    const unchanged = await numbers(n.sid).fetch();
    assert.equal(unchanged.voiceUrl, 'https://example.com/v');
    assert.equal(unchanged.voiceFallbackUrl, 'https://example.com/fb');
    assert.equal(unchanged.voiceMethod, 'POST');
  });

  it('wrong credentials get 401 code 20003', async () => {
    const wrongToken = twilioClient(daemon, daemon.accountSid, 'not-the-right-token-at-all');
    await assertRestError(wrongToken.incomingPhoneNumbers.list(), 401, 20003);
    await assertRestError(wrongToken.incomingPhoneNumbers.create({ phoneNumber: nextNumber() }),
      401, 20003);
    const unknownAccount = twilioClient(daemon, 'AC' + 'f'.repeat(32), daemon.authToken);
    await assertRestError(unknownAccount.incomingPhoneNumbers.list(), 401, 20003);
    await assertRestError(unknownAccount.api.v2010.accounts.list(), 401, 20003);
  });
});

describe('paging through lists', () => {
  let daemon;
  let client;
  const created = [];
  before(async () => {
    daemon = await startDaemon();
    client = twilioClient(daemon);
    for (let i = 0; i < 7; i += 1) {
      created.push(await client.incomingPhoneNumbers.create({
        phoneNumber: nextNumber(),
        friendlyName: i % 2 === 0 ? 'even' : 'odd',
      }));
    }
  });
  after(() => daemon && daemon.cleanup());

  it('list({pageSize: 3}) follows next_page_uri and returns every number exactly once', async () => {
    const requested = [];
    const httpClient = client.httpClient;
    const original = httpClient.request.bind(httpClient);
    httpClient.request = (opts) => {
      requested.push({ uri: opts.uri, params: opts.params });
      return original(opts);
    };
    let all;
    try {
      all = await client.incomingPhoneNumbers.list({ pageSize: 3 });
    } finally {
      httpClient.request = original;
    }
    assert.deepEqual(all.map((n) => n.sid), created.map((n) => n.sid));
    assert.equal(new Set(all.map((n) => n.sid)).size, 7);
    assert.equal(requested.length, 3, `expected 3 page requests, got ${JSON.stringify(requested)}`);
    // The first request carries PageSize as a parameter; the next ones follow next_page_uri.
    assert.equal(requested[0].params && requested[0].params.PageSize, 3);
    for (const { uri } of requested.slice(1)) assert.match(uri, /[?&]PageSize=3(&|$)/);
  });

  it('list with a limit stops early', async () => {
    const some = await client.incomingPhoneNumbers.list({ limit: 5, pageSize: 2 });
    assert.deepEqual(some.map((n) => n.sid), created.slice(0, 5).map((n) => n.sid));
  });

  it('page({pageSize: 3}) meta, nextPage and previousPage', async () => {
    const p0 = await client.incomingPhoneNumbers.page({ pageSize: 3 });
    assert.equal(p0._payload.page, 0);
    assert.equal(p0._payload.page_size, 3);
    assert.equal(p0._payload.start, 0);
    assert.equal(p0._payload.end, 2);
    assert.equal(p0._payload.previous_page_uri, null);
    assert.equal(p0.previousPageUrl, undefined);
    assert.match(
      p0._payload.first_page_uri,
      new RegExp(`^/2010-04-01/Accounts/${daemon.accountSid}/IncomingPhoneNumbers\\.json\\?`),
    );
    assert.match(p0._payload.uri, /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/IncomingPhoneNumbers\.json\?/);
    assert.ok(p0.nextPageUrl, 'first page has a next page');
    assert.ok(p0.nextPageUrl.startsWith('https://api.twilio.com/2010-04-01/'));
    assert.deepEqual(p0.instances.map((n) => n.sid), created.slice(0, 3).map((n) => n.sid));

    const p1 = await p0.nextPage();
    assert.equal(p1._payload.page, 1);
    assert.equal(p1._payload.start, 3);
    assert.equal(p1._payload.end, 5);
    assert.deepEqual(p1.instances.map((n) => n.sid), created.slice(3, 6).map((n) => n.sid));
    assert.ok(p1.previousPageUrl, 'second page has a previous page');

    const p2 = await p1.nextPage();
    assert.equal(p2._payload.page, 2);
    assert.equal(p2._payload.start, 6);
    assert.equal(p2._payload.end, 6);
    assert.deepEqual(p2.instances.map((n) => n.sid), [created[6].sid]);
    assert.equal(p2._payload.next_page_uri, null);
    assert.equal(p2.nextPageUrl, undefined);
    assert.equal(p2.nextPage(), undefined);

    const back = await p2.previousPage();
    assert.equal(back._payload.page, 1);
    assert.deepEqual(back.instances.map((n) => n.sid), created.slice(3, 6).map((n) => n.sid));

    // Page without a token counts rows from the start.
    const direct = await client.incomingPhoneNumbers.page({ pageSize: 3, pageNumber: 2 });
    assert.deepEqual(direct.instances.map((n) => n.sid), [created[6].sid]);
    const beyond = await client.incomingPhoneNumbers.page({ pageSize: 3, pageNumber: 5 });
    assert.deepEqual(beyond.instances, []);
    assert.equal(beyond.nextPageUrl, undefined);
  });

  it('next_page_uri keeps the filters', async () => {
    const evens = await client.incomingPhoneNumbers.list({ friendlyName: 'even', pageSize: 2 });
    assert.deepEqual(
      evens.map((n) => n.sid),
      created.filter((_, i) => i % 2 === 0).map((n) => n.sid),
    );
    const p0 = await client.incomingPhoneNumbers.page({ friendlyName: 'odd', pageSize: 2 });
    assert.ok(p0.nextPageUrl);
    assert.match(p0.nextPageUrl, /FriendlyName=odd/);
    const p1 = await p0.nextPage();
    assert.deepEqual(
      [...p0.instances, ...p1.instances].map((n) => n.sid),
      created.filter((_, i) => i % 2 === 1).map((n) => n.sid),
    );
    assert.equal(p1.nextPageUrl, undefined);
  });

  it('the default page size is 50', async () => {
    const p = await client.incomingPhoneNumbers.page();
    assert.equal(p._payload.page_size, 50);
    assert.equal(p.instances.length, 7);
    assert.equal(p.nextPageUrl, undefined);
  });

  it('PageSize out of range is refused', async () => {
    await assertRestError(client.incomingPhoneNumbers.page({ pageSize: 1001 }), 400, 20001);
  });

  it('applications page the same way', async () => {
    const apps = [];
    for (let i = 0; i < 5; i += 1) {
      apps.push(await client.applications.create({ friendlyName: `paged app ${i}` }));
    }
    const all = await client.applications.list({ pageSize: 2 });
    assert.deepEqual(all.map((a) => a.sid), apps.map((a) => a.sid));
    const p0 = await client.applications.page({ pageSize: 2 });
    assert.equal(p0.instances.length, 2);
    assert.ok(p0.nextPageUrl);
  });
  // Last in this block: it deletes one of the shared numbers.
  it('the page token continues after the last row seen even when rows are deleted', async () => {
    const p0 = await client.incomingPhoneNumbers.page({ pageSize: 3 });
    assert.deepEqual(p0.instances.map((n) => n.sid), created.slice(0, 3).map((n) => n.sid));
    // Delete a row of the page already read: the next page must neither skip created[3]
    // nor repeat a row.
    await client.incomingPhoneNumbers(created[1].sid).remove();
    const p1 = await p0.nextPage();
    assert.deepEqual(p1.instances.map((n) => n.sid), created.slice(3, 6).map((n) => n.sid));
    const p2 = await p1.nextPage();
    assert.deepEqual(p2.instances.map((n) => n.sid), [created[6].sid]);
  });
});

describe('applications', () => {
  let daemon;
  let client;
  before(async () => {
    daemon = await startDaemon();
    client = twilioClient(daemon);
  });
  after(() => daemon && daemon.cleanup());

  it('create, fetch, list, update and delete', async () => {
    const app = await client.applications.create({
      friendlyName: 'IVR',
      voiceUrl: 'https://example.com/ivr',
      voiceMethod: 'get',
      voiceFallbackUrl: 'https://example.com/ivr-fallback',
      statusCallback: 'https://example.com/ivr-status',
      statusCallbackMethod: 'GET',
    });
    assert.match(app.sid, SID('AP'));
    assert.equal(app.accountSid, daemon.accountSid);
    assert.equal(app.friendlyName, 'IVR');
    assert.equal(app.voiceUrl, 'https://example.com/ivr');
    assert.equal(app.voiceMethod, 'GET');
    assert.equal(app.voiceFallbackUrl, 'https://example.com/ivr-fallback');
    assert.equal(app.voiceFallbackMethod, 'POST');
    assert.equal(app.statusCallback, 'https://example.com/ivr-status');
    assert.equal(app.statusCallbackMethod, 'GET');
    assert.equal(app.apiVersion, '2010-04-01');
    assert.equal(app.uri, `/2010-04-01/Accounts/${daemon.accountSid}/Applications/${app.sid}.json`);

    const fetched = await client.applications(app.sid).fetch();
    assert.deepEqual(fetched.toJSON(), app.toJSON());

    const listed = await client.applications.list();
    assert.ok(listed.some((a) => a.sid === app.sid));

    const updated = await client.applications(app.sid).update({
      friendlyName: 'IVR v2',
      voiceUrl: 'https://example.com/ivr2',
    });
    assert.equal(updated.friendlyName, 'IVR v2');
    assert.equal(updated.voiceUrl, 'https://example.com/ivr2');
    assert.equal(updated.voiceMethod, 'GET');
    assert.equal(updated.voiceFallbackUrl, 'https://example.com/ivr-fallback');
    assert.equal((await client.applications(app.sid).fetch()).friendlyName, 'IVR v2');

    assert.equal(await client.applications(app.sid).remove(), true);
    await assertRestError(client.applications(app.sid).fetch(), 404, 20404);
    await assertRestError(client.applications(app.sid).remove(), 404, 20404);
    assert.ok(!(await client.applications.list()).some((a) => a.sid === app.sid));
  });

  it('filters by FriendlyName', async () => {
    const a = await client.applications.create({ friendlyName: 'app-filter-a' });
    await client.applications.create({ friendlyName: 'app-filter-b' });
    const found = await client.applications.list({ friendlyName: 'app-filter-a' });
    assert.deepEqual(found.map((x) => x.sid), [a.sid]);
    assert.deepEqual(await client.applications.list({ friendlyName: 'app-filter' }), []);
  });

  it('validation errors', async () => {
    await assertRestError(client.applications.create({ voiceUrl: 'nope' }), 400, 21402);
    await assertRestError(
      client.applications.create({ voiceUrl: 'https://example.com/x', voiceMethod: 'PATCH' }),
      400,
      21403,
    );
    await assertRestError(
      client.applications.create({ voiceFallbackUrl: 'https://example.com/fb' }),
      400,
      21405,
    );
  });

  it('a number takes a voiceApplicationSid; deleting the application clears it', async () => {
    const app = await client.applications.create({
      friendlyName: 'assigned',
      voiceUrl: 'https://example.com/app',
    });
    const number = await client.incomingPhoneNumbers.create({
      phoneNumber: nextNumber(),
      voiceApplicationSid: app.sid,
    });
    assert.equal(number.voiceApplicationSid, app.sid);
    assert.equal((await client.incomingPhoneNumbers(number.sid).fetch()).voiceApplicationSid,
      app.sid);

    // An empty value clears it; assigning again works through update.
    const cleared = await client.incomingPhoneNumbers(number.sid).update({ voiceApplicationSid: '' });
    assert.equal(cleared.voiceApplicationSid, null);
    const reassigned = await client.incomingPhoneNumbers(number.sid)
      .update({ voiceApplicationSid: app.sid });
    assert.equal(reassigned.voiceApplicationSid, app.sid);

    // A second number on the same application, and one on another application.
    const other = await client.applications.create({ friendlyName: 'other' });
    const number2 = await client.incomingPhoneNumbers.create({
      phoneNumber: nextNumber(),
      voiceApplicationSid: app.sid,
    });
    const number3 = await client.incomingPhoneNumbers.create({
      phoneNumber: nextNumber(),
      voiceApplicationSid: other.sid,
    });

    await client.applications(app.sid).remove();
    assert.equal((await client.incomingPhoneNumbers(number.sid).fetch()).voiceApplicationSid, null);
    assert.equal((await client.incomingPhoneNumbers(number2.sid).fetch()).voiceApplicationSid, null);
    assert.equal((await client.incomingPhoneNumbers(number3.sid).fetch()).voiceApplicationSid,
      other.sid);
  });

  it('voiceApplicationSid must name an application of the same account (21420)', async () => {
    const phone = nextNumber();
    await assertRestError(
      client.incomingPhoneNumbers.create({ phoneNumber: phone, voiceApplicationSid: 'AP' + '0'.repeat(32) }),
      400,
      21420,
    );
    await assertRestError(
      client.incomingPhoneNumbers.create({ phoneNumber: phone, voiceApplicationSid: 'garbage' }),
      400,
      21420,
    );
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'app owner' });
    const subClient = twilioClient(daemon, sub.sid, sub.authToken);
    const subApp = await subClient.applications.create({ friendlyName: 'sub app' });
    await assertRestError(
      client.incomingPhoneNumbers.create({ phoneNumber: phone, voiceApplicationSid: subApp.sid }),
      400,
      21420,
    );
    assert.deepEqual(await client.incomingPhoneNumbers.list({ phoneNumber: phone }), []);
    const n = await client.incomingPhoneNumbers.create({ phoneNumber: phone });
    await assertRestError(
      client.incomingPhoneNumbers(n.sid).update({ voiceApplicationSid: subApp.sid }),
      400,
      21420,
    );
    assert.equal((await client.incomingPhoneNumbers(n.sid).fetch()).voiceApplicationSid, null);
  });
});

describe('subaccounts', () => {
  let daemon;
  let main;
  let subA; // account instance
  let subB;
  let clientA; // subaccount A's own credentials
  let clientB;
  let parentOfA; // main credentials acting on subaccount A
  let mainNumber;
  before(async () => {
    daemon = await startDaemon();
    main = twilioClient(daemon);
    subA = await main.api.v2010.accounts.create({ friendlyName: 'Tenant A' });
    subB = await main.api.v2010.accounts.create({ friendlyName: 'Tenant B' });
    clientA = twilioClient(daemon, subA.sid, subA.authToken);
    clientB = twilioClient(daemon, subB.sid, subB.authToken);
    parentOfA = twilioClient(daemon, daemon.accountSid, daemon.authToken, { accountSid: subA.sid });
    mainNumber = await main.incomingPhoneNumbers.create({ phoneNumber: nextNumber() });
  });
  after(() => daemon && daemon.cleanup());

  it('accounts.create makes an active subaccount with its own token', async () => {
    assert.match(subA.sid, SID('AC'));
    assert.notEqual(subA.sid, daemon.accountSid);
    assert.equal(subA.friendlyName, 'Tenant A');
    assert.equal(subA.ownerAccountSid, daemon.accountSid);
    assert.equal(subA.status, 'active');
    assert.equal(typeof subA.authToken, 'string');
    assert.ok(subA.authToken.length >= 32, 'a subaccount token has at least 128 bits');
    assert.notEqual(subA.authToken, subB.authToken);
    assert.notEqual(subA.authToken, daemon.authToken);

    const fetched = await main.api.v2010.accounts(subA.sid).fetch();
    assert.equal(fetched.friendlyName, 'Tenant A');
    const self = await clientA.api.v2010.accounts(subA.sid).fetch();
    assert.equal(self.sid, subA.sid);
  });

  it('the main account lists itself and its subaccounts; a subaccount sees only itself', async () => {
    const mainList = (await main.api.v2010.accounts.list()).map((a) => a.sid).sort();
    assert.deepEqual(mainList, [daemon.accountSid, subA.sid, subB.sid].sort());
    const aList = await clientA.api.v2010.accounts.list();
    assert.deepEqual(aList.map((a) => a.sid), [subA.sid]);
    const byName = await main.api.v2010.accounts.list({ friendlyName: 'Tenant B' });
    assert.deepEqual(byName.map((a) => a.sid), [subB.sid]);
  });

  it('a subaccount cannot read or change the parent account or a sibling', async () => {
    await assertRestError(clientA.api.v2010.accounts(daemon.accountSid).fetch(), 404, 20404);
    await assertRestError(clientA.api.v2010.accounts(subB.sid).fetch(), 404, 20404);
    await assertRestError(
      clientA.api.v2010.accounts(subB.sid).update({ friendlyName: 'pwned' }),
      404,
      20404,
    );
    assert.equal((await main.api.v2010.accounts(subB.sid).fetch()).friendlyName, 'Tenant B');
  });

  it('a subaccount cannot create subaccounts', async () => {
    let err;
    try {
      await clientA.api.v2010.accounts.create({ friendlyName: 'grandchild' });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof twilio.RestException, 'the create is refused');
    assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`);
    const all = await main.api.v2010.accounts.list();
    assert.ok(!all.some((a) => a.friendlyName === 'grandchild'));
  });

  it('the parent creates and lists numbers in a subaccount (accountSid option)', async () => {
    const n = await parentOfA.incomingPhoneNumbers.create({
      phoneNumber: nextNumber(),
      friendlyName: 'made by parent',
    });
    assert.equal(n.accountSid, subA.sid);
    assert.match(n.uri, new RegExp(`^/2010-04-01/Accounts/${subA.sid}/IncomingPhoneNumbers/`));
    const viaParent = await parentOfA.incomingPhoneNumbers.list();
    assert.ok(viaParent.some((x) => x.sid === n.sid));
    const viaOwn = await clientA.incomingPhoneNumbers.list();
    assert.ok(viaOwn.some((x) => x.sid === n.sid));
    assert.equal((await parentOfA.incomingPhoneNumbers(n.sid).fetch()).friendlyName, 'made by parent');
    // The parent's own list holds only its own numbers.
    const mainList = await main.incomingPhoneNumbers.list();
    assert.ok(!mainList.some((x) => x.sid === n.sid));
    assert.ok(mainList.some((x) => x.sid === mainNumber.sid));
    // And the parent can update and delete it.
    await parentOfA.incomingPhoneNumbers(n.sid).update({ friendlyName: 'renamed by parent' });
    assert.equal((await clientA.incomingPhoneNumbers(n.sid).fetch()).friendlyName, 'renamed by parent');
    await parentOfA.incomingPhoneNumbers(n.sid).remove();
    await assertRestError(clientA.incomingPhoneNumbers(n.sid).fetch(), 404, 20404);
  });

  it("a subaccount's credentials cannot see the parent's numbers", async () => {
    await assertRestError(
      clientA.api.v2010.accounts(daemon.accountSid).incomingPhoneNumbers.list(),
      404,
      20404,
    );
    await assertRestError(
      clientA.api.v2010.accounts(daemon.accountSid).incomingPhoneNumbers(mainNumber.sid).fetch(),
      404,
      20404,
    );
    // The parent's number SID under the subaccount's own path is not found either.
    await assertRestError(clientA.incomingPhoneNumbers(mainNumber.sid).fetch(), 404, 20404);
    await assertRestError(
      clientA.incomingPhoneNumbers(mainNumber.sid).update({ friendlyName: 'pwned' }),
      404,
      20404,
    );
    await assertRestError(clientA.incomingPhoneNumbers(mainNumber.sid).remove(), 404, 20404);
    await assertRestError(
      clientA.api.v2010.accounts(daemon.accountSid).incomingPhoneNumbers.create({
        phoneNumber: nextNumber(),
      }),
      404,
      20404,
    );
    const still = await main.incomingPhoneNumbers(mainNumber.sid).fetch();
    assert.equal(still.friendlyName, mainNumber.friendlyName);
    assert.ok(!(await clientA.incomingPhoneNumbers.list()).some((x) => x.sid === mainNumber.sid));
  });

  it("a subaccount's credentials cannot see a sibling's numbers or applications", async () => {
    const bNumber = await clientB.incomingPhoneNumbers.create({ phoneNumber: nextNumber() });
    const bApp = await clientB.applications.create({ friendlyName: 'b app' });
    await assertRestError(clientA.api.v2010.accounts(subB.sid).incomingPhoneNumbers.list(), 404, 20404);
    await assertRestError(
      clientA.api.v2010.accounts(subB.sid).incomingPhoneNumbers(bNumber.sid).fetch(),
      404,
      20404,
    );
    await assertRestError(clientA.incomingPhoneNumbers(bNumber.sid).fetch(), 404, 20404);
    await assertRestError(clientA.incomingPhoneNumbers(bNumber.sid).remove(), 404, 20404);
    await assertRestError(clientA.api.v2010.accounts(subB.sid).applications.list(), 404, 20404);
    await assertRestError(clientA.applications(bApp.sid).fetch(), 404, 20404);
    await assertRestError(clientA.applications(bApp.sid).remove(), 404, 20404);
    // The parent's numbers are not the subaccount's either, and vice versa: B's data intact.
    assert.equal((await clientB.incomingPhoneNumbers(bNumber.sid).fetch()).sid, bNumber.sid);
    assert.equal((await clientB.applications(bApp.sid).fetch()).sid, bApp.sid);
    assert.ok(!(await main.incomingPhoneNumbers.list()).some((x) => x.sid === bNumber.sid));
    await assertRestError(main.incomingPhoneNumbers(bNumber.sid).fetch(), 404, 20404);
  });

  it("a subaccount's token does not work for another account", async () => {
    const crossed = twilioClient(daemon, subB.sid, subA.authToken);
    await assertRestError(crossed.incomingPhoneNumbers.list(), 401, 20003);
    const aTokenOnMain = twilioClient(daemon, daemon.accountSid, subA.authToken);
    await assertRestError(aTokenOnMain.incomingPhoneNumbers.list(), 401, 20003);
  });

  it('a phone number is unique across the installation (21422)', async () => {
    const phone = nextNumber();
    await main.incomingPhoneNumbers.create({ phoneNumber: phone });
    await assertRestError(main.incomingPhoneNumbers.create({ phoneNumber: phone }), 400, 21422);
    await assertRestError(clientA.incomingPhoneNumbers.create({ phoneNumber: phone }), 400, 21422);
    await assertRestError(parentOfA.incomingPhoneNumbers.create({ phoneNumber: phone }), 400, 21422);
    assert.deepEqual(await clientA.incomingPhoneNumbers.list({ phoneNumber: phone }), []);
  });

  it('concurrent creates of one phone number: exactly one wins, the rest get 21422', async () => {
    const phone = nextNumber();
    const clients = [main, clientA, clientB, parentOfA];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        clients[i % clients.length].incomingPhoneNumbers.create({ phoneNumber: phone })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1, 'exactly one create succeeds');
    for (const r of lost) {
      assert.ok(r.reason instanceof twilio.RestException, String(r.reason && r.reason.stack));
      assert.equal(r.reason.status, 400);
      assert.equal(r.reason.code, 21422);
    }
  });

  it('FriendlyName and Status updates; a closed subaccount cannot authenticate', async () => {
    const sub = await main.api.v2010.accounts.create({ friendlyName: 'short-lived' });
    const own = twilioClient(daemon, sub.sid, sub.authToken);
    const n = await own.incomingPhoneNumbers.create({ phoneNumber: nextNumber() });

    const renamed = await main.api.v2010.accounts(sub.sid).update({ friendlyName: 'renamed' });
    assert.equal(renamed.friendlyName, 'renamed');

    const suspended = await main.api.v2010.accounts(sub.sid).update({ status: 'suspended' });
    assert.equal(suspended.status, 'suspended');
    const active = await main.api.v2010.accounts(sub.sid).update({ status: 'active' });
    assert.equal(active.status, 'active');
    assert.equal((await own.incomingPhoneNumbers(n.sid).fetch()).sid, n.sid);

    // A subaccount cannot change its own status.
    let err;
    try {
      await own.api.v2010.accounts(sub.sid).update({ status: 'closed' });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof twilio.RestException, 'a subaccount closing itself is refused');
    assert.equal((await main.api.v2010.accounts(sub.sid).fetch()).status, 'active');

    await assertRestError(main.api.v2010.accounts(sub.sid).update({ status: 'bogus' }), 400, 20001);

    const closed = await main.api.v2010.accounts(sub.sid).update({ status: 'closed' });
    assert.equal(closed.status, 'closed');
    await assertRestError(own.incomingPhoneNumbers.list(), 401, 20003);
    await assertRestError(own.incomingPhoneNumbers(n.sid).fetch(), 401, 20003);
    await assertRestError(own.api.v2010.accounts(sub.sid).fetch(), 401, 20003);
    await assertRestError(own.incomingPhoneNumbers.create({ phoneNumber: nextNumber() }), 401, 20003);
    assert.equal((await main.api.v2010.accounts(sub.sid).fetch()).status, 'closed');
    // Closed is final.
    await assertRestError(main.api.v2010.accounts(sub.sid).update({ status: 'active' }), 400, 20001);
    assert.equal((await main.api.v2010.accounts(sub.sid).fetch()).status, 'closed');
  });

  it("the main account's status cannot be changed", async () => {
    await assertRestError(
      main.api.v2010.accounts(daemon.accountSid).update({ status: 'closed' }),
      400,
      20001,
    );
    assert.equal((await main.api.v2010.accounts(daemon.accountSid).fetch()).status, 'active');
  });
});
