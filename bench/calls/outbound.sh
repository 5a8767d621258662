#!/usr/bin/env bash
# Outbound calls benchmark: POST Calls.json at a rate, the daemon dials a sipp callee (built-in
# uas: 180, 200, waits for our BYE) through a trunk, each call pauses 3 s and hangs up from our
# side. Everything on 127.0.0.1; bounded in calls and time.
#
#   bench/calls/outbound.sh rate  [RATE] [CALLS]   calls/s with failures, create->INVITE p50/p99
#   bench/calls/outbound.sh pace  [CPS] [CALLS]    one account at calls.cps_per_account = CPS:
#                                                  the INVITEs' mean spacing against 1/CPS
#   bench/calls/outbound.sh play  [RATE] [CALLS] [PLAY_S]   each call plays a PLAY_S-second
#                                                  prompt (default 10): peak calls up with audio,
#                                                  late media ticks, daemon CPU per call
#
# BUILD (default build/release) must hold a Release build: make release. NOTRACE=1 runs the
# callee without its message log (no latency figures: sipp's logging costs it CPU at high rates).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-rate}
BIN=${BUILD:-build/release}/src/switchboard
[ -x "$BIN" ] || { echo "no $BIN: run make release" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

if [ "$MODE" = pace ]; then
  CPS=${2:-10}; CALLS=${3:-200}; RATE=$((CALLS)); CPS_CONFIG=$CPS
elif [ "$MODE" = play ]; then
  RATE=${2:-400}; CALLS=${3:-4000}; export PLAY_S=${4:-10}; CPS_CONFIG=10000
else
  RATE=${2:-300}; CALLS=${3:-3000}; CPS_CONFIG=10000
fi
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); t=socket.socket(); t.bind(("127.0.0.1", s.getsockname()[1])); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); SIP_PORT=$(free_port); UAS_PORT=$(free_port)

# The callee first: the trunk points at it. CALLEE=node: bench/calls/uas.js, which stamps
# INVITEs cheaply enough for latency figures at rates where sipp's log cannot keep up.
if [ "${CALLEE:-sipp}" = node ]; then
  INVITES="$WORK/invites.json"
  node bench/calls/uas.js $UAS_PORT "$INVITES" 900 > "$WORK/uas.out" 2>&1 & PIDS+=($!)
  sleep 0.3
else
  INVITES="$WORK/uas.msg"
  ( cd "$WORK" && exec sipp -sn uas -i 127.0.0.1 -p $UAS_PORT -mi 127.0.0.1 -mp 45000 -nostdin \
      -max_socket 65000 ${NOTRACE:+-nd} ${NOTRACE:--trace_msg -message_file "$WORK/uas.msg"} -m $CALLS \
      > "$WORK/uas.out" 2>&1 ) & PIDS+=($!)
fi

cat > "$WORK/sb.toml" <<TOML
[[sip.trunks]]
name = "bench"
address = "127.0.0.1:$UAS_PORT"
prefixes = [""]

[calls]
cps_per_account = $CPS_CONFIG
TOML
SID=AC0123456789abcdef0123456789abcdef; TOKEN=bench-token-0123456789abcdef
SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN "$BIN" serve --config "$WORK/sb.toml" \
  --data-dir "$WORK/data" --http-listen 127.0.0.1:$HTTP_PORT --sip-listen 127.0.0.1:$SIP_PORT \
  --log-level warn --rtp-ports 20000-44000 --max-calls ${MAX_CALLS:-20000} > "$WORK/daemon.log" 2>&1 & PIDS+=($!)
DAEMON=$!
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:$HTTP_PORT/healthz >/dev/null && break
  kill -0 $DAEMON 2>/dev/null || { echo "daemon exited:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 0.1
done
FROM=+15005550006
curl -sf -u $SID:$TOKEN http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json \
  --data-urlencode PhoneNumber=$FROM >/dev/null

echo "$MODE: $CALLS calls, created at $RATE/s, calls.cps_per_account = $CPS_CONFIG${PLAY_S:+, <Play> $PLAY_S s}"
cpu_ticks() { awk '{ print $14 + $15 }' /proc/$DAEMON/stat; }
CPU0=$(cpu_ticks); LATE0=$(curl -s http://127.0.0.1:$HTTP_PORT/metrics | awk '/^switchboard_media_late_ticks_total/ { s += $2 } END { print s + 0 }')
timeout $((CALLS / (CPS_CONFIG < RATE ? CPS_CONFIG : RATE) + 120)) node bench/calls/outbound.js \
  http://127.0.0.1:$HTTP_PORT $SID $TOKEN $FROM +14155550100 $CALLS $RATE "$INVITES" \
  $((CALLS / (CPS_CONFIG < RATE ? CPS_CONFIG : RATE) + 60)) | tee "$WORK/result.json"
CPU1=$(cpu_ticks); LATE1=$(curl -s http://127.0.0.1:$HTTP_PORT/metrics | awk '/^switchboard_media_late_ticks_total/ { s += $2 } END { print s + 0 }')
echo "daemon CPU $(( (CPU1 - CPU0) * 1000 / $(getconf CLK_TCK) )) ms for $CALLS calls ($(( (CPU1 - CPU0) * 1000000 / $(getconf CLK_TCK) / CALLS )) us per call); late media ticks $((LATE1 - LATE0))"
curl -s http://127.0.0.1:$HTTP_PORT/metrics | grep -E '^switchboard_media_tick_max_lateness_seconds' || true
if [ "$MODE" = pace ]; then
  node -e "const r=require('$WORK/result.json'); const want=1000/$CPS;
    console.log('INVITE spacing ' + r.invite_spacing_ms + ' ms against ' + want + ' ms: ' +
      (100*(r.invite_spacing_ms-want)/want).toFixed(2) + ' %')"
fi
