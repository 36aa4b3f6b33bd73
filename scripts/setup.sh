#!/usr/bin/env bash
# Installs tune.cpp's build dependencies from Debian packages and builds it into build/ (Release): every target, or
# only the TARGETs given (scripts/demo.sh builds just `tune`).
# Usage: scripts/setup.sh [TARGET ...]            (set TUNE_BUILD_DIR to build elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ pkg-config libopenblas-openmp-dev nlohmann-json3-dev libyaml-cpp-dev
          libsentencepiece-dev libcpp-httplib-dev libgtest-dev librsvg2-dev libcairo2-dev fonts-dejavu-core
          libicu-dev zlib1g-dev
          clang libclang-rt-14-dev libomp-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

build="${TUNE_BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
ninja -C "$build" "$@"
echo "setup: built ${*:-everything} in $build"
