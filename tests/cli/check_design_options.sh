#!/bin/sh
# Every subcommand that opens a design lists every design option in its --help (they are declared
# once, by add_design_options in host/cli/qdf_main.cpp).
# Usage: check_design_options.sh QDF SUBCOMMAND... -- OPTION...
qdf=$1; shift
subcommands=
while [ "$1" != -- ]; do subcommands="$subcommands $1"; shift; done
shift
for s in $subcommands; do
  help=$("$qdf" "$s" --help) || { echo "qdf $s --help failed"; exit 1; }
  for o in "$@"; do
    # An option's line starts with its names, separated by commas: "  --seed,--weights-seed UINT=1".
    echo "$help" | grep -qE -- "^ *(-[-a-z]+,)*$o( |,|=|\$)" || { echo "qdf $s --help lacks $o"; exit 1; }
  done
done
echo "every design option listed by:$subcommands"
