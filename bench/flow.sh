#!/usr/bin/env bash
# Material-flow speed: a 10-station line (11 belts of 30 m at 1 m/s, 0.5 s
# stations, a part every 0.65 s), ~500 parts in flight once the belts have
# filled (after ~5.5 min); `fabtwin run`
# (release, no broker) over SIM of sim time. Prints rapier steps per wall
# second and part-seconds simulated per wall second (mean parts in flight ×
# sim seconds ÷ wall seconds).
# Usage: bench/flow.sh [SIM (default "15m")]
# PROFILE=dev uses the test profile (dependencies optimised, sim at opt-level 2).
set -euo pipefail
cd "$(dirname "$0")/.."
sim="${1:-15m}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
{
  echo "Scenario(name: \"flow_bench\", duration: \"$sim\", acquisition: (interval: \"10m\", window_samples: 4096),"
  echo "  sites: [(id: \"p\", lines: [(id: \"l\", machines: [(id: \"m1\", kind: Conveyor, rated_speed_rpm: 1450, sensors: [(id: \"t\", part: \"STTS22H\")])])])],"
  echo "  flow: [(id: \"bench\", publish_interval: \"10s\", sources: [(id: \"src\", interval: \"650ms\")],"
  echo "    stations: ["
  for i in $(seq 1 10); do
    ct="500ms"
    echo "      (id: \"s$i\", cycle_time: \"$ct\"),"
  done
  echo "    ], sinks: [(id: \"out\")], conveyors: ["
  prev="src"
  for i in $(seq 1 10); do
    echo "      (id: \"c$i\", from: \"$prev\", to: \"s$i\", length_m: 30, speed_m_s: 1.0, position: ($(( (i-1)*32 )).0, 0.0)),"
    prev="s$i"
  done
  echo "      (id: \"c11\", from: \"s10\", to: \"out\", length_m: 30, speed_m_s: 1.0, position: (320.0, 0.0)),"
  echo "    ])],"
  echo ")"
} > "$out/flow_bench.ron"
if [ "${PROFILE:-release}" = dev ]; then
  cargo build --quiet; bin=./target/debug/fabtwin
else
  cargo build --release --quiet; bin=./target/release/fabtwin
fi
"$bin" run "$out/flow_bench.ron" --broker none --out "$out/o" --format json > "$out/report.json"
python3 - "$out/report.json" "$sim" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
wall = r["wall"]["seconds"]; speedup = r["wall"]["speedup"]
line = r["flow"][0]
sim_s = speedup * wall
print(f"sim {sim_s:.0f} s in {wall:.2f} s wall ({speedup:.1f}x real time)")
print(f"parts in flight: mean {line['wip_mean']:.0f}, max {line['wip_max']}; released {line['released']}, delivered {line['delivered']}")
print(f"rapier steps/s (20 ms tick): {sim_s / 0.02 / wall:.0f}")
print(f"part-seconds simulated per wall second: {line['wip_mean'] * speedup:.0f}")
PY
