# tenants/: the domain: tenants, networks, routes, uplinks, peers and
# policies, their rules and their rows in the store.
noinst_LIBRARIES += tenants/libtenants.a
tenants_libtenants_a_SOURCES = \
	tenants/row.h tenants/row.c tenants/tenant.h tenants/validate.c tenants/tenant.c \
	tenants/tenant_store.c \
	tenants/network.h tenants/network_check.c tenants/network.c tenants/network_kernel.c \
	tenants/uplink.h tenants/uplink.c \
	tenants/policy.h tenants/policy.c
