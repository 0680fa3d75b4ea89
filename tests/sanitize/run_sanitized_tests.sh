#!/bin/sh
# The unit tests of dsl/, engines/, manager/ and sim/ that need neither Verilator nor Yosys, built
# with AddressSanitizer and UndefinedBehaviorSanitizer (QDF_SANITIZE) at -O1 in a build directory of
# their own, and run: any sanitizer report fails the run. Left out, as too slow for CI under the
# sanitizers: the test cases that build RTL (their names say RTL, lint or synthesize), tests/host
# (whose parsers of outside input the fuzz targets run under the same sanitizers, tests/fuzz/) and
# tests/cosim.
# Usage: run_sanitized_tests.sh SOURCE_DIR BUILD_DIR [COMPILER_LAUNCHER]
set -eu
src=$1 bin=$2 launcher=${3:-}
start=$(date +%s)
options="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -DQDF_SANITIZE=ON"
[ -n "$launcher" ] && options="$options -DCMAKE_CXX_COMPILER_LAUNCHER=$launcher"
# shellcheck disable=SC2086
CXXFLAGS=-g1 cmake -S "$src" -B "$bin" $options >/dev/null  # -O1 -g1: a quicker build, reports with lines
cmake --build "$bin" -j"$(nproc)" --target test_dsl test_engines test_manager test_sim
built=$(date +%s)
echo "sanitized build: $((built - start)) s"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export QDF_CACHE_DIR="$bin/qdf-cache"
no_rtl='*RTL*,*rtl*,*lint*,*synthesize*'
"$bin/tests/test_dsl" --no-intro=true
"$bin/tests/test_engines" --no-intro=true --test-case-exclude="$no_rtl"
# Planning the big networks many times over (resnet18, budgets over many plans, the folding
# search's brute force) takes minutes under the sanitizers; the rest of the manager runs.
"$bin/tests/test_manager" --no-intro=true \
  --test-case-exclude='partition: a cut inside*,plan: no FPGA is over*,folding: each layer*,plan: impossible*,partition: contiguous*,scaling study*'
"$bin/tests/test_sim" --no-intro=true
echo "sanitized tests: $(($(date +%s) - built)) s"
echo "sanitizers: every test clean"
