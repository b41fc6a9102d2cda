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
    gen="$build/benchmarks/celtrace-gen"
    celtrace="$build/tools/celtrace"
    mkdir -p "$demo/episodes" "$demo/found"
    echo "== Rendering three generated episodes of 'Sky Ships' and one of 'Moon Town'"
    for episode in 1 2 3; do
      [ -f "$demo/episodes/Sky.Ships.S01E0$episode.mp4" ] ||
        "$gen" --series 7 --series-name "Sky Ships" --episode "$episode" --seconds 60 \
          --out "$demo/episodes/Sky.Ships.S01E0$episode.mp4"
    done
    [ -f "$demo/episodes/Moon.Town.S01E01.mp4" ] ||
      "$gen" --series 8 --series-name "Moon Town" --episode 1 --seconds 60 --out "$demo/episodes/Moon.Town.S01E01.mp4"
    megamind=/usr/share/doc/opencv-doc/examples/data/Megamind.avi
    echo "== Indexing them, and Debian's Megamind.avi clip, into $demo/library"
    "$celtrace" index add "$demo/library" "$demo/episodes"
    "$celtrace" index add "$demo/library" "$megamind" --title Megamind --name Megamind
    "$celtrace" index info "$demo/library"
    echo "== 'Leaked' files: a line-art work-in-progress of 4 s of episode 2 (from 0:31), a mirrored,"
    echo "   cropped, low-quality copy of Megamind (from 0:03), and a clip of a series not in the library"
    "$gen" --series 7 --series-name "Sky Ships" --episode 2 --seconds 60 --start 31 --duration 4 \
      --render line-art --out "$demo/found/sc031_lineart.mp4"
    ffmpeg -v error -y -ss 3 -t 5 -i "$megamind" -an -vf "hflip,crop=iw*0.85:ih*0.85,scale=480:-2" \
      -c:v mpeg4 -q:v 10 "$demo/found/megamind_copy.avi"
    "$gen" --series 9 --episode 1 --seconds 60 --start 20 --duration 5 --out "$demo/found/unknown.mp4"
    for file in "$demo/found/sc031_lineart.mp4" "$demo/found/megamind_copy.avi" "$demo/found/unknown.mp4"; do
      echo
      "$celtrace" lookup "$demo/library" "$file"
    done
    ;;
  *)
    echo "usage: ./setup.sh [demo|test]" >&2
    exit 2
    ;;
esac
