# bench: spaprov-bench, the resync-path benchmark (issue 8; bench/README.md).
# Built by `make` (no extra dependencies); run with bench/run.sh, which
# needs nginx-light and apache2 only for the comparison (bench/install-deps.sh).
# It compiles server/tls.c (the per-CA priorities and DH group spaprovd
# uses) and server/ledger.c (to drive the group commit) into the bench.
noinst_PROGRAMS += bench/spaprov-bench
bench_spaprov_bench_SOURCES = bench/spaprov-bench.c bench/bench.h \
	bench/util.c bench/pki.c bench/client.c bench/baseline.c \
	bench/targets.c bench/inventory.c \
	server/tls.c server/tls.h server/ledger.c server/ledger.h
bench_spaprov_bench_LDADD = $(SPAPROV_LIBS)
EXTRA_DIST += bench/README.md bench/run.sh bench/install-deps.sh
