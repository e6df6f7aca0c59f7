#!/usr/bin/env bash
# Runs every command of docs/performance.md's Figures table, in its order, and prints what each
# printed: one set of figures from one machine in one sitting (seven to eleven minutes on two
# cores).
# Usage: scripts/figures.sh [build-dir]   (default `build`, as scripts/test.sh makes it)
# The fleets are made first where missing: /tmp/large, /tmp/large-json and /tmp/large-ps, the
# paths the table's commands name. Nothing else should run on the machine meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
for tool in "$build/meshfed" "$build/meshfed_bench" "$build/tests/meshfed_controller_bench"; do
  if [[ ! -x $tool ]]; then
    echo "figures.sh: $tool is missing: build first (bash scripts/test.sh)" >&2
    exit 2
  fi
done
if ! command -v /usr/bin/time > /dev/null; then
  echo "figures.sh: /usr/bin/time is missing (apt-get install time)" >&2
  exit 2
fi

make_fleet() {  # directory, gen-fleet options...
  local dir=$1
  shift
  if [[ ! -f $dir/fleet.yaml ]]; then
    rm -rf "$dir"
    "$build/meshfed" gen-fleet "$dir" --seed 1 "$@" > /dev/null
  fi
}
make_fleet /tmp/large
make_fleet /tmp/large-json --output json
make_fleet /tmp/large-ps --policy-per-service

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
show() {  # a command, run as the table names it, after its own line
  echo "\$ $*"
  "$@"
  echo
}
render_time() {  # `meshfed render` FLEET [options]: wall, user and system time, peak RSS
  echo "\$ /usr/bin/time $build/meshfed render $* -o OUT"
  rm -rf "$out/render"
  /usr/bin/time -f "%e s wall, %U s user, %S s system, peak RSS %M KiB" \
    "$build/meshfed" render "$@" -o "$out/render" > /dev/null
  echo
}

for _ in 1 2 3; do
  show "$build/meshfed_bench" parse /tmp/large
  show "$build/meshfed_bench" parse /tmp/large-json
done
for _ in 1 2 3 4 5; do
  render_time /tmp/large
  render_time /tmp/large-json
done
for _ in 1 2 3; do render_time /tmp/large --output json; done
echo "# cold: 8 s of idle before each run"
for _ in 1 2 3; do
  sleep 8
  render_time /tmp/large
  sleep 8
  render_time /tmp/large-json
done
for _ in 1 2 3 4 5 6; do show "$build/meshfed_bench" render /tmp/large --repeat 1; done
for _ in 1 2 3; do show "$build/meshfed_bench" render /tmp/large --repeat 4; done
for _ in 1 2 3; do show "$build/meshfed_bench" render /tmp/large-json --repeat 1; done
show "$build/meshfed_bench" trees /tmp/large
show "$build/meshfed_bench" memory 630
show "$build/meshfed_bench" memory 630 huge
show "$build/meshfed_bench" incremental /tmp/large --repeat 3000
show "$build/meshfed_bench" incremental /tmp/large-ps --repeat 3000
for _ in 1 2 3; do
  show "$build/meshfed_bench" simulate examples/bookinfo/step6 --repeat 100000
  show "$build/meshfed_bench" simulate /tmp/large --repeat 40000
done
for _ in 1 2 3; do
  show "$build/tests/meshfed_controller_bench" --clusters 20 --services 1000 --changes 100
done
show "$build/tests/meshfed_controller_bench" --clusters 2 --services 2000 --changes 3 --latency 2
if command -v valgrind > /dev/null; then
  echo "\$ valgrind --tool=callgrind --toggle-collect='meshfed::Translate(*' $build/meshfed_bench translate /tmp/large --repeat 1"
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
    --toggle-collect='meshfed::Translate(*' "$build/meshfed_bench" translate /tmp/large \
    --repeat 1 2>&1 | grep -E 'Collected' || true
else
  echo "# valgrind is not installed: translate's instructions not counted"
fi
