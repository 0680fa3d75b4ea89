#!/bin/sh
# Many processes under MPI against one: `qdf eval` of the shipped fashion-cnv on the 10,000
# Fashion-MNIST test images, and a timing-only `qdf sweep` of resnet18 over K = 1..8 and three fps
# targets (24 points), each run as one process and under `mpirun -n P`; prints the wall times side
# by side with their ratio, and checks that the predictions and the sweep's output are the same.
# Usage: bench/bench_mpi.sh [QDF [P]]   (default build/qdf, P = 2); mpirun must be on PATH.
qdf=${1:-build/qdf} p=${2:-2}
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mpi() { mpirun --allow-run-as-root --oversubscribe -n "$p" "$qdf" "$@"; }
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
row() { awk -v w="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%-58s %9.2f s %9.2f s %7.2fx\n", w, a, b, a / b }'; }

printf '%-58s %11s %11s %8s\n' "" "1 process" "$p ranks" "speed-up"
t0=$(now); "$qdf" eval --predictions "$work/p1.txt" > "$work/e1.txt" || exit 1
t1=$(now); mpi eval --predictions "$work/pp.txt" > "$work/ep.txt" || exit 1
t2=$(now)
row "qdf eval fashion-cnv, 10,000 images (simulator)" "$(seconds "$t0" "$t1")" "$(seconds "$t1" "$t2")"
sweep="sweep resnet18 --device stratix --fpgas 1..8 --fps 2000,8000,max"
t0=$(now); "$qdf" $sweep > "$work/s1.txt" 2> /dev/null || exit 1
t1=$(now); mpi $sweep > "$work/sp.txt" 2> /dev/null || exit 1
t2=$(now)
row "qdf sweep resnet18, K = 1..8 x 3 fps targets, planned" "$(seconds "$t0" "$t1")" "$(seconds "$t1" "$t2")"
t0=$(now); "$qdf" $sweep --simulate > "$work/ss1.txt" 2> /dev/null || exit 1
t1=$(now); mpi $sweep --simulate > "$work/ssp.txt" 2> /dev/null || exit 1
t2=$(now)
row "the same sweep, each point also simulated (timing only)" "$(seconds "$t0" "$t1")" "$(seconds "$t1" "$t2")"

grep accuracy "$work/e1.txt" | head -1
if cmp -s "$work/p1.txt" "$work/pp.txt" && cmp -s "$work/s1.txt" "$work/sp.txt" && cmp -s "$work/ss1.txt" "$work/ssp.txt" &&
   [ "$(grep accuracy "$work/e1.txt" | head -1)" = "$(grep accuracy "$work/ep.txt" | head -1)" ]; then
  echo "identical on 1 process and $p ranks: the 10,000 predictions, the accuracy, both sweeps' tables"
else
  echo "DIFFERENT results on 1 process and $p ranks"; exit 1
fi
