#!/usr/bin/env bash
# Measures several Gatehouse nodes on one PostgreSQL behind gatehouse-load's
# round-robin proxy against one node behind the same proxy: throughput of
# each grant, and where the CPU went (the nodes, the database backends, the
# proxy and the load together), which says where the limit is. Every node
# runs with GOMAXPROCS=1 and nothing is pinned: the nodes, PostgreSQL, the
# proxy and the load share the machine's cores. The report goes to stdout
# and to test-output/nodes-<date>.md.
#
# Environment (all optional): NODES_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/gatehouse_nodes?sslmode=disable, dropped
# and created again), NODES (default 3), NODES_PORT (default 18281),
# NODES_DURATION per grant (default 5s), NODES_CLIENTS (default 16),
# NODES_GRANTS (default client_credentials,refresh_token,userinfo).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

pg_url="${NODES_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/gatehouse_nodes?sslmode=disable}"
nodes="${NODES:-3}"
port="${NODES_PORT:-18281}"
duration="${NODES_DURATION:-5s}"
clients="${NODES_CLIENTS:-16}"
grants="${NODES_GRANTS:-client_credentials,refresh_token,userinfo}"
proxy_port=$((port + 2 * nodes))
url_base="${pg_url%%\?*}"
query="${pg_url#"$url_base"}"
dbname="${url_base##*/}"
admin_url="${url_base%/*}/postgres${query}"
[[ "$dbname" =~ ^[A-Za-z0-9_]+$ ]] || { echo "nodes: database name $dbname is not a plain identifier" >&2; exit 2; }

mkdir -p test-output
out="test-output/nodes-$(date +%Y%m%d-%H%M%S).md"
work="$(mktemp -d)"
pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT
report() { tee -a "$out"; }
say() { printf '%s\n' "$*" | report; }
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
all_ticks() { awk '/^cpu / { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }
db_backends() { psql "$admin_url" -X -q -tAc "SELECT pid FROM pg_stat_activity WHERE datname = '$dbname' AND pid <> pg_backend_pid()"; }

CGO_ENABLED=0 go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load
psql "$admin_url" -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$dbname\" WITH (FORCE)" -c "CREATE DATABASE \"$dbname\"" >&2
dbflags=(--db postgres --db-url "$pg_url")
"$work/gatehouse" import --file internal/rep/testdata/ldap-demo-realm.json "${dbflags[@]}" --log-level error

say "# Gatehouse nodes on one PostgreSQL, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say ""
say "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores, shared with other work; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "- each node: \`env GOMAXPROCS=1 gatehouse start-dev --rate-limit false --log-level warn\`; proxy: \`gatehouse-load -proxy\`; load: \`gatehouse-load -c $clients -d $duration\` through the proxy"
say ""
say "| nodes | grant | req/s | p99 ms | CPU share: nodes | database | proxy + load | machine busy |"
say "|---:|---|---:|---:|---:|---:|---:|---:|"

# run n measures n nodes.
run() {
  local n="$1" backends=() i
  for ((i = 0; i < n; i++)); do
    local p=$((port + 2 * i))
    env GOMAXPROCS=1 "$work/gatehouse" start-dev --http-port "$p" --http-management-port "$((p + 1))" --rate-limit false \
      --log-level warn "${dbflags[@]}" --data-dir "$work/data-$i" 2>"$work/node-$i.log" &
    pids+=($!)
    backends+=("http://127.0.0.1:$p")
  done
  local node_pids=("${pids[@]}")
  for b in "${backends[@]}"; do
    for _ in $(seq 1 150); do curl -fsS -o /dev/null "$b/health/ready" 2>/dev/null && break; sleep 0.2; done
  done
  "$work/gatehouse-load" -proxy "127.0.0.1:$proxy_port" -backends "$(IFS=,; echo "${backends[*]}")" 2>"$work/proxy.log" &
  local proxy_pid=$!
  pids+=("$proxy_pid")
  sleep 0.5
  local g
  for g in ${grants//,/ }; do
    local -a dbp=() m0 m1
    mapfile -t dbp < <(db_backends)
    local -A t0=()
    local p node0=0 proxy0
    for p in "${dbp[@]}"; do t0[$p]="$(proc_ticks "$p")"; done
    for p in "${node_pids[@]}"; do node0=$((node0 + $(proc_ticks "$p"))); done
    proxy0="$(proc_ticks "$proxy_pid")"
    read -r -a m0 < <(all_ticks)
    local load_ticks
    "$work/gatehouse-load" -url "http://127.0.0.1:$proxy_port" -realm ldap-demo -client ldap-app -secret password \
      -user user1 -password password -c "$clients" -d "$duration" -grants "$g" >"$work/load.txt" 2>/dev/null &
    local lp=$!
    local last=0
    while kill -0 "$lp" 2>/dev/null; do last="$(proc_ticks "$lp")"; sleep 0.2; done
    wait "$lp" || true
    load_ticks="$last"
    read -r -a m1 < <(all_ticks)
    local node1=0 db=0 proxy1
    for p in "${node_pids[@]}"; do node1=$((node1 + $(proc_ticks "$p"))); done
    proxy1="$(proc_ticks "$proxy_pid")"
    local -A seen=()
    for p in $(db_backends) "${dbp[@]}"; do
      [ -n "${seen[$p]:-}" ] && continue
      seen[$p]=1
      local now_t
      now_t="$(proc_ticks "$p")"
      ((now_t >= ${t0[$p]:-0})) || continue
      db=$((db + now_t - ${t0[$p]:-0}))
    done
    local total=$((m1[1] - m0[1])) busy=$((m1[0] - m0[0]))
    ((total > 0)) || total=1
    local row rate p99
    row="$(awk -F'|' -v OFS='|' -v g="$g" '{ gsub(/ /, "", $2); gsub(/ /, "", $3) } $2 == g && $3 == "max" { print; exit }' "$work/load.txt")"
    rate="$(awk -F'|' '{ gsub(/ /, "", $6); print $6 }' <<<"$row")"
    p99="$(awk -F'|' '{ gsub(/ /, "", $9); print $9 }' <<<"$row")"
    say "| $n | $g | $rate | $p99 | $((100 * (node1 - node0) / total))% | $((100 * db / total))% | $((100 * (proxy1 - proxy0 + load_ticks) / total))% | $((100 * busy / total))% |"
  done
  stop_all
}

run 1
run "$nodes"
say ""
say "CPU shares are of the whole machine ($(nproc) cores = 100%) during each grant's run; \"machine busy\" includes other processes."
echo "nodes: report written to $out" >&2
