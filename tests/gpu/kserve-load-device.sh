#!/usr/bin/env bash
# On the GPU machine (16 cores, no .NET), from the repository root (see kserve-load-prepare.sh):
#   bash kserve-load-device.sh <dir>
# The served Digits sample (KServe v2, ONNX Runtime CPU, STREAMS slots) pinned to cores 0-7, load generators pinned to
# 8-15; LOAD_SECONDS (30) at 64 connections each: hey (REST, JSON tensors), the typed client over gRPC and over REST
# (binary tensors), without and with dynamic batching (--batching 32, 100 us delay); then the in-process runner at 64
# concurrency pinned to 0-7 (without and with batching) as the reference. Prints one markdown table (also
# $OUT/kserve-load.md) with req/s, p50, p99, errors, server RSS before/after, CPU (cores) of server and generator, and
# the ratio to in-process with the same batching. ROWS selects rows (default all):
#   hey-off grpc-off rest-off grpc8-off hey-on grpc-on rest-on inproc-off inproc-on   (grpc8 = 8 gRPC channels)
set -uo pipefail
dir="${1:-.gpu/kserve}"
OUT="${OUT:-/tmp/kserve-out}"; mkdir -p "$OUT"
S="${LOAD_SECONDS:-30}"; C=64; STREAMS="${STREAMS:-8}"
ROWS="${ROWS:-hey-off grpc-off rest-off grpc8-off hey-on grpc-on rest-on inproc-off inproc-on}"
SRV="${SRV_CPUS:-0-7}"; GEN="${GEN_CPUS:-8-15}"
work=/tmp/typedtrt-kserve; rm -rf "$work"; mkdir -p "$work"
tar -C "$work" -xJf "$dir/app.tar.xz"
cp "$dir/hey" "$work/hey"; chmod +x "$work/hey"
app="$work/app"; hey="$work/hey"; tck=$(getconf CLK_TCK)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_gcServer=1
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(ldd --version | head -1)"
  echo "commit: $(cat "$dir/commit.txt" 2>/dev/null), date: $(date -u +%Y-%m-%dT%H:%MZ), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "hey: $("$hey" 2>&1 | head -1 | cut -c1-60) (ldd: $(ldd "$hey" 2>&1 | tr -s ' \n' ' ' | cut -c1-120))"
} | tee "$OUT/machine.txt"
has() { [[ " $ROWS " == *" $1 "* ]]; }
rss() { awk '/VmRSS/ {printf "%d", $2/1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU seconds of waited-for children (the generator just run), from bash's `times` (second line), written to a file
# because a command substitution would run it in a fresh subshell with no children.
kids() { tail -1 "$1" | awk '{ split($1, u, "m"); split($2, s, "m"); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }'; }
table="$OUT/kserve-load.md"
echo "| generator | transport | batching | req/s | p50 µs | p99 µs | errors | requests | server RSS MiB before → after | server CPU (cores) | generator CPU (cores) |" > "$table"
echo "|---|---|---|---|---|---|---|---|---|---|---|" >> "$table"
spid=""
start_server() { # $1 = batching rows (0 = off)
  taskset -c "$SRV" "$app/digits-server" --streams "$STREAMS" --batching "$1" > "$OUT/server-$1.log" 2>&1 &
  spid=$!
  for _ in $(seq 100); do grep -q "^digits-server:" "$OUT/server-$1.log" && break; sleep 0.1; done
  cat "$OUT/server-$1.log"
  # warm-up: JIT and connection paths of each transport, then let the server settle
  taskset -c "$GEN" "$hey" -z 1s -c 16 -m POST -T application/json -D "$dir/digits1.json" http://127.0.0.1:8000/v2/models/digits/infer > /dev/null
}
stop_server() { [ -n "$spid" ] && kill "$spid" && wait "$spid" 2>/dev/null; spid=""; }
row() { # $1 name, $2 transport, $3 batching label, $4 req/s, $5 p50, $6 p99, $7 errors, $8 requests, $9 rss, $10 server cores, $11 gen cores
  echo "| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 | ${10} | ${11} |" | tee -a "$table"
}
measure() { # $1 tag, $2 batching label, $3.. command (foreground); sets out
  local r0 c0 k0 r1 c1 k1; r0=$(rss "$spid"); c0=$(cpu "$spid"); times > "$work/t0"
  "${@:3}" > "$OUT/$1.txt" 2>&1
  times > "$work/t1"; r1=$(rss "$spid"); c1=$(cpu "$spid"); k0=$(kids "$work/t0"); k1=$(kids "$work/t1")
  mem="$r0 → $r1"; scores=$(awk -v a="$c0" -v b="$c1" -v t="$tck" -v s="$S" 'BEGIN { printf "%.1f", (b - a) / t / s }')
  gcores=$(awk -v a="$k0" -v b="$k1" -v s="$S" 'BEGIN { printf "%.1f", (b - a) / s }')
}
hey_row() { # $1 tag, $2 batching label
  measure "$1" "$2" taskset -c "$GEN" "$hey" -z "${S}s" -c "$C" -m POST -T application/json -D "$dir/digits1.json" http://127.0.0.1:8000/v2/models/digits/infer
  local f="$OUT/$1.txt"
  local rps p50 p99 ok bad errs
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$f")
  p50=$(awk '/ 50% in/ {printf "%.0f", $3 * 1e6}' "$f"); p99=$(awk '/ 99% in/ {printf "%.0f", $3 * 1e6}' "$f")
  ok=$(awk '/\[200\].*responses/ {print $2}' "$f"); ok=${ok:-0}
  bad=$(awk '/responses$/ && !/\[200\]/ {n += $2} END {print n + 0}' "$f")
  errs=$(awk '/Error distribution/ {e = 1; next} e && /^ *\[[0-9]+\]/ {gsub(/[\[\]]/, "", $1); n += $1} END {print n + 0}' "$f")
  # hey keeps the first 1,000,000 results for its percentiles and status counts; Requests/sec counts every request.
  local total; total=$(awk '/Total:/ {print $2}' "$f")
  total=$(awk -v r="$rps" -v t="$total" 'BEGIN { printf "%.0f", r * t }')
  row "hey 0.1.4" "REST, JSON tensors" "$2" "$rps" "$p50" "$p99" "$((bad + errs))" "$total (status of the first $((ok + bad + errs)))" "$mem" "$scores" "$gcores"
}
typed_row() { # $1 tag, $2 batching label, $3 transport label, $4.. load args
  measure "$1" "$2" taskset -c "$GEN" "$app/digits-server" load "${@:4}" --connections "$C" --seconds "$S" --server-pid "$spid"
  local f="$OUT/$1.txt" line
  line=$(grep -E '^\| (grpc|rest|inproc) ' "$f" | tail -1)
  if [ -z "$line" ]; then echo "$1 failed:"; tail -5 "$f"; return; fi
  IFS='|' read -r _ _ _ _ rps p50 p99 errs n _ <<< "$line"
  row "typed client" "$3" "$2" $rps $p50 $p99 $errs $n "$mem" "$scores" "$gcores"
}
for b in 0 32; do
  lab=$([ "$b" = 0 ] && echo off || echo on)
  has "hey-$lab" || has "grpc-$lab" || has "rest-$lab" || has "grpc8-$lab" || continue
  start_server "$b"
  has "hey-$lab" && hey_row "hey-$lab" "$lab"
  has "grpc-$lab" && typed_row "grpc-$lab" "$lab" "gRPC (1 channel)" grpc
  has "grpc8-$lab" && typed_row "grpc8-$lab" "$lab" "gRPC (8 channels)" grpc --channels 8
  has "rest-$lab" && typed_row "rest-$lab" "$lab" "REST, binary tensors" rest
  stop_server
done
for b in 0 32; do
  lab=$([ "$b" = 0 ] && echo off || echo on)
  has "inproc-$lab" || continue
  spid=$$ # no server: RSS/CPU columns show this shell; the generator column is the in-process runner
  measure "inproc-$lab" "$lab" taskset -c "$SRV" "$app/digits-server" load inproc --connections "$C" --seconds "$S" --streams "$STREAMS" --batching "$b"
  f="$OUT/inproc-$lab.txt"; line=$(grep -E '^\| inproc ' "$f" | tail -1)
  IFS='|' read -r _ _ _ _ rps p50 p99 errs n mem2 _ <<< "$line"
  echo "| in-process runner | none | $lab | $(echo $rps) | $(echo $p50) | $(echo $p99) | $(echo $errs) | $(echo $n) | $(echo $mem2) | — | $gcores (on $SRV) |" | tee -a "$table"
done
echo
echo "ratios to the in-process runner with the same batching:"
awk -F'|' 'NR > 2 { gsub(/ /, "", $4); gsub(/ /, "", $5); if ($2 ~ /in-process/) ref[$4] = $5; else { name[NR] = $2 "/" $3 "/" $4; b[NR] = $4; v[NR] = $5 } }
  END { for (i in name) if (ref[b[i]] > 0) printf "  %s: %.2fx\n", name[i], v[i] / ref[b[i]] }' "$table" | sort | tee "$OUT/ratios.txt"
