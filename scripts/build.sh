#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh), then configures and builds qdf in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# CI (CI=true) builds with -Werror, so that a new warning fails it rather than piling up.
options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${CI:-}" = true ]; then options+=(-DQDF_WERROR=ON); fi
cmake -S . -B build "${options[@]}" >/dev/null
cmake --build build -j"$(nproc)"
