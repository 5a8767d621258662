#!/usr/bin/env bash
# Runs the SIP fuzzers, independent of make/ctest.
#   run_fuzzers.sh [SECONDS_EACH] [BUILD_DIR]    longer run of every fuzzer (default 300 s)
#   run_fuzzers.sh --one FUZZER SEED_DIR SECONDS bounded run of one (what ctest calls)
# New inputs go to a scratch corpus; the committed seed corpus is never modified. Crashes are
# left as crash-* files in the current directory and make the script fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

run_one() {
  local bin=$1 seeds=$2 secs=$3
  local scratch
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' RETURN
  "$bin" -max_total_time="$secs" -runs=2000000 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$scratch" "$seeds"
}

if [[ ${1:-} == --one ]]; then
  run_one "$2" "$3" "$4"
  exit
fi

secs=${1:-300}
build=${2:-$here/../../build/fuzz}
if [[ ! -x $build/tests/fuzz/bin/fuzz_sip_message ]]; then
  cmake -S "$here/../.." -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build "$build" --target fuzz_sip_message fuzz_sdp fuzz_user_agent
fi
run_one "$build/tests/fuzz/bin/fuzz_sip_message" "$here/corpus/sip_message" "$secs"
run_one "$build/tests/fuzz/bin/fuzz_sdp" "$here/corpus/sdp" "$secs"
run_one "$build/tests/fuzz/bin/fuzz_user_agent" "$here/corpus/user_agent" "$secs"
