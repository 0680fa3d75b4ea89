#!/bin/sh
# Runs killed midway (SIGKILL) leave nothing half-written that passes as valid: `qdf compile`
# killed while planning and at points of writing its bundle, and `qdf train` killed while training,
# with a model write of a killed run left behind, and resumed from its checkpoint. After each kill
# the previous result is still whole (a later run reads it), and the next successful run leaves no
# temporary behind.
# Usage: check_killed_writes.sh QDF WORKDIR
set -u
qdf=$1 work=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
leftovers() { ls -a "$work" | grep -E '\.(partial|old)\.[0-9]+$'; }

# A bundle to keep: sfc on one FPGA.
"$qdf" compile sfc --out "$work/b" > /dev/null || fail "the first compile failed"
# Kill a compile of lfc on 2 FPGAs (a 20 MB bundle): while planning, and 0, 0.1 and 0.3 s after
# its temporary bundle directory appeared.
for when in plan 0 0.1 0.3; do
  "$qdf" compile lfc --fpgas 2 --out "$work/b" > /dev/null 2>&1 &
  pid=$!
  if [ "$when" = plan ]; then
    sleep 0.5
  else
    i=0
    while [ -z "$(ls -a "$work" | grep -E '^b\.partial\.')" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    [ $i -lt 600 ] || fail "no temporary bundle directory appeared in 30 s"
    sleep "$when"
  fi
  kill -9 $pid 2> /dev/null
  wait $pid 2> /dev/null
  # The bundle at $work/b is whole: the old sfc, or (if the kill came after the swap) the new lfc;
  # a swap cut between its two renames leaves no bundle until the next write puts the old back.
  if [ -e "$work/b" ]; then
    "$qdf" sim "$work/b" --timing-only --images 1 > /dev/null 2>&1 || fail "killed at $when: $work/b is not a whole bundle"
  fi
  echo "compile killed at $when: $(ls -a "$work" | grep -cE '^b\.(partial|old)\.') temporaries left"
done
"$qdf" compile sfc --out "$work/b" > /dev/null || fail "the compile after the kills failed"
[ -z "$(leftovers)" ] || fail "temporaries left after a successful compile: $(leftovers)"
"$qdf" sim "$work/b" --images 2 > /dev/null || fail "the bundle written after the kills does not run"
echo "compile: no temporary left, the bundle whole"

# A model to keep, then a training killed at 1 s and 3 s: the model is untouched.
"$qdf" train fashion-mlp --epochs 1 --train-images 500 --out "$work/m.qdfmodel" > /dev/null || fail "the first train failed"
sum=$(cksum < "$work/m.qdfmodel")
for when in 1 3; do
  "$qdf" train fashion-mlp --epochs 2 --train-images 4000 --out "$work/m.qdfmodel" > /dev/null 2>&1 &
  pid=$!
  sleep $when
  kill -9 $pid 2> /dev/null
  wait $pid 2> /dev/null
  [ "$(cksum < "$work/m.qdfmodel")" = "$sum" ] || "$qdf" sim fashion-mlp --model "$work/m.qdfmodel" --timing-only --images 1 > /dev/null 2>&1 ||
    fail "train killed at $when s: the model file is neither the old one nor a whole new one"
done
# A model write cut by a kill leaves <model>.partial.<pid>; the next write removes it.
sh -c 'exit 0' & dead=$!
wait $dead
head -c 100 "$work/m.qdfmodel" > "$work/m.qdfmodel.partial.$dead"
"$qdf" train fashion-mlp --epochs 1 --train-images 500 --out "$work/m.qdfmodel" > /dev/null || fail "the train after the kills failed"
[ -z "$(leftovers)" ] || fail "temporaries left after a successful train: $(leftovers)"
"$qdf" sim fashion-mlp --model "$work/m.qdfmodel" --timing-only --images 1 > /dev/null || fail "the model written after the kills does not load"
echo "train: no temporary left, the model whole"

# A training with a checkpoint, killed once its first epoch's checkpoint is written, then resumed:
# the model is byte for byte the uninterrupted run's.
run="fashion-mlp --epochs 3 --train-images 6000"
"$qdf" train $run --out "$work/whole.qdfmodel" > /dev/null || fail "the uninterrupted train failed"
"$qdf" train $run --checkpoint "$work/c.ckpt" --out "$work/resumed.qdfmodel" > /dev/null 2>&1 &
pid=$!
i=0
while [ ! -e "$work/c.ckpt" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
[ -e "$work/c.ckpt" ] || fail "no checkpoint written in 60 s"
[ ! -e "$work/resumed.qdfmodel" ] || fail "the killed train wrote its model"
"$qdf" train $run --checkpoint "$work/no-dir/c.ckpt" --out "$work/x.qdfmodel" > "$work/err" 2>&1 && fail "a checkpoint in a missing directory was accepted"
grep -q -- "--checkpoint .*no-dir/c.ckpt: the directory .*no-dir does not exist" "$work/err" || fail "checkpoint in a missing directory: $(cat "$work/err")"
"$qdf" train --resume "$work/c.ckpt" --epochs 4 --out "$work/resumed.qdfmodel" > "$work/err" 2>&1 && fail "--epochs with --resume was accepted"
grep -q -- "--epochs cannot be given with --resume" "$work/err" || fail "--epochs with --resume: $(cat "$work/err")"
"$qdf" train --resume "$work/c.ckpt" --checkpoint "$work/c.ckpt" --out "$work/resumed.qdfmodel" > "$work/log" || fail "the resumed train failed"
grep -q "resumed from .* after epoch" "$work/log" || fail "the resumed train does not say where it resumed: $(cat "$work/log")"
cmp -s "$work/whole.qdfmodel" "$work/resumed.qdfmodel" || fail "the resumed model differs from the uninterrupted one"
[ -z "$(leftovers)" ] || fail "temporaries left after a resumed train: $(leftovers)"
echo "train: killed and resumed from its checkpoint, the model of the uninterrupted run"
rm -rf "$work"
echo "killed runs left nothing half-written"
