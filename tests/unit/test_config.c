/*
 * cnwd.conf parsing: every key, every error with its line number, all
 * errors reported (not only the first), and the listen address parser.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cnwd/conf.h"
#include "lib/addr.h"
#include "lib/log.h"

static char path[64];

static unsigned
load(const char *text, struct cnwd_config *cfg, struct config_errors *errs)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/cnw-test-conf.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	config_defaults(cfg);
	memset(errs, 0, sizeof(*errs));
	unsigned n = config_load(path, 1, cfg, errs);
	unlink(path);
	return n;
}

static void
test_all_keys(void **state)
{
	struct cnwd_config cfg;
	struct config_errors errs;

	assert_int_equal(load("# comment\n; another\n\n[cnwd]\nstate_dir = /srv/cnw\n"
	    "run_dir=/run/x\ninstance = edge\nlog_level = debug\n[api]\nlisten = 127.0.0.1:8443\n",
	    &cfg, &errs), 0);
	assert_string_equal(cfg.state_dir, "/srv/cnw");
	assert_string_equal(cfg.run_dir, "/run/x");
	assert_string_equal(cfg.instance, "edge");
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_string_equal(cfg.listen, "127.0.0.1:8443");
	assert_int_equal(cfg.listen_addr.ss_family, AF_INET);
}

static void
test_defaults(void **state)
{
	struct cnwd_config cfg;
	struct config_errors errs;

	assert_int_equal(load("", &cfg, &errs), 0);
	assert_string_equal(cfg.state_dir, "/var/lib/cnw");
	assert_string_equal(cfg.run_dir, "/run/cnw");
	assert_string_equal(cfg.instance, "cnw");
	assert_string_equal(cfg.listen, "");
}

static void
test_every_error_has_its_line(void **state)
{
	struct cnwd_config cfg;
	struct config_errors errs;
	char want[128];

	assert_int_equal(load("[cnwd]\n"			/* 1 */
	    "state_dir = relative\n"				/* 2 */
	    "nonsense line\n"					/* 3 */
	    "log_level = loud\n"				/* 4 */
	    "color = blue\n"					/* 5 */
	    "[bogus]\n"						/* 6 */
	    "x = 1\n"						/* 7 */
	    "[cnwd]\n"						/* 8 */
	    "instance = Edge\n"					/* 9 */
	    "log_level = info\n"				/* 10 */
	    "log_level = info\n",				/* 11 */
	    &cfg, &errs), 8);
	snprintf(want, sizeof(want), "%s:2: \"relative\" is not an absolute path\n", path);
	assert_non_null(strstr(errs.text, want));
	snprintf(want, sizeof(want), "%s:3: expected", path);
	assert_non_null(strstr(errs.text, want));
	snprintf(want, sizeof(want), "%s:4: log_level \"loud\"", path);
	assert_non_null(strstr(errs.text, want));
	snprintf(want, sizeof(want), "%s:5: unknown key \"color\" in [cnwd]", path);
	assert_non_null(strstr(errs.text, want));
	snprintf(want, sizeof(want), "%s:6: unknown section [bogus]", path);
	assert_non_null(strstr(errs.text, want));
	snprintf(want, sizeof(want), "%s:9: instance \"Edge\"", path);
	assert_non_null(strstr(errs.text, want));
	/* a bad value still counts as set: line 10 repeats line 4 */
	snprintf(want, sizeof(want), "%s:10: log_level is already set on line 4", path);
	assert_non_null(strstr(errs.text, want));
	snprintf(want, sizeof(want), "%s:11: log_level is already set on line 4", path);
	assert_non_null(strstr(errs.text, want));
}

static void
test_tls_pairs(void **state)
{
	struct cnwd_config cfg;
	struct config_errors errs;
	char want[160];

	assert_int_equal(load("[api]\nlisten = 127.0.0.1:1\ntls_cert = /etc/hostname\n", &cfg, &errs), 1);
	snprintf(want, sizeof(want), "%s:3: tls_cert is set without tls_key", path);
	assert_non_null(strstr(errs.text, want));
	assert_int_equal(load("[api]\ntls_cert = /nonexistent/c.pem\ntls_key = /nonexistent/k.pem\n",
	    &cfg, &errs), 2);
	snprintf(want, sizeof(want), "%s:2: tls_cert /nonexistent/c.pem: No such file", path);
	assert_non_null(strstr(errs.text, want));
}

static void
test_missing_file(void **state)
{
	struct cnwd_config cfg;
	struct config_errors errs = { 0 };

	config_defaults(&cfg);
	assert_int_equal(config_load("/nonexistent/cnwd.conf", 0, &cfg, &errs), 0);
	assert_int_equal(config_load("/nonexistent/cnwd.conf", 1, &cfg, &errs), 1);
	assert_non_null(strstr(errs.text, "/nonexistent/cnwd.conf: No such file or directory"));
}

static void
test_listen_parser(void **state)
{
	static const char *const good[] = { "127.0.0.1:8443", "0.0.0.0:1", "[::1]:443", "[::]:65535" };
	static const char *const bad[] = { "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
		"localhost:80", "::1:80", "[::1]80", "[::1]:", "1.2.3.4:-1", "1.2.3.4: 80", "[1.2.3.4]:80" };
	struct sockaddr_storage ss;
	socklen_t len;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(addr_endpoint_parse(good[i], &ss, &len), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_endpoint_parse(bad[i], &ss, &len), -1);
	assert_int_equal(addr_endpoint_parse("[::1]:443", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 443);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_error_has_its_line),
		cmocka_unit_test(test_tls_pairs),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_listen_parser),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
