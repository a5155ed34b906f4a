#!/usr/bin/env bash
# The whole test suite: fast unit tests, then the integration tests against real etcd, PostgreSQL 15,
# HAProxy and Debian's patronictl on loopback. Run as root on a fresh machine; needs no stdin.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "scripts/test.sh must run as root (it creates the per-node OS users the agents run as)" >&2; exit 2; fi
scripts/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build PgWarden.slnx -c Release -nologo -v q
results=$(mktemp -d)
status=0
for project in tests/PgWarden.Tests tests/PgWarden.IntegrationTests; do
  name=$(basename "$project")
  echo "== $name"
  set +e
  dotnet test "$project" -c Release --no-build -nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --logger "console;verbosity=normal" 2>&1 | tee "$results/$name.log" \
    | grep --line-buffered -E '^\s+(Passed|Failed|Skipped) |Passed!|Failed!|error |Error Message|Assert\.|timed out'
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" != 0 ]; then
    status=1
    echo "-- failures in $name:"; grep -E -A 150 '^\s+Failed ' "$results/$name.log" | head -1500 || tail -50 "$results/$name.log"
  fi
done
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  p=$(grep -o 'passed="[0-9]*"' "$trx" | head -1 | tr -dc 0-9); f=$(grep -o 'failed="[0-9]*"' "$trx" | head -1 | tr -dc 0-9)
  s=$(grep -o 'notExecuted="[0-9]*"' "$trx" | head -1 | tr -dc 0-9)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
done
[ "$passed" -gt 0 ] || status=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
rm -rf "$results"
exit $status
