/*
 * cnwctl_format.c: how one value of an API reply reads for a person.
 *
 * Values are taken verbatim from the reply (no client-side
 * reinterpretation), with control characters masked so a reply cannot
 * drive the terminal: "-" for what is absent, null or empty, "yes"/"no"
 * for booleans, a list or object of plain values on one line ("wan1,wan2"
 * for a network's uplinks, "wan1=ADDR:PORT,wan2=..." for a peer's
 * endpoints), anything nested as compact JSON.  A few fields read better
 * put together than verbatim (an uplink's link with the reason it is
 * down, an interface's speed with its duplex, one direction of an
 * emulation with its units, a policy's match as one phrase, a flow's
 * address with its port, an uplink's path with its measures): each has a
 * formatter here, which the views of cnwctl_output.c name.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cnwctl_format.h"
#include "cli/cnwctl_output.h"

/* Follows a dotted path ("sandbox.cap_eff") through nested objects. */
const json_t *
ctl_lookup(const json_t *object, const char *path)
{
	while (object != NULL && *path != '\0') {
		size_t len = strcspn(path, ".");

		object = json_object_getn(object, path, len);
		path += len + (path[len] == '.');
	}
	return object;
}

/* Masks control characters so a reply cannot drive the terminal. */
char *
ctl_sanitize(char *text)
{
	unsigned char *p;

	for (p = (unsigned char *)text; p != NULL && *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return text;
}

static char *
ctl_format_number(const json_t *value)
{
	char *text = NULL;
	int len;

	if (json_is_integer(value))
		len = asprintf(&text, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(value));
	else
		len = asprintf(&text, "%g", json_real_value(value));
	return len < 0 ? NULL : text;
}

/* A scalar: "-" for null, "yes"/"no" for booleans; NULL for the rest. */
static char *
ctl_format_scalar(const json_t *value)
{
	if (value == NULL || json_is_null(value))
		return strdup("-");
	if (json_is_string(value))
		return strdup(json_string_length(value) > 0 ?
		    json_string_value(value) : "-");
	if (json_is_number(value))
		return ctl_format_number(value);
	if (json_is_boolean(value))
		return strdup(json_is_true(value) ? "yes" : "no");
	return NULL;
}

static bool
ctl_is_scalar(const json_t *value)
{
	return !json_is_array(value) && !json_is_object(value);
}

/* Whether VALUE is a list or object of scalars only, and not empty. */
static bool
ctl_is_flat(const json_t *value)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_array_size(value) == 0 && json_object_size(value) == 0)
		return false;
	json_array_foreach(value, i, item) {
		if (!ctl_is_scalar(item))
			return false;
	}
	json_object_foreach((json_t *)value, key, item) {
		if (!ctl_is_scalar(item))
			return false;
	}
	return true;
}

/* Writes ",KEY=VALUE" (no comma first, no "KEY=" for a list's item). */
static int
ctl_write_item(FILE *out, bool first, const char *key, const json_t *value)
{
	char *text = ctl_format_scalar(value);
	int rc = -1;

	if (text != NULL &&
	    fprintf(out, "%s%s%s%s", first ? "" : ",", key != NULL ? key : "",
		    key != NULL ? "=" : "", text) >= 0)
		rc = 0;
	free(text);
	return rc;
}

/*
 * A flat list as "a,b" (the uplinks of a network), a flat object as
 * "k=v,k=v" (the endpoints of a peer), in the reply's order.
 */
static char *
ctl_format_joined(const json_t *value)
{
	const char *key;
	json_t *item;
	char *text = NULL;
	size_t len = 0, i;
	bool first = true;
	int rc = 0;
	FILE *out = open_memstream(&text, &len);

	if (out == NULL)
		return NULL;
	json_array_foreach(value, i, item) {
		rc |= ctl_write_item(out, first, NULL, item);
		first = false;
	}
	json_object_foreach((json_t *)value, key, item) {
		rc |= ctl_write_item(out, first, key, item);
		first = false;
	}
	if (fclose(out) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}

char *
ctl_format_value(const json_t *value)
{
	if (ctl_is_scalar(value))
		return ctl_format_scalar(value);
	if (json_array_size(value) == 0 && json_object_size(value) == 0)
		return strdup("-");
	if (ctl_is_flat(value))
		return ctl_format_joined(value);
	/* Nested objects and arrays stay compact JSON. */
	return json_dumps(value, JSON_COMPACT);
}

char *
ctl_output_value(const json_t *object, const char *path)
{
	return ctl_sanitize(ctl_format_value(ctl_lookup(object, path)));
}

/* "up", or "down (REASON)" when the uplink says why. */
char *
ctl_format_link(const json_t *uplink)
{
	const char *link = json_string_value(json_object_get(uplink, "link"));
	const char *reason = json_string_value(json_object_get(uplink,
	    "link_reason"));
	char *text = NULL;

	if (link == NULL || *link == '\0')
		return strdup("-");
	if (reason == NULL || *reason == '\0' || strcmp(link, "down") != 0)
		return strdup(link);
	if (asprintf(&text, "%s (%s)", link, reason) < 0)
		return NULL;
	return text;
}

/*
 * One direction of an emulation, as the API has it (rate_kbps, delay_ms,
 * ...), shown with its units: what a field's 0 or null means is said in
 * words, since "rate 0" would read as "nothing passes".
 */
static const struct ctl_emu_shown {
	const char *key;	/* in the direction's object */
	const char *label;
	const char *unit;
	const char *none;	/* shown for null or 0; NULL: the number */
} ctl_emu_shown[] = {
	{ "rate_kbps", "rate", "kbit/s", "unlimited" },
	{ "delay_ms", "delay", "ms", NULL },
	{ "jitter_ms", "jitter", "ms", NULL },
	{ "loss_percent", "loss", "%", NULL },
	{ "slot_ms", "slot", "ms", "none" },
	{ "queue_kb", "queue", "KiB", "default" },
};

static int
ctl_write_emu_item(FILE *out, const struct ctl_emu_shown *shown,
    const json_t *value)
{
	char *number;
	int rc;

	if (shown->none != NULL && (json_is_null(value) ||
	    (json_is_number(value) && json_number_value(value) == 0)))
		return fprintf(out, " %s=%s", shown->label, shown->none) < 0 ?
		    -1 : 0;
	if (value == NULL || json_is_null(value))
		return fprintf(out, " %s=-", shown->label) < 0 ? -1 : 0;
	if ((number = ctl_format_value(value)) == NULL)
		return -1;
	rc = fprintf(out, " %s=%s%s", shown->label, number,
	    json_is_number(value) ? shown->unit : "") < 0 ? -1 : 0;
	free(number);
	return rc;
}

/* "rate=50000kbit/s delay=20ms jitter=5ms loss=0.5% slot=none ...". */
char *
ctl_format_emu_dir(const json_t *dir)
{
	char *text = NULL;
	size_t len = 0, i;
	int rc = 0;
	FILE *out;

	if (!json_is_object(dir))
		return strdup("-");
	if ((out = open_memstream(&text, &len)) == NULL)
		return NULL;
	for (i = 0; i < sizeof ctl_emu_shown / sizeof ctl_emu_shown[0]; i++)
		rc |= ctl_write_emu_item(out, &ctl_emu_shown[i],
		    json_object_get(dir, ctl_emu_shown[i].key));
	if (fclose(out) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	/* Each item wrote its separating space first. */
	memmove(text, text + 1, len);
	return text;
}

/* "10000 full", "100" without a duplex, "-" without a speed. */
char *
ctl_format_speed(const json_t *iface)
{
	const json_t *speed = json_object_get(iface, "speed_mbps");
	const char *duplex = json_string_value(json_object_get(iface,
	    "duplex"));
	char *text = NULL;

	if (!json_is_integer(speed))
		return strdup("-");
	if (asprintf(&text, "%" JSON_INTEGER_FORMAT "%s%s",
	    json_integer_value(speed),
	    duplex != NULL && *duplex != '\0' ? " " : "",
	    duplex != NULL ? duplex : "") < 0)
		return NULL;
	return text;
}

/*
 * "1234567 bit/s, 812.5 packets/s" from an interface's metrics; the rates
 * are reals, which %g would write as 1.23457e+06.
 */
static char *
ctl_format_rate(const json_t *metrics, const char *bps_key, const char *pps_key)
{
	const json_t *bps = json_object_get(metrics, bps_key);
	const json_t *pps = json_object_get(metrics, pps_key);
	char *text = NULL;

	if (!json_is_number(bps) || !json_is_number(pps))
		return strdup("-");
	if (asprintf(&text, "%.0f bit/s, %.1f packets/s",
	    json_number_value(bps), json_number_value(pps)) < 0)
		return NULL;
	return text;
}

char *
ctl_format_rx_rate(const json_t *metrics)
{
	return ctl_format_rate(metrics, "rx_bps", "rx_pps");
}

char *
ctl_format_tx_rate(const json_t *metrics)
{
	return ctl_format_rate(metrics, "tx_bps", "tx_pps");
}

/*
 * Milliseconds or percent from the API's reals: three significant digits
 * ("40.2", "0.125"), whole above 100 ("280"), as %g alone would not.
 */
static int
ctl_write_real(FILE *out, const json_t *value, const char *unit)
{
	double x = json_number_value(value);

	if (!json_is_number(value))
		return fprintf(out, "-") < 0 ? -1 : 0;
	return fprintf(out, x >= 100 ? "%.0f%s" : "%.3g%s", x, unit) < 0 ?
	    -1 : 0;
}

/* A number with its unit, or WORD for null or 0 ("none", "default"). */
static char *
ctl_format_with_unit(const json_t *value, const char *unit, const char *word)
{
	char *text = NULL;

	if (!json_is_integer(value) || json_integer_value(value) == 0)
		return strdup(word);
	if (asprintf(&text, "%" JSON_INTEGER_FORMAT "%s",
	    json_integer_value(value),
	    unit) < 0)
		return NULL;
	return text;
}

/* An uplink's capacity_kbps: "10000kbit/s", or "unknown". */
char *
ctl_format_capacity(const json_t *value)
{
	return ctl_format_with_unit(value, "kbit/s", "unknown");
}

/* A policy's rate_kbps, burst_kb, max_latency_ms; null is "-" or "default". */
char *
ctl_format_rate_kbps(const json_t *value)
{
	return ctl_format_with_unit(value, "kbit/s", "-");
}

char *
ctl_format_burst(const json_t *value)
{
	return ctl_format_with_unit(value, "KiB", "default");
}

char *
ctl_format_latency(const json_t *value)
{
	return ctl_format_with_unit(value, "ms", "-");
}

/* A policy's uplinks: empty is all of the network's. */
char *
ctl_format_all_uplinks(const json_t *value)
{
	if (json_array_size(value) == 0)
		return strdup("all");
	return ctl_format_value(value);
}

/* A flow's policy: null is the default. */
char *
ctl_format_none(const json_t *value)
{
	return value == NULL || json_is_null(value) ? strdup("none (default)") :
	    ctl_format_value(value);
}

/* Writes " KEYWORD VALUE" for the member KEY of a match, if it is there. */
static int
ctl_write_match_item(FILE *out, const json_t *match, const char *key,
    const char *keyword)
{
	const json_t *value = json_object_get(match, key);
	char *text;
	int rc;

	if (value == NULL)
		return 0;
	if ((text = ctl_format_value(value)) == NULL)
		return -1;
	rc = fprintf(out, " %s%s%s", keyword, *keyword != '\0' ? " " : "",
	    text) < 0 ? -1 : 0;
	free(text);
	return rc;
}

/*
 * A policy's match as one phrase, in the order a reader says it:
 * "udp dport 5000-5100 dst 10.2.0.0/24 dscp 34,46"; "*" matches all.
 */
char *
ctl_format_match(const json_t *match)
{
	static const struct {
		const char *key, *keyword;
	} items[] = {
		{ "protocol", "" },
		{ "src_ports", "sport" },
		{ "dst_ports", "dport" },
		{ "src_prefix", "src" },
		{ "dst_prefix", "dst" },
		{ "dscp", "dscp" },
	};
	char *text = NULL;
	size_t len = 0, i;
	int rc = 0;
	FILE *out;

	if (json_object_size(match) == 0)
		return strdup("*");
	if ((out = open_memstream(&text, &len)) == NULL)
		return NULL;
	for (i = 0; i < sizeof items / sizeof items[0]; i++)
		rc |= ctl_write_match_item(out, match, items[i].key,
		    items[i].keyword);
	if (fclose(out) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	if (len == 0) {		/* only members this cnwctl does not know */
		free(text);
		return json_dumps(match, JSON_COMPACT);
	}
	/* Each item wrote its separating space first. */
	memmove(text, text + 1, len);
	return text;
}

/*
 * A flow's address and port: "10.1.0.2:40000", "[fd00::2]:443"; the
 * address alone for a protocol without ports (an ICMP echo's id is no
 * port).
 */
static char *
ctl_format_address(const json_t *flow, const char *addr_key,
    const char *port_key)
{
	static const char *const with_ports[] = {
		"tcp", "udp", "sctp", "udplite",
	};
	const char *addr, *proto;
	const json_t *port = json_object_get(flow, port_key);
	bool has_ports = false;
	char *text = NULL;
	size_t i;

	addr = json_string_value(json_object_get(flow, addr_key));
	proto = json_string_value(json_object_get(flow, "protocol"));
	if (addr == NULL)
		return strdup("-");
	for (i = 0; proto != NULL && i < sizeof(with_ports) /
	    sizeof(with_ports[0]); i++)
		has_ports |= strcmp(proto, with_ports[i]) == 0;
	if (!has_ports || !json_is_integer(port))
		return strdup(addr);
	if (asprintf(&text, strchr(addr, ':') != NULL ?
	    "[%s]:%" JSON_INTEGER_FORMAT : "%s:%" JSON_INTEGER_FORMAT, addr,
	    json_integer_value(port)) < 0)
		return NULL;
	return text;
}

char *
ctl_format_source(const json_t *flow)
{
	return ctl_format_address(flow, "src", "src_port");
}

char *
ctl_format_destination(const json_t *flow)
{
	return ctl_format_address(flow, "dst", "dst_port");
}

/* Milliseconds as "850ms", "12.3s", "4m05s", "2h03m". */
char *
ctl_format_age(const json_t *value)
{
	json_int_t ms = json_integer_value(value);
	char *text = NULL;
	int len;

	if (!json_is_integer(value) || ms < 0)
		return strdup("-");
	if (ms < 1000)
		len = asprintf(&text, "%" JSON_INTEGER_FORMAT "ms", ms);
	else if (ms < 60000)
		len = asprintf(&text, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		len = asprintf(&text, "%dm%02ds", (int)(ms / 60000),
		    (int)(ms / 1000 % 60));
	else
		len = asprintf(&text, "%" JSON_INTEGER_FORMAT "h%02dm",
		    ms / 3600000, (int)(ms / 60000 % 60));
	return len < 0 ? NULL : text;
}

/* A member of PATH as a number: probes_sent is 2400, absent is 0. */
static json_int_t
ctl_path_count(const json_t *path, const char *key)
{
	return json_integer_value(json_object_get(path, key));
}

/* What ctl_format_path says after the peer, endpoint and state. */
static int
ctl_write_measures(FILE *out, const json_t *path)
{
	if (fputs(" rtt=", out) == EOF ||
	    ctl_write_real(out, json_object_get(path, "rtt_ms"), "ms") < 0 ||
	    fputs(" jitter=", out) == EOF ||
	    ctl_write_real(out, json_object_get(path, "jitter_ms"), "ms") < 0 ||
	    fputs(" loss=", out) == EOF ||
	    ctl_write_real(out, json_object_get(path, "loss_percent"),
	    "%") < 0)
		return -1;
	return fprintf(out, " probes=%" JSON_INTEGER_FORMAT "/%"
	    JSON_INTEGER_FORMAT, ctl_path_count(path, "probes_answered"),
	    ctl_path_count(path, "probes_sent")) < 0 ? -1 : 0;
}

/*
 * One path of an uplink: "gw 172.31.1.2:4789 up rtt=40.2ms jitter=1.5ms
 * loss=0.1% probes=2398/2400", "-" for what is not measured yet.
 */
char *
ctl_format_path(const json_t *path)
{
	char *peer = ctl_format_value(json_object_get(path, "peer"));
	char *endpoint = ctl_format_value(json_object_get(path, "endpoint"));
	char *state = ctl_format_value(json_object_get(path, "state"));
	char *text = NULL;
	size_t len = 0;
	int rc = -1;
	FILE *out = NULL;

	if (peer != NULL && endpoint != NULL && state != NULL &&
	    (out = open_memstream(&text, &len)) != NULL) {
		rc = fprintf(out, "%s %s %s", peer, endpoint, state) < 0 ? -1 :
		    ctl_write_measures(out, path);
		rc = fclose(out) != 0 || rc != 0 ? -1 : 0;
	}
	free(peer);
	free(endpoint);
	free(state);
	if (rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}
