'use strict';
// Driven by live_calls.sh: node live_calls.js BASE SID TOKEN CALLS WINDOW_S [SHOT] [DAEMON_PID]
// Waits for CALLS calls in progress, opens the console's live page in headless Chromium and
// measures it; then hangs every call up (REST) and measures the page while the rows go.
const fs = require('node:fs');
const { chromium } = require('playwright-core');

const [base, sid, token, callsArg, windowArg, shotPath, daemonPid] = process.argv.slice(2);
const N = Number(callsArg);
const WINDOW_MS = Number(windowArg) * 1000;
const auth = 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, path, form) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: auth, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form).toString() : undefined,
    signal: AbortSignal.timeout(30000),
  });
  return res.json();
}

async function until(fn, what, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function cpuTicks(pid) {
  if (!pid) return 0;
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

(async () => {
  let live = [];
  const t0 = Date.now();
  await until(async () => {
    live = (await api('GET', '/console/api/live')).calls.filter((c) => c.status === 'in-progress');
    process.stdout.write(`\r${live.length} calls in progress`);
    return live.length >= N;
  }, `${N} calls in progress`, (N / 50 + 120) * 1000);
  console.log(` (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${base}/console/`);
    await page.fill('input[name=username]', sid);
    await page.fill('input[name=password]', token);
    await page.click('[data-testid=signin-form] button[type=submit]');
    await page.getByTestId('signout').waitFor();
    await page.goto('about:blank');

    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metric = (m, name) => m.metrics.find((x) => x.name === name).value;
    const rows = () => page.evaluate(() => document.querySelectorAll('[data-testid^="live-row-"]').length);

    const nav = Date.now();
    await page.goto(`${base}/console/#/live`);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid^="live-row-"]').length >= n, N, { timeout: 60000 });
    const shown = Date.now() - nav;
    const s0 = await page.evaluate(() => ({ ...window.__consoleStats }));
    console.log(`time to first render: every one of ${await rows()} rows shown ${shown} ms after navigation; ` +
      `the SPA: snapshot -> first commit ${s0.firstRenderMs} ms (JS of that render ${s0.lastRenderMs} ms)`);
    if (shotPath) await page.screenshot({ path: shotPath });

    const d0 = cpuTicks(daemonPid);
    const m0 = await cdp.send('Performance.getMetrics');
    const r0 = (await page.evaluate(() => window.__consoleStats.renders));
    await sleep(WINDOW_MS);
    const m1 = await cdp.send('Performance.getMetrics');
    const r1 = (await page.evaluate(() => window.__consoleStats.renders));
    const d1 = cpuTicks(daemonPid);
    const secs = WINDOW_MS / 1000;
    const line = (what, a, b, ra, rb, da, db, s) =>
      console.log(`${what}: ${((rb - ra) / s).toFixed(1)} renders/s, page CPU ${(((metric(b, 'TaskDuration') - metric(a, 'TaskDuration')) / s) * 100).toFixed(1)} % ` +
        `(script ${(((metric(b, 'ScriptDuration') - metric(a, 'ScriptDuration')) / s) * 100).toFixed(1)} %, layout ${(((metric(b, 'LayoutDuration') - metric(a, 'LayoutDuration')) / s) * 100).toFixed(1)} %, ` +
        `style ${(((metric(b, 'RecalcStyleDuration') - metric(a, 'RecalcStyleDuration')) / s) * 100).toFixed(1)} %)` +
        (daemonPid ? `, daemon CPU ${(((db - da) / 100 / s) * 100).toFixed(1)} %` : '') + ` over ${s.toFixed(1)} s`);
    line(`${N} calls held`, m0, m1, r0, r1, d0, d1, secs);

    // Hang every call up through the REST API (32 at a time) while the page watches the events.
    const sids = live.map((c) => c.sid);
    const h0 = await cdp.send('Performance.getMetrics');
    const hr0 = (await page.evaluate(() => window.__consoleStats.renders));
    const hd0 = cpuTicks(daemonPid);
    const th = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < sids.length) {
        const s = sids[next++];
        await api('POST', `/2010-04-01/Accounts/${sid}/Calls/${s}.json`, { Status: 'completed' });
      }
    }));
    const posted = Date.now() - th;
    await page.waitForFunction(() => document.querySelectorAll('[data-testid^="live-row-"]').length === 0, null, { timeout: 120000 });
    const gone = Date.now() - th;
    const h1 = await cdp.send('Performance.getMetrics');
    const hr1 = (await page.evaluate(() => window.__consoleStats.renders));
    const hd1 = cpuTicks(daemonPid);
    console.log(`hang-up of ${sids.length} calls: REST requests done in ${posted} ms, every row gone ${gone} ms after the first`);
    line('while the rows go', h0, h1, hr0, hr1, hd0, hd1, gone / 1000);
    await context.close();
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
