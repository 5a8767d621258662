#!/usr/bin/env bash
# Call setup rate: sipp's built-in UAC against sip_test_peer (answer at once, sipp sends BYE),
# over UDP on loopback. For each rate, 10,000 calls (bounded in time); reports the highest
# rate that completed every call with zero failures. All processes are stopped on exit.
#   callrate.sh PEER_BIN [CALLS] [RATES...]
set -euo pipefail
peer_bin=${1:?usage: callrate.sh PEER_BIN [CALLS] [RATES...]}
calls=${2:-10000}
shift $(( $# >= 2 ? 2 : 1 ))
rates=("$@")
[[ ${#rates[@]} -gt 0 ]] || rates=(500 1000 1500 2000 2500 3000 4000)

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

best=0
printf '%-8s %-8s %-10s %-8s %-10s %s\n' rate calls successful failed seconds result
for rate in "${rates[@]}"; do
  limit=$(( calls / rate + 30 ))
  "$peer_bin" uas --calls "$calls" --max-seconds "$limit" >"$work/peer.out" 2>"$work/peer.err" &
  peer_pid=$!
  pids+=("$peer_pid")
  for _ in $(seq 1 100); do grep -q '^READY' "$work/peer.out" 2>/dev/null && break; sleep 0.05; done
  read -r _ udp_port _ <"$work/peer.out"
  start=$(date +%s.%N)
  status=0
  timeout "$limit" sipp -nostdin -i 127.0.0.1 -sn uac -r "$rate" -rp 1000 -m "$calls" \
    -l $(( rate * 4 )) -d 0 -timeout "$limit" -timeout_error -max_socket 1 \
    -trace_stat -stf "$work/stat.csv" "127.0.0.1:$udp_port" >/dev/null 2>&1 || status=$?
  sipp_status=$status
  wait "$peer_pid" || status=$?
  end=$(date +%s.%N)
  ok=$(grep -c '^ended' "$work/peer.err" || true)
  # sipp's own count of failed calls, by column name in its statistics file.
  failed=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="FailedCall(C)") c=i} END{print (c? $c : "?")}' \
    "$work/stat.csv" 2>/dev/null || echo '?')
  secs=$(echo "$end - $start" | bc)
  result=fail
  if [[ $status -eq 0 && $sipp_status -eq 0 && $ok -eq $calls && $failed == 0 ]]; then
    result=ok
    best=$rate
  else
    tail -n 1 "$work/peer.err"
  fi
  printf '%-8s %-8s %-10s %-8s %-10.2f %s\n' "$rate" "$calls" "$ok" "$failed" "$secs" "$result"
  [[ $result == ok ]] || break
done
echo "highest rate with ${calls} calls and zero failures: ${best} calls/s"
