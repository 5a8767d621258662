#!/usr/bin/env bash
# What SIP over TLS and SRTP cost, side by side in one run against one release daemon, loaded by
# sipp as users load it. Everything on 127.0.0.1; every run bounded in calls and time.
#
#   bench/sip/secure.sh rate  [RATE] [CALLS]      the same calls (<Say>Hello</Say><Hangup/>) over
#                                                 UDP, TCP and TLS: failures, INVITE->200, daemon
#                                                 CPU per call
#   bench/sip/secure.sh media [CALLS] [SECONDS]   CALLS held with audio both ways, once with plain
#                                                 RTP and once with SRTP: daemon CPU per call-second
#
# Debian's sipp has no TLS, so its TLS calls go through socat (TCP in, TLS out with the test CA
# checked): one sipp TCP connection = one persistent TLS connection to the daemon, as a trunk
# keeps one. socat's own CPU is not the daemon's and is not counted in the daemon's figure.
# sipp cannot do SRTP either: in media mode it offers RTP/SAVP with a key and sends plain RTP,
# which the daemon authenticates and drops (the HMAC is computed, the decryption is not), while
# everything the daemon sends is encrypted. BUILD (default build/release): make release.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-rate}
BIN=${BUILD:-build/release}/src/switchboard
[ -x "$BIN" ] || { echo "no $BIN: run make release" >&2; exit 2; }
command -v socat >/dev/null || { echo "socat is missing: scripts/install-deps" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT

if [ "$MODE" = media ]; then
  CALLS=${2:-500}; HELD=${3:-20}
  TWIML='<Response><Say loop="0">Hello, this call is held with audio playing.</Say></Response>'
else
  RATE=${2:-200}; CALLS=${3:-6000}
  TWIML='<Response><Say>Hello</Say><Hangup/></Response>'
fi
node bench/calls/app.js 0 "$TWIML" > "$WORK/app.port" 2> "$WORK/app.log" & PIDS+=($!)
for _ in $(seq 50); do [ -s "$WORK/app.port" ] && break; sleep 0.1; done
APP=$(cat "$WORK/app.port")

# A test CA and the daemon's certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ca.key" \
  -out "$WORK/ca.pem" -days 1 -subj "/CN=bench CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/sip.key" \
  -out "$WORK/sip.csr" -subj "/CN=127.0.0.1" 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" > "$WORK/ext.cnf"
openssl x509 -req -in "$WORK/sip.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -out "$WORK/sip.pem" -days 1 -extfile "$WORK/ext.cnf" 2>/dev/null

SID=AC0123456789abcdef0123456789abcdef; TOKEN=bench-token-0123456789abcdef
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); t=socket.socket(); t.bind(("127.0.0.1", s.getsockname()[1])); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); SIP_PORT=$(free_port); TLS_PORT=$(free_port); TUNNEL=$(free_port)
SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN \
SWITCHBOARD_SIP_TLS_LISTEN=127.0.0.1:$TLS_PORT SWITCHBOARD_SIP_TLS_CERT=$WORK/sip.pem \
SWITCHBOARD_SIP_TLS_KEY=$WORK/sip.key \
  "$BIN" serve --data-dir "$WORK/data" --http-listen 127.0.0.1:$HTTP_PORT \
  --sip-listen 127.0.0.1:$SIP_PORT --log-level warn --rtp-ports 30000-60000 \
  --max-calls ${MAX_CALLS:-20000} ${WORKERS:+--workers $WORKERS} > "$WORK/daemon.log" 2>&1 & PIDS+=($!)
DAEMON=$!
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:$HTTP_PORT/healthz >/dev/null && break
  kill -0 $DAEMON 2>/dev/null || { echo "daemon exited:" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -u $SID:$TOKEN -X POST http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json \
  --data-urlencode PhoneNumber=2000 --data-urlencode VoiceUrl=http://127.0.0.1:$APP/voice >/dev/null
socat TCP-LISTEN:$TUNNEL,bind=127.0.0.1,fork,reuseaddr \
  "OPENSSL:127.0.0.1:$TLS_PORT,cafile=$WORK/ca.pem,verify=1" 2> "$WORK/socat.log" & PIDS+=($!)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$TUNNEL) 2>/dev/null && break; sleep 0.1; done

cpu() { awk '{print $14+$15}' /proc/$DAEMON/stat; }
TICKS=$(getconf CLK_TCK)
handshakes() { curl -s http://127.0.0.1:$HTTP_PORT/metrics | awk '/^switchboard_sip_tls_handshakes_total/{print $2}'; }
cd "$WORK"
summary() {  # $1: label, $2: CPU ticks used, $3: calls or call-seconds, $4: unit
  local stat; stat=$(ls -t *_.csv 2>/dev/null | head -1 || true)
  python3 - "$1" "$2" "$3" "$4" "$TICKS" "$stat" "$(ls -t *_rtt.csv 2>/dev/null | head -1 || true)" <<'PY'
import csv, sys
label, ticks, n, unit, hz, stat, rtt = sys.argv[1:8]
out = f"{label:>5}: "
if stat:
    rows = list(csv.reader(open(stat), delimiter=';'))
    v = dict(zip(rows[0], rows[-1]))
    out += f"{v.get('SuccessfulCall(C)')} ok, {v.get('FailedCall(C)')} failed; "
if rtt:
    vals = []
    for line in open(rtt):
        try: vals.append(float(line.split(';')[1]))
        except (IndexError, ValueError): pass
    vals.sort()
    if vals:
        q = lambda p: vals[min(len(vals) - 1, int(p * len(vals)))]
        out += f"INVITE->200 p50 {q(0.5):.2f} ms p99 {q(0.99):.2f} ms; "
cpu_ms = int(ticks) * 1000 / int(hz)
out += f"daemon CPU {cpu_ms:.0f} ms = {cpu_ms * 1000 / float(n):.0f} us per {unit}"
print(out)
PY
  rm -f *_.csv *_rtt.csv
}

if [ "$MODE" = rate ]; then
  node -e "const {scenario}=require('$OLDPWD/tests/integration/lib/sipp.js');
    process.stdout.write(scenario({steps:[{answer:true},{awaitBye:10000}]}))" > sc.xml
  echo "$CALLS calls at $RATE/s per transport: <Say>Hello</Say><Hangup/>"
  H0=$(handshakes)
  for run in udp tcp tls; do
    case $run in
      udp) target=127.0.0.1:$SIP_PORT; transport=u1 ;;
      tcp) target=127.0.0.1:$SIP_PORT; transport=t1 ;;
      tls) target=127.0.0.1:$TUNNEL; transport=t1 ;;
    esac
    C0=$(cpu)
    timeout $((CALLS / RATE + 90)) sipp -sf sc.xml "$target" -t $transport -s 2000 -i 127.0.0.1 \
      -r $RATE -m $CALLS -l 20000 -mi 127.0.0.1 -mp 40000 -nostdin -max_socket 65000 \
      -trace_rtt -rtt_freq 1 -trace_stat -fd 1 -trace_err > sipp-$run.out 2>&1 || true
    summary $run $(( $(cpu) - C0 )) $CALLS call
  done
  echo "TLS handshakes for the TLS run: $(( $(handshakes) - H0 ))"
else
  node -e "const {scenario}=require('$OLDPWD/tests/integration/lib/sipp.js');
    const {tone, writeRtpPcap}=require('$OLDPWD/tests/integration/lib/audio_pcap.js');
    writeRtpPcap('$WORK/tone.pcap', tone(${HELD}000, 500, 8000));
    process.stdout.write(scenario({steps:[{answer:true},{pcap:'$WORK/tone.pcap'},{pause:${HELD}000},{bye:true}]}))" > plain.xml
  KEY=$(head -c 30 /dev/urandom | base64)
  sed -e 's|RTP/AVP|RTP/SAVP|' \
      -e "s|a=fmtp:101 0-15|a=fmtp:101 0-15\n      a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:$KEY|" plain.xml > srtp.xml
  RATE=${HOLD_RATE:-100}
  echo "$CALLS calls held ${HELD} s with audio both ways (set up at $RATE/s)"
  for run in rtp srtp; do
    sc=plain.xml; [ $run = srtp ] && sc=srtp.xml
    timeout $((CALLS / RATE + HELD + 60)) sipp -sf $sc 127.0.0.1:$SIP_PORT -s 2000 -i 127.0.0.1 \
      -r $RATE -m $CALLS -l $((CALLS + 10)) -mi 127.0.0.1 -mp 40000 -nostdin -max_socket 65000 \
      -trace_stat -fd 1 -trace_err > sipp-$run.out 2>&1 &
    SIPP=$!
    # A window while every call is up and playing: CPU per call-second.
    sleep $((CALLS / RATE + 2))
    C0=$(cpu); sleep 8; C1=$(cpu)
    wait $SIPP || true
    summary $run $((C1 - C0)) $((CALLS * 8)) call-second
  done
  curl -s http://127.0.0.1:$HTTP_PORT/metrics | grep -E "^switchboard_calls_(routed|completed)" || true
fi
grep -E "error|critical" "$WORK/daemon.log" | sort | uniq -c | head -5 || true
