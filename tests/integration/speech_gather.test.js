'use strict';
// <Gather input="speech"> end to end: sipp speaks (espeak-ng speech in a PCMU pcap) and the
// Gather's action receives what the embedded PocketSphinx engine recognized, with hints; keys
// still win with input="dtmf speech"; silence moves on to the next verb; a speechModel mapped
// to an external engine in [speech] goes to a Vosk-protocol server in the test, which gets the
// config and the audio and whose transcript reaches the action.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { WebSocketServer } = require('ws');
const { startDaemon } = require('./lib/daemon');
const { startApp, sipPort, addNumber } = require('./lib/app');
const { runSipp } = require('./lib/sipp');
const { speech, silence, concat, writeRtpPcap } = require('./lib/audio_pcap');

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-speech-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A pcap of `text` spoken by espeak-ng with silence around it.
function spoken(dir, name, text, voice = 'en-us') {
  const pcap = path.join(dir, `${name}.pcap`);
  writeRtpPcap(pcap, concat(silence(300), speech(dir, text, voice), silence(2500)));
  return pcap;
}

async function gatherCall(t, d, app, number, twiml, steps) {
  app.routes[`/voice${number}`] = () => twiml;
  await addNumber(d, number, { VoiceUrl: app.url(`/voice${number}`) });
  const call = await runSipp({ sipPort: sipPort(d), service: number, steps });
  assert.equal(call.code, 0, `sipp failed:\n${call.stdout}\n${call.messages}`);
}

test('speech with the embedded engine: words with hints, keys first with dtmf speech, silence moves on', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const dir = tempDir(t);
  app.routes['/result'] = () => '<Response><Hangup/></Response>';
  app.routes['/next'] = () => '<Response><Hangup/></Response>';

  // "one two three", hinted.
  await gatherCall(t, d, app, '+15005550101',
    '<Response><Gather input="speech" action="/result" timeout="6" speechTimeout="auto" hints="one two three"/></Response>',
    [{ answer: true }, { pause: 500 }, { pcap: spoken(dir, 'digits', 'one two three') }, { awaitBye: 20000 }]);
  const digits = await app.waitFor((e) => e.path === '/result' && e.params.To === '+15005550101');
  assert.equal(digits.valid, true);
  assert.equal(digits.params.SpeechResult.toLowerCase().replace(/[^a-z ]/g, ''), 'one two three');
  const confidence = Number(digits.params.Confidence);
  assert.ok(confidence > 0 && confidence <= 1, `Confidence ${digits.params.Confidence}`);
  assert.equal(digits.params.Digits, undefined);

  // A command among the hinted ones.
  await gatherCall(t, d, app, '+15005550102',
    '<Response><Gather input="speech" action="/result" timeout="6" speechTimeout="1" hints="sales, support, operator, billing"/></Response>',
    [{ answer: true }, { pause: 500 }, { pcap: spoken(dir, 'billing', 'billing', 'flite:kal') }, { awaitBye: 20000 }]);
  const command = await app.waitFor((e) => e.path === '/result' && e.params.To === '+15005550102');
  assert.equal(command.params.SpeechResult.toLowerCase().replace(/[^a-z]/g, ''), 'billing');

  // A key before any speech: the Gather becomes a DTMF one.
  await gatherCall(t, d, app, '+15005550103',
    '<Response><Gather input="dtmf speech" action="/result" timeout="6" numDigits="1"/></Response>',
    [{ answer: true }, { pause: 800 }, { pcap: 'dtmf_2833_7.pcap' }, { awaitBye: 20000 }]);
  const key = await app.waitFor((e) => e.path === '/result' && e.params.To === '+15005550103');
  assert.equal(key.params.Digits, '7');
  assert.equal(key.params.SpeechResult, undefined);

  // Nothing said within the timeout: the next verb runs (no action request).
  await gatherCall(t, d, app, '+15005550104',
    '<Response><Gather input="speech" action="/result" timeout="2"/><Redirect>/next</Redirect></Response>',
    [{ answer: true }, { awaitBye: 20000 }]);
  await app.waitFor((e) => e.path === '/next' && e.params.To === '+15005550104');
  assert.ok(!app.seen.some((e) => e.path === '/result' && e.params.To === '+15005550104'));
});

test('a speechModel mapped to an external engine: the Vosk protocol to a server in the test', async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.on('listening', r));
  const sessions = [];
  server.on('connection', (ws) => {
    const s = { config: null, bytes: 0, eof: false };
    sessions.push(s);
    ws.on('message', (data, binary) => {
      if (binary) {
        s.bytes += data.length;
        ws.send(JSON.stringify({ partial: 'hello' }));
        return;
      }
      const m = JSON.parse(data.toString());
      if (m.config) s.config = m.config;
      if (m.eof) {
        s.eof = true;
        ws.send(JSON.stringify({ result: [{ conf: 0.9, word: 'hello' }, { conf: 0.7, word: 'world' }], text: 'hello world' }));
        ws.close();
      }
    });
  });
  t.after(() => new Promise((r) => server.close(r)));
  const dir = tempDir(t);
  const config = path.join(dir, 'switchboard.toml');
  fs.writeFileSync(config, `[speech]\nvosk_url = "ws://127.0.0.1:${server.address().port}"\n[speech.models]\nphone_call = "vosk"\n`);
  const d = await startDaemon(t, { args: ['--config', config] });
  const app = await startApp(t, d.authToken);
  app.routes['/result'] = () => '<Response><Hangup/></Response>';

  await gatherCall(t, d, app, '+15005550105',
    '<Response><Gather input="speech" speechModel="phone_call" action="/result" timeout="6" speechTimeout="1" hints="hello, world"/></Response>',
    [{ answer: true }, { pause: 500 }, { pcap: spoken(dir, 'hello', 'hello world') }, { awaitBye: 20000 }]);
  const result = await app.waitFor((e) => e.path === '/result');
  assert.equal(result.params.SpeechResult, 'hello world');
  assert.equal(Number(result.params.Confidence).toFixed(2), '0.80');
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].config.sample_rate, 8000);
  assert.deepEqual(sessions[0].config.phrase_list, ['hello', 'world']);
  assert.ok(sessions[0].bytes > 16000, `the server got ${sessions[0].bytes} bytes of audio`);
  assert.equal(sessions[0].eof, true);
});
