#!/bin/sh
# qdf as an installed package, used as a user would: `cmake --install` of this build to a fresh
# prefix, examples/my_net (a residual network of its own, in its own CMake project) configured and
# built against it with find_package(qdf), and the program run as a tool: compile over 2 FPGAs,
# sim, verify against the RTL, train on Fashion-MNIST, and the trained model evaluated, simulated
# and verified.
#   test_installed_package.sh SOURCE_DIR BUILD_DIR WORK_DIR CXX_COMPILER [COMPILER_LAUNCHER]
set -eu
src=$1 build=$2 work=$3 cxx=$4 launcher=${5:-}

fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work"
mkdir -p "$work"

echo "== cmake --install $build --prefix $work/prefix"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
test -f "$work/prefix/include/qdf/qdf.hpp" || fail "no include/qdf/qdf.hpp installed"
test -f "$work/prefix/lib/cmake/qdf/qdfConfig.cmake" || fail "no qdfConfig.cmake installed"

echo "== examples/my_net against the installed package"
cmake -S "$src/examples/my_net" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_COMPILER="$cxx" \
  ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "configuring examples/my_net"; }
cmake --build "$work/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "building examples/my_net"; }
my_net=$work/build/my_net

# Runs the program, shows its output, and checks its exit code and that the output matches each
# extended regular expression given.
run() {
  expect=$1; shift
  echo "== my_net $*"
  set +e
  "$my_net" "$@" > "$work/out.txt" 2>&1
  rc=$?
  set -e
  cat "$work/out.txt"
  [ "$rc" -eq "$expect" ] || fail "my_net $*: exit code $rc, expected $expect"
}
has() { grep -Eq -- "$1" "$work/out.txt" || fail "output lacks /$1/"; }

run 0 --help
has "compile"; has "verify"; has "train"
run 0 compile --fpgas 2 --out "$work/bundle"
has "qdf compile: my_net \(random weights, seed 1\) on 2 x"; has "bundle written to"
test -f "$work/bundle/manifest.json" || fail "no manifest.json in the bundle"
run 0 sim --images 4
has "outputs vs the reference model +match on all 4 images"
run 0 sim "$work/bundle" --images 4
has "bundle .*/bundle"; has "match on all 4 images"
run 0 verify --backend rtl --images 2
has "outputs: bit-exact on all 2 images"; has "simulator vs reference model: match"
# The errors of qdf, named by the program.
run 1 compile --device no-such-fpga --out "$work/bad"
has "my_net: error: .*no-such-fpga"
test ! -e "$work/bad" || fail "a refused compile left $work/bad"
run 1 train --out "$work/no-such-dir/my_net.qdfmodel"
has "my_net: error: --out .*no-such-dir/my_net.qdfmodel: the directory .*no-such-dir does not exist"
# Trained: the folded network's accuracy as train reports it is what eval measures through the
# simulator, and the RTL gives the simulator's outputs with the trained weights.
run 0 train --epochs 2 --train-images 3000 --out "$work/my_net.qdfmodel"
has "model written to"
trained=$(sed -n 's/.*classifies \([0-9.]*\)% of the 10000 test images.*/\1/p' "$work/out.txt")
[ -n "$trained" ] || fail "train printed no accuracy"
awk "BEGIN { exit !($trained > 30) }" || fail "the trained network classifies $trained% (chance: 10%)"
run 0 eval --model "$work/my_net.qdfmodel"
has "accuracy $trained%"
run 0 verify --model "$work/my_net.qdfmodel" --backend rtl --images 2
has "outputs: bit-exact on all 2 images"; has "simulator vs reference model: match"
echo "PASS"
