#!/usr/bin/env bash
# One command from a fresh clone to a running HA cluster on this machine: installs what is missing, publishes
# pgwarden to out/, and runs `pgwarden lab up` (etcd + 3 nodes + HAProxy on loopback). Run as root; no TTY needed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "scripts/lab-up.sh must run as root (it creates one OS user per node)" >&2; exit 2; fi
scripts/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet publish src/PgWarden/PgWarden.csproj -c Release -o out -nologo -v q
out/pgwarden lab up "$@"
echo
echo "connect: psql 'host=127.0.0.10 port=5000 user=postgres password=postgres-secret dbname=postgres'"
echo "stop:    $(pwd)/out/pgwarden lab down"
