#!/usr/bin/env bash
# One command from a fresh clone to a running HA cluster on this machine: installs what is missing, publishes
# pgwarden to out/, runs `pgwarden lab up` (etcd + 3 nodes + HAProxy on loopback) and `pgwarden lab demo`, and
# leaves the cluster running. Run as root; needs no TTY; running it again reuses the running lab.
# Extra arguments go to `lab up` (e.g. --etcd-members 3, or --net 127.0.5 --user-prefix pg5 beside another lab).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "scripts/lab-up.sh must run as root (it creates one OS user per node)" >&2; exit 2; fi
if ! command -v dotnet >/dev/null; then
  echo "the .NET 10 SDK is not installed: see https://learn.microsoft.com/dotnet/core/install/linux-debian (apt-get install -y dotnet-sdk-10.0)" >&2
  exit 2
fi
scripts/install-deps.sh </dev/null
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet publish src/PgWarden/PgWarden.csproj -c Release -o out -nologo -v q </dev/null
out/pgwarden lab up "$@" </dev/null
net=127.0.0
args=("$@")
for i in "${!args[@]}"; do [ "${args[$i]}" = "--net" ] && net=${args[$((i + 1))]:-$net}; done
lab_args=()
[ "$net" != 127.0.0 ] && lab_args=(--net "$net")
for i in "${!args[@]}"; do [ "${args[$i]}" = "--dir" ] && lab_args+=(--dir "${args[$((i + 1))]}"); done
set +e
out/pgwarden lab demo "${lab_args[@]}" </dev/null
demo=$?
set -e
echo
echo "connect: psql 'host=$net.10 port=5000 user=postgres password=postgres-secret dbname=postgres'   (read-only: port 5001)"
echo "stop:    $(pwd)/out/pgwarden lab down ${lab_args[*]}"
exit $demo
