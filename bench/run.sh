#!/usr/bin/env bash
# PgWarden vs Patroni 3.0.2, side by side, in one run (see bench/README.md). Run as root from anywhere:
#   bench/run.sh            full mode (about 25-30 minutes on 2 cores)
#   bench/run.sh --quick    development mode (about 10-12 minutes)
# Installs what is missing (patroni, etcd-server, haproxy, wrk; PostgreSQL 15), publishes pgwarden, builds the
# benchmark, runs both agents in turn on 127.0.4.x and writes bench/results/latest.md and latest.json.
# Everything it starts (agents, PostgreSQL, HAProxy, etcd) is stopped and its data deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "bench/run.sh must run as root (it creates one OS user per node)" >&2; exit 2; fi
scripts/install-deps.sh
command -v wrk >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bin=/var/tmp/pgwarden-bench/bin
rm -rf "$bin"
dotnet publish src/PgWarden/PgWarden.csproj -c Release -o "$bin" -nologo -v q
chmod -R a+rX /var/tmp/pgwarden-bench
dotnet build bench/PgWarden.Bench/PgWarden.Bench.csproj -c Release -o bench/out -nologo -v q
status=0
bench/out/pgwarden-bench --pgwarden "$bin/pgwarden" --results bench/results "$@" || status=$?
[ -n "${PGWARDEN_BENCH_KEEP:-}" ] || rm -rf /var/tmp/pgwarden-bench   # the published agent, the emptied run directories
exit $status
