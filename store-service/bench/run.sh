#!/usr/bin/env bash
# Throughput, tail latency and peak memory of the store-service with
# telemetry fully on (100% sampling, OTLP traces and logs to a real
# collector, info logs) and fully off (no sampling, no export, error logs
# only), on SQLite and on PostgreSQL, in one run on this machine. Writes the
# Markdown section to $BENCH_OUT (default target/bench/store-service.md;
# `make bench` assembles docs/benchmarks.md). Not a test: figures, not assertions.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/store-service}
OTELCOL_BIN=${OTELCOL_BIN:?set OTELCOL_BIN (make bench does)}
DURATION=${BENCH_DURATION:-15s}
CONCURRENCY=${BENCH_CONCURRENCY:-16}
TOKEN=bench-admin-token-0123456789
OUT=${BENCH_OUT:-target/bench/store-service.md}
DATABASES=${BENCH_DATABASES:-sqlite postgres}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done; echo "timeout: $1" >&2; exit 1; }

grpc=$(free_port); http=$(free_port)
cat >"$work/otelcol.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$grpc"}
      http: {endpoint: "127.0.0.1:$http"}
processors:
  batch: {}
exporters:
  # Receives and decodes everything, stores nothing: the collector shares the
  # two cores with the service, and its disk writes are not what we measure.
  debug: {verbosity: basic}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
    logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
YAML
# The server gets core 0 to itself; the load generator and the collector share
# core 1. So the figures measure the service's own cost of telemetry, not the
# collector's (which runs on other machines in a cluster).
SERVER_CPU=${BENCH_SERVER_CPU:-0}; OTHERS_CPU=${BENCH_OTHERS_CPU:-1}
taskset -c "$OTHERS_CPU" "$OTELCOL_BIN" --config="$work/otelcol.yaml" >"$work/otelcol.log" 2>&1 & pids+=($!)
for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$grpc) 2>/dev/null && break; sleep 0.05; done

# A throwaway PostgreSQL server (Debian's, `make deps`) on core 1 with the
# others; as root, it runs as the postgres user.
pg_port=""
if [[ " $DATABASES " == *" postgres "* ]]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -x $pg_bin/initdb ]] || { echo "bench: PostgreSQL is missing: make deps (apt-get install postgresql)" >&2; exit 1; }
  as_pg=(); [[ $(id -u) == 0 ]] && as_pg=(runuser -u postgres --)
  mkdir -p "$work/pg" && chmod 755 "$work" && { [[ $(id -u) != 0 ]] || chown postgres "$work/pg"; }
  "${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 >/dev/null
  pg_port=$(free_port)
  "${as_pg[@]}" taskset -c "$OTHERS_CPU" "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -t 30 start \
    -o "-h 127.0.0.1 -p $pg_port -k $work/pg -c fsync=on -c max_connections=100" >/dev/null
  pg_stop() { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null 2>&1 || true; }
  trap 'pg_stop; cleanup' EXIT
fi

cat >"$work/catalog.yaml" <<YAML
- {name: apple, category: fruit, price: 0.5, stock: 100000000}
- {name: pear, category: fruit, price: 0.75, stock: 100000000}
- {name: laptop, category: electronics, price: 999.99, stock: 100000000}
YAML

# run DB MODE SCENARIO ROUND -> JSON summary on stdout, with the server's peak RSS
run() {
  local database=$1 mode=$2 scenario=$3 round=$4 port url
  port=$(free_port)
  if [[ $database == postgres ]]; then
    "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE b_${mode}_${scenario}_$round" >/dev/null
    url="postgres://postgres@127.0.0.1:$pg_port/b_${mode}_${scenario}_$round"
  else
    url="sqlite://$work/$mode-$scenario-$round.db"
  fi
  local env=(STORE_ID=bench PORT=$port LISTEN_ADDRESS=127.0.0.1 DATABASE_URL="$url"
             CATALOG_FILE="$work/catalog.yaml" ADMIN_TOKEN=$TOKEN)
  if [[ $mode == on ]]; then
    env+=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$grpc" OTEL_EXPORTER_OTLP_PROTOCOL=grpc
          OTEL_TRACES_SAMPLER=always_on LOG_LEVEL=info)
  else
    env+=(OTEL_TRACES_SAMPLER=always_off LOG_LEVEL=error)
  fi
  env "${env[@]}" taskset -c "$SERVER_CPU" "$BIN" serve >"$work/$mode-$scenario.log" 2>&1 & local pid=$!
  pids+=($pid)
  wait_http "http://127.0.0.1:$port/readyz"
  taskset -c "$OTHERS_CPU" "$BIN" loadgen --target "http://127.0.0.1:$port" --rate 0 --concurrency "$CONCURRENCY" \
    --duration "$DURATION" --weights "$scenario=1" --json >"$work/summary.json"
  # VmHWM: the peak resident set of the server process, as a pod's memory would see it.
  local hwm; hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  kill -TERM $pid; wait $pid 2>/dev/null || true
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['peak_rss_kib']=int(sys.argv[2]); print(json.dumps(d))" "$work/summary.json" "$hwm"
}

# Rounds alternate off and on so that drift on a shared machine hits both;
# the report takes each cell's median round.
results="$work/results.jsonl"
for round in $(seq "${BENCH_ROUNDS:-3}"); do
  for database in $DATABASES; do
    for scenario in ${BENCH_SCENARIOS:-browse buy}; do
      for mode in off on; do
        echo "bench: round $round, $database, $scenario with telemetry $mode for $DURATION" >&2
        run $database $mode $scenario $round | python3 -c "import json,sys; d=json.load(sys.stdin); d['db']='$database'; d['mode']='$mode'; d['scenario']='$scenario'; d['round']=$round; print(json.dumps(d))" >>"$results"
      done
    done
  done
done
spans=$(grep -c 'Traces' "$work/otelcol.log" || true)

mkdir -p "$(dirname "$OUT")"
python3 - "$results" "$DURATION" "$CONCURRENCY" "$spans" >"$OUT" <<'PY'
import json, sys, datetime, os, platform
rows = [json.loads(l) for l in open(sys.argv[1])]
duration, concurrency, batches = sys.argv[2], sys.argv[3], sys.argv[4]
cells = {}
for r in rows:
    cells.setdefault((r["db"], r["scenario"], r["mode"]), []).append(r)
# The median round by throughput stands for the cell.
by = {k: sorted(v, key=lambda r: r["rps"])[len(v) // 2] for k, v in cells.items()}
rounds = max(len(v) for v in cells.values())
label = {"browse": "GET /products", "buy": "POST /products/{name}/buy"}
dbs = [d for d in ("sqlite", "postgres") if any(k[0] == d for k in by)]
out = ["## store-service: SQLite and PostgreSQL, telemetry on and off", "",
       "Generated by `make bench` (store-service/bench/run.sh).", "",
       f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, {platform.machine()}",
       f"- Release build; the server alone on core 0; the load generator, the collector and PostgreSQL on core 1; {concurrency} connections, no rate limit, {duration} per cell, {rounds} alternating rounds, median round shown. SQLite: WAL, synchronous=FULL; PostgreSQL: Debian's, fsync on, on loopback.",
       "- Telemetry on: 100% sampling, OTLP/gRPC traces and logs to a real OpenTelemetry Collector (debug exporter: decodes, stores nothing), info logs on stdout.",
       "- Telemetry off: sampler always_off, no OTLP endpoint, error logs only. Prometheus metrics are always on.",
       "- peak RSS: the server process's VmHWM over the cell, what one store pod's container needs (the Store default limit is 256Mi).",
       f"- The collector logged {batches} received trace batches.", "",
       "| database | route | telemetry | requests | req/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MiB |",
       "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
scenarios = [s for s in ("browse", "buy") if any(k[1] == s for k in by)]
for d in dbs:
    for s in scenarios:
        for m in ("off", "on"):
            r = by[(d, s, m)]
            errs = r["transport_errors"] + sum(v for k, v in r["statuses"].items() if int(k) >= 500)
            out.append(f"| {d} | {label[s]} | {m} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} | {errs} | {r['peak_rss_kib'] / 1024:.1f} |")
# Each round pairs an off and an on run back to back; the median of the
# paired ratios cancels the drift of a shared machine best.
out += ["", "| database | route | on/off throughput per round | median | target |", "|---|---|---|---:|---|"]
for d in dbs:
    for s in scenarios:
        off = {r["round"]: r["rps"] for r in cells[(d, s, "off")]}
        ratios = sorted(r["rps"] / off[r["round"]] for r in cells[(d, s, "on")])
        ratio = ratios[len(ratios) // 2]
        listed = ", ".join(f"{x:.0%}" for x in ratios)
        out.append(f"| {d} | {label[s]} | {listed} | {ratio:.1%} | >= 85% {'met' if ratio >= 0.85 else 'NOT met'} |")
peak = max(r["peak_rss_kib"] for r in rows) / 1024
out += ["", f"Memory per store pod: at most {peak:.1f} MiB resident in any cell (the highest VmHWM seen)."]
print("\n".join(out))
PY
cat "$OUT"
