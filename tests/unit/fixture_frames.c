/*
 * Frames for a driver test; see fixture_frames.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hal/driver.h"
#include "tests/unit/fixture_frames.h"

struct hal_frame *
fixture_frames_new(unsigned n, uint32_t cap)
{
	struct hal_frame *f = calloc(n, sizeof(*f));

	assert_non_null(f);
	for (unsigned i = 0; i < n; i++) {
		f[i].data = calloc(1, cap);
		assert_non_null(f[i].data);
		f[i].cap = cap;
	}
	return f;
}

void
fixture_frames_free(struct hal_frame *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(f[i].data);
	free(f);
}
