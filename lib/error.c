/*
 * Filling a struct cnw_error; see error.h for the convention.
 */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

int
cnw_err(struct cnw_error *err, enum cnw_errkind kind, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}
