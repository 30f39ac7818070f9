#!/bin/sh
# Install what spaprov needs to build and test on Debian 12 (run as root).
# One list for the README, CI and developers.
set -e
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (it calls apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake pkg-config \
	libgnutls28-dev libmicrohttpd-dev libsqlite3-dev libjansson-dev libcsv-dev \
	check sqlite3 gnutls-bin openssl curl ca-certificates \
	python3 python3-cryptography clang libclang-rt-14-dev >/dev/null
echo "install-deps.sh: build and test dependencies installed"
