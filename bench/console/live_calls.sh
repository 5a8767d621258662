#!/usr/bin/env bash
# The console's live page with many real calls: the RELEASE daemon, CONCURRENT (default 2,000)
# calls placed by sipp and held (<Pause>), then headless Chromium (playwright-core) signs in and
# opens #/live. Reports the time to first render (navigation -> every row shown, and the SPA's
# own snapshot -> first commit), renders/s and the page's CPU (CDP Performance.getMetrics
# TaskDuration) over a 10 s window with the calls held, and the same while every call is hung up.
# Everything on 127.0.0.1; every step bounded.
#
#   bench/console/live_calls.sh [CONCURRENT] [WINDOW_SECONDS]
#
# BUILD (default build/release) must hold a Release build. SHOT=path.png saves a screenshot of
# the live page with every call up (e.g. SHOT=docs/console/live-calls-2000.png).
set -euo pipefail
cd "$(dirname "$0")/../.."
CONCURRENT=${1:-2000}; WINDOW=${2:-10}
BIN=${BUILD:-build/release}/src/switchboard
[ -x "$BIN" ] || { echo "no $BIN: run make release" >&2; exit 2; }
command -v sipp >/dev/null || { echo "sipp is needed" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

HOLD_S=$((CONCURRENT / ${HOLD_RATE:-200} + WINDOW * 2 + 120))
node bench/calls/app.js 0 "<Response><Pause length=\"$HOLD_S\"/></Response>" > "$WORK/app.port" 2> "$WORK/app.log" & PIDS+=($!)
for _ in $(seq 50); do [ -s "$WORK/app.port" ] && break; sleep 0.1; done
APP=$(cat "$WORK/app.port")

SID=AC0123456789abcdef0123456789abcdef; TOKEN=bench-token-0123456789abcdef
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); t=socket.socket(); t.bind(("127.0.0.1", s.getsockname()[1])); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); SIP_PORT=$(free_port)
SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN "$BIN" serve --data-dir "$WORK/data" \
  --http-listen 127.0.0.1:$HTTP_PORT --sip-listen 127.0.0.1:$SIP_PORT --log-level warn \
  --rtp-ports 30000-60000 --max-calls $((CONCURRENT + 1000)) > "$WORK/daemon.log" 2>&1 & PIDS+=($!)
DAEMON=$!
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:$HTTP_PORT/healthz >/dev/null && break
  kill -0 $DAEMON 2>/dev/null || { echo "daemon exited:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -u $SID:$TOKEN -X POST http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json \
  --data-urlencode PhoneNumber=2000 --data-urlencode VoiceUrl=http://127.0.0.1:$APP/voice >/dev/null \
  || { echo "cannot create the number; daemon log:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }

node -e "const {scenario}=require('$PWD/tests/integration/lib/sipp.js');
  process.stdout.write(scenario({steps:[{answer:true},{awaitBye:${HOLD_S}000}]}))" > "$WORK/sc.xml"
RATE=${HOLD_RATE:-200}
echo "placing $CONCURRENT calls at $RATE/s, held until hung up"
( cd "$WORK" && exec timeout $((HOLD_S + 60)) sipp -sf sc.xml 127.0.0.1:$SIP_PORT -s 2000 -i 127.0.0.1 \
    -r $RATE -m $CONCURRENT -l $((CONCURRENT + 10)) -mi 127.0.0.1 -mp 40000 -nostdin -max_socket 65000 \
    -trace_stat -fd 1 -trace_err > sipp.out 2>&1 ) & PIDS+=($!)
SIPP=$!

NODE_PATH=tests/clients/node_modules node bench/console/live_calls.js \
  "http://127.0.0.1:$HTTP_PORT" "$SID" "$TOKEN" "$CONCURRENT" "$WINDOW" "${SHOT:-}" $DAEMON
wait $SIPP && SIPP_RC=0 || SIPP_RC=$?
STAT=$(ls -t "$WORK"/sc_*_.csv 2>/dev/null | head -1 || true)
if [ -n "$STAT" ]; then
  python3 - "$STAT" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
v = dict(zip(rows[0], rows[-1]))
print(f"sipp: calls {v.get('TotalCallCreated')}, successful {v.get('SuccessfulCall(C)')} (BYE received and answered), failed {v.get('FailedCall(C)')}")
PY
fi
echo "sipp exit code $SIPP_RC"
grep -E "error|critical" "$WORK/daemon.log" | sort | uniq -c | head -5 || true
