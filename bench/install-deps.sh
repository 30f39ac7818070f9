#!/bin/sh
# Dependencies of bench/run.sh beyond the build's own (contrib/install-deps.sh):
# nginx and Apache httpd + mod_ssl for the side-by-side comparison,
# SoftHSM2 for the PKCS#11 server-key figure, strace/perf are optional.
# Debian 12, as root.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq nginx-light apache2 softhsm2 gnutls-bin
# The packages start their own services on ports 80/443; the bench needs
# neither (it starts its own instances on 127.0.0.1 with temp configs).
for svc in nginx apache2; do
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl stop "$svc" 2>/dev/null || true
		systemctl disable "$svc" 2>/dev/null || true
	fi
done
echo "bench dependencies installed"
