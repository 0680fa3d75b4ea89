#!/bin/sh
# Builds the fuzz targets with clang, libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer
# (QDF_FUZZ, QDF_SANITIZE) in a build directory of their own, and fuzzes each for SECONDS from its
# seed corpus (tests/fuzz/corpus/<target>, copied: the checked-in corpus is not changed). A crash,
# a leak, a sanitizer report or an input slower than 20 s fails the run; libFuzzer writes the input
# that did it to BUILD_DIR/fuzz-run/<target>/ (replay it: the target's binary with that file).
# Usage: run_fuzzers.sh SOURCE_DIR BUILD_DIR SECONDS [COMPILER_LAUNCHER]
set -eu
src=$1 bin=$2 seconds=$3 launcher=${4:-}
targets="model_file bundle_manifest idx_dataset folding_json command_line"
command -v clang++ >/dev/null || { echo "clang++ is missing: scripts/setup.sh installs clang and libclang-rt-14-dev"; exit 1; }
start=$(date +%s)
options="-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQDF_SANITIZE=ON -DQDF_FUZZ=ON"
[ -n "$launcher" ] && options="$options -DCMAKE_CXX_COMPILER_LAUNCHER=$launcher"
# shellcheck disable=SC2086
cmake -S "$src" -B "$bin" $options >/dev/null
list=""
for t in $targets; do list="$list fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$bin" -j"$(nproc)" --target $list
built=$(date +%s)
echo "fuzz build: $((built - start)) s"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $targets; do
  work="$bin/fuzz-run/$t"
  rm -rf "$work" && mkdir -p "$work/corpus"
  if ! "$bin/tests/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus" "$src/tests/fuzz/corpus/$t" > "$work/log" 2>&1; then
    tail -n 60 "$work/log"
    echo "fuzz_$t: FAILED; the input is in $work/"
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1)
  echo "fuzz_$t: $execs inputs in $seconds s, $cov, corpus $(ls "$work/corpus" | wc -l) inputs"
done
echo "fuzz runs: $(($(date +%s) - built)) s"
echo "fuzzing: every target clean"
