# cli/: cnwctl, the command-line client of the REST API (cli/cnwctl.h says
# which file does what).
bin_PROGRAMS += cli/cnwctl
cli_cnwctl_SOURCES = cli/cnwctl.c cli/cnwctl.h cli/cnwctl_commands.c \
	cli/cnwctl_options.c cli/cnwctl_policy.c cli/cnwctl_token.c \
	cli/cnwctl_http.c cli/cnwctl_events.c cli/cnwctl_exec.c \
	cli/cnwctl_output.c cli/cnwctl_output.h cli/cnwctl_format.c \
	cli/cnwctl_format.h cli/cnwctl_driver.c cli/cnwctl_driver.h
cli_cnwctl_LDADD = $(HAL_LIBS) $(CURL_LIBS) $(JANSSON_LIBS)
