#!/usr/bin/env bash
# Runs the fuzzers (SIP, SDP, user agent, WebSocket frames, TwiML), independent of make/ctest.
#   run_fuzzers.sh [SECONDS_EACH] [BUILD_DIR]    longer run of every fuzzer (default 300 s), random seeds
#   run_fuzzers.sh --one FUZZER SEED_DIR RUNS    what ctest calls: RUNS inputs from a fixed seed, so
#                                                that every run (and CI) explores the same inputs
# New inputs go to a scratch corpus; the committed seed corpus is never modified. Findings are
# kept as crash-*/leak-*/timeout-*/oom-* files in the current directory (the test's build
# directory under ctest), printed in hex, and make the script fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

report() {
  local bin=$1 found=0 f
  for f in crash-* leak-* timeout-* oom-* slow-unit-*; do
    [[ -e $f ]] || continue
    found=1
    echo "=== rerun of $f alone:"
    "$bin" -runs=1 "$f" 2>&1 | grep -v "^INFO:" | head -30 || true
    echo "=== finding $PWD/$f ($(stat -c %s "$f") bytes), first 256 bytes:"
    od -A d -c -N 256 "$f" || true
  done
  return $found
}

run_one() {
  local bin=$1 seeds=$2 scratch rc=0
  shift 2
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' RETURN
  "$bin" -max_len=8192 -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 "$@" \
    "$scratch" "$seeds" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "fuzzer $(basename "$bin") exited with $rc"
    report "$bin" || true
    return "$rc"
  fi
}

if [[ ${1:-} == --one ]]; then
  rm -f crash-* leak-* timeout-* oom-* slow-unit-*  # stale findings of an earlier run here
  run_one "$2" "$3" -seed=1 -runs="$4" -max_total_time=100
  exit
fi

secs=${1:-300}
build=${2:-$here/../../build/fuzz}
# The `fuzzers` target builds the clang configuration (see CMakeLists.txt) under tests/fuzz/clang;
# it is cheap when nothing changed.
cmake -S "$here/../.." -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" --target fuzzers
bin=$build/tests/fuzz/clang/tests/fuzz
run_one "$bin/fuzz_sip_message" "$here/corpus/sip_message" -max_total_time="$secs"
run_one "$bin/fuzz_sdp" "$here/corpus/sdp" -max_total_time="$secs"
run_one "$bin/fuzz_user_agent" "$here/corpus/user_agent" -max_total_time="$secs"
run_one "$bin/fuzz_ws_frames" "$here/corpus/ws_frames" -max_total_time="$secs"
run_one "$bin/fuzz_twiml_parser" "$here/corpus/twiml_parser" -max_total_time="$secs"
