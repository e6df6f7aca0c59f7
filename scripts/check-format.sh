#!/usr/bin/env bash
# Fails when a C++ source is not clang-format clean (.clang-format: Google, 100 columns).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cc' '*.h' | xargs clang-format-14 --dry-run --Werror
