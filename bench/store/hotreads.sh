#!/usr/bin/env bash
# The hot reads on a slow disk: while a bulk REST write runs (Applications POSTed with several in
# flight), the p50/p99 of INVITE->200 (sipp, the number's application answers at once) and of an
# authenticated GET /2010-04-01/Accounts/{Sid}.json. The daemon runs under bench/store/slowio.c,
# which delays every read and sync of switchboard.db (and its WAL) once set-up is done.
# Everything on 127.0.0.1; every loop bounded in count and time.
#
#   bench/store/hotreads.sh [SECONDS]
#
# BIN (default build/release/src/switchboard) is the daemon to measure: run once per build to
# compare. CALL_RATE (calls/s, 20), GET_RATE (GETs/s, 100), WRITERS (POSTs in flight, 4),
# MAX_WRITES (20000), SLOW_READ_US (per read, 1000), SLOW_SYNC_US (per sync, 10000).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN_SECONDS=${1:-20}
BIN=${BIN:-build/release/src/switchboard}
CALL_RATE=${CALL_RATE:-20}; GET_RATE=${GET_RATE:-100}; WRITERS=${WRITERS:-4}
MAX_WRITES=${MAX_WRITES:-20000}; SLOW_READ_US=${SLOW_READ_US:-1000}; SLOW_SYNC_US=${SLOW_SYNC_US:-10000}
[ -x "$BIN" ] || { echo "no $BIN: build Release first (make release)" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cc -O2 -shared -fPIC -o "$WORK/slowio.so" bench/store/slowio.c -ldl

node bench/calls/app.js 0 '<Response><Say>Hello</Say><Hangup/></Response>' > "$WORK/app.port" 2> "$WORK/app.log" & PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/app.port" ] && break; sleep 0.1; done
APP=$(cat "$WORK/app.port")

SID=AC0123456789abcdef0123456789abcdef; TOKEN=bench-token-0123456789abcdef
# A port free for both UDP and TCP, from the kernel.
free_port() { node -e "
  const d = require('node:dgram').createSocket('udp4');
  d.bind(0, '127.0.0.1', () => {
    const p = d.address().port, t = require('node:net').createServer();
    t.once('error', () => process.exit(1));
    t.listen(p, '127.0.0.1', () => { console.log(p); t.close(); d.close(); });
  });"; }
HTTP_PORT=$(free_port); SIP_PORT=$(free_port)
LD_PRELOAD="$WORK/slowio.so" SLOWIO_MATCH=switchboard.db SLOWIO_FLAG="$WORK/slow.on" \
  SLOWIO_READ_US=$SLOW_READ_US SLOWIO_SYNC_US=$SLOW_SYNC_US \
  SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN "$BIN" serve --data-dir "$WORK/data" \
  --http-listen 127.0.0.1:$HTTP_PORT --sip-listen 127.0.0.1:$SIP_PORT --log-level warn --workers 2 \
  --rtp-ports 30000-60000 > "$WORK/daemon.log" 2>&1 & PIDS+=($!)
DAEMON=$!
for _ in $(seq 300); do
  curl -sf http://127.0.0.1:$HTTP_PORT/healthz >/dev/null && break
  kill -0 $DAEMON 2>/dev/null || { echo "daemon exited:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -u $SID:$TOKEN -X POST http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json \
  --data-urlencode PhoneNumber=2000 --data-urlencode VoiceUrl=http://127.0.0.1:$APP/voice >/dev/null \
  || { echo "cannot create the number; daemon log:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
node -e "const {scenario}=require('$PWD/tests/integration/lib/sipp.js');
  process.stdout.write(scenario({steps:[{answer:true},{awaitBye:10000}]}))" > "$WORK/sc.xml"

echo "$RUN_SECONDS s: ${CALL_RATE} calls/s, ${GET_RATE} GETs/s, $WRITERS POSTs in flight;" \
  "disk: ${SLOW_READ_US} us per read, ${SLOW_SYNC_US} us per sync; $BIN"
touch "$WORK/slow.on"  # the disk is slow from here on
CPU0=$(awk '{print $14+$15}' /proc/$DAEMON/stat)
node bench/store/load.js write $HTTP_PORT $SID $TOKEN $WRITERS $MAX_WRITES $RUN_SECONDS > "$WORK/write.out" & WRITER=$!
node bench/store/load.js read $HTTP_PORT $SID $TOKEN $GET_RATE $RUN_SECONDS > "$WORK/read.out" & READER=$!
(cd "$WORK" && timeout $((RUN_SECONDS + 60)) sipp -sf sc.xml 127.0.0.1:$SIP_PORT -s 2000 -i 127.0.0.1 \
  -r $CALL_RATE -m $((CALL_RATE * RUN_SECONDS)) -l 5000 -mi 127.0.0.1 -mp 40000 -nostdin \
  -trace_rtt -rtt_freq 1 -trace_stat -fd 1 -trace_err > sipp.out 2>&1) || true
wait $WRITER $READER || true
CPU1=$(awk '{print $14+$15}' /proc/$DAEMON/stat)

cat "$WORK/write.out" "$WORK/read.out"
STAT=$(ls -t "$WORK"/sc_*_.csv 2>/dev/null | head -1 || true)
[ -n "$STAT" ] && awk -F';' 'NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i } END {
  print "sipp: calls " $col["TotalCallCreated"] ", successful " $col["SuccessfulCall(C)"] ", failed " $col["FailedCall(C)"] }' "$STAT"
RTT=$(ls "$WORK"/sc_*_rtt.csv 2>/dev/null | head -1 || true)
# date_ms;response_time_ms;rtd_no, after a header line
[ -n "$RTT" ] && awk -F';' 'NR > 1 && $2 ~ /^[0-9.]+$/ { print $2 }' "$RTT" | sort -n | awk '
  { v[NR] = $1 } END { if (NR) { i50 = int(0.5 * NR) + 1; i99 = int(0.99 * NR) + 1;
    if (i99 > NR) i99 = NR; printf "INVITE->200 n=%d p50=%.2f p99=%.2f max=%.2f ms\n", NR, v[i50], v[i99], v[NR] } }'
echo "daemon CPU: $(( (CPU1 - CPU0) * 1000 / $(getconf CLK_TCK) )) ms"
grep -E "error|critical" "$WORK/daemon.log" | sed -E 's/^\[[^]]*\] //' | sort | uniq -c | sort -rn | head -5 || true
