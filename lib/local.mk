# lib/: what any part may use and that knows nothing of cnw's nouns:
# errors, logs, the event loop, messages, SQLite, netlink, namespaces,
# the sandbox, tokens, TLS, prefixes and endpoints.
noinst_LIBRARIES += lib/libcnw.a
lib_libcnw_a_SOURCES = \
	lib/util.c lib/util.h \
	lib/error.c lib/error.h \
	lib/log.c lib/log.h \
	lib/msg.c lib/msg.h \
	lib/ev.c lib/ev.h \
	lib/token.c lib/token.h \
	lib/store.c lib/store.h \
	lib/sandbox.c lib/sandbox.h \
	lib/tls.c lib/tls.h \
	lib/addr.c lib/addr.h \
	lib/nl.c lib/nl.h \
	lib/netns.c lib/netns.h \
	lib/tun.c lib/tun.h
