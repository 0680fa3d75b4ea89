#!/bin/sh
# A bundle's RTL is its own files: `qdf verify BUNDLE --backend rtl` refuses a bundle one of whose
# files was edited, naming the file; with --allow-edited-bundle it runs the edited file, says so,
# and the edit shows (the weights of fc1 inverted: the RTL's outputs differ from the simulator's).
# Usage: check_edited_bundle.sh QDF BUNDLE WORKDIR
set -u
qdf=$1 bundle=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cp -r "$bundle" "$work/b" || exit 1
rom=$(cd "$work/b" && ls fpga0/*_weights_pe0.hex | head -n 1)
[ -n "$rom" ] || { echo "no weight ROM file in $bundle/fpga0"; exit 1; }
tr 0123456789abcdef fedcba9876543210 < "$work/b/$rom" > "$work/rom" && mv "$work/rom" "$work/b/$rom"

out=$("$qdf" verify "$work/b" --backend rtl --images 3 2>&1) && { echo "an edited bundle verified: $out"; exit 1; }
echo "$out" | grep -q "$rom: changed since the bundle was written" || { echo "the edited file is not named: $out"; exit 1; }
echo "refused, naming $rom"

out=$("$qdf" verify "$work/b" --backend rtl --images 3 --allow-edited-bundle 2>&1)
status=$?
echo "$out"
[ $status -eq 3 ] || { echo "expected exit 3 (outputs differ), got $status"; exit 1; }
echo "$out" | grep -q "edited bundle file run as it is: $rom" || { echo "the run does not say the file was edited"; exit 1; }
echo "$out" | grep -q "outputs: DIFFER" || { echo "the edited weights did not run"; exit 1; }
rm -rf "$work"
echo "the edited bundle ran as it is"
