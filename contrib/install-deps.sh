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
	zlib1g-dev \
	check sqlite3 gnutls-bin openssl curl ca-certificates softhsm2 \
	python3 python3-cryptography clang libclang-rt-14-dev libcrypt-dev \
	chromium >/dev/null
# The web admin's browser test: playwright-core, pinned by
# tests/web-admin/package-lock.json, driving Debian's Chromium.
if command -v npm >/dev/null 2>&1; then
	npm ci --prefix "$(dirname "$0")/../tests/web-admin" --no-audit \
		--no-fund >/dev/null
else
	echo "install-deps.sh: no npm: playwright-core (tests/web-admin) not installed" >&2
fi
echo "install-deps.sh: build and test dependencies installed"
