'use strict';
// /metrics as Prometheus reads it: after a real demo call (sipp over SIP, so the SIP, call,
// media and HTTP families all have samples), the scrape passes Prometheus' own linter,
// `promtool check metrics` (Debian package prometheus): text-format grammar, HELP/TYPE,
// counters ending in _total, base units.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { startDaemon } = require('./lib/daemon');
const { runSipp } = require('./lib/sipp');

function sipPort(daemon) {
  const m = /sip:\s+udp\+tcp 127\.0\.0\.1:(\d+)/.exec(daemon.stdout);
  assert.ok(m, `no sip line in:\n${daemon.stdout}`);
  return Number(m[1]);
}

test('after a call, /metrics passes promtool check metrics', async (t) => {
  const d = await startDaemon(t, { args: ['--demo'] });
  const call = await runSipp({
    sipPort: sipPort(d), service: '1000',
    steps: [{ answer: true }, { pause: 4000 }, { pcap: 'dtmf_2833_4.pcap' }, { awaitBye: 30000 }],
    timeoutMs: 45000,
  });
  assert.equal(call.code, 0, `${call.stdout}\n${call.messages}`);
  // The SIP and call figures are sampled for the scraper every 250 ms: wait for the call's end
  // to show (bounded), then lint that scrape.
  let text = '';
  for (const deadline = Date.now() + 10000; Date.now() < deadline;) {
    const scrape = await d.request('GET', '/metrics');
    assert.equal(scrape.status, 200);
    text = scrape.text;
    if (/^switchboard_calls_completed_total 1$/m.test(text)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const family of [
    'switchboard_http_requests_total', 'switchboard_http_request_duration_seconds',
    'switchboard_sip_messages_received_total', 'switchboard_calls_completed_total',
    'switchboard_calls_refused_total', 'switchboard_media_ticks_total',
    'switchboard_media_tick_max_lateness_seconds', 'switchboard_rtp_packets_ignored_total',
    'process_cpu_seconds_total',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'), `${family} is exported`);
  }
  assert.match(text, /^switchboard_calls_completed_total 1$/m);
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(lint.error, undefined, `cannot run promtool: ${lint.error}`);
  assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
  assert.equal(await d.stop('SIGTERM'), 0, d.stderr);
});
