#!/usr/bin/env bash
# Call-rate and concurrency benchmark of the whole call path: sipp dials the daemon, the
# daemon fetches TwiML from a local application (bench/calls/app.js), speaks over RTP and
# hangs up with BYE. Everything on 127.0.0.1; every run bounded in calls and time.
#
#   bench/calls/callrate.sh rate  [RATE] [CALLS]   Say Hello + Hangup: failures, INVITE->200 p50/p99
#   bench/calls/callrate.sh hold  [CONCURRENT] [SECONDS]   calls held with audio playing
#
# STREAM=fork in hold mode adds a <Start><Stream> to every call (the caller's audio to a local
# WebSocket server, bench/calls/ws_sink.js); STREAM=echo holds every call in a two-way
# <Connect><Stream> whose server sends each media message back (played to the caller).
#
# BUILD (default build/release) must hold a Release build: make release. REALTIME=1 runs the
# daemon with --realtime (SCHED_FIFO workers).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-rate}
BIN=${BUILD:-build/release}/src/switchboard
[ -x "$BIN" ] || { echo "no $BIN: run make release" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

if [ "$MODE" = hold ]; then
  CONCURRENT=${2:-1000}; SECONDS_HELD=${3:-20}
  TWIML='<Response><Say loop="0">Hello, this call is held with audio playing.</Say></Response>'
  if [ -n "${STREAM:-}" ]; then
    NODE_PATH=tests/clients/node_modules node bench/calls/ws_sink.js 0 "$STREAM" > "$WORK/ws.out" 2> "$WORK/ws.log" & PIDS+=($!)
    for _ in $(seq 50); do [ -s "$WORK/ws.out" ] && break; sleep 0.1; done
    WS=$(head -1 "$WORK/ws.out")
    if [ "$STREAM" = echo ]; then
      TWIML="<Response><Connect><Stream url=\"ws://127.0.0.1:$WS/\"/></Connect></Response>"
    else
      TWIML="<Response><Start><Stream url=\"ws://127.0.0.1:$WS/\"/></Start><Say loop=\"0\">Hello, this call is held with audio playing.</Say></Response>"
    fi
  fi
else
  RATE=${2:-1200}; CALLS=${3:-10000}
  TWIML='<Response><Say>Hello</Say><Hangup/></Response>'
fi

node bench/calls/app.js 0 "$TWIML" > "$WORK/app.port" 2> "$WORK/app.log" & PIDS+=($!)
for _ in $(seq 50); do [ -s "$WORK/app.port" ] && break; sleep 0.1; done
APP=$(cat "$WORK/app.port")

SID=AC0123456789abcdef0123456789abcdef; TOKEN=bench-token-0123456789abcdef
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); t=socket.socket(); t.bind(("127.0.0.1", s.getsockname()[1])); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); SIP_PORT=$(free_port)
SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN "$BIN" serve --data-dir "$WORK/data" \
  --http-listen 127.0.0.1:$HTTP_PORT --sip-listen 127.0.0.1:$SIP_PORT --log-level warn \
  --rtp-ports 30000-60000 --max-calls ${MAX_CALLS:-20000} ${REALTIME:+--realtime} > "$WORK/daemon.log" 2>&1 & PIDS+=($!)
DAEMON=$!
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:$HTTP_PORT/healthz >/dev/null && break
  kill -0 $DAEMON 2>/dev/null || { echo "daemon exited:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -u $SID:$TOKEN -X POST http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json \
  --data-urlencode PhoneNumber=2000 --data-urlencode VoiceUrl=http://127.0.0.1:$APP/voice >/dev/null \
  || { echo "cannot create the number; daemon log:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }

cd "$WORK"
if [ "$MODE" = hold ]; then
  node -e "const {scenario}=require('$OLDPWD/tests/integration/lib/sipp.js');
    process.stdout.write(scenario({steps:[{answer:true},{pause:${SECONDS_HELD}000},{bye:true}]}))" > sc.xml
  RATE=${HOLD_RATE:-200}
  echo "holding $CONCURRENT calls for ${SECONDS_HELD}s (set up at $RATE/s)"
  CPU0=$(awk '{print $14+$15}' /proc/$DAEMON/stat)
  timeout $((CONCURRENT / RATE + SECONDS_HELD + 60)) sipp -sf sc.xml 127.0.0.1:$SIP_PORT -s 2000 -i 127.0.0.1 \
    -r $RATE -m $CONCURRENT -l $((CONCURRENT + 10)) -mi 127.0.0.1 -mp 40000 -nostdin -max_socket 65000 \
    -trace_stat -fd 1 -trace_err > sipp.out 2>&1 &
  SIPP=$!
  # Once every call is up: how many are live, and did any worker's 20 ms media tick slip
  # while they all played (deltas over a 4 s window)?
  sleep $((CONCURRENT / RATE + 1))
  M0=$(curl -s http://127.0.0.1:$HTTP_PORT/metrics); T0=$(awk '{print $14+$15}' /proc/$DAEMON/stat)
  W0=$(tail -1 "$WORK/ws.out" 2>/dev/null || true)
  sleep 4
  M1=$(curl -s http://127.0.0.1:$HTTP_PORT/metrics); T1=$(awk '{print $14+$15}' /proc/$DAEMON/stat)
  W1=$(tail -1 "$WORK/ws.out" 2>/dev/null || true)
  if [ -n "${STREAM:-}" ]; then
    read -r w0ms _ w0n <<< "$W0"; read -r w1ms w1c w1n <<< "$W1"
    echo "streams ($STREAM): $w1c connected; the server received $(( (w1n - w0n) * 1000 / (w1ms - w0ms) )) messages/s (50 per stream-second expected)"
  fi
  python3 - "$M0" "$M1" $((T1 - T0)) 4 "$(getconf CLK_TCK)" <<'PY'
import re, sys
def val(m, name):
    return {k: float(v) for k, v in re.findall(r'^' + name + r'(\{[^}]*\})? (\d+)', m, re.M)}
m0, m1 = sys.argv[1], sys.argv[2]
ticks, secs, hz = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
n0 = sum(val(m0, 'switchboard_calls_active').values()); n1 = sum(val(m1, 'switchboard_calls_active').values())
streams = val(m1, 'switchboard_media_streams')
t0, t1 = val(m0, 'switchboard_media_ticks_total'), val(m1, 'switchboard_media_ticks_total')
l0, l1 = val(m0, 'switchboard_media_late_ticks_total'), val(m1, 'switchboard_media_late_ticks_total')
print(f"held: {n0:.0f} -> {n1:.0f} calls live; RTP sessions per worker {sorted(int(v) for v in streams.values())}")
for k in sorted(t1):
    print(f"  worker {k}: {t1[k] - t0.get(k, 0):.0f} ticks, {l1.get(k, 0) - l0.get(k, 0):.0f} late (>20 ms behind) in {secs} s")
if n1:
    print(f"daemon CPU while held: {ticks * 1e6 / hz / secs / n1:.0f} us per call-second ({ticks / hz / secs * 100:.0f} % of one core)")
PY
  wait $SIPP || true
  CPU1=$(awk '{print $14+$15}' /proc/$DAEMON/stat)
else
  node -e "const {scenario}=require('$OLDPWD/tests/integration/lib/sipp.js');
    process.stdout.write(scenario({steps:[{answer:true},{awaitBye:10000}]}))" > sc.xml
  echo "$CALLS calls at $RATE calls/s: <Say>Hello</Say><Hangup/>"
  CPU0=$(awk '{print $14+$15}' /proc/$DAEMON/stat)
  timeout $((CALLS / RATE + 90)) sipp -sf sc.xml 127.0.0.1:$SIP_PORT -s 2000 -i 127.0.0.1 \
    -r $RATE -m $CALLS -l 20000 -mi 127.0.0.1 -mp 40000 -nostdin -max_socket 65000 \
    -trace_rtt -rtt_freq 1 -trace_stat -fd 1 -trace_err > sipp.out 2>&1 || true
  CPU1=$(awk '{print $14+$15}' /proc/$DAEMON/stat)
fi
STAT=$(ls -t sc_*_.csv 2>/dev/null | head -1 || true)
if [ -n "$STAT" ]; then
  # The last line of the statistics file holds the cumulative counters.
  python3 - "$STAT" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
head, last = rows[0], rows[-1]
v = dict(zip(head, last))
print(f"sipp: total calls {v.get('TotalCallCreated')}, successful {v.get('SuccessfulCall(C)')}, failed {v.get('FailedCall(C)')}, max concurrent {max(int(r[head.index('CurrentCall')]) for r in rows[1:])}")
PY
fi
RTT=$(ls sc_*_rtt.csv 2>/dev/null | head -1 || true)
if [ -n "$RTT" ]; then
  python3 - "$RTT" <<'PY'
import sys
vals = []
for line in open(sys.argv[1]):
    parts = line.strip().split(';')  # date_ms;response_time_ms;rtd_no
    try:
        vals.append(float(parts[1]))
    except (IndexError, ValueError):
        pass  # the header
vals.sort()
if vals:
    q = lambda p: vals[min(len(vals) - 1, int(p * len(vals)))]
    print(f"INVITE->200: n={len(vals)} p50={q(0.50):.2f} ms p99={q(0.99):.2f} ms max={vals[-1]:.2f} ms")
PY
fi
TICKS=$(getconf CLK_TCK)
echo "daemon CPU: $(( (CPU1 - CPU0) * 1000 / TICKS )) ms"
curl -s http://127.0.0.1:$HTTP_PORT/metrics | grep -E "^switchboard_calls_(routed|completed|refused)|^switchboard_calls_active" || true
grep -E "error|critical" "$WORK/daemon.log" | sort | uniq -c | head -5 || true
