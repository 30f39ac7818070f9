# fuzz: libFuzzer targets for every parser, and their corpora.
#
# Each fuzz/fuzz_<t>.c defines LLVMFuzzerTestOneInput().  It is linked:
#  - always, with fuzz/replay.c into fuzz/replay_<t> (check_PROGRAMS), which
#    `make check` runs over the committed corpus fuzz/corpus/<t>/ through
#    fuzz/replay-corpora.sh;
#  - with --enable-fuzzing (CC=clang), with libFuzzer into fuzz/fuzz_<t>,
#    the library sources it covers compiled into it with coverage
#    instrumentation and sanitizers.  fuzz/run-fuzzers.sh builds and runs
#    them.
# To add a target: a fuzz_<t>.c, a corpus directory, the two blocks below
# and <t> in FUZZ_TARGETS of replay-corpora.sh and run-fuzzers.sh.

# The CSV reader of `spaprovctl device import` (ctl/csvimport.c) has no
# database in it: it lives in libspaprov.a so that spaprovctl and
# replay_csv link the same code.  (This line belongs in ctl/local.mk.)

FUZZ_SAN_FLAGS = -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer -g

check_PROGRAMS += fuzz/replay_ua fuzz/replay_ident fuzz/replay_tmpl \
	fuzz/replay_conf fuzz/replay_mac_path fuzz/replay_csv
TESTS += fuzz/replay-corpora.sh
EXTRA_DIST += fuzz/replay-corpora.sh fuzz/run-fuzzers.sh fuzz/README.md \
	fuzz/corpus

FUZZ_REPLAY_SOURCES = fuzz/replay.c fuzz/fuzz.h

fuzz_replay_ua_SOURCES = $(FUZZ_REPLAY_SOURCES) fuzz/fuzz_ua.c
fuzz_replay_ua_LDADD = $(SPAPROV_LIBS)
fuzz_replay_ident_SOURCES = $(FUZZ_REPLAY_SOURCES) fuzz/fuzz_ident.c
fuzz_replay_ident_LDADD = $(SPAPROV_LIBS)
fuzz_replay_tmpl_SOURCES = $(FUZZ_REPLAY_SOURCES) fuzz/fuzz_tmpl.c
fuzz_replay_tmpl_LDADD = $(SPAPROV_LIBS)
fuzz_replay_conf_SOURCES = $(FUZZ_REPLAY_SOURCES) fuzz/fuzz_conf.c
fuzz_replay_conf_LDADD = $(SPAPROV_LIBS)
fuzz_replay_mac_path_SOURCES = $(FUZZ_REPLAY_SOURCES) fuzz/fuzz_mac_path.c
fuzz_replay_mac_path_LDADD = $(SPAPROV_LIBS)
fuzz_replay_csv_SOURCES = $(FUZZ_REPLAY_SOURCES) fuzz/fuzz_csv.c
fuzz_replay_csv_LDADD = $(SPAPROV_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_ua fuzz/fuzz_ident fuzz/fuzz_tmpl \
	fuzz/fuzz_conf fuzz/fuzz_mac_path fuzz/fuzz_csv

fuzz_fuzz_ua_SOURCES = fuzz/fuzz_ua.c fuzz/fuzz.h ident/ua.c util/mac.c
fuzz_fuzz_ua_CFLAGS = $(AM_CFLAGS) $(FUZZ_SAN_FLAGS)
fuzz_fuzz_ua_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_SAN_FLAGS)

fuzz_fuzz_ident_SOURCES = fuzz/fuzz_ident.c fuzz/fuzz.h ident/ident.c \
	util/mac.c
fuzz_fuzz_ident_CFLAGS = $(AM_CFLAGS) $(FUZZ_SAN_FLAGS)
fuzz_fuzz_ident_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_SAN_FLAGS)
fuzz_fuzz_ident_LDADD = $(GNUTLS_LIBS)

fuzz_fuzz_tmpl_SOURCES = fuzz/fuzz_tmpl.c fuzz/fuzz.h tmpl/tmpl.c util/str.c
fuzz_fuzz_tmpl_CFLAGS = $(AM_CFLAGS) $(FUZZ_SAN_FLAGS)
fuzz_fuzz_tmpl_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_SAN_FLAGS)

fuzz_fuzz_conf_SOURCES = fuzz/fuzz_conf.c fuzz/fuzz.h conf/conf.c util/log.c \
	util/str.c
fuzz_fuzz_conf_CFLAGS = $(AM_CFLAGS) $(FUZZ_SAN_FLAGS)
fuzz_fuzz_conf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_SAN_FLAGS)

fuzz_fuzz_mac_path_SOURCES = fuzz/fuzz_mac_path.c fuzz/fuzz.h util/mac.c
fuzz_fuzz_mac_path_CFLAGS = $(AM_CFLAGS) $(FUZZ_SAN_FLAGS)
fuzz_fuzz_mac_path_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_SAN_FLAGS)

fuzz_fuzz_csv_SOURCES = fuzz/fuzz_csv.c fuzz/fuzz.h ctl/csvimport.c \
	ctl/csvimport.h tmpl/tmpl.c tmpl/builtins.c util/mac.c util/str.c
fuzz_fuzz_csv_CFLAGS = $(AM_CFLAGS) $(FUZZ_SAN_FLAGS)
fuzz_fuzz_csv_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_SAN_FLAGS)
fuzz_fuzz_csv_LDADD = $(CSV_LIBS)
endif
