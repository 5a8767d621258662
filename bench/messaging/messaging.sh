#!/usr/bin/env bash
# Messaging benchmark (SIP MESSAGE, RFC 3428) both ways through the daemon. Everything on
# 127.0.0.1; bounded in messages and time.
#
#   bench/messaging/messaging.sh in  [RATE] [COUNT]   SIP MESSAGE "ping ID" to +15005550006 at
#       RATE/s (sender.js, one UDP socket, no retransmissions); the daemon stores it (202), asks
#       the SmsUrl (app.js: <Message>pong ID</Message>) and sends the reply through the trunk to
#       receiver.js (200 OK). 202s/s, replies/s, MESSAGE -> reply p50/p99, failures by kind.
#   bench/messaging/messaging.sh out [RATE] [COUNT]   POST Messages.json "out ID" at RATE/s
#       (creator.js, keep-alive, INFLIGHT in flight, default 64) with a StatusCallback to app.js;
#       the daemon sends each through the trunk to receiver.js (200 OK). 201s/s, MESSAGE
#       arrivals/s, create -> MESSAGE p50/p99, status callbacks (4 per message, in order).
#
# COUNT defaults to 10 x RATE, at most 20,000. Both report the daemon's CPU per message accepted
# (from /proc), the CPU of each daemon thread over the run and in a one-second sample mid-run
# (which thread is saturated; threads named with gdb after the run, THREADS=0 skips that), the
# node tools' CPU, datagrams dropped on the daemon's SIP socket, the receiver's repeats (the
# daemon's retransmissions) and the daemon's switchboard_messages_total. PERF=1 adds a 2 s perf
# profile of the daemon by thread and symbol. BUILD (default build/release) must hold a Release
# build: make release. WAIT_S (default 15): how long after the last send to wait for responses,
# replies and callbacks.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-in}
case "$MODE" in in|out) ;; *) echo "usage: $0 in|out [RATE] [COUNT]" >&2; exit 2 ;; esac
RATE=${2:-1000}
DEFAULT_COUNT=$((RATE * 10)); [ $DEFAULT_COUNT -gt 20000 ] && DEFAULT_COUNT=20000
COUNT=${3:-$DEFAULT_COUNT}
WAIT_S=${WAIT_S:-15}
BIN=${BUILD:-build/release}/src/switchboard
[ -x "$BIN" ] || { echo "no $BIN: run make release" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# A port free for both UDP and TCP (the SIP listener takes both), asked of the kernel; a few
# tries, since the TCP port of a free UDP one may be taken.
free_port() { python3 -c '
import socket
for _ in range(20):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", s.getsockname()[1])); print(s.getsockname()[1]); break
    except OSError:
        pass
else:
    raise SystemExit("no free port")'; }
HTTP_PORT=$(free_port); SIP_PORT=$(free_port); RECV_PORT=$(free_port)

node bench/messaging/app.js 0 > "$WORK/app.port" 2> "$WORK/app.log" & PIDS+=($!)
APP_PID=$!
for _ in $(seq 50); do [ -s "$WORK/app.port" ] && break; sleep 0.1; done
[ -s "$WORK/app.port" ] || { echo "app did not start:" >&2; cat "$WORK/app.log" >&2; exit 1; }
APP=http://127.0.0.1:$(cat "$WORK/app.port")

# The trunk's far end is the driver's receiver socket (bound when the driver starts, before it
# sends anything). One load source must not meet the per-source flood limit (500/s).
cat > "$WORK/sb.toml" <<TOML
[sip]
message_rate = 100000
message_burst = 100000

[[sip.trunks]]
name = "bench"
address = "127.0.0.1:$RECV_PORT"
prefixes = [""]
TOML
SID=AC0123456789abcdef0123456789abcdef; TOKEN=bench-token-0123456789abcdef
SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN "$BIN" serve --config "$WORK/sb.toml" \
  --data-dir "$WORK/data" --http-listen 127.0.0.1:$HTTP_PORT --sip-listen 127.0.0.1:$SIP_PORT \
  --log-level warn > "$WORK/daemon.log" 2>&1 & PIDS+=($!)
DAEMON=$!
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:$HTTP_PORT/healthz >/dev/null && break
  kill -0 $DAEMON 2>/dev/null || { echo "daemon exited:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 0.1
done
NUMBER=+15005550006
curl -sf -u $SID:$TOKEN http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json \
  --data-urlencode PhoneNumber=$NUMBER --data-urlencode SmsUrl=$APP/sms >/dev/null \
  || { echo "cannot create the number; daemon log:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }

HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }
# "TID ticks" for every thread of the daemon.
thread_ticks() { for t in /proc/$DAEMON/task/*; do echo "${t##*/} $(awk '{ print $14 + $15 }' $t/stat 2>/dev/null || echo 0)"; done; }
# Per-thread CPU % between two thread_ticks files over SECONDS, named from $WORK/roles if known.
thread_pct() { awk -v hz=$HZ -v s="$3" 'FILENAME == ARGV[1] { r[$1] = substr($0, length($1) + 2); next }
  FILENAME == ARGV[2] { a[$1] = $2; next } { d = $2 - a[$1]; if (d > 0) printf "%s%s %.0f%%", n++ ? ", " : "", ($1 in r) ? r[$1] : $1, 100 * d / hz / s }
  END { print "" }' "$WORK/roles" "$1" "$2"; }
# Datagrams the kernel dropped: on the daemon's SIP socket (its receive buffer full), and on
# the whole machine (RcvbufErrors: the node tools' sockets too, and other users').
sip_drops() { awk -v p="$(printf '%04X' $SIP_PORT)" 'NR > 1 && $2 ~ (":" p "$") { print $NF; exit }' /proc/net/udp; }
udp_rcvbuf_errors() { awk '/^Udp:/ && ++n == 2 { print $6 }' /proc/net/snmp; }
messages_metrics() { curl -s http://127.0.0.1:$HTTP_PORT/metrics | grep -E '^switchboard_(messages_total|sip_message_requests|message_webhooks)' || true; }

echo "$MODE: $COUNT messages at $RATE/s ($(uptime | sed 's/.*load/load/'))"
DROPS0=$(sip_drops); RCVBUF0=$(udp_rcvbuf_errors)
CPU0=$(cpu_ticks $DAEMON); APPCPU0=$(cpu_ticks $APP_PID); thread_ticks > "$WORK/threads0"; T0=$(date +%s.%N)
# A one-second look at the daemon's threads in the middle of the sending window.
( sleep "$(awk -v c=$COUNT -v r=$RATE 'BEGIN { s = c / r / 2 - 0.5; print (s > 0.2 ? s : 0.2) }')"
  thread_ticks > "$WORK/mid0"; sleep 1; thread_ticks > "$WORK/mid1"
  # PERF=1: where the daemon's time goes, 2 s from here (perf record, by thread and symbol);
  # PERF_RECORD adds options (e.g. "--call-graph dwarf"), PERF_KEEP=FILE keeps the data.
  if [ "${PERF:-0}" = 1 ]; then
    timeout 20 perf record -q ${PERF_RECORD:-} -o "$WORK/perf.data" -p $DAEMON -- sleep 2 >/dev/null 2>&1 || true
  fi ) & PIDS+=($!)
MID=$!
LIMIT=$((COUNT / RATE + WAIT_S + 60))
if [ "$MODE" = in ]; then
  timeout $LIMIT node bench/messaging/sender.js $SIP_PORT $RECV_PORT $COUNT $RATE $WAIT_S \
    $NUMBER +15557770001 | tee "$WORK/result.json"
else
  timeout $LIMIT node bench/messaging/creator.js http://127.0.0.1:$HTTP_PORT $SID $TOKEN $NUMBER \
    +14155550100 $COUNT $RATE $RECV_PORT $APP $WAIT_S ${INFLIGHT:-64} | tee "$WORK/result.json"
fi
T1=$(date +%s.%N); CPU1=$(cpu_ticks $DAEMON); APPCPU1=$(cpu_ticks $APP_PID); thread_ticks > "$WORK/threads1"
wait $MID 2>/dev/null || true
kill -0 $DAEMON 2>/dev/null || { echo "DAEMON DIED; its log:" >&2; tail -50 "$WORK/daemon.log" >&2; exit 1; }
ELAPSED=$(awk -v a=$T0 -v b=$T1 'BEGIN { printf "%.2f", b - a }')
# Per message accepted (202 or 201), which is per message offered when the run is clean.
ACCEPTED=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log((r.finals ? r.finals[202] : r.creates[201]) || 0)' "$WORK/result.json" 2>/dev/null || echo 0)
echo "daemon CPU $(( (CPU1 - CPU0) * 1000 / HZ )) ms for $ACCEPTED messages accepted of $COUNT ($(( (CPU1 - CPU0) * 1000000 / HZ / (ACCEPTED > 0 ? ACCEPTED : 1) )) us per accepted message) over ${ELAPSED} s; app.js $(( (APPCPU1 - APPCPU0) * 1000 / HZ )) ms"
# Which thread is which (gdb, after the run: stops the daemon for a moment; THREADS=0 skips it).
# Threads start in this order, so TIDs tell the two writers and the two workers apart: the
# store's writer, then the events store's, the events executor, the media offload pools, then
# worker 0 (SIP: the stack, messaging, its webhooks and callbacks; and HTTP connections) and
# worker 1 (HTTP connections, calls).
: > "$WORK/roles"
if [ "${THREADS:-1}" = 1 ] && command -v gdb >/dev/null; then
  timeout 30 gdb -p $DAEMON -batch -ex 'thread apply all bt 40' 2>/dev/null | awk -v pid=$DAEMON '
    /^Thread [0-9]+ \(Thread .*\(LWP [0-9]+\)/ { match($0, /LWP [0-9]+/); tid = substr($0, RSTART + 4, RLENGTH - 4); role[tid] = tid == pid ? "main (signals)" : "?"; next }
    /SqliteWriter::run/ { role[tid] = "writer" } /EventService::start/ { role[tid] = "events executor" }
    /thread_pool::thread_function/ { role[tid] = "offload pool" } /sb::app::serve.*lambda/ { role[tid] = "worker" }
    END { for (t in role) print t, role[t] }' | sort -n | awk '
    $2 == "writer" { $0 = $1 " " (w++ ? "events store writer" : "store writer") }
    $2 == "worker" { $0 = $1 " " (k++ ? "worker 1 (HTTP)" : "worker 0 (SIP, messaging, HTTP)") }
    { print }' > "$WORK/roles" || true
fi
echo "daemon threads over the run: $(thread_pct "$WORK/threads0" "$WORK/threads1" $ELAPSED)"
[ -s "$WORK/mid1" ] && echo "daemon threads, 1 s mid-run: $(thread_pct "$WORK/mid0" "$WORK/mid1" 1)"
echo "UDP drops: daemon SIP socket $(( $(sip_drops) - DROPS0 )), machine RcvbufErrors $(( $(udp_rcvbuf_errors) - RCVBUF0 ))"
if [ -s "$WORK/perf.data" ]; then
  echo "perf, 2 s mid-run: share of the daemon's samples by thread, and each busy thread's top symbols"
  perf report -i "$WORK/perf.data" --no-children --sort pid --stdio 2>/dev/null |
    awk '/^ +[0-9.]+%/ { split($2, a, ":"); print a[1], $1 }' | head -5 | while read -r tid share; do
      echo "  $share $(awk -v t=$tid '$1 == t { $1 = ""; print substr($0, 2) }' "$WORK/roles") ($tid):"
      perf report -i "$WORK/perf.data" --no-children --tid=$tid --sort dso,sym --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -${PERF_SYMBOLS:-8} | cut -c1-140 || true
    done
  [ -n "${PERF_KEEP:-}" ] && cp "$WORK/perf.data" "$PERF_KEEP" && cp "$WORK/roles" "$PERF_KEEP.roles"
fi
[ "$MODE" = in ] && curl -s $APP/stats | node -e 'let t = ""; process.stdin.on("data", (c) => { t += c; }).on("end", () => {
  const s = JSON.parse(t); console.log(`app.js: ${s.sms} SmsUrl requests over ${s.connections} connections (at most ${s.peak_open} open)`); })' || true
messages_metrics
grep -E '\[(error|critical)\]' "$WORK/daemon.log" | sort | uniq -c | sort -rn | head -5 || true
