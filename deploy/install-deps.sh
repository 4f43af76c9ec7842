#!/bin/sh
# Installs every Debian 12 package cqlmq needs to build, test and run.
# Idempotent and quiet when everything is already present. Run as root (or
# through sudo); `make test` and `make run` call it.
set -eu

PACKAGES="
build-essential cmake ninja-build pkg-config clang
libzmq3-dev libuv1-dev libmsgpack-dev libssl-dev libcriterion-dev
python3 python3-zmq python3-msgpack python3-cassandra python3-pytest
python3-fastapi python3-uvicorn python3-httpx
valgrind procps
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-deps: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
