'use strict';
// Conferences end to end: three SIP callers, each sending its own tone, dial into one room; what
// each hears is analysed (Goertzel) to prove the mix: before the room starts only the hold
// music, then everyone else's tone and never one's own; a participant muted through the
// official `twilio` client disappears from the others' audio; a kick and endConferenceOnExit
// end participants' Dials with DialCallStatus=answered; the conference status callbacks arrive
// with their StatusCallbackEvent values and rising SequenceNumbers; the REST resources agree.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, twilioClient } = require('./lib/daemon');
const { startApp, sipPort, addNumber } = require('./lib/app');
const { callWithRtp } = require('./lib/rtp_peer');
const { toneLevel, ulaw } = require('./lib/audio_pcap');

const NUMBER = '+15005550006';
const TONES = { A: 1100, B: 1700, C: 2300 };
const HOLD = [523.25, 659.25, 783.99];  // the notes of the built-in hold music (a 3 s cycle)

// Levels are amplitudes (a full-scale sine is ~32000); what is heard is well above 1000, what is
// not heard is noise below 200 (mu-law quantisation of the others).
const HEARD = 1000;
const ABSENT = 300;

function levels(call, from, to) {
  const out = {};
  for (const [name, hz] of Object.entries(TONES)) out[name] = Math.round(toneLevel(call.received, hz, from, to));
  out.hold = Math.round(Math.max(...HOLD.map((hz) => toneLevel(call.received, hz, from, to))));
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('three callers in one room: wait music, the mix without oneself, mute, kick, end on exit, callbacks', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const client = twilioClient(d);
  const who = {};  // From -> caller name
  app.routes['/voice'] = (req, p) => {
    const name = who[p.From];
    // A and B wait for C (the moderator: it starts the room); A ends it when it leaves.
    // A, the first, sets what is the room's: its callbacks and its recording.
    const attrs = name === 'C' ? 'startConferenceOnEnter="true"' :
      name === 'A' ? 'startConferenceOnEnter="false" endConferenceOnExit="true" record="record-from-start" trim="do-not-trim" recordingStatusCallback="/rec"' :
        'startConferenceOnEnter="false"';
    return `<Response><Dial action="/after"><Conference beep="false" participantLabel="${name}" ${attrs} ` +
      'statusCallback="/conf" statusCallbackEvent="start end join leave mute">Room 1</Conference></Dial></Response>';
  };
  app.routes['/after'] = () => '<Response><Hangup/></Response>';
  app.routes['/conf'] = () => ({ status: 204 });
  app.routes['/status'] = () => ({ status: 204 });
  app.routes['/rec'] = () => ({ status: 204 });
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice'), StatusCallback: app.url('/status') });
  const port = sipPort(d);
  const call = (name) => {
    const from = `+1415555010${Object.keys(TONES).indexOf(name)}`;
    who[from] = name;
    return callWithRtp({ sipPort: port, number: NUMBER, toneHz: TONES[name], from, timeoutMs: 40000 });
  };
  const joined = (label) => (e) => e.path === '/conf' && e.params.StatusCallbackEvent === 'participant-join' && e.params.ParticipantLabel === label;

  const A = await call('A');
  await app.waitFor(joined('A'));
  const B = await call('B');
  await app.waitFor(joined('B'));
  await sleep(3200);  // more than one cycle of the hold music
  const waitingUntil = Date.now();
  const C = await call('C');
  const start = await app.waitFor((e) => e.path === '/conf' && e.params.StatusCallbackEvent === 'conference-start');
  const confSid = start.params.ConferenceSid;
  assert.match(confSid, /^CF[0-9a-f]{32}$/);
  assert.equal(start.params.FriendlyName, 'Room 1');

  // The REST view of the live room.
  const conf = await client.conferences(confSid).fetch();
  assert.equal(conf.status, 'in-progress');
  assert.equal(conf.friendlyName, 'Room 1');
  // The list reads the store, whose row the room writes as it starts (a queued write that may
  // land just after the conference-start callback has gone out): poll briefly.
  let listed = [];
  for (let i = 0; i < 50 && !listed.some((c) => c.sid === confSid); ++i) {
    if (i > 0) await sleep(100);
    listed = await client.conferences.list({ status: 'in-progress' });
  }
  assert.ok(listed.some((c) => c.sid === confSid), JSON.stringify(listed.map((c) => [c.sid, c.status])));
  const parts = await client.conferences(confSid).participants.list();
  assert.deepEqual(parts.map((p) => p.label).sort(), ['A', 'B', 'C']);
  const cSid = parts.find((p) => p.label === 'C').callSid;
  const bSid = parts.find((p) => p.label === 'B').callSid;

  await sleep(2500);
  const mixedFrom = Date.now() - 2000;
  const mixedTo = Date.now();
  const updated = await client.conferences(confSid).participants(bSid).update({ muted: true });
  assert.equal(updated.muted, true);
  await app.waitFor((e) => e.path === '/conf' && e.params.StatusCallbackEvent === 'participant-mute');
  await sleep(2000);
  const mutedFrom = Date.now() - 1500;
  const mutedTo = Date.now();
  // Kick C by its label: its Dial ends (answered), its document goes on (/after hangs up).
  await client.conferences(confSid).participants('C').remove();
  const cAfter = await app.waitFor((e) => e.path === '/after' && e.params.CallSid === cSid);
  assert.equal(cAfter.params.DialCallStatus, 'answered');
  const cEnd = await C.done;
  assert.equal(cEnd.how, 'their BYE');

  // A leaves: endConferenceOnExit ends the room; B's Dial ends and its document goes on.
  A.hangup();
  const bAfter = await app.waitFor((e) => e.path === '/after' && e.params.CallSid === bSid);
  assert.equal(bAfter.params.DialCallStatus, 'answered');
  const end = await app.waitFor((e) => e.path === '/conf' && e.params.StatusCallbackEvent === 'conference-end');
  assert.equal(end.params.ReasonConferenceEnded, 'participant-with-end-conference-on-exit-left');
  const [aEnd, bEnd] = await Promise.all([A.done, B.done]);
  assert.equal(bEnd.how, 'their BYE');
  assert.equal(aEnd.how, 'our BYE');

  // Before C joined, A and B heard the hold music, not each other.
  for (const [name, c] of [['A', A], ['B', B]]) {
    const l = levels(c, waitingUntil - 3000, waitingUntil);
    // A note sounds for a fraction of the cycle: its level over the cycle is a fraction too.
    assert.ok(l.hold > 150, `${name} hears the hold music while waiting: ${JSON.stringify(l)}`);
    assert.ok(l.A < ABSENT && l.B < ABSENT, `${name} hears no participant while waiting: ${JSON.stringify(l)}`);
  }
  // In the room: everyone else, never oneself.
  for (const [name, c] of [['A', A], ['B', B], ['C', C]]) {
    const l = levels(c, mixedFrom, mixedTo);
    for (const other of Object.keys(TONES)) {
      if (other === name) {
        assert.ok(l[other] < ABSENT, `${name} does not hear itself: ${JSON.stringify(l)}`);
      } else {
        assert.ok(l[other] > HEARD, `${name} hears ${other}: ${JSON.stringify(l)}`);
      }
    }
    assert.ok(l.hold < ABSENT, `${name} no longer hears hold music: ${JSON.stringify(l)}`);
  }
  // B muted: A and C hear only each other; B still hears both.
  const aMuted = levels(A, mutedFrom, mutedTo);
  assert.ok(aMuted.B < ABSENT && aMuted.C > HEARD, `A no longer hears B: ${JSON.stringify(aMuted)}`);
  const bMuted = levels(B, mutedFrom, mutedTo);
  assert.ok(bMuted.A > HEARD && bMuted.C > HEARD, `muted B still hears: ${JSON.stringify(bMuted)}`);

  // Callbacks: signed, in order, numbered from 0 without gaps.
  const callbacks = app.seen.filter((e) => e.path === '/conf');
  assert.ok(callbacks.every((e) => e.valid), 'conference callbacks are signed');
  const events = callbacks.map((e) => e.params.StatusCallbackEvent);
  assert.deepEqual(events, ['participant-join', 'participant-join', 'participant-join', 'conference-start',
    'participant-mute', 'participant-leave', 'participant-leave', 'participant-leave', 'conference-end']);
  assert.deepEqual(callbacks.map((e) => Number(e.params.SequenceNumber)), events.map((_, i) => i));
  const kicked = callbacks.find((e) => e.params.StatusCallbackEvent === 'participant-leave' && e.params.CallSid === cSid);
  assert.equal(kicked.params.ReasonParticipantLeft, 'participant_updated_via_api');

  // The room was recorded from its start (the hold music before it is not): one channel, the
  // mix of everyone, stored before its callback.
  const rec = await app.waitFor((e) => e.path === '/rec');
  assert.ok(rec.valid);
  assert.equal(rec.params.ConferenceSid, confSid);
  assert.equal(rec.params.RecordingSource, 'Conference');
  assert.equal(rec.params.RecordingChannels, '1');
  assert.match(rec.params.RecordingSid, /^RE[0-9a-f]{32}$/);
  const recording = await client.recordings(rec.params.RecordingSid).fetch();
  assert.equal(recording.conferenceSid, confSid);
  assert.equal(recording.source, 'Conference');
  const seconds = Number(rec.params.RecordingDuration);
  assert.ok(seconds >= 4 && seconds <= 30, `recorded from the start to the end: ${seconds} s`);
  const wav = await fetch(rec.params.RecordingUrl + '.wav');
  assert.equal(wav.status, 200);
  const pcm = new Int16Array((await wav.arrayBuffer()).slice(44));
  const level = (hz, from, to) => {
    const packets = [];
    for (let i = from * 8000; i + 160 <= to * 8000 && i + 160 <= pcm.length; i += 160) {
      packets.push({ pt: 0, at: 0, payload: Buffer.from(Array.from(pcm.subarray(i, i + 160), (x) => ulaw(x))) });
    }
    return toneLevel(packets, hz);
  };
  const first = { A: level(TONES.A, 0.5, 2), B: level(TONES.B, 0.5, 2), C: level(TONES.C, 0.5, 2) };
  assert.ok(first.A > HEARD && first.B > HEARD && first.C > HEARD, `everyone is in the recording: ${JSON.stringify(first)}`);

  const done = await client.conferences(confSid).fetch();
  assert.equal(done.status, 'completed');
  assert.equal(done.reasonConferenceEnded, 'participant-with-end-conference-on-exit-left');
  assert.equal((await client.conferences(confSid).participants.list()).length, 0);
});

test('bad input: a full room fails the next Dial, a taken label is 16025, unknown participant 404', async (t) => {
  const d = await startDaemon(t);
  const app = await startApp(t, d.authToken);
  const client = twilioClient(d);
  const who = {};
  app.routes['/voice'] = (req, p) =>
    `<Response><Dial action="/after"><Conference maxParticipants="2" participantLabel="${who[p.From]}" beep="false">small</Conference></Dial></Response>`;
  app.routes['/after'] = () => '<Response><Hangup/></Response>';
  await addNumber(d, NUMBER, { VoiceUrl: app.url('/voice') });
  const port = sipPort(d);
  const call = (from, label) => {
    who[from] = label;
    return callWithRtp({ sipPort: port, number: NUMBER, toneHz: 1100, from, timeoutMs: 30000 });
  };
  const first = await call('+14155550200', 'one');
  const started = await app.waitFor((e) => e.path === '/voice' && e.params.From === '+14155550200');
  // The same label again: 16025, the Dial fails and the document goes on.
  const dup = await call('+14155550201', 'one');
  const dupAfter = await app.waitFor((e) => e.path === '/after' && e.params.From === '+14155550201');
  assert.equal(dupAfter.params.DialCallStatus, 'failed');
  await dup.done;
  const second = await call('+14155550202', 'two');
  await app.waitFor((e) => e.path === '/voice' && e.params.From === '+14155550202');
  let rooms;
  for (let i = 0; i < 50; ++i) {
    rooms = await client.conferences.list({ friendlyName: 'small', status: 'in-progress' });
    if (rooms.length) break;
    await sleep(100);
  }
  assert.equal(rooms.length, 1);
  // Full (2): the third's Dial fails.
  const third = await call('+14155550203', 'three');
  const thirdAfter = await app.waitFor((e) => e.path === '/after' && e.params.From === '+14155550203');
  assert.equal(thirdAfter.params.DialCallStatus, 'failed');
  await third.done;
  await assert.rejects(client.conferences(rooms[0].sid).participants('CA00000000000000000000000000000000').fetch(),
    (e) => e.status === 404);
  const notifications = await client.notifications.list();
  assert.ok(notifications.some((n) => Number(n.errorCode) === 16025), 'the taken label is reported as 16025');
  assert.ok(started.valid);
  first.hangup();
  second.hangup();
  await Promise.all([first.done, second.done]);
});
