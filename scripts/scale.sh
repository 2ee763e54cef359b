#!/usr/bin/env bash
# Measures the paths that must not slow down as a realm grows, on a realm
# filled by "gatehouse generate": login (password grant), refresh, userinfo,
# the admin user search (search, username, email, q) and session listings
# over HTTP with gatehouse-load, the expiry cleanup pass with generate
# --time-cleanup, and the server's memory. Run it on a small realm and on a
# large one and compare. The report goes to stdout and to
# test-output/scale-<date>.md.
#
#   scripts/scale.sh sqlite /path/to/gatehouse.db [users]
#   scripts/scale.sh postgres postgres://...      [users]
#
# When users is given, the database is filled first (realm gen, users
# users, as many sessions, users/100 clients at most 10,000, users/1000
# groups at most 1,000, timed); otherwise the realm gen must already be
# there. Environment: SCALE_PORT (default 18181), SCALE_DURATION per path
# (default 5s), SCALE_CLIENTS (default 4), SCALE_USER (default user0000500),
# SCALE_ATTRIBUTE (default employeeNumber:500, one user at any size).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

db="${1:?usage: scripts/scale.sh sqlite|postgres <file|url> [users]}"
dsn="${2:?usage: scripts/scale.sh sqlite|postgres <file|url> [users]}"
users="${3:-}"
port="${SCALE_PORT:-18181}"
duration="${SCALE_DURATION:-5s}"
clients="${SCALE_CLIENTS:-4}"
who="${SCALE_USER:-user0000500}"
attribute="${SCALE_ATTRIBUTE:-employeeNumber:500}"
grants=password,refresh_token,userinfo,search,username,email,attribute,user_sessions,client_sessions
base="http://127.0.0.1:${port}"

mkdir -p test-output
out="test-output/scale-$(date +%Y%m%d-%H%M%S).md"
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
report() { tee -a "$out"; }
say() { printf '%s\n' "$*" | report; }

CGO_ENABLED=0 go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load
dbflags=(--db "$db" --db-url "$dsn")

say "# Gatehouse at scale, $db, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say ""
say "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores, shared; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$users" ]; then
  nclients=$((users / 100)); ((nclients >= 1)) || nclients=1; ((nclients <= 10000)) || nclients=10000
  ngroups=$((users / 1000)); ((ngroups >= 1)) || ngroups=1; ((ngroups <= 1000)) || ngroups=1000
  say ""
  say "\$ gatehouse generate --realm gen --users $users --clients $nclients --groups $ngroups --sessions $users"
  say '```'
  "$work/gatehouse" generate "${dbflags[@]}" --realm gen --users "$users" --clients "$nclients" --groups "$ngroups" --sessions "$users" | report
  say '```'
fi

echo "scale: starting the server on core 0 (the first start on a database migrates it)" >&2
t0=$(date +%s)
taskset -c 0 env GOMAXPROCS=1 "$work/gatehouse" start-dev --http-port "$port" --http-management-port "$((port + 1))" \
  --rate-limit false --log-level warn --bootstrap-admin-password admin "${dbflags[@]}" --data-dir "$work/data" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 3000); do
  curl -fsS -o /dev/null "$base/health/ready" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done
# Generated sessions were begun when the realm was filled, which for a large
# realm may be longer ago than the default 30-minute idle timeout: keep
# them live, so that the measurement lists real sessions and the cleanup
# loop does not delete a million of them meanwhile (it first runs a minute
# after the start).
admin_token="$(curl -fsS -d grant_type=password -d client_id=admin-cli -d username=admin -d password=admin \
  "$base/realms/master/protocol/openid-connect/token" | jq -r .access_token)"
curl -fsS -X PUT -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  -d '{"ssoSessionIdleTimeout": 2592000, "ssoSessionMaxLifespan": 2592000}' "$base/admin/realms/gen"
say ""
say "- server ready after $(($(date +%s) - t0)) s; RSS idle $(($(ps -o rss= -p "$server_pid") / 1024)) MiB; realm gen's SSO session idle and max lifespans set to 30 days"
say ""
say "\$ taskset -c 1 gatehouse-load -realm gen -client gen-client-7 -user $who -attribute $attribute -c $clients -d $duration -grants $grants"
say ""
taskset -c 1 "$work/gatehouse-load" -url "$base" -realm gen -client gen-client-7 -secret gen-secret -user "$who" \
  -password password -attribute "$attribute" -c "$clients" -d "$duration" -grants "$grants" -server-pid "$server_pid" | report
say ""
say "- RSS after the load: $(($(ps -o rss= -p "$server_pid") / 1024)) MiB"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""
say ""
say "\$ gatehouse generate --realm gen --users 0 --clients 0 --groups 0 --sessions 0 --time-cleanup 20"
"$work/gatehouse" generate "${dbflags[@]}" --realm gen --users 0 --clients 0 --groups 0 --sessions 0 --time-cleanup 20 | grep cleanup | report
echo "scale: report written to $out" >&2
