# cli/: cnwctl, the command-line client of the REST API.
bin_PROGRAMS += cli/cnwctl
cli_cnwctl_SOURCES = cli/cnwctl.c cli/cnwctl_output.c cli/cnwctl_output.h \
	cli/cnwctl_driver.c cli/cnwctl_driver.h
cli_cnwctl_LDADD = $(HAL_LIBS) $(CURL_LIBS) $(JANSSON_LIBS)
