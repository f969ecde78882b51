/*
 * The structured error of cnw's library code (after crun's libcrun_error_t).
 *
 * A function that can fail takes `struct cnw_error *err` last, fills it with
 * cnw_err() and returns -1; its caller's idiom is one line:
 *
 *	if (store_tenant_get(st, name, &t, err) < 0)
 *		return -1;
 *
 * The kind maps one to one onto the HTTP status the API answers with, so an
 * error made deep in the store reaches the user unchanged.  The message is
 * written for the user: it names the object and says what is wrong.
 */
#ifndef CNW_ERROR_H
#define CNW_ERROR_H

enum cnw_errkind {
	CNW_EINVAL = 400,	/* bad input */
	CNW_EAUTH = 401,	/* no or wrong credentials */
	CNW_EPERM = 403,	/* authenticated, not allowed */
	CNW_ENOENT = 404,	/* no such object */
	CNW_EEXIST = 409,	/* conflicts with existing state */
	CNW_EINTERNAL = 500,	/* our fault; logged */
	CNW_EUNAVAIL = 503,	/* a process we need did not answer */
};

#define CNW_ERRMSG_MAX 256

struct cnw_error {
	int kind;			/* enum cnw_errkind, 0 when unset */
	char msg[CNW_ERRMSG_MAX];
};

int cnw_err(struct cnw_error *err, enum cnw_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
