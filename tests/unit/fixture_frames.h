/*
 * Frames for a driver test: hal_frame records over buffers of their own,
 * as the driver host would lend them.
 */
#ifndef CNW_FIXTURE_FRAMES_H
#define CNW_FIXTURE_FRAMES_H

#include <stdint.h>

struct hal_frame;

/* n frames over freshly allocated, zeroed buffers of cap bytes each. */
struct hal_frame *fixture_frames_new(unsigned n, uint32_t cap);
void fixture_frames_free(struct hal_frame *f, unsigned n);

#endif
