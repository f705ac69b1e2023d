#!/usr/bin/env bash
# Installs the Debian 12 packages corio builds against (DESIGN.md section 5).
# Idempotent: when dpkg already reports every package installed, apt-get is
# never run, so repeated calls from test.sh / run-main.sh cost nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build g++        # GCC 12 toolchain + generator
  clang-14 libclang-rt-14-dev                  # second compiler; its sanitizer runtimes (TSan preset)
  clang-16                                     # the Clang that DESIGN.md names (clang-release preset)
  libasio-dev libssl-dev                       # reactor, sockets, TLS
  libtbb-dev                                   # task_arena interop, allocator, baseline
  catch2 libbenchmark-dev                      # tests, micro-benchmarks
  node-llhttp nlohmann-json3-dev               # HTTP parser sources, JSON
  python3 curl openssl                         # test helpers (servers, clients, certs)
  python3-aiohttp                              # a real HTTP peer for corio::http tests
)

missing=()
for p in "${packages[@]}"; do
  # "install ok installed" is the only status that means usable.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
apt_install() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
# Try without `apt-get update` first: it is slow and usually unnecessary;
# update only when the package lists turn out to be stale or absent.
if ! apt_install; then
  "${sudo[@]}" apt-get update
  apt_install
fi
