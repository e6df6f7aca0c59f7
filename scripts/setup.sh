#!/usr/bin/env bash
# Installs every Debian 12 package meshfed needs to build, test and fuzz. Idempotent; run as root
# (or with sudo available). Packages already present are left alone.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libyaml-dev          # YAML/JSON reader (libyaml event API, keeps line/column)
  libsimdjson-dev      # JSON from API servers and valid JSON files, several times faster
  libgoogle-perftools-dev  # tcmalloc: the allocator every executable links
  libcli11-dev         # command-line parsing
  libfmt-dev           # string formatting
  libabsl-dev          # absl::Status / StatusOr at adapter boundaries; flat_hash_map
  libre2-dev           # RE2: Istio's regex matches (full match), in the simulator
  libcpp-httplib-dev   # HTTP/1.1 client (Kubernetes API) and the test API server emulator
  libssl-dev openssl   # TLS to API servers, client certificates; test certificates
  libgtest-dev libgmock-dev
  libbenchmark-dev
  clang-14 libclang-rt-14-dev   # fuzzing and sanitizer builds
  clang-format-14 clang-tidy-14
  time                 # peak RSS and CPU time in scripts/figures.sh (docs/performance.md)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
