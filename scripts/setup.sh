#!/usr/bin/env bash
# Installs what qdf needs from Debian's archive (Debian 12), if anything is missing.
# Idempotent and quiet when everything is there; works as root or with sudo.
set -euo pipefail
packages=(
  build-essential cmake pkg-config      # toolchain
  libboost-dev libeigen3-dev            # Boost.Hana, Eigen
  verilator yosys                       # RTL simulation, synthesis checks
  doctest-dev                           # tests
  libfmt-dev nlohmann-json3-dev libcli11-dev  # formatting, JSON, command line
  zlib1g-dev                            # reading gzip-compressed datasets
  libonnx-dev libprotobuf-dev           # QONNX import and export (host/onnx)
  python3-onnx python3-numpy            # the tests' independent QONNX evaluator
  clang libclang-rt-14-dev libomp-dev   # the fuzz targets: libFuzzer (tests/fuzz/)
  libopenmpi-dev openmpi-bin           # many machines: qdf eval, sim and sweep under mpirun (host/distributed)
  dataset-fashion-mnist                 # the real data of training, qdf eval and qdf demo
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "qdf setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
