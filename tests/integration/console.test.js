'use strict';
// The web console (/console/) in a real browser (headless Chromium driven by playwright-core)
// against the real daemon: sign-in, live calls placed by sipp appearing and going away, a
// call's webhook log, hang-up from the console (sipp receives the BYE), a failing application
// with its fallback and notification, account switching, lint as you type, events live tail,
// XSS payloads rendered as text, CSRF, session expiry, sign-in throttling, another account's
// call, and the live page's time to first render and CPU with N real calls up.
//
// Screenshots of every page go to tests/integration/artifacts/console/. With
// SB_CONSOLE_SCREENSHOTS=docs/console (a directory relative to the repository root) they are
// also written there (the documentation's images).
//
// SB_CONSOLE_CALLS sets N for the live-calls load (default 100).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { startDaemon } = require('./lib/daemon');
const { startSippLoad } = require('./lib/sipp');
const { startApp, sipPort, addNumber } = require('./lib/app');

const ROOT = path.join(__dirname, '..', '..');
const ARTIFACTS = path.join(__dirname, 'artifacts', 'console');
const DOCS = process.env.SB_CONSOLE_SCREENSHOTS ? path.resolve(ROOT, process.env.SB_CONSOLE_SCREENSHOTS) : null;
const N = Number(process.env.SB_CONSOLE_CALLS || 100);
const DESKTOP = { width: 1280, height: 860 };
const MOBILE = { width: 375, height: 780 };

// XSS payloads: each must show as text, run nothing and make no element.
const XSS_CALLER = '<img src=x onerror=alert(1)><script>alert(2)</script>';
const XSS_NUMBER_NAME = '"><img src=x onerror=alert(3)>';
const XSS_TWIML = '<script>alert(4)</script>';
const XSS_EVENT = '<script>alert(5)</script>';
const XSS_EVENT_IMG = '"><img src=x onerror=alert(6)>';
const XSS_SUBACCOUNT = '<b>Team</b><script>alert(7)</script>';

const NUM_HELD = '+15005550100'; // Pause: held until hung up
const NUM_FAILING = '+15005550200'; // 500, then the fallback
const NUM_LOAD = '+15005550300'; // the N calls

async function shot(page, name, opts = {}) {
  const buf = await page.screenshot({ fullPage: !!opts.fullPage });
  fs.writeFileSync(path.join(ARTIFACTS, `${name}.png`), buf);
  // The documentation's images are replaced (same names), none added.
  if (DOCS && fs.existsSync(path.join(DOCS, `${name}.png`))) fs.writeFileSync(path.join(DOCS, `${name}.png`), buf);
}

// Polls fn until it returns something truthy (bounded).
async function waitFor(fn, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function textOf(locator) {
  return (await locator.textContent()) || '';
}

async function waitText(locator, re, what, timeoutMs = 20000) {
  return waitFor(async () => re.test(await textOf(locator)), what, timeoutMs);
}

// A page that records dialogs (an executed payload would open one) and console CSP reports.
async function newPage(context) {
  const page = await context.newPage();
  page.dialogs = [];
  page.on('dialog', (d) => {
    page.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.requests = [];
  page.on('request', (r) => page.requests.push({ method: r.method(), url: r.url() }));
  page.setDefaultTimeout(20000);
  return page;
}

// No payload ran (no dialog) and none made an element.
async function assertNoXss(page, where) {
  assert.deepEqual(page.dialogs, [], `${where}: a dialog opened`);
  const injected = await page.evaluate(() => ({
    imgs: document.querySelectorAll('img[src="x"]').length,
    scripts: Array.from(document.scripts).filter((s) => !s.src).length,
    bold: document.querySelectorAll('b').length,
  }));
  assert.deepEqual(injected, { imgs: 0, scripts: 0, bold: 0 }, `${where}: markup from a payload became elements`);
}

async function signIn(page, base, user, pass, hash = '') {
  await page.goto(`${base}/console/${hash}`);
  await page.getByTestId('signin-form').waitFor();
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', pass);
  const answer = page.waitForResponse((r) => r.url().endsWith('/console/api/session') && r.request().method() === 'POST');
  await page.click('[data-testid=signin-form] button[type=submit]');
  return answer;
}

async function go(page, hash) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

test('the web console in a real browser', { timeout: 240000 }, async (t) => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (DOCS) fs.mkdirSync(DOCS, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-console-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const shortToml = path.join(tmp, 'short.toml');
  fs.writeFileSync(shortToml, '[console]\nenabled = true\nsession_ttl = 3\nmax_failed_signins = 3\n');

  const [d, dShort] = await Promise.all([startDaemon(t), startDaemon(t, { args: ['--config', shortToml] })]);
  const app = await startApp(t, d.authToken);
  app.routes['/voice'] = () => `<Response><Pause length="45"/><!-- ${XSS_TWIML} --></Response>`;
  app.routes['/hold'] = () => '<Response><Pause length="90"/></Response>';
  app.routes['/fail'] = () => ({ status: 500, body: `boom ${XSS_TWIML}`, type: 'text/html' });
  app.routes['/fallback'] = () => '<Response><Say>Sorry, something went wrong.</Say><Hangup/></Response>';
  app.routes['/status'] = () => ({ status: 204 });
  const held = await addNumber(d, NUM_HELD, { FriendlyName: XSS_NUMBER_NAME, VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });
  await addNumber(d, NUM_FAILING, { FriendlyName: 'Failing app', VoiceUrl: app.url('/fail'), VoiceFallbackUrl: app.url('/fallback') });
  await addNumber(d, NUM_LOAD, { FriendlyName: 'Load', VoiceUrl: app.url('/hold') });
  const sip = sipPort(d);
  const base = d.baseUrl;

  // Every sipp started here is ended at the end (after a failure it may still wait for a BYE).
  const sipps = [];
  t.after(() => {
    for (const s of sipps) s.kill();
    return Promise.all(sipps.map((s) => s.done));
  });
  const call = async (opts) => {
    const s = await startSippLoad({ sipPort: sip, calls: 1, steps: [{ answer: true }, { awaitBye: 60000 }], timeoutMs: 70000, ...opts });
    sipps.push(s);
    return s;
  };

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await newPage(context);

  await t.test('short sessions: expiry returns to sign-in with no data; failed sign-ins, then 429', async () => {
    await addNumber(dShort, '+15005550900', { FriendlyName: 'Data of the short daemon' });
    const ctx = await browser.newContext({ viewport: DESKTOP });
    try {
      const p = await newPage(ctx);
      // Straight to the numbers page: the data shows within the session's 3 s.
      const res = await signIn(p, dShort.baseUrl, dShort.accountSid, dShort.authToken, '#/numbers');
      assert.equal(res.status(), 200);
      await p.getByText('Data of the short daemon').waitFor();
      // The daemon ends the session (GET /console/api/session answers 401 once expired).
      await waitFor(async () => (await p.request.get(`${dShort.baseUrl}/console/api/session`)).status() === 401, 'the session to expire', 15000);
      await go(p, '#/calls'); // an action (the console may have signed out at expires_at already)
      await p.getByTestId('signin-form').waitFor();
      await p.getByText('Your session has ended').waitFor();
      assert.equal(await p.getByText('Data of the short daemon').count(), 0, 'no data after expiry');
      assert.equal(await p.locator('nav').count(), 0, 'no navigation after expiry');

      // Wrong credentials: the error, max_failed_signins (3) times; then 429.
      for (let i = 1; i <= 3; i++) {
        const r = await signIn(p, dShort.baseUrl, dShort.accountSid, 'not-the-token');
        assert.equal(r.status(), 401);
        await waitText(p.getByTestId('signin-error'), /\S/, 'the sign-in error');
        if (i === 1) await shot(p, 'signin-error');
      }
      const blocked = await signIn(p, dShort.baseUrl, dShort.accountSid, dShort.authToken);
      assert.equal(blocked.status(), 429, 'the right credentials too are refused while blocked');
      assert.equal((await blocked.json()).code, 20429);
      assert.ok(Number(blocked.headers()['retry-after']) > 0, 'Retry-After');
      await waitText(p.getByTestId('signin-error'), /Too many failed attempts/, 'the 429 message');
      await shot(p, 'signin-429');
      assert.equal(await p.locator('nav').count(), 0);
      assert.deepEqual(p.dialogs, []);
    } finally {
      await ctx.close();
    }
  });

  let sidHeld;
  await t.test('sign in; a sipp call appears on the live page, its log shows the signed webhook; hang up from the button', async () => {
    const res = await signIn(page, base, d.accountSid, d.authToken);
    assert.equal(res.status(), 200);
    const info = await res.json();
    assert.equal(info.account_sid, d.accountSid);
    assert.equal(info.acting_account_sid, d.accountSid);
    await page.getByTestId('signout').waitFor();
    await page.locator('main h1').waitFor();
    await shot(page, 'overview');

    await go(page, '#/live');
    await page.getByText('No calls in progress.').waitFor();
    const sipp = await call({ service: NUM_HELD, fromName: XSS_CALLER });
    const first = await app.waitFor((e) => e.path === '/voice');
    assert.equal(first.valid, true, 'the webhook is signed');
    assert.equal(first.params.CallerName, XSS_CALLER, 'the display name reached the application');
    sidHeld = first.params.CallSid;
    // The row arrives through the calls stream (the page was open before the call).
    const row = page.getByTestId(`live-row-${sidHeld}`);
    await row.waitFor();
    await waitText(row, /in-progress/, 'the call in progress');
    assert.match(await textOf(row), /\+14155550100/);
    assert.match(await textOf(row), new RegExp(`\\${NUM_HELD}`));
    // A fresh snapshot (/console/api/live) carries the verb being run.
    await page.reload();
    await waitText(page.getByTestId(`live-row-${sidHeld}`), /Pause/, 'the current verb from the snapshot');
    await shot(page, 'live-call');
    await page.getByTestId(`redirect-${sidHeld}`).click();
    await page.locator('.redirect-form').waitFor();
    await shot(page, 'live-redirect');
    await page.locator('.redirect-form').getByRole('button', { name: 'Cancel' }).click();

    // The call's log (while live): the webhook request's parameters and the TwiML answered.
    await page.click(`a[href="#/calls/${sidHeld}"]`);
    const events = page.getByTestId('call-events');
    await events.waitFor();
    const hook = page.locator('[data-testid=event-row].ev-webhook').first();
    await hook.waitFor();
    assert.match(await textOf(hook.locator('.ev-head')), new RegExp(app.url('/voice').replace(/[.?*+]/g, '\\$&')));
    const params = await textOf(hook.locator('table.kv').first());
    assert.ok(params.includes(sidHeld), `CallSid in the parameters: ${params}`);
    assert.ok(params.includes('+14155550100'), 'From in the parameters');
    assert.ok(params.includes(NUM_HELD), 'To in the parameters');
    assert.ok(params.includes(XSS_CALLER), 'the caller name shows as text');
    const html = await page.content();
    assert.ok(!/x-twilio-signature/i.test(html), 'the signature header is not shown');
    assert.ok(!html.includes(first.headers['x-twilio-signature']), 'the signature value is not shown');
    const body = await textOf(hook.locator('pre.body').first());
    assert.ok(body.includes(XSS_TWIML), `the TwiML answered, as text: ${body}`);
    assert.equal(await textOf(page.locator('dl.summary dd').filter({ hasText: 'onerror' })), XSS_CALLER);
    await assertNoXss(page, 'call page');
    await shot(page, 'call-page', { fullPage: true });

    // Hang up from the live table's button: the row goes, sipp gets the BYE and answers 200.
    await go(page, '#/live');
    const liveRow = page.getByTestId(`live-row-${sidHeld}`);
    await liveRow.waitFor();
    await page.getByTestId(`hangup-${sidHeld}`).click();
    await liveRow.waitFor({ state: 'detached' });
    const r = await sipp.done;
    assert.equal(r.code, 0, `sipp got the BYE and answered it:\n${r.stdout.slice(-2000)}\n${r.stderr}`);
    await app.waitFor((e) => e.path === '/status' && e.params.CallSid === sidHeld && e.params.CallStatus === 'completed');
    await page.getByText('No calls in progress.').waitFor();

    // Once ended, its page shows the SIP signalling: the caller's INVITE to our BYE.
    await go(page, `#/calls/${sidHeld}`);
    const sip = page.getByTestId('sip-summary');
    await sip.waitFor();
    const ladderText = await textOf(sip.locator('ol.ladder'));
    for (const m of ['INVITE', '180 Ringing', '200 OK', 'ACK', 'BYE']) {
      assert.ok(ladderText.includes(m), `${m} in the SIP ladder: ${ladderText}`);
    }
    assert.match(await textOf(sip.locator('dl.summary-grid')), /Call-ID[\s\S]*127\.0\.0\.1:\d+\/udp[\s\S]*PCMU\/8000[\s\S]*switchboard/);
    await shot(page, 'call-sip', { fullPage: true });
  });

  let sidFailing;
  await t.test('a failing application: the fallback, the notification and its explanation', async () => {
    const sipp = await call({ service: NUM_FAILING });
    const r = await sipp.done;
    assert.equal(r.code, 0, `${r.stdout.slice(-2000)}\n${r.stderr}`);
    sidFailing = (await app.waitFor((e) => e.path === '/fail')).params.CallSid;
    await app.waitFor((e) => e.path === '/fallback' && e.params.CallSid === sidFailing);
    await waitFor(async () => {
      const n = await d.request('GET', d.accountPath(`Notifications.json?CallSid=${sidFailing}`));
      return n.json && n.json.notifications.some((x) => x.call_sid === sidFailing);
    }, 'the notification');
    const code = String((await app.waitFor((e) => e.path === '/fallback')).params.ErrorCode);
    assert.match(code, /^112\d\d$/, 'an 112xx code');

    await go(page, '#/calls');
    await page.locator(`a[href="#/calls/${sidFailing}"]`).first().waitFor();
    await shot(page, 'call-log');
    await page.locator(`a[href="#/calls/${sidFailing}"]`).first().click();
    const primary = page.locator('[data-testid=event-row].ev-webhook').first();
    await primary.waitFor();
    assert.match(await textOf(primary.locator('.ev-meta')), /500/);
    const fallback = page.locator('[data-testid=event-row].ev-fallback');
    await fallback.waitFor();
    assert.match(await textOf(fallback), new RegExp(`error ${code}`));
    assert.ok((await textOf(fallback)).includes(app.url('/fallback')));
    const note = page.getByTestId('notification-row').first();
    await note.waitFor();
    const link = note.locator(`a[href="#/errors/${code}"]`);
    assert.equal(await link.count(), 1, 'the notification links its code');
    // the 500's body shows as text
    assert.ok((await textOf(primary)).includes(XSS_TWIML));
    await assertNoXss(page, 'failing call page');
    await link.click();
    await page.locator('main h1', { hasText: new RegExp(`^${code}: `) }).waitFor();

    await go(page, '#/errors/11200');
    await page.locator('main h1', { hasText: /^11200: / }).waitFor();
    await shot(page, 'error-11200');
    await go(page, '#/debugger');
    await page.getByTestId('notification-row').filter({ hasText: code }).first().waitFor();
    await shot(page, 'debugger');
  });

  await t.test('numbers: a FriendlyName payload renders as text', async () => {
    await go(page, '#/numbers');
    const cell = page.locator('td', { hasText: XSS_NUMBER_NAME });
    await cell.waitFor();
    assert.equal(await textOf(cell), XSS_NUMBER_NAME);
    await assertNoXss(page, 'numbers page');
    await shot(page, 'numbers', { fullPage: true });

    await page.getByRole('link', { name: `Edit ${NUM_HELD}` }).click();
    const name = page.getByLabel('Friendly name');
    await name.waitFor();
    assert.equal(await name.inputValue(), XSS_NUMBER_NAME);
    await assertNoXss(page, 'number page');
    await shot(page, 'number-edit', { fullPage: true });
  });

  // The rendering of "Test this URL" for the test-url answer's shape (the daemon's answer is
  // stood in for by page.route: see the last subtest).
  await t.test('numbers: Test this URL renders the primary and fallback exchanges and the diagnostics', async () => {
    const exchange = (type, url, status, body, code, message) => ({
      type,
      request: { url, method: 'POST', parameters: { CallSid: 'CA' + '0'.repeat(32), From: '+15005550006', To: NUM_FAILING } },
      response: { status, content_type: 'text/html', headers: ['Content-Type: text/html', 'X-Test: yes'], body, duration_ms: 12 },
      error_code: code,
      error_message: message,
    });
    const answer = {
      ok: false,
      primary: exchange('webhook', app.url('/fail'), 500, `boom ${XSS_TWIML}`, 11217, 'HTTP 500 from the application'),
      fallback: exchange('fallback', app.url('/fallback'), 200, '<Response><Hangup/></Response>', 0, ''),
      diagnostics: [{ level: 'error', code: 11217, message: `HTTP retrieval failure ${XSS_EVENT_IMG}`, url: app.url('/fail') }],
      verbs: ['Hangup'],
      error: { code: 11217, message: 'The primary URL answered 500' },
    };
    await page.route('**/console/api/test-url', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(answer) }));
    try {
      await go(page, '#/numbers');
      const sent = page.waitForRequest((r) => r.url().endsWith('/console/api/test-url'));
      await page.getByRole('button', { name: `Test the voice URL of ${NUM_FAILING}` }).click();
      const form = new URLSearchParams((await sent).postData());
      assert.ok(form.get('PhoneNumberSid').startsWith('PN'));
      assert.equal(form.get('AccountSid'), null, 'no AccountSid: the session acts as its account');
      const result = page.locator('.test-result');
      await result.waitFor();
      const primary = result.getByTestId('test-webhook');
      const pt = await textOf(primary);
      assert.match(pt, /500/);
      assert.ok(pt.includes(app.url('/fail')));
      assert.ok(pt.includes(`boom ${XSS_TWIML}`), 'the 500 body as text');
      assert.ok(pt.includes('X-Test: yes'), 'the response headers');
      assert.ok(pt.includes('CA' + '0'.repeat(32)), 'the parameters');
      const ft = await textOf(result.getByTestId('test-fallback'));
      assert.ok(ft.includes(app.url('/fallback')) && ft.includes('<Response><Hangup/></Response>'));
      const diag = result.getByTestId('test-diagnostic');
      assert.ok((await textOf(diag)).includes(XSS_EVENT_IMG));
      assert.equal(await diag.locator('a[href="#/errors/11217"]').count(), 1);
      assert.ok((await textOf(result)).includes('Hangup'), 'the verbs');
      await assertNoXss(page, 'test result');
      await shot(page, 'numbers-test-url', { fullPage: true });
    } finally {
      await page.unroute('**/console/api/test-url');
    }
  });

  await t.test('TwiML: lint as you type shows line:column code', async () => {
    await go(page, '#/twiml');
    const area = page.locator('#twiml-text');
    await area.waitFor();
    await area.fill('<Response>\n  <Say>Hello</Say>\n</Response>');
    await waitText(page.locator('#lint-summary'), /Valid TwiML/, 'a valid document');
    await area.press('End');
    await area.pressSequentially('\n<Bogus/>');
    const diag = page.getByTestId('lint-diagnostic').first();
    await diag.waitFor();
    const text = (await textOf(diag)).replace(/\s+/g, ' ');
    assert.match(text, /^\d+:\d+ (error|warning) 1\d{4}/, text);
    assert.equal(await diag.locator('a[href^="#/errors/"]').count(), 1);
    await shot(page, 'twiml');
  });

  await t.test('events: a published payload renders as text in the live tail', async () => {
    const made = await d.request('POST', '/v1/Channels', { body: { UniqueName: 'app.xss' } });
    assert.equal(made.status, 201, made.text);
    await go(page, '#/events');
    await page.locator('a[href="#/events/app.xss"]').first().waitFor();
    await shot(page, 'events');
    await go(page, '#/events/app.xss');
    await page.getByText('Stream connected').waitFor();
    const pub = await d.request('POST', '/v1/Channels/app.xss/Events', {
      body: JSON.stringify({ type: 'app.xss', data: { text: XSS_EVENT, html: XSS_EVENT_IMG } }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(pub.status, 201, pub.text);
    const row = page.locator('.tail-row').first();
    await row.waitFor();
    await row.locator('summary').click();
    const pre = await textOf(row.locator('pre.body'));
    assert.ok(pre.includes(XSS_EVENT), pre);
    assert.ok(pre.includes('><img src=x onerror=alert(6)>'), pre);
    await assertNoXss(page, 'channel page');
    await shot(page, 'channel', { fullPage: true });
  });

  await t.test('CSRF: a state-changing request without the token is refused with 20403', async () => {
    const target = `/2010-04-01/Accounts/${d.accountSid}/IncomingPhoneNumbers/${held.sid}.json`;
    // fetch from the page, the session cookie sent, no X-CSRF-Token
    const fromPage = await page.evaluate(async (url) => {
      const r = await fetch(url, {
        method: 'POST',
        credentials: 'include',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'FriendlyName=pwned',
      });
      return { status: r.status, body: await r.json() };
    }, target);
    assert.equal(fromPage.status, 403);
    assert.equal(fromPage.body.code, 20403);
    // with a wrong token
    const wrong = await page.request.post(base + target, { form: { FriendlyName: 'pwned' }, headers: { 'X-CSRF-Token': 'nope' } });
    assert.equal(wrong.status(), 403);
    assert.equal((await wrong.json()).code, 20403);
    for (const [method, url, form] of [
      ['delete', '/console/api/session', undefined],
      ['post', '/console/api/session/account', { AccountSid: d.accountSid }],
      ['post', `/2010-04-01/Accounts/${d.accountSid}/Calls/${sidFailing}.json`, { Status: 'completed' }],
      ['post', '/v1/Channels', { UniqueName: 'pwned' }],
    ]) {
      const r = await page.request[method](base + url, form ? { form } : {});
      assert.equal(r.status(), 403, `${method} ${url}`);
      assert.equal((await r.json()).code, 20403, `${method} ${url}`);
    }
    // A cross-site form post (another origin on this host, the cookie goes along).
    app.routes['/evil'] = () => ({
      type: 'text/html',
      body: `<!doctype html><form id=f method=POST action="${base}${target}"><input name=FriendlyName value=pwned></form><script>document.getElementById('f').submit()</script>`,
    });
    const evil = await newPage(context);
    const posted = evil.waitForResponse((r) => r.url() === base + target);
    await evil.goto(app.url('/evil'));
    const answer = await posted;
    assert.equal(answer.status(), 403);
    assert.equal((await answer.json()).code, 20403);
    await evil.close();
    const still = await d.request('GET', d.accountPath(`IncomingPhoneNumbers/${held.sid}.json`));
    assert.equal(still.json.friendly_name, XSS_NUMBER_NAME, 'nothing changed');
    const sessionOk = await page.request.get(`${base}/console/api/session`);
    assert.equal(sessionOk.status(), 200, 'the session is still there');
  });

  await t.test('accounts: switching acts as the subaccount; another account cannot open a call', async () => {
    const sub = await d.request('POST', '/2010-04-01/Accounts.json', { body: { FriendlyName: XSS_SUBACCOUNT } });
    assert.equal(sub.status, 201, sub.text);
    const subSid = sub.json.sid;
    await page.reload(); // the switcher lists the new subaccount
    const switcher = page.getByTestId('account-switcher');
    await switcher.locator(`option[value="${subSid}"]`).waitFor({ state: 'attached' });
    assert.ok((await textOf(switcher)).includes(XSS_SUBACCOUNT), 'the subaccount name as text');
    await go(page, '#/live');
    await page.getByText('No calls in progress.').waitFor();
    const before = page.requests.length;
    const switched = page.waitForResponse((r) => r.url() === `${base}/console/api/session/account`);
    await switcher.selectOption(subSid);
    const sw = await switched;
    assert.equal(sw.status(), 200);
    assert.equal((await sw.json()).acting_account_sid, subSid);
    await waitFor(async () => (await switcher.inputValue()) === subSid, 'the switcher on the subaccount');
    await page.getByText('No calls in progress.').waitFor();
    await go(page, '#/events');
    await page.locator('main h1').waitFor();
    await waitFor(() => page.requests.slice(before).some((r) => /\/v1\/Channels/.test(r.url)), 'the channels request');
    await go(page, '#/numbers');
    await page.getByText('No numbers yet.').waitFor();
    const after = page.requests.slice(before);
    const bad = after.filter((r) => /[?&]AccountSid=/.test(r.url));
    assert.deepEqual(bad, [], 'no ?AccountSid= on any request');
    assert.ok(after.some((r) => r.url.includes(`/2010-04-01/Accounts/${subSid}/`)), 'REST paths use the acting account');
    assert.ok(after.some((r) => r.url === `${base}/console/api/live`), 'the live snapshot without AccountSid');
    assert.equal(await page.locator('a[href="#/events/app.xss"]').count(), 0);
    // Acting as the subaccount, the main account's call is not there.
    await go(page, `#/calls/${sidHeld}`);
    await page.getByText('Call unavailable').waitFor();
    assert.equal(await page.getByText('+14155550100').count(), 0, 'no data of the call');
    await assertNoXss(page, 'subaccount');
    // Back to the main account.
    const back = page.waitForResponse((r) => r.url() === `${base}/console/api/session/account`);
    await switcher.selectOption(d.accountSid);
    assert.equal((await (await back).json()).acting_account_sid, d.accountSid);
    await page.locator('dl.summary').waitFor();

    // The subaccount signed in by itself cannot open the parent's call either.
    const ctx = await browser.newContext({ viewport: DESKTOP });
    try {
      const p = await newPage(ctx);
      const res = await signIn(p, base, subSid, sub.json.auth_token, `#/calls/${sidHeld}`);
      assert.equal(res.status(), 200);
      await p.getByText('Call unavailable').waitFor();
      assert.match(await textOf(p.locator('main')), /not found|No call|20404/i);
      assert.equal(await p.getByText('+14155550100').count(), 0, 'no data of the call');
      const direct = await p.request.get(`${base}/2010-04-01/Accounts/${d.accountSid}/Calls/${sidHeld}.json`);
      assert.notEqual(direct.status(), 200);
    } finally {
      await ctx.close();
    }
  });

  await t.test(`live page with ${N} real calls: time to first render, page CPU, hang-ups`, async () => {
    const load = await startSippLoad({
      sipPort: sip, service: NUM_LOAD, calls: N, rate: 50,
      steps: [{ answer: true }, { awaitBye: 90000 }], timeoutMs: 120000,
    });
    sipps.push(load);
    const liveNow = async () => {
      const r = await d.request('GET', '/console/api/live');
      return r.json.calls.filter((c) => c.to === NUM_LOAD && c.status === 'in-progress');
    };
    await waitFor(async () => (await liveNow()).length >= N, `${N} calls in progress`, 60000);

    const p = await newPage(context);
    const cdp = await context.newCDPSession(p);
    await cdp.send('Performance.enable');
    const t0 = Date.now();
    await p.goto(`${base}/console/#/live`);
    await p.waitForFunction((n) => document.querySelectorAll('[data-testid^="live-row-"]').length >= n, N, { timeout: 30000 });
    const shownMs = Date.now() - t0;
    const stats0 = await p.evaluate(() => ({ ...window.__consoleStats }));
    const metric = (m, name) => m.metrics.find((x) => x.name === name).value;
    const durCell = p.locator('[data-testid^="live-row-"] td:nth-child(6) span').first();
    const dur0 = await textOf(durCell);
    const m0 = await cdp.send('Performance.getMetrics');
    // A measuring window while the calls are held (durations tick every second).
    const windowMs = 3000;
    await p.waitForTimeout(windowMs);
    const m1 = await cdp.send('Performance.getMetrics');
    const stats1 = await p.evaluate(() => ({ ...window.__consoleStats }));
    // durations tick (the shared 1 s timer rewrites their text)
    await waitFor(async () => (await textOf(durCell)) !== dur0, `the duration to tick from ${dur0}`, 5000);
    const heldCpu = (metric(m1, 'TaskDuration') - metric(m0, 'TaskDuration')) / (windowMs / 1000);
    await shot(p, 'live-calls');
    await p.setViewportSize(MOBILE);
    await shot(p, 'mobile-live');
    await p.setViewportSize(DESKTOP);

    // Hang every call up (REST): the rows go as the events arrive; sipp answers each BYE.
    const calls = await liveNow();
    const h0 = await cdp.send('Performance.getMetrics');
    const r0 = (await p.evaluate(() => window.__consoleStats.renders));
    const th = Date.now();
    for (let i = 0; i < calls.length; i += 20) {
      await Promise.all(calls.slice(i, i + 20).map((c) =>
        d.request('POST', d.accountPath(`Calls/${c.sid}.json`), { body: { Status: 'completed' } })));
    }
    await p.waitForFunction(() => document.querySelectorAll('[data-testid^="live-row-"]').length === 0, null, { timeout: 30000 });
    const hangMs = Date.now() - th;
    const h1 = await cdp.send('Performance.getMetrics');
    const r1 = (await p.evaluate(() => window.__consoleStats.renders));
    const r = await load.done;
    assert.equal(r.code, 0, `every sipp call got its BYE:\n${r.stdout.slice(-3000)}\n${r.stderr}`);
    await p.getByText('No calls in progress.').waitFor();

    console.log(`# console live page, ${N} calls: rows shown ${shownMs} ms after navigation; ` +
      `first render ${stats0.firstRenderMs} ms after the snapshot (last render ${stats0.lastRenderMs} ms JS)`);
    console.log(`# held: ${((stats1.renders - stats0.renders) / (windowMs / 1000)).toFixed(1)} renders/s, ` +
      `page CPU ${(heldCpu * 100).toFixed(1)} % over ${windowMs / 1000} s`);
    console.log(`# hang-up of ${calls.length}: all rows gone in ${hangMs} ms, ${r1 - r0} renders, ` +
      `page CPU ${(((metric(h1, 'TaskDuration') - metric(h0, 'TaskDuration')) * 1000) / hangMs * 100).toFixed(1)} %`);
    assert.ok(stats0.firstRenderMs !== null && stats0.firstRenderMs < 5000, `first render ${stats0.firstRenderMs} ms`);
    await p.close();
  });

  await t.test('mobile pages', async () => {
    await page.setViewportSize(MOBILE);
    for (const [hash, name, ready] of [
      ['#/', 'mobile-overview', 'main h1'],
      [`#/calls/${sidHeld}`, 'mobile-call-page', '[data-testid=call-events]'],
      ['#/numbers', 'mobile-numbers', 'table'],
      ['#/twiml', 'mobile-twiml', '#twiml-text'],
    ]) {
      await go(page, hash);
      await page.locator(ready).first().waitFor();
      await shot(page, name);
    }
    await page.setViewportSize(DESKTOP);
    assert.deepEqual(page.dialogs, []);
  });

  await t.test('sign out', async () => {
    await go(page, '#/');
    await page.getByTestId('signout').click();
    await page.getByTestId('signin-form').waitFor();
    const r = await page.request.get(`${base}/console/api/session`);
    assert.equal(r.status(), 401);
  });
  await t.test('numbers: Test this URL against the daemon', async () => {
    const p = await newPage(context);
    await signIn(p, base, d.accountSid, d.authToken, '#/numbers');
    await p.getByRole('button', { name: `Test the voice URL of ${NUM_FAILING}` }).click();
    const result = p.locator('.test-result');
    const died = d.exited.then(({ code, signal }) => {
      throw new Error(`the daemon exited (code ${code}, signal ${signal}): ${d.stderr.slice(-600)}`);
    });
    died.catch(() => {});
    await Promise.race([result.waitFor({ timeout: 15000 }), died]);
    const pt = await textOf(result.getByTestId('test-webhook'));
    assert.match(pt, /500/);
    assert.ok(pt.includes(XSS_TWIML));
    assert.ok((await textOf(result.getByTestId('test-fallback'))).includes(app.url('/fallback')));
    assert.ok((await result.locator('a[href^="#/errors/112"]').count()) >= 1);
    await assertNoXss(p, 'test result');
  });
});
