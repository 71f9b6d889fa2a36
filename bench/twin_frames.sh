#!/usr/bin/env bash
# Frame time of the 3D twin (`fabtwin view`) with 4, 50 and 1000 machines,
# rendered under Xvfb (on a machine without a GPU: Mesa's software Vulkan,
# llvmpipe). Each run simulates its scenario paced ×1000, renders FRAMES frames
# and prints the median, 95th percentile and worst frame time (the first tenth
# skipped as pipeline warm-up). Builds with the dev profile (dependencies
# optimised), as the tests do; pass --release to build and run a release binary.
# Usage: bench/twin_frames.sh [FRAMES (default 150)] [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
frames="${1:-150}"
profile=debug
flags=()
if [ "${2:-}" = "--release" ]; then profile=release; flags=(--release); fi
command -v xvfb-run >/dev/null || { echo "xvfb-run is needed (Debian package xvfb)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo build "${flags[@]}" --quiet --features view
bin="./target/$profile/fabtwin"
"$bin" new --machines 1000 --per-line 40 --duration 8h -o "$out/m1000.ron" >/dev/null 2>&1
for sc in scenarios/quickstart.ron scenarios/line50.ron "$out/m1000.ron"; do
  for size in 1280x720 640x360; do
    printf '%-20s %-9s ' "$(basename "$sc")" "$size"
    xvfb-run -a -s "-screen 0 1280x720x24" "$bin" view "$sc" --speed 1000x --frames "$frames" --size "$size" 2>/dev/null \
      | grep '^frames' || echo "(no figure)"
  done
done
