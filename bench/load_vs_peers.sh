#!/usr/bin/env bash
# fabtwin load vs public MQTT load generators, side by side against one
# loopback mosquitto started here, in the same run.
#
# Usage: bench/load_vs_peers.sh            (from the repository root)
# Env knobs [defaults]:
#   PORT        broker port on 127.0.0.1                    [18850]
#   MSGS        messages per run                            [200000]
#   QOS_LIST    ["0 1"]     CONNS_LIST ["1 100"]
#   PEERS       generators to run     ["fabtwin mqtt-benchmark mosquitto_pub"]
#   WORK        scratch dir (peer installs, logs)           [/tmp/fabtwin-bench]
#   CAP_SECS    hard cap per run (timeout -s KILL)          [60]
#   CODEC       fabtwin's payload codec: json | sparkplug   [json]
# Output: one line per run:
#   gen=<name> qos=<q> conns=<n> msgs=<sent> secs=<t> rate=<msgs/s> cpu_s=<generator user+sys> msgs_per_cpu_s=<m> sub=<received by a counting subscriber>
# then, per (qos, conns), fabtwin's messages per generator CPU-second over the best peer's.
#
# fabtwin sends real telemetry (bench/telemetry-200b.ron: one temperature
# reading per message, ~250 B with its device id, seq and send stamp); peers send
# 200 bytes of 'x'. Generator CPU is user+system seconds from /usr/bin/time of
# the whole process (start-up and connect included), the fair figure on a
# shared machine. fabtwin runs open loop with a schedule far faster than any
# generator here (rate = 10 x MSGS per second for 0.1 s), so it sends as fast as
# the broker takes, and its report says how far behind the schedule it fell.
# With CODEC=sparkplug, fabtwin's sessions are Sparkplug B edge nodes (births,
# then DDATA of the same telemetry as protobuf, ~180 B) and the counting
# subscriber takes DDATA only. Peers are installed by package name: mqtt-benchmark (crates.io), mosquitto
# and mosquitto-clients (Debian). Loopback only; the broker is stopped by PID.
set -u
PORT=${PORT:-18850}
MSGS=${MSGS:-200000}
QOS_LIST=${QOS_LIST:-"0 1"}
CONNS_LIST=${CONNS_LIST:-"1 100"}
PEERS=${PEERS:-"fabtwin mqtt-benchmark mosquitto_pub"}
WORK=${WORK:-/tmp/fabtwin-bench}
CAP_SECS=${CAP_SECS:-60}
CODEC=${CODEC:-json}
HOST=127.0.0.1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOG="$WORK/logs"
mkdir -p "$LOG"
export PATH="$WORK/cargo/bin:$PATH"
say() { echo "[load_vs_peers] $*" >&2; }

# ------------------------------------------------------------------ install
if ! command -v mosquitto >/dev/null || ! command -v mosquitto_pub >/dev/null; then
  say "apt-get install mosquitto mosquitto-clients"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mosquitto mosquitto-clients >"$LOG/apt.log" 2>&1 || say "apt-get failed (see $LOG/apt.log)"
fi
if [[ " $PEERS " == *" mqtt-benchmark "* ]] && ! command -v mqtt-benchmark >/dev/null; then
  say "cargo install mqtt-benchmark 0.2.4"
  CARGO_TARGET_DIR="$WORK/cargo-target" cargo install --locked mqtt-benchmark --version 0.2.4 --root "$WORK/cargo" >"$LOG/cargo-mqtt-benchmark.log" 2>&1 || say "cargo install mqtt-benchmark failed (see $LOG)"
fi
say "cargo build --release (fabtwin)"
(cd "$ROOT" && cargo build --release -q) || { say "fabtwin does not build"; exit 1; }
FABTWIN="$ROOT/target/release/fabtwin"

# ------------------------------------------------------------------ broker
BROKER_PID=""; SUB_PID=""
cleanup() {
  [ -n "$SUB_PID" ] && kill -9 "$SUB_PID" 2>/dev/null
  [ -n "$BROKER_PID" ] && { kill "$BROKER_PID" 2>/dev/null; sleep 0.3; kill -9 "$BROKER_PID" 2>/dev/null; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM
port_open() { (exec 3<>/dev/tcp/$HOST/$PORT) 2>/dev/null; }
if port_open; then say "port $PORT is in use: set PORT"; exit 1; fi
printf 'listener %s %s\nallow_anonymous true\nmax_queued_messages 1000000\n' "$PORT" "$HOST" >"$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" >"$LOG/mosquitto.log" 2>&1 </dev/null & BROKER_PID=$!
for _ in $(seq 50); do port_open && break; sleep 0.1; done
port_open || { say "mosquitto did not start"; exit 1; }

# ------------------------------------------------------------------ helpers
SUBFILE="$LOG/sub.txt"
sub_start() { # qos expected topic
  : >"$SUBFILE"
  timeout -s KILL "$CAP_SECS" mosquitto_sub -h $HOST -p "$PORT" -q "$1" -t "$3" -C "$2" -F '%I' -i "count$$" >"$SUBFILE" 2>/dev/null &
  SUB_PID=$!; sleep 0.4
}
sub_stop() { # waits until the subscriber has everything or is quiet for 1 s
  local prev=-1 cur i
  for i in $(seq 100); do
    kill -0 "$SUB_PID" 2>/dev/null || break
    cur=$(wc -l <"$SUBFILE"); if [ $((i % 5)) = 0 ]; then [ "$cur" = "$prev" ] && break; prev=$cur; fi
    sleep 0.2
  done
  kill -9 "$SUB_PID" 2>/dev/null; wait "$SUB_PID" 2>/dev/null; SUB_PID=""
  SUB_GOT=$(wc -l <"$SUBFILE")
}
cpu_of() { awk '{u+=$1; s+=$2} END{printf "%.3f", u+s}' "$1"; }
emit() { # gen qos conns msgs secs cpu
  awk -v g="$1" -v q="$2" -v n="$3" -v m="$4" -v s="$5" -v c="$6" -v got="$SUB_GOT" 'BEGIN{
    printf "gen=%s qos=%s conns=%s msgs=%d secs=%.3f rate=%.0f cpu_s=%.3f msgs_per_cpu_s=%.0f sub=%d\n",
      g, q, n, m, s, (s>0)?m/s:0, c, (c>0)?m/c:0, got }' | tee -a "$LOG/results.txt"
}
PAYLOAD=$(head -c 200 /dev/zero | tr '\0' x)

run_fabtwin() { # qos conns
  local q=$1 n=$2 out="$LOG/fabtwin-q$1-c$2.json" cpu="$LOG/cpu-fabtwin.txt"
  local topic='fabtwin/#'; [ "$CODEC" = sparkplug ] && topic='spBv1.0/+/DDATA/#'
  sub_start "$q" "$MSGS" "$topic"; : >"$cpu"
  timeout -s KILL "$CAP_SECS" /usr/bin/time -f '%U %S' -o "$cpu" "$FABTWIN" -q load \
    --broker "mqtt://$HOST:$PORT" --template "$ROOT/bench/telemetry-200b.ron" --devices "$n" \
    --rate $((MSGS * 10)) --duration 100ms --drain 20s --qos "$q" --inflight 1000 \
    --codec "$CODEC" --client-prefix "bench$$" --out "$out" >"$LOG/fabtwin-q$q-c$n.log" 2>&1
  sub_stop
  local sent secs; sent=$(jq .publish.sent "$out" 2>/dev/null || echo 0); secs=$(jq .publish.elapsed_s "$out" 2>/dev/null || echo 0)
  emit "fabtwin-$CODEC" "$q" "$n" "$sent" "$secs" "$(cpu_of "$cpu")"
}
run_mqtt_benchmark() { # qos conns
  local q=$1 n=$2 per=$((MSGS / $2)) out="$LOG/mqtt-benchmark-q$1-c$2.log" cpu="$LOG/cpu-mb.txt"
  command -v mqtt-benchmark >/dev/null || { echo "# mqtt-benchmark not installed"; return; }
  sub_start "$q" $((per * n)) 'bench/#'; : >"$cpu"
  timeout -s KILL "$CAP_SECS" /usr/bin/time -f '%U %S' -o "$cpu" mqtt-benchmark -b "$HOST:$PORT" -q "$q" -C "$n" -s "$per" -P "$PAYLOAD" -t bench/mqttbench -c mb$$ >"$out" 2>&1
  sub_stop
  local line tot dur; line=$(grep -E 'client, total:' "$out" | tail -1)
  tot=$(sed -E 's/.*total: ([0-9]+).*/\1/' <<<"$line"); dur=$(sed -E 's/.*duration: ([0-9.]+).*/\1/' <<<"$line")
  emit mqtt-benchmark "$q" "$n" "${tot:-0}" "${dur:-0}" "$(cpu_of "$cpu")"
}
run_mosquitto_pub() { # qos conns: n processes of --repeat (busy-polling: capped at 20000 messages for n > 1)
  local q=$1 n=$2 total=$MSGS cpu="$LOG/cpu-mp.txt" i pids=()
  [ "$n" -gt 1 ] && [ "$total" -gt 20000 ] && total=20000
  local per=$((total / n))
  sub_start "$q" $((per * n)) 'bench/#'; : >"$cpu"
  local t0; t0=$(date +%s.%N)
  for i in $(seq "$n"); do
    timeout -s KILL "$CAP_SECS" /usr/bin/time -f '%U %S' -a -o "$cpu" mosquitto_pub -h $HOST -p "$PORT" -q "$q" -t "bench/mp/$i" -i "mp$$-$i" -m "$PAYLOAD" --repeat "$per" >/dev/null 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  local t1; t1=$(date +%s.%N); sub_stop
  emit mosquitto_pub "$q" "$n" $((per * n)) "$(echo "$t1 - $t0" | bc)" "$(cpu_of "$cpu")"
}

# ------------------------------------------------------------------ run
: >"$LOG/results.txt"
echo "# mosquitto $(mosquitto -h 2>&1 | head -1 | awk '{print $3}') on $HOST:$PORT, codec=$CODEC, msgs=$MSGS, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for q in $QOS_LIST; do
  for n in $CONNS_LIST; do
    for g in $PEERS; do
      case "$g" in
        fabtwin) run_fabtwin "$q" "$n" ;;
        mqtt-benchmark) run_mqtt_benchmark "$q" "$n" ;;
        mosquitto_pub) run_mosquitto_pub "$q" "$n" ;;
        *) echo "# unknown generator $g" ;;
      esac
      sleep 1
    done
  done
done
echo "# fabtwin messages per generator CPU-second / best peer's:"
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       k = "qos=" v["qos"] " conns=" v["conns"]
       if (v["gen"] ~ /^fabtwin/) f[k] = v["msgs_per_cpu_s"]
       else if (v["msgs_per_cpu_s"] > best[k]) { best[k] = v["msgs_per_cpu_s"]; who[k] = v["gen"] } }
     END { for (k in f) printf "#   %s: fabtwin %d vs %s %d = %.2fx\n", k, f[k], who[k], best[k], (best[k] > 0) ? f[k] / best[k] : 0 }' "$LOG/results.txt" | sort
