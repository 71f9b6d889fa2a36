#!/usr/bin/env bash
# Most concurrent sessions one fabtwin load process holds, against mosquitto and
# against the embedded broker, with the connect rate and the generator's memory
# per idle session (RSS growth from connecting, /proc/self/statm).
#
# Usage: bench/load_sessions.sh            (from the repository root)
# Env knobs [defaults]:
#   PORT           mosquitto port on 127.0.0.1                       [18860]
#   MOSQ_SESSIONS  sessions against mosquitto                        [19000]
#   EMB_SESSIONS   sessions against the embedded broker (in-process: [9000]
#                  two open files per session share one limit)
#   RAMP           connects per second (empty: as fast as accepted)  []
#   HOLD           how long the sessions stay up, idle but for one    [20s]
#                  message per device per minute
#   WORK           scratch dir                                       [/tmp/fabtwin-sessions]
# A process is bounded by its open-file limit (`ulimit -Hn`); mosquitto
# needs one file per session too. Past it, split the fleet with --shard over
# several processes (and brokers), and past ~28k sessions per source address
# use --source-addrs.
set -u
PORT=${PORT:-18860}
MOSQ_SESSIONS=${MOSQ_SESSIONS:-19000}
EMB_SESSIONS=${EMB_SESSIONS:-9000}
RAMP=${RAMP:-}
HOLD=${HOLD:-20s}
WORK=${WORK:-/tmp/fabtwin-sessions}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$WORK"
(cd "$ROOT" && cargo build --release -q) || exit 1
FABTWIN="$ROOT/target/release/fabtwin"
BROKER_PID=""
trap '[ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null' EXIT
ulimit -n "$(ulimit -Hn)"
echo "# open-file limit $(ulimit -n), local ports $(tr '\t' - </proc/sys/net/ipv4/ip_local_port_range), $(nproc) cores"
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" >"$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 </dev/null & BROKER_PID=$!
sleep 0.5
ramp=(); [ -n "$RAMP" ] && ramp=(--ramp "$RAMP")
row() { # name report
  jq -r --arg n "$1" '"broker=\($n) attempted=\(.sessions.attempted) connected=\(.sessions.connected) peak=\(.sessions.peak_connected) connect_per_s=\(.sessions.connect_rate_per_s|floor) connect_p99_ms=\(.sessions.connect_time.p99_ms) rss_per_session_B=\(.memory.per_session_bytes|floor) failed=\(.sessions.failed|tostring) hit=\(.limits.hit|tostring)"' "$2"
}
for target in mosquitto embedded; do
  if [ $target = mosquitto ]; then url="mqtt://127.0.0.1:$PORT"; n=$MOSQ_SESSIONS; else url=embedded; n=$EMB_SESSIONS; fi
  timeout -s KILL 300 "$FABTWIN" -q load --broker "$url" --template "$ROOT/bench/telemetry-200b.ron" \
    --devices "$n" --rate "$(( n / 60 + 1 ))" --duration "$HOLD" --drain 2s "${ramp[@]}" \
    --out "$WORK/$target.json" >"$WORK/$target.log" 2>&1
  row "$target" "$WORK/$target.json"
done
