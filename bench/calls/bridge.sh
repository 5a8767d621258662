#!/usr/bin/env bash
# Bridged calls through the daemon: sipp A calls a number whose application answers
# <Dial answerOnBridge="true"><Number>+15551230000</Number></Dial>; the daemon places the child
# call through a [[sip.trunks]] entry to sipp B and bridges the legs' RTP (PCMU both sides, so
# packets are relayed as they arrive, payload untouched). A streams PCMU (sipp's rtp_stream)
# for the call, B echoes every packet it receives (-rtp_echo), so each leg carries RTP both
# ways; A hangs up with BYE and the daemon passes it on to B. B is B_INSTANCES sipp processes
# (default 4) behind numbers 2000.. and trunks +155512300k; A calls the numbers in turn. Everything on 127.0.0.1; every
# run bounded in calls and time.
#
#   bench/calls/bridge.sh hold  [CALLS] [RATE] [HOLD_S]   CALLS bridged calls set up at RATE/s,
#        each held HOLD_S seconds: failures on both sides, peak concurrent bridged calls, daemon
#        CPU per bridged call-second while all are up, RSS, packets lost
#   bench/calls/bridge.sh delay [LOAD_CALLS] [PROBE_S]    with LOAD_CALLS bridged calls up (set
#        up at LOAD_RATE/s, default 250), bridge_probe.js places 4 probe calls of its own and
#        measures one-way relay delay and loss both ways, against direct loopback pairs sent
#        from the same process at the same time (the baseline)
#
# BUILD (default build/release) must hold a Release build: make release. REALTIME=1 runs the
# daemon with --realtime (SCHED_FIFO workers). RTP_PORTS (default 20000-32767, below the
# kernel's ephemeral range, where the load generators' ports come from) must hold 4 ports per
# bridged call. KEEP=1 keeps the work directory (logs, sipp statistics, samples).
#
# Loss accounting. sipp 3.6.1's rtp_stream sends every call's packets from A's one media
# socket and never reads it: it is a sink, and the kernel counts what reaches it (its queue
# plus its drop counter in /proc/net/udp). Each packet A sends makes one round trip
# A -> daemon -> B -> (echo) -> daemon -> A, so with nothing lost A's socket sees exactly what
# A sent: calls x (HOLD_S - 1) x 50 (the stream is a file of HOLD_S - 1 seconds played once).
# The kernel's drop counters of the daemon's sockets and of B's echo socket say where a loss
# happened, if any.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-hold}
BIN=$(realpath -m "${BUILD:-build/release}/src/switchboard")
[ -x "$BIN" ] || { echo "no $BIN: run make release" >&2; exit 2; }
ROOT=$PWD
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

case "$MODE" in
  hold)
    CALLS=${2:-1000}; RATE=${3:-100}; HOLD_S=${4:-30}; PROBE_S=0 ;;
  delay)
    CALLS=${2:-0}; PROBE_S=${3:-20}; RATE=${LOAD_RATE:-250}
    HOLD_S=$(( CALLS / RATE + PROBE_S + 15 )) ;;
  *) echo "usage: $0 hold [CALLS] [RATE] [HOLD_S] | delay [LOAD_CALLS] [PROBE_S]" >&2; exit 2 ;;
esac
[ "$HOLD_S" -ge 2 ] || { echo "HOLD_S must be at least 2" >&2; exit 2; }
[ "$CALLS" -le 20000 ] && [ "$RATE" -ge 1 ] || { echo "at most 20000 calls, rate at least 1" >&2; exit 2; }
PLAY_S=$(( HOLD_S - 1 ))              # A's stream: a file this long, played once
PACKETS_PER_CALL=$(( PLAY_S * 50 ))
RTP_PORTS=${RTP_PORTS:-20000-32767}

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); t=socket.socket(); t.bind(("127.0.0.1", s.getsockname()[1])); print(s.getsockname()[1])'; }
# B is B_INSTANCES sipp processes (default 4), each behind its own trunk and number, so that no
# one echo socket (one thread, one 208 KB receive queue) takes every leg's packets: A calls
# the numbers in turn.
B_INSTANCES=${B_INSTANCES:-4}
[ "$B_INSTANCES" -ge 1 ] && [ "$B_INSTANCES" -le 9 ] || { echo "B_INSTANCES: 1 to 9" >&2; exit 2; }
HTTP_PORT=$(free_port); SIP_PORT=$(free_port); A_SIP=$(free_port); PROBE_PORT=$(free_port)
B_SIP=(); for k in $(seq 0 $(( B_INSTANCES - 1 ))); do B_SIP+=("$(free_port)"); done
# Media ports: sipp also binds port + 2 (a second stream), so ask for one whose + 2 is free too.
media_port() { python3 -c '
import socket
for _ in range(50):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    if p % 2 or p > 65000: continue
    try:
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); t.bind(("127.0.0.1", p + 2)); print(p); break
    except OSError: pass'; }
A_MEDIA=$(media_port)
B_MEDIA=(); for k in $(seq 0 $(( B_INSTANCES - 1 ))); do B_MEDIA+=("$(media_port)"); done

cd "$WORK"
# A's audio: PLAY_S seconds of mu-law noise, raw (rtp_stream plays the file's bytes, 160 a packet).
python3 -c "import random; random.seed(7); open('a.ulaw','wb').write(bytes(random.randrange(256) for _ in range($PACKETS_PER_CALL * 160)))"
FROM='<sip:+14155550100@[local_ip]:[local_port]>;tag=[pid]A[call_number]'
# Both sides' SDP: PCMU only, so the daemon relays.
SDP='      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000'
cat > a.xml <<XML
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bridge caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: $FROM
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

$SDP

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: $FROM
      To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop><action><exec rtp_stream="$WORK/a.ulaw,1,0"/></action></nop>
  <pause milliseconds="$(( HOLD_S * 1000 ))"/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send retrans="500">
    <![CDATA[
      BYE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: $FROM
      To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="10000"/>
  <!-- keeps A's media socket (the sink) open until the last relayed packet has been counted
       (a late 200 retransmission in this pause aborts the call in sipp's statistics, after its
       BYE completed: the report counts those apart) -->
  <pause milliseconds="1500"/>
</scenario>
XML
cat > b.xml <<XML
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bridge callee">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]B[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

$SDP

    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
XML

{ echo SEQUENTIAL; for k in $(seq 0 $(( B_INSTANCES - 1 ))); do echo "200$k;"; done; } > numbers.csv
for k in $(seq 0 $(( B_INSTANCES - 1 ))); do
  printf '[[sip.trunks]]\nname = "b%s"\naddress = "127.0.0.1:%s"\nprefixes = ["+155512300%s"]\n\n' $k ${B_SIP[$k]} $k
done > sb.toml
cat >> sb.toml <<TOML
[[sip.trunks]]
name = "probe"
address = "127.0.0.1:$PROBE_PORT"
prefixes = ["+1555999"]
TOML

# The applications: one TwiML for each of the load's numbers, one for the probe's.
for k in $(seq 0 $(( B_INSTANCES - 1 ))); do
  node "$ROOT/bench/calls/app.js" 0 "<Response><Dial answerOnBridge=\"true\"><Number>+155512300$k</Number></Dial></Response>" \
    > app$k.port 2> app$k.log & PIDS+=($!)
done
node "$ROOT/bench/calls/app.js" 0 '<Response><Dial answerOnBridge="true"><Number>+15559990000</Number></Dial></Response>' \
  > probe_app.port 2> probe_app.log & PIDS+=($!)
for _ in $(seq 50); do [ -s app$(( B_INSTANCES - 1 )).port ] && [ -s probe_app.port ] && break; sleep 0.1; done

SID=AC0123456789abcdef0123456789abcdef; TOKEN=bench-token-0123456789abcdef
SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN "$BIN" serve --config sb.toml --data-dir data \
  --http-listen 127.0.0.1:$HTTP_PORT --sip-listen 127.0.0.1:$SIP_PORT --log-level warn \
  --rtp-ports "$RTP_PORTS" --max-calls ${MAX_CALLS:-20000} ${REALTIME:+--realtime} > daemon.log 2>&1 & PIDS+=($!)
DAEMON=$!
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:$HTTP_PORT/healthz >/dev/null && break
  kill -0 $DAEMON 2>/dev/null || { echo "daemon exited:" >&2; cat daemon.log >&2; exit 1; }
  sleep 0.1
done
add_number() {
  curl -sf -u $SID:$TOKEN -X POST http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json \
    --data-urlencode PhoneNumber="$1" --data-urlencode VoiceUrl="http://127.0.0.1:$2/voice" >/dev/null \
    || { echo "cannot create the number $1; daemon log:" >&2; cat daemon.log >&2; exit 1; }
}
for k in $(seq 0 $(( B_INSTANCES - 1 ))); do add_number 200$k "$(cat app$k.port)"; done
add_number 2100 "$(cat probe_app.port)"

# Samples once a second: /metrics, the three processes' CPU and the daemon's RSS, and the
# kernel's per-socket UDP counters (the daemon's RTP ports, A's sink, B's echo socket).
cat > sampler.py <<'PY'
import base64, json, os, sys, time, urllib.request
url, auth, out, stop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
pids = {k: int(v) for k, v in (a.split('=') for a in sys.argv[5].split(','))}
rtp_lo, rtp_hi = map(int, sys.argv[6].split('-'))
a_port, limit = int(sys.argv[7]), int(sys.argv[9])
b_ports = {int(p) for p in sys.argv[8].split(',')}
hz = os.sysconf('SC_CLK_TCK')
req = urllib.request.Request(url, headers={'Authorization': 'Basic ' + base64.b64encode(auth.encode()).decode()})
daemon_drops = {}   # inode -> largest drop count seen (sockets close with their call)
def cpu(pid):
    try:
        f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        return (int(f[11]) + int(f[12])) / hz
    except OSError:
        return None
def status(pid, key):
    try:
        for line in open(f'/proc/{pid}/status'):
            if line.startswith(key + ':'):
                return int(line.split()[1])
    except OSError:
        return None
with open(out, 'a') as o:
    for _ in range(limit):
        t = time.time()
        s = {'t': t, 'cpu': {k: cpu(p) for k, p in pids.items()}, 'rss_kb': status(pids['daemon'], 'VmRSS'),
             'hwm_kb': status(pids['daemon'], 'VmHWM')}
        try:
            m = urllib.request.urlopen(req, timeout=2).read().decode()
            v = {}
            for line in m.splitlines():
                if line.startswith('#') or ' ' not in line:
                    continue
                name, val = line.rsplit(' ', 1)
                base = name.split('{')[0]
                v[base] = v.get(base, 0) + float(val)
            s['m'] = {k: v.get(k) for k in ('switchboard_calls_active', 'switchboard_media_streams',
                                           'switchboard_media_late_ticks_total', 'switchboard_rtp_packets_ignored_total',
                                           'switchboard_calls_routed_total', 'switchboard_calls_completed_total')}
        except Exception as e:
            s['m_error'] = str(e)
        a = None
        b = {'rx': 0, 'drops': 0}
        for line in open('/proc/net/udp').readlines()[1:]:
            f = line.split()
            port = int(f[1].split(':')[1], 16)
            if rtp_lo <= port <= rtp_hi:
                daemon_drops[f[9]] = max(daemon_drops.get(f[9], 0), int(f[-1]))
            elif port == a_port and f[1].startswith('0100007F'):
                a = {'rx': int(f[4].split(':')[1], 16), 'drops': int(f[-1])}
            elif port in b_ports and f[1].startswith('0100007F'):
                b['rx'] += int(f[4].split(':')[1], 16)
                b['drops'] += int(f[-1])
        s['daemon_drops'] = sum(daemon_drops.values())
        s['daemon_sockets'] = len(daemon_drops)
        s['a_sink'] = a
        s['b_echo'] = b
        o.write(json.dumps(s) + '\n')
        o.flush()
        if os.path.exists(stop):
            break
        time.sleep(max(0.0, 1.0 - (time.time() - t)))
PY
# The kernel's buffer cost of one of A's packets (172 bytes of RTP) in a socket queue: A's
# queued packets are its queue's bytes over this.
TRUESIZE=$(python3 -c '
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0)); p = r.getsockname()[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(10): s.sendto(b"x" * 172, ("127.0.0.1", p))
for line in open("/proc/net/udp").readlines()[1:]:
    f = line.split()
    if int(f[1].split(":")[1], 16) == p: print(int(f[4].split(":")[1], 16) // 10)')
snmp() { awk '/^Udp:/ { n++; if (n == 2) print $2, $3, $4, $5, $6 }' /proc/net/snmp; }

wait_bounded() {  # pid, seconds: waits for the process to end, kills it after the bound
  for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 1; done
  echo "pid $1 still running after $2 s: killed" >&2; kill "$1" 2>/dev/null || true
}

SIPP_A=0; SIPP_B=(); B_PIDS=""
LIMIT=$(( CALLS / RATE + HOLD_S + 60 ))
if [ "$CALLS" -gt 0 ]; then
  for k in $(seq 0 $(( B_INSTANCES - 1 ))); do
    n=$(( CALLS / B_INSTANCES + (k < CALLS % B_INSTANCES ? 1 : 0) ))
    [ "$n" -gt 0 ] || continue
    cp b.xml b$k.xml
    sipp -sf b$k.xml -i 127.0.0.1 -p ${B_SIP[$k]} -mi 127.0.0.1 -mp ${B_MEDIA[$k]} -rtp_echo -nostdin -m $n \
      -max_socket 65000 -recv_timeout $(( (HOLD_S + 30) * 1000 )) -trace_stat -fd 1 -trace_err > sipp_b$k.out 2>&1 & PIDS+=($!)
    SIPP_B+=($!); B_PIDS+=",b$k=$!"
  done
  sleep 0.5
fi
SNMP0=$(snmp)
T_START=$(date +%s.%N)
if [ "$CALLS" -gt 0 ]; then
  echo "$MODE: $CALLS bridged calls set up at $RATE/s, each held ${HOLD_S} s (A streams $PACKETS_PER_CALL packets), $(nproc) cores shared by daemon, sipp A, sipp B"
  sipp -sf a.xml 127.0.0.1:$SIP_PORT -inf numbers.csv -i 127.0.0.1 -p $A_SIP -mi 127.0.0.1 -mp $A_MEDIA \
    -r $RATE -m $CALLS -l $(( CALLS + 10 )) -nostdin -max_socket 65000 -recv_timeout 30000 \
    -trace_stat -fd 1 -trace_err > sipp_a.out 2>&1 & PIDS+=($!)
  SIPP_A=$!
fi
python3 sampler.py http://127.0.0.1:$HTTP_PORT/metrics "$SID:$TOKEN" samples.jsonl stop \
  "daemon=$DAEMON,a=$SIPP_A$B_PIDS" "$RTP_PORTS" $A_MEDIA "$(IFS=,; echo "${B_MEDIA[*]}")" $(( LIMIT + 30 )) & PIDS+=($!)
SAMPLER=$!

if [ "$MODE" = delay ]; then
  if [ "$CALLS" -gt 0 ]; then sleep $(( CALLS / RATE + 3 )); fi
  echo "probe: 4 calls through the daemon and 2 direct pairs, ${PROBE_S} s of RTP each way" \
    "(load: $(curl -s -u $SID:$TOKEN http://127.0.0.1:$HTTP_PORT/metrics | awk '/^switchboard_media_streams/ { s += $2 } END { print s / 2 }') bridged calls up)"
  timeout $(( PROBE_S + 70 )) node "$ROOT/bench/calls/bridge_probe.js" --sip-port $SIP_PORT --number 2100 \
    --callee-port $PROBE_PORT --calls ${PROBE_CALLS:-4} --seconds $PROBE_S --direct ${PROBE_DIRECT:-2} \
    --json probe.json || echo "probe failed (exit $?)"
fi
if [ "$SIPP_A" != 0 ]; then wait_bounded $SIPP_A $LIMIT; fi
for p in "${SIPP_B[@]}"; do wait_bounded $p 15; done
# Calls the daemon still holds once both sides are done: wait (bounded) for them to go.
LEFT=0
for i in $(seq 60); do
  LEFT=$(curl -s -u $SID:$TOKEN http://127.0.0.1:$HTTP_PORT/metrics | awk '/^switchboard_calls_active/ { s += $2 } END { print s + 0 }')
  [ "$LEFT" = 0 ] && break
  [ $i = 2 ] && echo "after the run the daemon still has $LEFT call legs active; waiting up to 60 s for them to end"
  sleep 1
done
if [ "$LEFT" != 0 ]; then
  echo "still $LEFT call legs active 60 s after the run (stuck); the REST API's view of them:"
  for st in queued ringing in-progress; do
    curl -s -u $SID:$TOKEN "http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/Calls.json?Status=$st&PageSize=1000" \
      | python3 -c "import collections, json, sys; c = json.load(sys.stdin).get('calls', [])
print('  $st:', len(c), dict(collections.Counter(x.get('direction') for x in c)), [(x.get('sid'), x.get('direction'), x.get('start_time')) for x in c[:2]])"
  done
fi
[ "${i:-1}" -gt 2 ] && [ "$LEFT" = 0 ] && echo "the last call legs ended $i s after the run"
touch stop; wait $SAMPLER 2>/dev/null || true
SNMP1=$(snmp)
T_END=$(date +%s.%N)

python3 - "$WORK" "$T_START" "$CALLS" "$RATE" "$HOLD_S" "$PACKETS_PER_CALL" "$TRUESIZE" "$SNMP0" "$SNMP1" <<'PY'
import csv, glob, json, os, sys
work, t0, calls, rate, hold, per_call, truesize = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
snmp0, snmp1 = [list(map(int, s.split())) for s in sys.argv[8:10]]
samples = [json.loads(l) for l in open(os.path.join(work, 'samples.jsonl'))]
def sipp_stats(prefix):
    files = sorted(glob.glob(os.path.join(work, prefix + '_[0-9]*_.csv')))
    if not files:
        return None
    rows = list(csv.reader(open(files[-1]), delimiter=';'))
    head, last = rows[0], rows[-1]
    v = dict(zip(head, last))
    peak = max(int(r[head.index('CurrentCall')]) for r in rows[1:])
    fails = {k[len('FailedCall'):-3] or 'total': v[k] for k in head if k.startswith('Failed') and k.endswith('(C)') and v[k] not in ('0', '')}
    return v, peak, fails
ok_tail = [0]
if calls:
    bs = sorted(os.path.basename(f).split('_')[0] for f in glob.glob(os.path.join(work, 'b[0-9]_[0-9]*_.csv')))
    for name, prefixes in (('sipp A (caller)', ['a']), (f'sipp B (callee, {len(bs)} processes)', bs)):
        tot = {'TotalCallCreated': 0, 'SuccessfulCall(C)': 0, 'FailedCall(C)': 0, 'Retransmissions(C)': 0}
        peak, fails, found = 0, {}, False
        for prefix in prefixes:
            r = sipp_stats(prefix)
            if not r:
                continue
            found = True
            for k in tot:
                tot[k] += int(r[0].get(k) or 0)
            peak += r[1]
            for k, v in r[2].items():
                fails[k] = fails.get(k, 0) + int(v)
        if not found:
            print(f'{name}: no statistics file'); continue
        print(f"{name}: calls {tot['TotalCallCreated']}, successful {tot['SuccessfulCall(C)']}, failed {tot['FailedCall(C)']}"
              f"{' ' + json.dumps(fails) if fails else ''}, peak {peak} in progress, retransmissions {tot['Retransmissions(C)']}")
        if prefixes == ['a']:
            tail = sum(open(f, errors='replace').read().count('while pausing (index 11)')
                       for f in glob.glob(os.path.join(work, 'a_[0-9]*_errors.log')))
            if tail:
                print(f"  of A's failures, {tail} were aborts in the 1.5 s after a completed BYE (a late retransmitted 200 arrived):"
                      f" {tot['FailedCall(C)'] - tail} calls really failed")
            ok_tail[0] = tail
ms = [s for s in samples if 'm' in s]
if ms:
    peak_calls = max(s['m']['switchboard_calls_active'] or 0 for s in ms)
    peak_streams = max(s['m']['switchboard_media_streams'] or 0 for s in ms)
    print(f"daemon: peak {peak_calls:.0f} call legs active (/metrics switchboard_calls_active), peak {peak_streams:.0f} RTP sessions "
          f"= {peak_streams / 2:.0f} bridged calls; RSS peak {max(s['hwm_kb'] or 0 for s in samples) / 1024:.0f} MB")
    last = ms[-1]['m']
    print(f"daemon after the run: {last['switchboard_calls_active']:.0f} call legs active, {last['switchboard_media_streams']:.0f} RTP sessions, "
          f"routed {last['switchboard_calls_routed_total']:.0f}, completed {last['switchboard_calls_completed_total']:.0f}, "
          f"late media ticks {last['switchboard_media_late_ticks_total']:.0f}, RTP packets ignored {last['switchboard_rtp_packets_ignored_total']:.0f}")
# The steady window: every call up (setup done + 2 s) until the first hangs up (hold - 1 s).
w0, w1 = t0 + calls / rate + 2, t0 + hold - 1
win = [s for s in ms if w0 <= s['t'] <= w1]
if calls and len(win) >= 3:
    a, b = win[0], win[-1]
    dt = b['t'] - a['t']
    bridged = sum(s['m']['switchboard_media_streams'] for s in win) / len(win) / 2
    d = {k: (b['cpu'][k] - a['cpu'][k]) if a['cpu'].get(k) is not None and b['cpu'].get(k) is not None else None for k in a['cpu']}
    pps = bridged * 200  # the daemon receives 100 and sends 100 packets a second per bridged call
    print(f"steady window {dt:.1f} s with {bridged:.0f} bridged calls up ({pps / 2000:.0f} k packets/s in and "
          f"{pps / 2000:.0f} k out of the daemon):")
    print(f"  daemon CPU {d['daemon'] / dt * 100:.0f} % of a core = {d['daemon'] * 1000 / dt / bridged:.3f} ms per bridged call-second"
          f" ({d['daemon'] * 1e6 / dt / pps * 2:.2f} us per packet relayed)")
    pct = lambda k: f"{d[k] / dt * 100:.0f} %" if d.get(k) is not None else 'n/a'
    bcpu = sum(v for k, v in d.items() if k.startswith('b') and v is not None)
    print(f"  sipp A CPU {pct('a')}, sipp B CPU {bcpu / dt * 100:.0f} % of a core"
          f" (machine: {os.cpu_count()} cores; load average {open('/proc/loadavg').read().split()[0]})")
elif calls:
    print('no steady window (setup takes longer than the hold): CPU over the whole run only')
first, last = samples[0], samples[-1]
if calls and first['cpu'].get('daemon') is not None and last['cpu'].get('daemon') is not None:
    cs = calls * hold
    print(f"whole run: daemon CPU {last['cpu']['daemon'] - first['cpu']['daemon']:.1f} s for {cs} bridged call-seconds "
          f"({(last['cpu']['daemon'] - first['cpu']['daemon']) * 1000 / cs:.3f} ms per call-second, setup and teardown included)")
if calls:
    sinks = [s['a_sink'] for s in samples if s.get('a_sink')]
    echo = [s['b_echo'] for s in samples if s.get('b_echo')]
    ok_a = sipp_stats('a')
    ok = (int(ok_a[0].get('SuccessfulCall(C)', 0)) if ok_a else 0) + ok_tail[0]
    if sinks:
        a = sinks[-1]
        arrived = a['drops'] + round(a['rx'] / truesize)
        sent = ok * per_call
        print(f"packets: A sent {sent} ({ok} calls x {per_call}); back at A after the round trip {arrived} "
              f"(difference {sent - arrived:+d}); dropped by the kernel at the daemon's sockets {last['daemon_drops']}, "
              f"at B's echo sockets {max(e['drops'] for e in echo) if echo else 'n/a'}")
    names = ['InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams', 'RcvbufErrors']
    delta = {n: b - a for n, a, b in zip(names, snmp0, snmp1)}
    print(f"system-wide UDP counters over the run (other processes included): {json.dumps(delta)}")
PY
if [ -s probe.json ]; then
  python3 - probe.json <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))['paths']
for d in ('A->B', 'B->A'):
    x, y = p.get(f'daemon {d}'), p.get(f'direct {d}')
    if x and y:
        print(f"added by the daemon {d}: p50 {x['p50_ms'] - y['p50_ms']:+.3f} ms, p99 {x['p99_ms'] - y['p99_ms']:+.3f} ms, "
              f"max {x['max_ms'] - y['max_ms']:+.3f} ms; lost {x['lost']} of {x['sent']}")
PY
fi
# Anything the daemon logged beyond its banner (warnings and errors at --log-level warn), by
# count with times and SIDs blanked.
echo "daemon log: $(( $(wc -l < daemon.log) - 10 )) lines beyond the banner"
tail -n +11 daemon.log | sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+ //; s/(CA|AC|PN)[0-9a-f]{32}/\1.../g; s/[0-9]+-[0-9]+@127\.0\.0\.1/N@127.0.0.1/g' \
  | sort | uniq -c | sort -rn | head -10 || true
for f in a_*_errors.log b_*_errors.log; do
  [ -s "$f" ] && { echo "$f: $(wc -l < "$f") lines, first:"; head -3 "$f"; }
done 2>/dev/null || true
