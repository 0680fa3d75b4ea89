#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh), then configures and builds qdf in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
