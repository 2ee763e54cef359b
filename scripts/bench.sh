#!/usr/bin/env bash
# Measures the token service: the server pinned to core 0 with GOMAXPROCS=1,
# gatehouse-load on core 1 with 16 clients, on SQLite and on PostgreSQL,
# beside what one core pays for the crypto (RS256, ES256 and EdDSA
# signatures, the argon2id verification) measured in the same run on the
# same core. One server per database holds three copies of the ldap-demo
# realm, signing RS256, ES256 and EdDSA. On PostgreSQL the backends run on
# core 1 beside the load, and the CPU they used is reported beside the
# server's. Before each client_credentials run, the same load measures that
# realm's floor on core 0: gatehouse-load -floor, which answers with the
# server's own token re-signed by the same code and looks nothing up; the
# server's rate is also given as a share of it. The report, ending with the table
# of figures against their targets, goes to stdout and to
# test-output/bench-<date>.md.
#
# Environment (all optional):
#   BENCH_DBS            databases to run, default "sqlite postgres"
#   BENCH_POSTGRES_URL   default postgres://postgres@127.0.0.1:5432/gatehouse_bench?sslmode=disable;
#                        that database is dropped and created again for a clean run
#   BENCH_DURATION       per grant, default 5s
#   BENCH_CLIENTS        default 16
#   BENCH_GRANTS         grants on the RS256 realm, default client_credentials,password,refresh_token,userinfo,introspection
#   BENCH_ES256_GRANTS   grants on the ES256 realm, default client_credentials,refresh_token ("" skips it)
#   BENCH_EDDSA_GRANTS   grants on the EdDSA realm, default client_credentials,refresh_token ("" skips it)
#   BENCH_PORT           default 18081 (the next port for the management interface, and the one
#                        after for the floor)
#   BENCH_LOG_LEVEL      the server's --log-level, default info
#   BENCH_ACCESS_LOG     the server's --http-access-log-enabled, default false (the server's default)
#   BENCH_RATE_LIMIT     the server's --rate-limit, default false (measure the server, not its
#                        limiter); "default" leaves the server's own default
#   BENCH_ROUNDS         rounds of every grant on each server, default 1. The crypto ceilings are
#                        measured again before each round, and the round's ratios taken to them;
#                        with more than one round, each figure against its target is the median of
#                        the rounds (every round's rows and each figure's range are reported too).
#                        On a machine whose CPU time is shared with other guests, one round can be a
#                        third off; 3 or 5 rounds settle the figures
#   BENCH_PACED          gatehouse-load -paced: after each saturating run, an open-loop run at this
#                        fraction of the throughput found; default 0 (skipped, to keep the run short)
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PATH:/usr/local/go/bin"
dbs="${BENCH_DBS:-sqlite postgres}"
pg_url="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/gatehouse_bench?sslmode=disable}"
duration="${BENCH_DURATION:-5s}"
clients="${BENCH_CLIENTS:-16}"
grants="${BENCH_GRANTS:-client_credentials,password,refresh_token,userinfo,introspection}"
es_grants="${BENCH_ES256_GRANTS-client_credentials,refresh_token}"
ed_grants="${BENCH_EDDSA_GRANTS-client_credentials,refresh_token}"
port="${BENCH_PORT:-18081}"
floor_port="$((port + 2))"
log_level="${BENCH_LOG_LEVEL:-info}"
access_log="${BENCH_ACCESS_LOG:-false}"
paced="${BENCH_PACED:-0}"
rate_limit="${BENCH_RATE_LIMIT:-false}"
rounds="${BENCH_ROUNDS:-1}"
realm_file=internal/rep/testdata/ldap-demo-realm.json
base="http://127.0.0.1:${port}"

if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench: BENCH_ROUNDS must be a positive whole number, not \"$rounds\"" >&2
  exit 1
fi
for tool in taskset jq awk; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs two CPUs (server on 0, load on 1); this machine has $(nproc)" >&2
  exit 1
fi

mkdir -p test-output
out="test-output/bench-$(date +%Y%m%d-%H%M%S).md"
work="$(mktemp -d)"
server_pid="" floor_pid="" floor_cpu=0
pg_master="" pg_affinity="" pg_pin_note=""
cleanup() {
  local pid
  for pid in "$server_pid" "$floor_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  unpin_postgres
  rm -rf "$work"
}
trap cleanup EXIT

# The same realm under another name, signing ES256. Object ids are dropped:
# they are unique across realms, and the import gives new ones.
jq '.realm = "ldap-demo-es256" | .defaultSignatureAlgorithm = "ES256" | walk(if type == "object" then del(.id) else . end)' \
  "$realm_file" >"$work/es256.json"
jq '.realm = "ldap-demo-eddsa" | .defaultSignatureAlgorithm = "EdDSA" | walk(if type == "object" then del(.id) else . end)' \
  "$realm_file" >"$work/eddsa.json"

# cpu_ticks prints the busy and total clock ticks of one CPU (from /proc/stat).
cpu_ticks() { awk -v c="cpu$1" '$1 == c { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }
# proc_ticks prints the user+system clock ticks of a process (0 once it is gone).
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# report prints to stdout and appends to the report file.
report() { tee -a "$out"; }
say() { printf '%s\n' "$*" | report; }

say "# Gatehouse benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say ""
say "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
say "- $(go version)"
say "- cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; kernel $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "- server: \`taskset -c 0 env GOMAXPROCS=1 gatehouse start-dev\` (built with CGO_ENABLED=0), fresh database per run"
say "- rounds: $rounds (figures against the targets are the median of the rounds)"
say "- load: \`taskset -c 1 gatehouse-load -c $clients -d $duration\` per grant, against realm ldap-demo (RS256), ldap-demo-es256 and ldap-demo-eddsa (client ldap-app, user user1, scope openid)"
say ""

echo "bench: building" >&2
CGO_ENABLED=0 go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load
server_flags=(--http-port "$port" --log-level "$log_level")
help="$("$work/gatehouse" start-dev --help 2>/dev/null || true)"
if grep -q -- '--rate-limit ' <<<"$help" && [ "$rate_limit" != default ]; then
  server_flags+=(--rate-limit "$rate_limit")
fi
if grep -q -- '--http-access-log-enabled ' <<<"$help"; then
  server_flags+=(--http-access-log-enabled "$access_log")
fi
if grep -q -- '--http-management-port ' <<<"$help"; then
  server_flags+=(--http-management-port "$((port + 1))")
fi
say "- server flags: \`${server_flags[*]}\`"
say ""

# measure_ceilings runs the crypto benchmarks once on core 0 into file $1
# and adds their lines to $work/crypto.txt, which holds every run.
measure_ceilings() {
  {
    taskset -c 0 go test -run XXX -bench 'Sign/(RS256|ES256|EdDSA)$' -benchtime 2s ./internal/token/ 2>&1 || true
    taskset -c 0 go test -run XXX -bench 'PasswordHash' -benchtime 2s ./internal/oidc/ 2>&1 || true
  } | grep -E '^(Benchmark|FAIL)' >"$1" || true
  cat "$1" >>"$work/crypto.txt"
}

say "## What one core pays for the crypto (core 0)"
say ""
say "Measured once here and again before each round on each database; the ceilings below are the"
say "medians of every run, and each round's ratios are taken to the ceilings measured just before it."
say ""
say '```'
say "\$ taskset -c 0 go test -run XXX -bench 'Sign/(RS256|ES256|EdDSA)\$' -benchtime 2s ./internal/token/"
say "\$ taskset -c 0 go test -run XXX -bench 'PasswordHash' -benchtime 2s ./internal/oidc/"
: >"$work/crypto.txt"
measure_ceilings "$work/start.txt"
report <"$work/start.txt"
say '```'
say ""
# median prints the median of the numbers in $1 (separated by spaces), as
# written when there is a middle one, else the mean of the two middle ones.
median() {
  tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) exit
    if (NR % 2) { print v[(NR + 1) / 2]; exit }
    a = v[NR / 2]; b = v[NR / 2 + 1]; m = (a + b) / 2
    if (a == int(a) && b == int(b)) printf "%.0f\n", m; else printf "%.2f\n", m }'
}
# spread prints ", median of N: min–max" for the numbers in $1, or nothing
# for a single round.
spread() {
  local sorted
  sorted="$(tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g)"
  (($(wc -l <<<"$sorted") > 1)) || return 0
  printf ', median of %s: %s–%s' "$(wc -l <<<"$sorted")" "$(head -n 1 <<<"$sorted")" "$(tail -n 1 <<<"$sorted")"
}
# ceiling prints operations per CPU second of the benchmark whose name
# matches $1, from its CPU time per operation (the median of its runs in
# file $2, by default every run): on a shared machine the wall clock counts
# other processes' time too, the CPU time does not.
ceiling() {
  local us
  us="$(median "$(awk -v re="$1" '$1 ~ re { for (i = 2; i <= NF; i++) {
    if ($(i+1) == "cpu-µs/op") { printf "%s ", $i; break }
    if ($(i+1) == "cpu-ms/op") { printf "%s ", $i * 1000; break } } }' "${2:-$work/crypto.txt}")")"
  [ -n "$us" ] || return 0
  awk -v us="$us" 'BEGIN { r = 1e6 / us; if (r >= 1000) printf "%.0f", r; else printf "%.1f", r }'
}
# ceilings sets rs_ceiling, es_ceiling, ed_ceiling and hash_rate from the
# runs in file $1 (default every run), and rs_half: a refresh with openid
# signs twice.
ceilings() {
  rs_ceiling="$(ceiling '^BenchmarkSign/RS256(-[0-9]+)?$' "${1:-}")"
  es_ceiling="$(ceiling '^BenchmarkSign/ES256(-[0-9]+)?$' "${1:-}")"
  ed_ceiling="$(ceiling '^BenchmarkSign/EdDSA(-[0-9]+)?$' "${1:-}")"
  hash_rate="$(ceiling '^BenchmarkPasswordHash' "${1:-}")"
  rs_half="$(awk -v c="${rs_ceiling:-0}" 'BEGIN { printf "%.0f", c / 2 }')"
}
ceilings_line() { printf 'RS256 %s/s, ES256 %s/s, EdDSA %s/s, argon2id verification %s/s' "${rs_ceiling:-?}" "${es_ceiling:-?}" "${ed_ceiling:-?}" "${hash_rate:-?}"; }
ceilings "$work/start.txt"
say "ceilings per CPU second (from cpu-µs/op): $(ceilings_line)"
say ""

# db_backends prints the pids of the PostgreSQL backends serving database $1.
db_backends() {
  psql "$admin_url" -X -q -tAc "SELECT pid FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()" 2>/dev/null || true
}

# summary rows, one per figure: "db|figure|measured|target|verdict"
summary=()

# run_grant runs one grant against one realm and records its row. It sets
# rate, p99 and cpu_ms (server) and db_ms (database backends, PostgreSQL).
# By default it loads the server; $5 and $6 name another target's base URL
# and pid (the floor), and $7 the row's name for the realm.
run_grant() {
  local db="$1" realm="$2" grant="$3" dbname="${4:-}"
  local target="${5:-$base}" target_pid="${6:-$server_pid}" label="${7:-$2}"
  local -a pids_before=()
  local -A ticks_before=()
  if [ -n "$dbname" ]; then
    mapfile -t pids_before < <(db_backends "$dbname")
    for p in "${pids_before[@]}"; do ticks_before[$p]="$(proc_ticks "$p")"; done
  fi
  local load_cmd=(taskset -c 1 "$work/gatehouse-load" -url "$target" -realm "$realm" -client ldap-app -secret password
    -user user1 -password password -c "$clients" -d "$duration" -grants "$grant" -paced "$paced" -server-pid "$target_pid")
  "${load_cmd[@]}" >"$work/load.txt" 2>"$work/load.err" || { cat "$work/load.err" >&2; return 1; }
  local db_ticks=0
  if [ -n "$dbname" ]; then
    # Backends open before and after: those that ended meanwhile are lost
    # (the pool keeps its connections), those that began count whole.
    local p
    local -A seen=()
    for p in $(db_backends "$dbname") "${pids_before[@]}"; do
      [ -n "${seen[$p]:-}" ] && continue
      seen[$p]=1
      local now_ticks
      now_ticks="$(proc_ticks "$p")"
      ((now_ticks >= ${ticks_before[$p]:-0})) || continue # gone, or its pid reused
      db_ticks=$((db_ticks + now_ticks - ${ticks_before[$p]:-0}))
    done
  fi
  # | grant | offered | requests | errors | req/s | p50 | p90 | p99 | max | cpu ms/req | req/s per core |
  local row
  row="$(awk -F'|' -v OFS='|' -v g="$grant" '{ gsub(/ /, "", $2); gsub(/ /, "", $3) } $2 == g && $3 == "max" { print; exit }' "$work/load.txt")"
  local requests errors
  requests="$(awk -F'|' '{ gsub(/ /, "", $4); print $4 }' <<<"$row")"
  errors="$(awk -F'|' '{ gsub(/ /, "", $5); print $5 }' <<<"$row")"
  rate="$(awk -F'|' '{ gsub(/ /, "", $6); print $6 }' <<<"$row")"
  p99="$(awk -F'|' '{ gsub(/ /, "", $9); print $9 }' <<<"$row")"
  cpu_ms="$(awk -F'|' '{ gsub(/ /, "", $11); print $11 }' <<<"$row")"
  percore="$(awk -F'|' '{ gsub(/ /, "", $12); print $12 }' <<<"$row")"
  db_ms=""
  if [ -n "$dbname" ] && [ "${requests:-0}" -gt 0 ]; then
    db_ms="$(awk -v t="$db_ticks" -v n="$((requests - errors))" 'BEGIN { if (n > 0) printf "%.2f", t * 10 / n }')"
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$round" "$label" "$grant" "$rate" "$p99" "$requests/$errors" "${cpu_ms:-?}" "${percore:-?}" "${db_ms:--}" | report
  grep -E '^first error' "$work/load.txt" | report || true
}

# run_floor measures the floor of realm $1's client_credentials grant
# beside the server: gatehouse-load -floor on core 0 (GOMAXPROCS=1), which
# answers with the server's own token for that realm, re-signed with the
# same algorithm and code, in the same response, looking nothing up. The
# load is the same as the server's. It sets percore, like run_grant, and
# is the denominator of "share of the floor": what issuing a token costs
# beyond its HTTP exchange and its signature, on this machine at this
# moment.
run_floor() {
  local realm="$1" status=0
  if curl -sS -o /dev/null -X POST "http://127.0.0.1:$floor_port/" 2>/dev/null; then
    echo "bench: something already answers on port $floor_port, the floor's; set BENCH_PORT" >&2
    return 1
  fi
  taskset -c 0 env GOMAXPROCS=1 "$work/gatehouse-load" -floor "127.0.0.1:$floor_port" -like "$base" \
    -realm "$realm" -client ldap-app -secret password 2>"$work/floor.log" &
  floor_pid=$!
  local up=""
  for _ in $(seq 1 50); do
    if curl -sS -o /dev/null -X POST "http://127.0.0.1:$floor_port/" 2>/dev/null; then up=1; break; fi
    kill -0 "$floor_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$up" ]; then
    echo "bench: the floor for $realm did not start:" >&2
    cat "$work/floor.log" >&2
    status=1
  else
    run_grant "" "$realm" client_credentials "" "http://127.0.0.1:$floor_port" "$floor_pid" "floor of $realm" || status=1
  fi
  # Its CPU on core 0 is reported apart from the server's and other tenants'.
  floor_cpu=$((floor_cpu + $(proc_ticks "$floor_pid")))
  kill -TERM "$floor_pid" 2>/dev/null || true
  wait "$floor_pid" 2>/dev/null || true
  floor_pid=""
  return "$status"
}

# pin_postgres runs the backends PostgreSQL forks from now on on core 1,
# beside the load, so that the server's core is its own on PostgreSQL as on
# SQLite: left to the scheduler, the backends answering the server's
# queries run on core 0 too, and the server's rates then swing by a third
# from one run to the next with the cache and context switches they share.
# A backend takes the postmaster's CPU affinity when it is forked; the
# postmaster's own is put back at exit. It says why when it cannot (a
# database on another machine, or no permission to set another user's
# affinity): the run goes on unpinned.
pin_postgres() {
  local admin_url="$1" checkpointer master
  checkpointer="$(psql "$admin_url" -X -q -tAc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" 2>/dev/null)" || true
  master="$(ps -o ppid= -p "${checkpointer:-0}" 2>/dev/null | tr -d ' ')" || true
  if [ -z "$master" ] || [ "$(ps -o comm= -p "$master" 2>/dev/null)" != postgres ]; then
    pg_pin_note="database: not pinned, PostgreSQL's postmaster is not a process on this machine"
    return 0
  fi
  local before
  before="$(taskset -pc "$master" 2>/dev/null | awk -F': ' '{ print $2 }')"
  if [ -z "$before" ] || ! taskset -pc 1 "$master" >/dev/null 2>&1; then
    pg_pin_note="database: not pinned, cannot set the CPU affinity of PostgreSQL's postmaster (pid $master)"
    return 0
  fi
  pg_master="$master" pg_affinity="$before"
  pg_pin_note="database: the backends of the server's connections run on core 1, beside the load (\`taskset -pc 1\` on the postmaster, put back to $before at the end)"
}
unpin_postgres() {
  if [ -n "$pg_master" ]; then
    taskset -pc "$pg_affinity" "$pg_master" >/dev/null 2>&1 || true
    pg_master=""
  fi
}

# ratio prints a/b with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
# verdict prints met or MISSED for "a >= b" (or "a <= b" with le).
verdict() { awk -v a="$1" -v b="$2" -v op="${3:-ge}" 'BEGIN { ok = (op == "le") ? (a <= b) : (a >= b); print ok ? "met" : "MISSED" }'; }

run_db() {
  local db="$1" dbflags=() dbname=""
  case "$db" in
    sqlite)
      dbflags=(--data-dir "$work/data-sqlite")
      ;;
    postgres)
      local url_base="${pg_url%%\?*}"
      local query="${pg_url#"$url_base"}"
      dbname="${url_base##*/}"
      admin_url="${url_base%/*}/postgres${query}"
      if ! [[ "$dbname" =~ ^[A-Za-z0-9_]+$ ]]; then
        say "postgres: skipped, database name \"$dbname\" in BENCH_POSTGRES_URL is not a plain identifier"
        return 0
      fi
      if ! psql "$admin_url" -X -q -tAc 'SELECT 1' >/dev/null 2>&1; then
        say "postgres: **skipped**, not reachable at $admin_url"
        return 0
      fi
      psql "$admin_url" -X -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS \"$dbname\" WITH (FORCE)" -c "CREATE DATABASE \"$dbname\"" >&2 || return 1
      dbflags=(--db postgres --db-url "$pg_url" --data-dir "$work/data-postgres")
      pin_postgres "$admin_url"
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
  echo "bench: $db: importing the realms" >&2
  "$work/gatehouse" import --file "$realm_file" "${dbflags[@]}" --log-level warn || return 1
  if [ -n "$es_grants" ]; then
    "$work/gatehouse" import --file "$work/es256.json" "${dbflags[@]}" --log-level warn || return 1
  fi
  if [ -n "$ed_grants" ]; then
    "$work/gatehouse" import --file "$work/eddsa.json" "${dbflags[@]}" --log-level warn || return 1
  fi

  echo "bench: $db: starting the server on core 0" >&2
  taskset -c 0 env GOMAXPROCS=1 "$work/gatehouse" start-dev "${server_flags[@]}" "${dbflags[@]}" \
    2>"$work/server-$db.log" &
  server_pid=$!
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
  sleep 1
  local rss_idle
  rss_idle="$(ps -o rss= -p "$server_pid" | tr -d ' ')" || return 1

  say "## $db"
  say ""
  if [ "$db" = postgres ] && [ -n "$pg_pin_note" ]; then
    say "$pg_pin_note"
    say ""
  fi
  say "closed loop, $clients clients, $duration per grant; CPU per successful request: the server's own (core 0) and, on PostgreSQL, its backends' for this database"
  say ""
  say "| round | realm | grant | req/s | p99 ms | requests/errors | server CPU ms/req | req per server CPU second | database CPU ms/req |"
  say "|---:|---|---|---:|---:|---:|---:|---:|---:|"
  # CPU ticks over the rounds' loads (not their ceiling runs): core 0's
  # total and busy, the server's, core 1's total and busy.
  local total0=0 busy0=0 srv=0 total1=0 busy1=0
  floor_cpu=0
  local -a c0_before c1_before c0_after c1_after
  local srv_before srv_after
  # Each round runs every grant once; rates and p99s gather each figure's
  # values over the rounds, and rate and p99 below are their medians.
  # floors and shares: each round's floor of a realm's client_credentials
  # (run_floor) and the server's rate as a share of it, by algorithm.
  local -A rates=() p99s=() ratios=() floors=() shares=()
  local floor_now
  local -a round_ceilings=()
  local g status=0 round key
  local -a keys=()
  for g in ${grants//,/ }; do keys+=("rs ldap-demo $g"); done
  for g in ${es_grants//,/ }; do keys+=("es ldap-demo-es256 $g"); done
  for g in ${ed_grants//,/ }; do keys+=("ed ldap-demo-eddsa $g"); done
  for round in $(seq 1 "$rounds"); do
    # The machine's speed drifts over minutes: each round's ratios are to
    # ceilings measured just before it, with the server idle.
    measure_ceilings "$work/round.txt"
    ceilings "$work/round.txt"
    round_ceilings+=("round $round: $(ceilings_line)")
    read -r -a c0_before < <(cpu_ticks 0)
    read -r -a c1_before < <(cpu_ticks 1)
    srv_before="$(proc_ticks "$server_pid")"
    for key in "${keys[@]}"; do
      read -r alg realm_name g <<<"$key"
      floor_now=""
      if [ "$g" = client_credentials ]; then
        percore=""
        run_floor "$realm_name" || status=1
        floor_now="$percore"
        [ -n "$floor_now" ] && floors[$alg]+=" $floor_now"
      fi
      run_grant "$db" "$realm_name" "$g" "$dbname" || { status=1; continue; }
      rates[$alg-$g]+=" $percore"
      p99s[$alg-$g]+=" $p99"
      case "$alg-$g" in
        rs-client_credentials) ratios[$alg-$g]+=" $(ratio "$percore" "$rs_ceiling")" ;;&
        *-client_credentials) [ -n "${floor_now:-}" ] && shares[$alg]+=" $(ratio "$percore" "$floor_now")" ;;
        rs-refresh_token) ratios[$alg-$g]+=" $(ratio "$percore" "$rs_half")" ;;
        rs-password) ratios[$alg-$g]+=" $(ratio "$percore" "$hash_rate")" ;;
      esac
    done
    read -r -a c0_after < <(cpu_ticks 0)
    read -r -a c1_after < <(cpu_ticks 1)
    srv_after="$(proc_ticks "$server_pid")"
    ((srv_after >= srv_before)) || srv_after="$srv_before" # the server is gone
    total0=$((total0 + c0_after[1] - c0_before[1])) busy0=$((busy0 + c0_after[0] - c0_before[0]))
    total1=$((total1 + c1_after[1] - c1_before[1])) busy1=$((busy1 + c1_after[0] - c1_before[0]))
    srv=$((srv + srv_after - srv_before))
  done
  say ""
  say "ceilings measured before each round (per CPU second):"
  say ""
  local line
  for line in "${round_ceilings[@]}"; do say "- $line"; done

  local rss=0 rc=0 stop="exit status %s after SIGTERM"
  if kill -0 "$server_pid" 2>/dev/null; then
    rss="$(ps -o rss= -p "$server_pid" | tr -d ' ')"
    kill -TERM "$server_pid"
  else
    stop="**exited by itself during the load**, exit status %s"
  fi
  wait "$server_pid" || rc=$?
  server_pid=""
  say ""
  if grep -v 'msg=request' "$work/server-$db.log" | grep -qvE 'level=INFO'; then
    say "server log, without request and INFO lines (last 30):"
    say ""
    say '```'
    grep -v 'msg=request' "$work/server-$db.log" | grep -vE 'level=INFO' | tail -n 30 | cut -c1-400 | report
    say '```'
    say ""
  fi
  ((total0 > 0)) || total0=1
  ((total1 > 0)) || total1=1
  # shellcheck disable=SC2059 # $stop is this function's own format
  say "server: RSS $((rss_idle / 1024)) MiB idle after start, $((rss / 1024)) MiB after the load; $(printf "$stop" "$rc")"
  local core1=load
  if [ "$db" = postgres ] && [ -n "$pg_master" ]; then
    core1="load and database"
    unpin_postgres
  fi
  say "cpu during the load: core 0 $((100 * busy0 / total0))% busy, of which the server $((100 * srv / total0))%, the floor $((100 * floor_cpu / total0))% and everything else (the machine is shared) $((100 * (busy0 - srv - floor_cpu) / total0))%; core 1 ($core1) $((100 * busy1 / total1))% busy"
  say ""

  # From here on, each figure is its median over the rounds, and its
  # range is said beside it when there was more than one; each ratio is
  # the median of the rounds' ratios, and the ceilings named beside them
  # the medians of every run so far.
  local -A ranges=()
  for key in "${!rates[@]}"; do
    ranges[$key]="$(spread "${rates[$key]}")"
    rates[$key]="$(median "${rates[$key]}")"
    p99s[$key]="$(median "${p99s[$key]}")"
  done
  for key in "${!ratios[@]}"; do ratios[$key]="$(median "${ratios[$key]}")"; done
  for key in "${!floors[@]}"; do floors[$key]="$(median "${floors[$key]}")"; done
  for key in "${!shares[@]}"; do shares[$key]="$(median "${shares[$key]}")"; done
  ceilings
  local v
  # floor_note prints ", floor F/s, share S" for algorithm $1 when its
  # floor was measured.
  floor_note() { [ -n "${floors[$1]:-}" ] && printf '; floor %s/s, %s of it' "${floors[$1]}" "${shares[$1]:-?}"; return 0; }
  v="${rates[rs-client_credentials]:-}"
  [ -n "$v" ] && summary+=("$db|client_credentials, RS256|$v/s${ranges[rs-client_credentials]} = ${ratios[rs-client_credentials]} of the ceiling (about $rs_ceiling/s$(floor_note rs))|≥ 0.85 of the ceiling|$(verdict "${ratios[rs-client_credentials]}" 0.85)")
  v="${rates[es-client_credentials]:-}"
  [ -n "$v" ] && summary+=("$db|client_credentials, ES256 realm|$v/s${ranges[es-client_credentials]} (ES256 ceiling $es_ceiling/s$(floor_note es))|≥ 8000/s|$(verdict "$v" 8000)")
  v="${rates[rs-refresh_token]:-}"
  [ -n "$v" ] && summary+=("$db|refresh_token with openid, RS256|$v/s${ranges[rs-refresh_token]} = ${ratios[rs-refresh_token]} of half the ceiling (about $rs_half/s), p99 ${p99s[rs-refresh_token]} ms|≥ 0.85 of half the ceiling, p99 ≤ 30 ms|$(verdict "${ratios[rs-refresh_token]}" 0.85) / $(verdict "${p99s[rs-refresh_token]}" 30 le)")
  v="${rates[es-refresh_token]:-}"
  [ -n "$v" ] && summary+=("$db|refresh_token with openid, ES256 realm|$v/s${ranges[es-refresh_token]}, p99 ${p99s[es-refresh_token]} ms|p99 ≤ 30 ms|$(verdict "${p99s[es-refresh_token]}" 30 le)")
  # EdDSA has no target of its own: the issue asks for it measured, as the
  # other fast configuration; it is held to the ES256 realm's.
  v="${rates[ed-client_credentials]:-}"
  [ -n "$v" ] && summary+=("$db|client_credentials, EdDSA realm|$v/s${ranges[ed-client_credentials]} (EdDSA ceiling $ed_ceiling/s$(floor_note ed))|≥ 8000/s (as ES256)|$(verdict "$v" 8000)")
  v="${rates[ed-refresh_token]:-}"
  [ -n "$v" ] && summary+=("$db|refresh_token with openid, EdDSA realm|$v/s${ranges[ed-refresh_token]}, p99 ${p99s[ed-refresh_token]} ms|p99 ≤ 30 ms (as ES256)|$(verdict "${p99s[ed-refresh_token]}" 30 le)")
  v="${rates[rs-password]:-}"
  [ -n "$v" ] && summary+=("$db|password grant, argon2id defaults|$v/s${ranges[rs-password]} = ${ratios[rs-password]} of the hash's rate (about $hash_rate/s)|≥ 0.9 of the hash's rate|$(verdict "${ratios[rs-password]}" 0.9)")
  v="${rates[rs-userinfo]:-}"
  [ -n "$v" ] && summary+=("$db|userinfo|$v/s${ranges[rs-userinfo]}|≥ 8000/s|$(verdict "$v" 8000)")
  v="${rates[rs-introspection]:-}"
  [ -n "$v" ] && summary+=("$db|introspection|$v/s${ranges[rs-introspection]}|≥ 6000/s|$(verdict "$v" 6000)")
  summary+=("$db|idle RSS|$((rss_idle / 1024)) MiB ($((rss / 1024)) MiB after the load)|≤ 30 MB|$(verdict "$((rss_idle * 1024))" 30000000 le)")
  return "$status"
}

status=0
for db in $dbs; do
  run_db "$db" || { status=1; say "$db: **failed**, see above"; say ""; }
done

say "## Against the targets"
say ""
say "Rates are requests per second of the server's own CPU time and ceilings operations per second of"
say "CPU time, both from the same run: on a shared machine neither counts what other processes took."
say "p99 is wall clock, which they do lengthen."
say "Each ratio is taken to the ceiling measured just before its round."
if ((rounds > 1)); then
  say "Each figure is the median of $rounds rounds, with the range of the rounds beside it, and each"
  say "ratio the median of the rounds' ratios; the ceilings named are the medians of every run."
fi
say ""
say "| database | figure | measured | target | |"
say "|---|---|---|---|---|"
for row in "${summary[@]}"; do
  IFS='|' read -r a b c d e <<<"$row"
  say "| $a | $b | $c | $d | $e |"
done
say ""
echo "bench: report written to $out" >&2
exit "$status"
