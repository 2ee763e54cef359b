#!/usr/bin/env bash
# Measures the token service as issue 3 asks: the server pinned to core 0 with
# GOMAXPROCS=1, gatehouse-load on core 1 with 16 clients, on SQLite and on
# PostgreSQL, beside the cost of one RS256 signature measured in the same run.
# The report goes to stdout and to test-output/bench-<date>.md.
#
# Environment (all optional):
#   BENCH_DBS            databases to run, default "sqlite postgres"
#   BENCH_POSTGRES_URL   default postgres://postgres@127.0.0.1:5432/gatehouse_bench?sslmode=disable;
#                        that database is dropped and created again for a clean run
#   BENCH_DURATION       per grant, default 10s
#   BENCH_CLIENTS        default 16
#   BENCH_GRANTS         default client_credentials,password,refresh_token,userinfo,introspection
#   BENCH_PORT           default 18081 (and the next port for the management interface, where there is one)
#   BENCH_LOG_LEVEL      the server's --log-level, default info
#   BENCH_ACCESS_LOG     the server's --http-access-log-enabled, default false (the server's default)
#   BENCH_RATE_LIMIT     the server's --rate-limit, default false (measure the server, not its
#                        limiter); "default" leaves the server's own default (failures only)
#   BENCH_PACED          gatehouse-load -paced: after each saturating run, an open-loop run at this
#                        fraction of the throughput found, for latency below saturation; default 0.5, 0 skips
#   BENCH_SIGNATURE_ALG  the realm's defaultSignatureAlgorithm, default RS256 (ES256, EdDSA, PS256, …);
#                        the realm makes its key for it on the first token
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PATH:/usr/local/go/bin"
dbs="${BENCH_DBS:-sqlite postgres}"
pg_url="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/gatehouse_bench?sslmode=disable}"
duration="${BENCH_DURATION:-10s}"
clients="${BENCH_CLIENTS:-16}"
grants="${BENCH_GRANTS:-client_credentials,password,refresh_token,userinfo,introspection}"
port="${BENCH_PORT:-18081}"
log_level="${BENCH_LOG_LEVEL:-info}"
access_log="${BENCH_ACCESS_LOG:-false}"
paced="${BENCH_PACED:-0.5}"
rate_limit="${BENCH_RATE_LIMIT:-false}"
realm_file=internal/rep/testdata/ldap-demo-realm.json
sig_alg="${BENCH_SIGNATURE_ALG:-RS256}"
base="http://127.0.0.1:${port}"

command -v taskset >/dev/null || { echo "bench: taskset (util-linux) is required" >&2; exit 1; }
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs two CPUs (server on 0, load on 1); this machine has $(nproc)" >&2
  exit 1
fi

mkdir -p test-output
out="test-output/bench-$(date +%Y%m%d-%H%M%S).md"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$sig_alg" != RS256 ]; then
  jq --arg alg "$sig_alg" '.defaultSignatureAlgorithm = $alg' "$realm_file" >"$work/realm.json"
  realm_file="$work/realm.json"
fi

# cpu_ticks prints the busy and total clock ticks of one CPU (from /proc/stat).
cpu_ticks() { awk -v c="cpu$1" '$1 == c { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }
# proc_ticks prints the user+system clock ticks of a process.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# report prints to stdout and appends to the report file.
report() { tee -a "$out"; }
say() { printf '%s\n' "$*" | report; }

say "# Gatehouse benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say ""
say "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
say "- $(go version)"
say "- cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; kernel $(uname -r)"
say "- server: \`taskset -c 0 env GOMAXPROCS=1 gatehouse start-dev\` (built with CGO_ENABLED=0), fresh database per run"
say "- load: \`taskset -c 1 gatehouse-load -c $clients -d $duration -paced $paced\` against realm ldap-demo (client ldap-app, user user1, scope openid), tokens signed $sig_alg"
say "- targets per core: client_credentials ≥ 800/s, refresh_token (openid: two RS256) ≥ 400/s, password ≥ 38/s, userinfo ≥ 8000/s; p99 < 20 ms"
say ""

echo "bench: building" >&2
CGO_ENABLED=0 go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load
# Every request comes from 127.0.0.1 and logs in as user1. The default
# limits count only failures, which these runs do not make; older servers
# limited every request, so by default the limiter is off to measure the
# server's work. BENCH_RATE_LIMIT=default measures what a default start gives.
server_flags=(--http-port "$port" --log-level "$log_level")
help="$("$work/gatehouse" start-dev --help 2>/dev/null || true)"
if grep -q -- '--rate-limit ' <<<"$help" && [ "$rate_limit" != default ]; then
  server_flags+=(--rate-limit "$rate_limit")
fi
if grep -q -- '--http-access-log-enabled ' <<<"$help"; then
  server_flags+=(--http-access-log-enabled "$access_log")
fi
# Not the default 9000, which another server on this machine may hold.
if grep -q -- '--http-management-port ' <<<"$help"; then
  server_flags+=(--http-management-port "$((port + 1))")
fi
say "- server flags: \`${server_flags[*]}\`"
say ""

say "## What one core pays for the crypto (core 0)"
say ""
say "RS256 is what client_credentials (one signature) and refresh_token with openid (two) cannot go under;"
say "the argon2id verification is the same floor for password."
say ""
say '```'
say "\$ taskset -c 0 go test -run XXX -bench 'Sign|Verify' -benchtime 2s ./internal/token/"
taskset -c 0 go test -run XXX -bench 'Sign|Verify' -benchtime 2s ./internal/token/ 2>&1 | grep -E '^(Benchmark|cpu:|ok|FAIL|PASS)' | report
say "\$ taskset -c 0 go test -run XXX -bench 'PasswordHash' -benchtime 2s ./internal/oidc/"
taskset -c 0 go test -run XXX -bench 'PasswordHash' -benchtime 2s ./internal/oidc/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)' | report
say '```'
say ""

# run_db runs one database: fresh data, import, server on core 0, load on core 1.
run_db() {
  local db="$1" dbflags=()
  case "$db" in
    sqlite)
      dbflags=(--data-dir "$work/data-sqlite")
      ;;
    postgres)
      local url_base="${pg_url%%\?*}"
      local query="${pg_url#"$url_base"}"
      local name="${url_base##*/}"
      local admin_url="${url_base%/*}/postgres${query}"
      if ! [[ "$name" =~ ^[A-Za-z0-9_]+$ ]]; then
        say "postgres: skipped, database name \"$name\" in BENCH_POSTGRES_URL is not a plain identifier"
        return 0
      fi
      if ! psql "$admin_url" -X -q -tAc 'SELECT 1' >/dev/null 2>&1; then
        say "postgres: **skipped**, not reachable at $admin_url"
        return 0
      fi
      psql "$admin_url" -X -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\"" >&2 || return 1
      dbflags=(--db postgres --db-url "$pg_url" --data-dir "$work/data-postgres")
      ;;
    *)
      echo "bench: unknown database $db" >&2
      return 1
      ;;
  esac

  if curl -fsS -o /dev/null "$base/health/ready" 2>/dev/null; then
    echo "bench: something already answers on $base; set BENCH_PORT" >&2
    return 1
  fi
  echo "bench: $db: importing $realm_file" >&2
  "$work/gatehouse" import --file "$realm_file" "${dbflags[@]}" --log-level warn || return 1

  echo "bench: $db: starting the server on core 0" >&2
  taskset -c 0 env GOMAXPROCS=1 "$work/gatehouse" start-dev "${server_flags[@]}" "${dbflags[@]}" \
    2>"$work/server-$db.log" &
  server_pid=$! # taskset and env exec, so this is the server's own pid
  local ready=""
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$base/health/ready" 2>/dev/null; then ready=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  if [ -z "$ready" ]; then
    echo "bench: $db: the server did not become ready; its log:" >&2
    tail -n 20 "$work/server-$db.log" >&2
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
    return 1
  fi
  local rss_idle
  rss_idle="$(ps -o rss= -p "$server_pid" | tr -d ' ')" || return 1

  say "## $db"
  say ""
  local load_cmd=(taskset -c 1 "$work/gatehouse-load" -url "$base" -realm ldap-demo -client ldap-app -secret password
    -user user1 -password password -c "$clients" -d "$duration" -grants "$grants" -paced "$paced" -server-pid "$server_pid")
  say "\$ taskset -c 1 gatehouse-load ${load_cmd[*]:4}"
  say ""
  local c0_before c1_before srv_before
  read -r -a c0_before < <(cpu_ticks 0)
  read -r -a c1_before < <(cpu_ticks 1)
  srv_before="$(proc_ticks "$server_pid")"
  local load_rc=0
  "${load_cmd[@]}" | report || load_rc=$?
  local c0_after c1_after srv_after
  read -r -a c0_after < <(cpu_ticks 0)
  read -r -a c1_after < <(cpu_ticks 1)

  local rss=0 cpu=gone rc=0 stop="exit status %s after SIGTERM"
  if kill -0 "$server_pid" 2>/dev/null; then
    srv_after="$(proc_ticks "$server_pid")"
    rss="$(ps -o rss= -p "$server_pid" | tr -d ' ')"
    cpu="$(ps -o cputime= -p "$server_pid" | tr -d ' ')"
    kill -TERM "$server_pid"
  else
    srv_after="$srv_before"
    stop="**exited by itself during the load**, exit status %s"
  fi
  wait "$server_pid" || rc=$?
  server_pid=""
  say ""
  # Anything the server said besides the request lines: warnings, errors, a panic.
  if grep -v 'msg=request' "$work/server-$db.log" | grep -qvE 'level=INFO'; then
    say "server log, without request and INFO lines (last 30):"
    say ""
    say '```'
    grep -v 'msg=request' "$work/server-$db.log" | grep -vE 'level=INFO' | tail -n 30 | cut -c1-400 | report
    say '```'
    say ""
  fi
  # The machine may be shared: say how much of core 0 went to anything but
  # the server (other processes, interrupts), and how busy core 1 was.
  local total0=$((c0_after[1] - c0_before[1])) busy0=$((c0_after[0] - c0_before[0])) srv=$((srv_after - srv_before))
  local total1=$((c1_after[1] - c1_before[1])) busy1=$((c1_after[0] - c1_before[0]))
  ((total0 > 0)) || total0=1
  ((total1 > 0)) || total1=1
  # shellcheck disable=SC2059 # $stop is this function's own format
  say "server: RSS $((rss_idle / 1024)) MiB when ready, $((rss / 1024)) MiB after the load; CPU time $cpu; $(printf "$stop" "$rc"); $(grep -c 'msg=request' "$work/server-$db.log" || true) request log lines"
  say "cpu during the load: core 0 $((100 * busy0 / total0))% busy, of which the server $((100 * srv / total0))% and everything else $((100 * (busy0 - srv) / total0))%; core 1 (load) $((100 * busy1 / total1))% busy"
  say ""
  return "$load_rc"
}

# run_db runs outside set -e (it is called in an || list), so it returns on
# its own errors; one database failing still lets the other run.
status=0
for db in $dbs; do
  run_db "$db" || { status=1; say "$db: **failed**, see above"; say ""; }
done
echo "bench: report written to $out" >&2
exit "$status"
