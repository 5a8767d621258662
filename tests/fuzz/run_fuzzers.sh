#!/usr/bin/env bash
# Runs the fuzzers (SIP, SDP, user agent, WebSocket frames, TwiML), independent of make/ctest.
#   run_fuzzers.sh [SECONDS_EACH] [BUILD_DIR]    long run of every fuzzer (default 300 s each),
#                                                random seeds; `make fuzz-long` calls it
#   run_fuzzers.sh --one FUZZER SEED_DIR RUNS    what ctest calls: RUNS inputs from a fixed seed, so
#                                                that every run (and CI) explores the same inputs
# FUZZ_TARGETS="fuzz_sdp fuzz_ws_frames" limits a long run to those targets.
#
# New inputs go to a scratch corpus; the committed seed corpus only ever gains findings. A finding
# is a crash-*/leak-*/timeout-*/oom-*/slow-unit-* file, rerun and printed in hex when the fuzzer
# fails. Under --one it stays in the current directory (the test's build directory under ctest)
# and fails the script. A long run goes through every target whatever the others found, keeps a
# target's findings in BUILD_DIR/tests/fuzz/long/<target>/, copies each into the target's seed
# corpus as regression-<kind>-<sha1> (the next `make test` replays it) and fails at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
scratch_root=$(mktemp -d)
trap 'rm -rf "$scratch_root"' EXIT

# report FUZZER DIR: reruns and prints each finding in DIR; fails if there is one.
report() (
  local bin=$1 found=0 f
  cd "$2"  # a rerun writes its artifact here too, under the same name
  for f in crash-* leak-* timeout-* oom-* slow-unit-*; do
    [[ -e $f ]] || continue
    found=1
    echo "=== rerun of $f alone:"
    "$bin" -runs=1 -timeout=30 "$f" 2>&1 | grep -v "^INFO:" | head -30 || true
    echo "=== finding $PWD/$f ($(stat -c %s "$f") bytes), first 256 bytes:"
    od -A d -c -N 256 "$f" || true
  done
  return $found
)

# run_one FUZZER SEED_DIR FINDINGS_DIR [LIBFUZZER_FLAG...]
run_one() {
  local bin=$1 seeds=$2 findings=$3 scratch rc=0
  shift 3
  scratch=$(mktemp -d -p "$scratch_root")
  "$bin" -max_len=8192 -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 "$@" \
    "$scratch" "$seeds" || rc=$?
  rm -rf "$scratch"
  if [[ $rc -ne 0 ]]; then
    echo "fuzzer $(basename "$bin") exited with $rc"
    report "$bin" "$findings" || true
    return "$rc"
  fi
}

if [[ ${1:-} == --one ]]; then
  rm -f crash-* leak-* timeout-* oom-* slow-unit-*  # stale findings of an earlier run here
  run_one "$2" "$3" "$PWD" -seed=1 -runs="$4" -max_total_time=100
  exit
fi

secs=${1:-300}
build=${2:-$repo/build/fuzz}
if [[ ! $secs =~ ^[1-9][0-9]*$ ]]; then
  echo "run_fuzzers.sh: SECONDS_EACH is a whole number of seconds, not '$secs'" >&2
  exit 2
fi
# The `fuzzers` target builds the clang configuration (see CMakeLists.txt) under tests/fuzz/clang;
# it is cheap when nothing changed.
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" --target fuzzers
build=$(cd "$build" && pwd)  # findings are printed, and fuzzers rerun, from other directories

# The targets are the ctest tests CMakeLists.txt registers (fuzz.<target>), with the executable
# and seed corpus each passes to --one: the list lives there only.
declare -A bin_of corpus_of
targets=()
while IFS=$'\t' read -r name bin corpus; do
  targets+=("$name")
  bin_of[$name]=$bin
  corpus_of[$name]=$corpus
done < <(ctest --test-dir "$build" --show-only=json-v1 -R '^fuzz\.' | python3 -c '
import json, sys
for test in json.load(sys.stdin)["tests"]:
    command = test["command"]
    one = command.index("--one")
    print(test["name"][len("fuzz."):], command[one + 1], command[one + 2], sep="\t")
')
if ((${#targets[@]} == 0)); then
  echo "run_fuzzers.sh: no fuzz.* test in $build (is clang++-14 installed?)" >&2
  exit 1
fi
read -ra selected <<<"${FUZZ_TARGETS:-${targets[*]}}"
for name in "${selected[@]}"; do
  if [[ -z ${bin_of[$name]+set} ]]; then
    echo "run_fuzzers.sh: no fuzz target '$name' (FUZZ_TARGETS); there are: ${targets[*]}" >&2
    exit 2
  fi
done

# keep_findings TARGET DIR: copies each finding in DIR into TARGET's seed corpus, unless the
# corpus already holds that input, and lists it in `added` or `known`.
added=()
known=()
keep_findings() {
  local name=$1 dir=$2 corpus=${corpus_of[$1]} f kind sha dest same
  for f in "$dir"/{crash,leak,timeout,oom,slow-unit}-*; do
    [[ -e $f ]] || continue
    kind=$(basename "$f")
    kind=${kind%-*}  # libFuzzer names it <kind>-<sha1 of the input>
    sha=$(sha1sum <"$f" | cut -d' ' -f1)
    same=$(cd "$corpus" && sha1sum -- * | awk -v s="$sha" '$1 == s { print substr($0, 43) }')
    same=${same%%$'\n'*}
    if [[ -n $same ]]; then
      known+=("$name: $kind is ${corpus#"$repo/"}/$same")
      continue
    fi
    dest=$corpus/regression-$kind-$sha
    cp "$f" "$dest"
    added+=("${dest#"$repo/"}")
  done
}

interrupted=0
trap 'interrupted=1' INT  # libFuzzer exits on Ctrl-C too: stop after it rather than go on
declare -A outcome_of
for name in "${selected[@]}"; do
  dir=$build/tests/fuzz/long/$name
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "=== $name: $secs s from a random seed, findings in $dir"
  rc=0
  run_one "${bin_of[$name]}" "${corpus_of[$name]}" "$dir" -max_total_time="$secs" \
    -artifact_prefix="$dir/" || rc=$?
  before=$((${#added[@]} + ${#known[@]}))
  keep_findings "$name" "$dir"
  findings=$((${#added[@]} + ${#known[@]} - before))
  if ((rc == 0 && findings == 0)); then
    outcome_of[$name]=clean
  elif ((interrupted && findings == 0)); then
    outcome_of[$name]=interrupted
  else
    outcome_of[$name]="exited with $rc, $findings finding(s) in $dir"
  fi
  ((interrupted == 0)) || break
done

echo
echo "=== fuzz run summary, $secs s per target:"
failed=0
for name in "${selected[@]}"; do
  echo "  $name: ${outcome_of[$name]:-not run (interrupted)}"
  [[ ${outcome_of[$name]:-} == clean ]] || failed=1
done
if ((${#known[@]} > 0)); then
  echo "Already in the seed corpus (an earlier finding not fixed yet):"
  printf '  %s\n' "${known[@]}"
fi
if ((${#added[@]} > 0)); then
  echo "Added to the seed corpus (regression seeds: \`make test\` replays them, failing until fixed):"
  printf '  %s\n' "${added[@]}"
  echo "Fix each, add the input to the module's unit tests too, and commit these files with the fix."
fi
((interrupted == 0)) || exit 130
exit "$failed"
