/*
 * owd: one-way delay, rate and loss of a UDP stream, for the link
 * emulation's accuracy tests and benchmarks.  Sender and receiver run on
 * one host (in two network namespaces), so both read the same
 * CLOCK_MONOTONIC and the one-way delay of every datagram is exact.
 *
 *   owd send ADDRESS PORT --pps N --count N --size BYTES
 *   owd recv PORT --timeout-ms N [--overhead BYTES]
 *
 * Each datagram carries its sequence number, its send time and the
 * stream's length.  The receiver stops when it has the last datagram and
 * then some quiet (or at the timeout), and prints one line of key=value:
 *   sent received lost reordered delay_us_{min,med,mean,p99,max}
 *   jitter_us (standard deviation of the delay) rate_kbps gap_us_max (the
 *   longest time between two arrivals: an outage)
 * rate_kbps is what arrived between the first and the last datagram, at
 * the size each had on the link (payload + --overhead: the headers below
 * the payload that the link carries, e.g. 90 for cnw's IPv4 overlay).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct owd_hdr {
	uint64_t seq;
	uint64_t sent_ns;
	uint64_t total;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
usage(void)
{
	fprintf(stderr, "usage: owd send ADDRESS PORT --pps N --count N --size BYTES\n"
	    "       owd recv PORT --timeout-ms N [--overhead BYTES]\n");
	exit(2);
}

static unsigned long long
num(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*end != '\0' || end == s)
		usage();
	return v;
}

static int
owd_send(int argc, char **argv)
{
	unsigned long long pps = 1000, count = 1000, size = 200;
	struct sockaddr_in to = { .sin_family = AF_INET };
	char buf[65536];
	uint64_t start, gap;
	int fd;

	if (argc < 4 || inet_pton(AF_INET, argv[2], &to.sin_addr) != 1)
		usage();
	to.sin_port = htons((uint16_t)num(argv[3]));
	for (int i = 4; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--pps") == 0)
			pps = num(argv[i + 1]);
		else if (strcmp(argv[i], "--count") == 0)
			count = num(argv[i + 1]);
		else if (strcmp(argv[i], "--size") == 0)
			size = num(argv[i + 1]);
		else
			usage();
	}
	if (pps == 0 || size < sizeof(struct owd_hdr) || size > sizeof(buf))
		usage();
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
		perror("owd: socket");
		return 1;
	}
	memset(buf, 0xa5, sizeof(buf));
	gap = 1000000000ull / pps;
	start = now_ns() + 1000000;
	for (uint64_t seq = 0; seq < count; seq++) {
		struct owd_hdr h = { seq, 0, count };
		uint64_t due = start + seq * gap, t;

		/* Sleep while far from due, then spin: the spacing is the test's input. */
		while ((t = now_ns()) < due) {
			if (due - t > 200000) {
				struct timespec ts = { 0, (long)(due - t - 100000) };
				nanosleep(&ts, NULL);
			}
		}
		h.sent_ns = now_ns();
		memcpy(buf, &h, sizeof(h));
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&to, sizeof(to)) < 0 &&
		    errno != ENOBUFS && errno != EAGAIN) {
			perror("owd: sendto");
			return 1;
		}
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
owd_recv(int argc, char **argv)
{
	unsigned long long timeout_ms = 10000, overhead = 0;
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	static char buf[65536];
	uint64_t *delay = NULL, total = 0, n = 0, cap = 0, reordered = 0, last_seq = 0;
	uint64_t first_ns = 0, last_ns = 0, bytes_after_first = 0, deadline, end_quiet = 0;
	uint64_t gap_max = 0;
	int fd, have_last = 0, rcvbuf = 16 << 20;

	if (argc < 3)
		usage();
	me.sin_port = htons((uint16_t)num(argv[2]));
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--timeout-ms") == 0)
			timeout_ms = num(argv[i + 1]);
		else if (strcmp(argv[i], "--overhead") == 0)
			overhead = num(argv[i + 1]);
		else
			usage();
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("owd: bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	printf("ready\n");
	fflush(stdout);
	deadline = now_ns() + timeout_ms * 1000000ull;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ns(), until = end_quiet ? end_quiet : deadline;
		struct owd_hdr h;
		ssize_t r;

		if (t >= until || t >= deadline)
			break;
		if (poll(&p, 1, (int)((until - t) / 1000000 + 1)) <= 0)
			continue;
		if ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) < (ssize_t)sizeof(h))
			continue;
		t = now_ns();
		memcpy(&h, buf, sizeof(h));
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			if ((delay = realloc(delay, cap * sizeof(*delay))) == NULL)
				return 1;
		}
		delay[n++] = t > h.sent_ns ? t - h.sent_ns : 0;
		if (n > 1 && h.seq < last_seq)
			reordered++;
		last_seq = h.seq;
		total = h.total;
		if (last_ns != 0 && t - last_ns > gap_max)
			gap_max = t - last_ns;
		if (first_ns == 0)
			first_ns = t;
		else
			bytes_after_first += (uint64_t)r + overhead;
		last_ns = t;
		if (h.seq + 1 == h.total)
			have_last = 1;
		/* After the last one, a little while for stragglers (jitter). */
		if (have_last && end_quiet == 0)
			end_quiet = t + 300000000ull;
		if (n >= total && total > 0)
			break;
	}
	double mean = 0, var = 0;
	for (uint64_t i = 0; i < n; i++)
		mean += (double)delay[i];
	mean = n ? mean / (double)n : 0;
	for (uint64_t i = 0; i < n; i++)
		var += ((double)delay[i] - mean) * ((double)delay[i] - mean);
	var = n > 1 ? var / (double)(n - 1) : 0;
	if (n > 0)
		qsort(delay, n, sizeof(*delay), cmp_u64);
	printf("sent=%llu received=%llu lost=%lld reordered=%llu delay_us_min=%.1f "
	    "delay_us_med=%.1f delay_us_mean=%.1f delay_us_p99=%.1f delay_us_max=%.1f "
	    "jitter_us=%.1f rate_kbps=%.1f gap_us_max=%.1f\n",
	    (unsigned long long)total, (unsigned long long)n, (long long)total - (long long)n,
	    (unsigned long long)reordered, n ? (double)delay[0] / 1e3 : 0,
	    n ? (double)delay[n / 2] / 1e3 : 0, mean / 1e3,
	    n ? (double)delay[(n * 99) / 100] / 1e3 : 0, n ? (double)delay[n - 1] / 1e3 : 0,
	    sqrt(var) / 1e3,
	    last_ns > first_ns ? (double)bytes_after_first * 8e6 / (double)(last_ns - first_ns) : 0,
	    (double)gap_max / 1e3);
	free(delay);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "send") == 0)
		return owd_send(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "recv") == 0)
		return owd_recv(argc, argv);
	usage();
}
