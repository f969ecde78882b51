/*
 * cnwctl_format.h: how one value of a reply reads in a table or a
 * "key: value" line (cnwctl_format.c).
 *
 * Each function makes a newly allocated string, control characters and
 * all, of the value a field's path leads to (NULL when the reply has
 * none); it returns NULL only when memory runs out.  The views of
 * cnwctl_output.c name them.
 */
#ifndef CNWCTL_FORMAT_H
#define CNWCTL_FORMAT_H

#include <jansson.h>

typedef char *ctl_field_format(const json_t *value);

/* The value as it is: scalars, flat lists and objects on one line. */
ctl_field_format ctl_format_value;

/* Fields that read better put together, or with their units. */
ctl_field_format ctl_format_link, ctl_format_emu_dir, ctl_format_speed,
    ctl_format_rx_rate, ctl_format_tx_rate, ctl_format_capacity,
    ctl_format_path, ctl_format_match, ctl_format_all_uplinks,
    ctl_format_rate_kbps, ctl_format_latency, ctl_format_burst,
    ctl_format_none, ctl_format_source, ctl_format_destination,
    ctl_format_age;

/* Follows a dotted path ("sandbox.cap_eff") through nested objects. */
const json_t *ctl_lookup(const json_t *object, const char *path);

/* Masks control characters so a reply cannot drive the terminal. */
char *ctl_sanitize(char *text);

#endif /* CNWCTL_FORMAT_H */
