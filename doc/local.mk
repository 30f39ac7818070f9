# doc: manual pages and the code style.
dist_man_MANS = doc/spaprovd.8 doc/spaprovctl.8 doc/spaprov.conf.5
