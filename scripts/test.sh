#!/usr/bin/env bash
# The whole test suite: fast unit tests, then the integration tests against real etcd, PostgreSQL 15,
# HAProxy and Debian's patronictl on loopback. Run as root on a fresh machine; needs no stdin.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "scripts/test.sh must run as root (it creates the per-node OS users the agents run as)" >&2; exit 2; fi
scripts/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build PgWarden.slnx -c Release -nologo -v q
# The integration tests run the agent as it ships: published (self-contained, trimmed, ReadyToRun), not the plain
# build output.
published=$(mktemp -d /var/tmp/pgwarden-published.XXXXXX)
dotnet publish src/PgWarden/PgWarden.csproj -c Release -nologo -v q -o "$published"
export PGWARDEN_TEST_PUBLISHED=$published
results=$(mktemp -d)
status=0
filter_lines() { grep --line-buffered -E '^\s+(Passed|Failed|Skipped) |Passed!|Failed!|error |Error Message|Assert\.|timed out'; }

# run NAME PROJECT [dotnet test args...]: one test run, its console log and trx kept under $results.
run() {
  local name=$1 project=$2; shift 2
  dotnet test "$project" -c Release --no-build -nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --logger "console;verbosity=normal" "$@" > "$results/$name.log" 2>&1
}

report() {
  local name=$1 rc=$2
  if [ "$rc" != 0 ]; then
    status=1
    echo "-- failures in $name:"; grep -E -A 150 '^\s+Failed ' "$results/$name.log" | head -1500 || tail -50 "$results/$name.log"
  fi
}

echo "== PgWarden.Tests"
set +e
run unit tests/PgWarden.Tests; rc=$?
set -e
filter_lines < "$results/unit.log" || true
report unit "$rc"

# The integration tests wait mostly on real servers (ttl expiries, loops, replication), so they run as two shards at
# once, each on its own loopback network and OS-user prefix (the fixture keeps addresses, users and iptables rules
# of the two apart). Shard a keeps the default 127.0.0.x: its Dcs and Postgres tests use fixed addresses there.
shard_a='FullyQualifiedName~.Safety.|FullyQualifiedName~.Faults.|FullyQualifiedName~.Lab.|FullyQualifiedName~.Dcs.|FullyQualifiedName~.Postgres.|FullyQualifiedName~.Api.'
shard_b='FullyQualifiedName!~.Safety.&FullyQualifiedName!~.Faults.&FullyQualifiedName!~.Lab.&FullyQualifiedName!~.Dcs.&FullyQualifiedName!~.Postgres.&FullyQualifiedName!~.Api.'
echo "== PgWarden.IntegrationTests (two shards in parallel)"
set +e
( run integration-a tests/PgWarden.IntegrationTests --filter "$shard_a" ) & pid_a=$!
( export PGWARDEN_TEST_NET=127.0.60 PGWARDEN_TEST_USER_PREFIX=pgb; run integration-b tests/PgWarden.IntegrationTests --filter "$shard_b" ) & pid_b=$!
# Live progress from both logs while they run.
tail -q -n +1 -F "$results/integration-a.log" "$results/integration-b.log" 2>/dev/null > >(filter_lines) & tailer=$!
wait $pid_a; rc_a=$?
wait $pid_b; rc_b=$?
sleep 2; kill "$tailer" 2>/dev/null; wait "$tailer" 2>/dev/null
set -e
report integration-a "$rc_a"
report integration-b "$rc_b"
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  p=$(grep -o 'passed="[0-9]*"' "$trx" | head -1 | tr -dc 0-9); f=$(grep -o 'failed="[0-9]*"' "$trx" | head -1 | tr -dc 0-9)
  s=$(grep -o 'notExecuted="[0-9]*"' "$trx" | head -1 | tr -dc 0-9)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
done
[ "$passed" -gt 0 ] || status=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
rm -rf "$results" "$published"
exit $status
