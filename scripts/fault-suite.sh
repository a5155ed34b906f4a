#!/usr/bin/env bash
# The long tier of the fault-injection suite (docs/fault-suite.md): N seeded faults against a 3-node cluster on a
# 3-member etcd, while 3 clients insert and a checker looks for two writable primaries every 100 ms. Prints the table
# and writes it (with per-fault details) to --report (default /var/tmp/pgwarden-it/fault-suite-SEED.md).
# Usage: scripts/fault-suite.sh [--faults N] [--seed S] [--report FILE]     (run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
faults=100 seed="" report=""
while [ $# -gt 0 ]; do
  case "$1" in
    --faults) faults="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --report) report="$2"; shift 2 ;;
    -h|--help) sed -n 2,5p "$0"; exit 0 ;;
    *) echo "unknown argument '$1' (expected --faults N, --seed S, --report FILE)" >&2; exit 2 ;;
  esac
done
case "$faults" in ''|*[!0-9]*) echo "--faults '$faults' is not a positive integer" >&2; exit 2 ;; esac
if [ -n "$seed" ]; then case "$seed" in *[!0-9]*) echo "--seed '$seed' is not a non-negative integer" >&2; exit 2 ;; esac; fi
if [ "$(id -u)" != 0 ]; then echo "scripts/fault-suite.sh must run as root (agents run as per-node OS users; partitions use iptables)" >&2; exit 2; fi
[ -n "$seed" ] || seed=$((RANDOM * 32768 + RANDOM))
[ -n "$report" ] || report=/var/tmp/pgwarden-it/fault-suite-$seed.md
mkdir -p "$(dirname "$report")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PGWARDEN_FAULTS="$faults" PGWARDEN_FAULT_SEED="$seed" PGWARDEN_FAULT_REPORT="$report"
echo "fault suite: $faults faults, seed $seed; progress in ${report%.md}.log"
dotnet build tests/PgWarden.IntegrationTests -nologo -v q >/dev/null
set +e
dotnet test tests/PgWarden.IntegrationTests --no-build -nologo --filter "FullyQualifiedName~LongFaultTierTests" \
  --logger "console;verbosity=normal" > "${report%.md}.test.log" 2>&1
rc=$?
set -e
if [ -f "$report" ]; then cat "$report"; else tail -60 "${report%.md}.test.log"; fi
exit $rc
