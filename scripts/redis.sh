#!/usr/bin/env bash
# Services the tests need: redis-server (the shared crawl frontier's test starts its own on 127.0.0.1).
# Idempotent: does nothing when redis-server is already on PATH. Installs Debian's package otherwise,
# non-interactively; the tests start their own server on a free port, never a system-wide one.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "redis-server is missing and there is no apt-get here: install Redis (>= 5) by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "installing redis-server (apt)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null
