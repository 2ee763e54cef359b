#!/usr/bin/env bash
# Counts the realm files that `gatehouse import` takes: each *.json of a
# directory (default test/exports/testdata, the real Keycloak exports) is
# imported into a fresh SQLite database of its own, and the last line says
# how many imported and how many failed; the lines above name each file,
# with the error of those that failed.
#
#   scripts/count-imports.sh [dir]
#
# GATEHOUSE_BIN names a gatehouse binary to use (to count for another
# commit); without it the working tree is built.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-test/exports/testdata}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=${GATEHOUSE_BIN:-}
if [ -z "$bin" ]; then
  bin=$tmp/gatehouse
  go build -o "$bin" ./cmd/gatehouse
fi
ok=0 failed=0
for f in "$dir"/*.json; do
  db=$(mktemp -d -p "$tmp")
  if out=$("$bin" import --db sqlite --db-url "$db/g.db" --file "$f" 2>&1); then
    ok=$((ok + 1))
    echo "ok    $(basename "$f")"
  else
    failed=$((failed + 1))
    echo "FAIL  $(basename "$f"): $(printf '%s\n' "$out" | tail -n 1)"
  fi
  rm -rf "$db"
done
echo "$ok imported, $failed failed"
