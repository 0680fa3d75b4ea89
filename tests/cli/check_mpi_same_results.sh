#!/bin/sh
# `mpirun -n 2 qdf eval|sim|sweep` (and -n 3 of sim) against one process: the same predictions (byte for byte), the
# same JSON but for wall times and the rank count (accuracy, cycles per image, latency, reference
# check, every design point), the same sweep table; and the subcommands that do not split are
# refused under mpirun.
# Usage: check_mpi_same_results.sh QDF MPIRUN WORKDIR
qdf=$1 mpirun=$2 work=$3
set -u
mkdir -p "$work" && cd "$work" || exit 1
rm -f ./*.txt ./*.json
# As root in a container: allowed explicitly; two ranks on however many cores there are.
run2() { "$mpirun" --allow-run-as-root --oversubscribe -n 2 "$qdf" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
# The fields that differ between runs on any number of processes: wall times and the rank count.
stable() { grep -v -E '"(wall_seconds|sim_seconds|sim_value_seconds|sim_schedule_seconds|sim_images_per_second|reference_seconds|ranks)"' "$1"; }
same_json() {
  stable "$1" > "$1.stable"; stable "$2" > "$2.stable"
  diff "$1.stable" "$2.stable" > /dev/null || { diff "$1.stable" "$2.stable" | head -20; fail "$3: 1 and 2 ranks differ"; }
}

# qdf eval: 301 test images (an uneven split), the shipped fashion-cnv in the simulator.
"$qdf" eval --images 301 --json --predictions eval1.txt > eval1.json || fail "qdf eval (1 process)"
run2 eval --images 301 --json --predictions eval2.txt > eval2.json || fail "mpirun -n 2 qdf eval"
[ "$(wc -l < eval1.txt)" -eq 301 ] || fail "eval1.txt has $(wc -l < eval1.txt) predictions, not 301"
cmp eval1.txt eval2.txt || fail "qdf eval: predictions of 1 and 2 ranks differ"
same_json eval1.json eval2.json "qdf eval --json"
grep -q '"cycles_per_image": [1-9]' eval2.json || fail "mpirun qdf eval gave no cycles per image"
# The reference backend splits too (no timing).
"$qdf" eval --images 41 --backend reference --predictions ref1.txt > /dev/null || fail "qdf eval --backend reference"
run2 eval --images 41 --backend reference --predictions ref2.txt > /dev/null || fail "mpirun qdf eval --backend reference"
cmp ref1.txt ref2.txt || fail "qdf eval --backend reference: predictions of 1 and 2 ranks differ"

# qdf sim: values split (101 images, every one checked against the reference), timing on rank 0;
# the digest of every image's outputs compares the values themselves.
sim="sim sfc --fpgas 2 --device zynq --fps 20000 --images 101 --reference all --threads 1 --json"
"$qdf" $sim > sim1.json || fail "qdf sim (1 process)"
run2 $sim > sim2.json || fail "mpirun -n 2 qdf sim"
grep -q '"ranks": 2' sim2.json || fail "mpirun -n 2 qdf sim did not run on 2 ranks"
grep -q '"outputs_match_reference": true' sim2.json || fail "mpirun -n 2 qdf sim: outputs not checked as matching"
grep -q '"outputs_digest": "[0-9a-f]*"' sim2.json || fail "mpirun -n 2 qdf sim: no digest of the outputs"
same_json sim1.json sim2.json "qdf sim --json"
# With 3 ranks rank 0 times the run and the values are split unevenly over ranks 1 and 2 (51 + 50).
"$mpirun" --allow-run-as-root --oversubscribe -n 3 "$qdf" $sim > sim3.json || fail "mpirun -n 3 qdf sim"
grep -q '"ranks": 3' sim3.json || fail "mpirun -n 3 qdf sim did not run on 3 ranks"
same_json sim1.json sim3.json "qdf sim --json on 3 ranks"

# qdf sweep: 2 devices x 2 fps targets x K = 1..3, table and JSON byte for byte.
sweep="sweep sfc --device zynq,stratix --fpgas 1..3 --fps 20000,max"
"$qdf" $sweep > sweep1.txt 2> /dev/null || fail "qdf sweep (1 process)"
run2 $sweep > sweep2.txt 2> /dev/null || fail "mpirun -n 2 qdf sweep"
[ "$(grep -c '^[a-z].* [123] ' sweep1.txt)" -eq 12 ] || { cat sweep1.txt; fail "qdf sweep: expected 12 points"; }
cmp sweep1.txt sweep2.txt || { diff sweep1.txt sweep2.txt | head; fail "qdf sweep: tables of 1 and 2 ranks differ"; }
"$qdf" $sweep --simulate --json > sweep1.json 2> /dev/null || fail "qdf sweep --json (1 process)"
run2 $sweep --simulate --json > sweep2.json 2> /dev/null || fail "mpirun -n 2 qdf sweep --json"
grep -q '"simulated_cycles_per_image"' sweep1.json || fail "qdf sweep --simulate gave no simulated cycles"
cmp sweep1.json sweep2.json || { diff sweep1.json sweep2.json | head; fail "qdf sweep --json: 1 and 2 ranks differ"; }

# A bad flag under mpirun: one error, from rank 0, naming the flag.
run2 sweep sfc --device nosuch > bad.txt 2>&1 && fail "mpirun qdf sweep --device nosuch succeeded"
grep -q -- "--device 'nosuch': no device named" bad.txt || { cat bad.txt; fail "sweep --device nosuch: no error naming the flag"; }
# A subcommand that does not split is refused rather than run twice over.
run2 compile sfc --out no-bundle > refused.txt 2>&1 && fail "mpirun qdf compile succeeded"
grep -q "qdf compile runs as one process, but mpirun launched 2" refused.txt || { cat refused.txt; fail "mpirun qdf compile not refused"; }
[ ! -e no-bundle ] || fail "mpirun qdf compile wrote a bundle"
echo "1 and 2 ranks give the same results: eval, sim, sweep"
