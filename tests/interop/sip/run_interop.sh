#!/usr/bin/env bash
# One sipp interop case against sip_test_peer, on 127.0.0.1 with free ports, bounded in time;
# every process started here is stopped on exit.
#   run_interop.sh PEER_BIN SCENARIO_DIR CASE
# CASE: uas-call-{udp,tcp} uas-cancel-{udp,tcp} uas-bye-{udp,tcp} uac-call-{udp,tcp}
#       uac-401-{udp,tcp} uac-407-{udp,tcp} uac-407-badpass-udp (must fail on our side with 403)
set -euo pipefail
peer_bin=$1
scenarios=$2
case_name=$3
command -v sipp >/dev/null || { echo "SKIP: sipp not installed"; exit 77; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 - <<'PY'
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(); 
    try:
        t.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
PY
}

transport=${case_name##*-}
sipp_t=u1
peer_tcp=()
if [[ $transport == tcp ]]; then sipp_t=t1; peer_tcp=(--tcp); fi

start_peer() {  # args for sip_test_peer; sets peer_pid, udp_port, tcp_port
  "$peer_bin" "$@" >"$work/peer.out" 2>"$work/peer.err" &
  peer_pid=$!
  pids+=("$peer_pid")
  for _ in $(seq 1 100); do
    if grep -q '^READY' "$work/peer.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  read -r _ udp_port tcp_port <"$work/peer.out" || { echo "peer did not start"; cat "$work/peer.err"; exit 1; }
}

wait_peer() {  # bounded wait; returns the peer's status
  local status=0
  for _ in $(seq 1 200); do
    kill -0 "$peer_pid" 2>/dev/null || break
    sleep 0.05
  done
  wait "$peer_pid" || status=$?
  echo "peer: $(tail -n 1 "$work/peer.err")"
  return $status
}

run_sipp() {  # args after the common ones
  timeout 30 sipp -nostdin -i 127.0.0.1 -t "$sipp_t" -m 1 -timeout 20 -timeout_error \
    -max_recv_loops 1000 -trace_err -error_file "$work/sipp.err" "$@" \
    >"$work/sipp.out" 2>&1 || { echo "sipp failed ($?)"; tail -n 30 "$work/sipp.out"; cat "$work/sipp.err" 2>/dev/null | head -50; return 1; }
}

port_for() { if [[ $transport == tcp ]]; then echo "$tcp_port"; else echo "$udp_port"; fi; }

case $case_name in
  uas-call-*)
    start_peer uas --ring --calls 1 --max-seconds 25
    run_sipp -sn uac -d 200 "127.0.0.1:$(port_for)"
    wait_peer ;;
  uas-cancel-*)
    start_peer uas --ring --answer-ms -1 --calls 1 --max-seconds 25
    run_sipp -sf "$scenarios/uac_cancel.xml" "127.0.0.1:$(port_for)"
    wait_peer ;;
  uas-bye-*)
    start_peer uas --ring --bye-ms 200 --calls 1 --max-seconds 25
    run_sipp -sf "$scenarios/uac_bye_from_uas.xml" "127.0.0.1:$(port_for)"
    wait_peer ;;
  uac-call-*|uac-401-*|uac-407-*)
    sport=$(free_port)
    scenario=(-sn uas)
    creds=()
    target=()
    if [[ $case_name == uac-40[17]-* ]]; then
      scenario=(-sf "$scenarios/uas_${case_name:4:3}.xml")
      target=(--target "sip:service@sipp.test")
      creds=(--user trunkuser --password trunkpass)
      [[ $case_name == uac-407-badpass-* ]] && creds=(--user trunkuser --password wrong)
    fi
    timeout 30 sipp -nostdin -i 127.0.0.1 -p "$sport" -t "$sipp_t" -m 1 -timeout 20 \
      -timeout_error "${scenario[@]}" >"$work/sipp.out" 2>&1 &
    sipp_pid=$!
    pids+=("$sipp_pid")
    sleep 0.3  # sipp binds its socket
    status=0
    "$peer_bin" uac --peer "127.0.0.1:$sport" "${peer_tcp[@]}" "${creds[@]}" "${target[@]}" --hold-ms 200 \
      --calls 1 --max-seconds 20 >"$work/peer.out" 2>"$work/peer.err" || status=$?
    echo "peer: $(tail -n 1 "$work/peer.err")"
    sipp_status=0
    wait "$sipp_pid" || sipp_status=$?
    if [[ $case_name == uac-407-badpass-* ]]; then
      grep -q "failed 403" "$work/peer.err" || { echo "expected a 403 failure"; exit 1; }
      [[ $status -ne 0 ]] || { echo "peer should have failed"; exit 1; }
      echo "PASS $case_name (bad password refused)"
      exit 0
    fi
    [[ $status -eq 0 ]] || { cat "$work/peer.err"; tail -n 30 "$work/sipp.out"; exit 1; }
    [[ $sipp_status -eq 0 ]] || { echo "sipp failed ($sipp_status)"; tail -n 30 "$work/sipp.out"; exit 1; }
    ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac
echo "PASS $case_name"
