#!/usr/bin/env bash
# PostgreSQL server binaries for the DuckLake catalog tests (tests/test_lake.py starts its own throwaway
# server on 127.0.0.1 from them). Installs Debian's postgresql package when no initdb is found; the
# package's own cluster is not used.
set -euo pipefail

found() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; }

if found; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "PostgreSQL is needed by the lake tests: install it (Debian: apt-get install postgresql) or run as root" >&2
    exit 1
fi
echo "installing PostgreSQL (apt) for the lake tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
found || { echo "postgresql installed but no initdb found" >&2; exit 1; }
