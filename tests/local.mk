# tests: phone emulators for the integration tests and benchmarks.
# phone-emu: GnuTLS phone client (firmware TLS profiles, mutual TLS).
# sslv2-client.py: raw TLS 1.0 client opening with an SSLv2-format hello
# (run with /usr/bin/python3 and python3-cryptography).
check_PROGRAMS += tests/phone-emu
tests_phone_emu_SOURCES = tests/phone-emu.c
tests_phone_emu_LDADD = $(GNUTLS_LIBS)

EXTRA_DIST += tests/sslv2-client.py

# Integration tests: the real daemon on loopback ports (TAP, bash).
SH_LOG_COMPILER = bash
INTEGRATION_TESTS = \
	tests/integration/resync.sh \
	tests/integration/config-errors.sh \
	tests/integration/ctl-check.sh \
	tests/integration/ctl-device.sh \
	tests/integration/ctl-import.sh \
	tests/integration/ctl-profile-history.sh \
	tests/integration/service.sh \
	tests/integration/install.sh \
	tests/integration/independent-clients.sh \
	tests/integration/limits.sh \
	tests/integration/crash.sh \
	tests/integration/resume.sh \
	tests/integration/pkcs11.sh \
	tests/integration/fleet-steer.sh \
	tests/integration/fleet-enc.sh \
	tests/integration/slowloris.sh \
	tests/integration/ctl-load.sh \
	tests/integration/faults.sh \
	tests/integration/request-limits.sh \
	tests/integration/per-ip-limit.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/integration/lib.sh $(INTEGRATION_TESTS)
