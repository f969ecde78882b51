# cnwd/: the parent process: start-up, the control requests, the data
# path's and the inventory's reconcile, the roles of its children.
noinst_LIBRARIES += cnwd/libcnwd.a
cnwd_libcnwd_a_SOURCES = \
	cnwd/cnwd.h cnwd/conf.c cnwd/conf.h cnwd/events.c cnwd/events.h \
	cnwd/control.c cnwd/control.h cnwd/control_nouns.c cnwd/control_ops.c \
	cnwd/roles.c cnwd/roles.h cnwd/role_worker.c cnwd/role_driver.c cnwd/proc.c cnwd/proc.h \
	cnwd/reconcile.c cnwd/reconcile.h \
	cnwd/datapath.c cnwd/datapath.h cnwd/datapath_int.h cnwd/datapath_worker.c \
	cnwd/datapath_driver.c cnwd/datapath_device.c cnwd/datapath_sched.c \
	cnwd/datapath_flows.c cnwd/datapath_metrics.c \
	cnwd/inventory.c cnwd/inventory.h

sbin_PROGRAMS += cnwd/cnwd
cnwd_cnwd_SOURCES = cnwd/cnwd.c

systemdsystemunit_DATA = cnwd/cnwd.service
EXTRA_DIST += cnwd/cnwd.service

install-data-local:
	$(MKDIR_P) $(DESTDIR)$(pkglibdir)/drivers $(DESTDIR)$(sysconfdir)/cnw/trusted-keys
