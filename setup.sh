#!/usr/bin/env bash
# celtrace set-up on a fresh Debian 12 machine.
#   ./setup.sh        install dependencies, build, and run the demo
#   ./setup.sh test   install dependencies, build, and run the test suite
# BUILD_DIR (default: build) and JOBS (default: number of cores) may be set in the environment.
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-demo}
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}

bash .ci/install-deps
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release ${CELTRACE_CMAKE_ARGS:-}
cmake --build "$build" -j "$jobs"

case "$mode" in
  test)
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
    ;;
  demo)
    demo=${DEMO_DIR:-demo}
    mkdir -p "$demo"
    clip=/usr/share/doc/opencv-doc/examples/data/Megamind.avi
    echo "== Demo 1: fingerprint a real animated clip ($clip), vPDQ lines: frame,quality,pdq,seconds"
    "$build/tools/celtrace" hash "$clip" | head -8
    echo "== Demo 2: a generated episode, and a line-art work-in-progress render of 3 s of it"
    "$build/benchmarks/celtrace-gen" --series 7 --episode 1 --seconds 40 --out "$demo/episode.mp4"
    "$build/benchmarks/celtrace-gen" --series 7 --episode 1 --seconds 40 --start 20 --duration 3 \
      --render line-art --out "$demo/line-art.mp4"
    "$build/tools/celtrace" hash --save "$demo/episode.ctfp" "$demo/episode.mp4" > /dev/null
    "$build/tools/celtrace" hash --fps 6 --save "$demo/line-art.ctfp" "$demo/line-art.mp4" > /dev/null
    echo "fingerprints written to $demo/ (lookup comes with the library)"
    ;;
  *)
    echo "usage: ./setup.sh [demo|test]" >&2
    exit 2
    ;;
esac
