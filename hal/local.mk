# hal/: the driver ABI, the driver host, the built-in drivers, link
# emulation, interface discovery and plug-in signatures.
noinst_LIBRARIES += hal/libhal.a
hal_libhal_a_SOURCES = \
	hal/driver.h hal/host.c hal/host.h hal/host_impl.h hal/host_setup.c hal/drivers.c hal/drv_tap.c hal/drv_udp.c \
	hal/afpacket.h hal/afpacket_open.c hal/drv_afpacket.c \
	hal/emu.c hal/emu.h \
	hal/discover.c hal/discover.h hal/discover_int.h hal/discover_kind.c \
	hal/discover_table.c hal/discover_link.c \
	hal/sign.c hal/sign.h

# The driver ABI, for plug-ins built outside the tree (examples/drivers).
cnwincludedir = $(includedir)/cnw
cnwinclude_HEADERS = hal/driver.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = cnw-driver.pc
