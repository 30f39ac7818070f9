# ctl: the spaprovctl command-line tool.
bin_PROGRAMS += spaprovctl
spaprovctl_SOURCES = ctl/main.c ctl/ctl.h ctl/cmd_device.c \
	ctl/cmd_profile.c ctl/cmd_history.c ctl/cmd_labpki.c \
	ctl/out.c ctl/out.h
spaprovctl_LDADD = $(SPAPROV_LIBS)
