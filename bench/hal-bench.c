/*
 * hal-bench: what a burst costs the driver host (hal/host.c) with the udp
 * driver, the driver the bottleneck, against the bare system calls in the
 * same run: the host's figure is printed as a ratio to its baseline, so a
 * loaded machine moves both and the ratio less.
 *
 *   rx  datagrams queued on the driver's socket beforehand, drained by the
 *       host into rx while this process recycles rx to fill as the worker
 *       would; baseline: the same datagrams drained by bare recvmmsg bursts
 *       of HAL_BURST in this process;
 *   tx  frames this process keeps the tx ring full of, sent by the host;
 *       baseline: the same datagrams sent by bare sendmmsg bursts.
 * 64-byte datagrams on loopback; the host's CPU time from
 * /proc/PID/schedstat, the baselines' from CLOCK_THREAD_CPUTIME_ID.  The
 * host runs in a child of its own, by the plain calls of hal/host.h (no
 * parent's messages: cnwd/role_driver.c is not measured).
 *
 * Prints; never decides pass or fail.
 *   bench/hal-bench [frames]   (default 50000)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hal/host.h"
#include "netfn/pool.h"
#include "netfn/port.h"
#include "netfn/shm.h"
#include "lib/log.h"
#include "lib/util.h"

#define BENCH_PORT 5
#define FRAME_LEN 64
#define WAIT_MS 20000

struct bench {
	pid_t pid;
	int sock;			/* ours; the host's end tells it we went */
	int kick_driver, kick_worker;
	struct shm shm;
	struct port_shm *port;
	struct pool *pool;
	struct ring *fill, *rx, *tx, *comp;
	int drv_fd, peer_fd;		/* the driver's socket, and the far end */
	struct sockaddr_in drv, peer;
};

static void __attribute__((noreturn))
die(const char *what)
{
	perror(what);
	exit(1);
}

static int
udp_local(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)a, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)a, &len) < 0)
		die("udp socket");
	return fd;
}

/* Queue up to n datagrams from fd to a; how many went. */
static unsigned
udp_queue(int fd, const struct sockaddr_in *a, unsigned n)
{
	uint8_t buf[FRAME_LEN];
	unsigned i;

	memset(buf, 'c', sizeof(buf));
	for (i = 0; i < n; i++)
		if (sendto(fd, buf, sizeof(buf), 0, (const struct sockaddr *)a, sizeof(*a)) < 0)
			break;
	return i;
}

static double
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU time a process has run, in nanoseconds (/proc/PID/schedstat). */
static double
proc_cpu_ns(pid_t pid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((f = fopen(path, "r")) == NULL || fscanf(f, "%llu", &ns) != 1)
		die(path);
	fclose(f);
	return (double)ns;
}

/* Baselines ----------------------------------------------------------------- */

/* A burst of messages, message j over data[j] of len bytes, to name (or from anyone). */
static void
mmsg_burst(struct mmsghdr *m, struct iovec *iov, uint8_t (*data)[FRAME_LEN * 2], size_t len,
    struct sockaddr_in *name)
{
	for (unsigned j = 0; j < HAL_BURST; j++) {
		iov[j] = (struct iovec){ .iov_base = data[j], .iov_len = len };
		memset(&m[j], 0, sizeof(m[j]));
		m[j].msg_hdr.msg_name = name;
		m[j].msg_hdr.msg_namelen = name != NULL ? sizeof(*name) : 0;
		m[j].msg_hdr.msg_iov = &iov[j];
		m[j].msg_hdr.msg_iovlen = 1;
	}
}

/*
 * Bare recvmmsg bursts over total datagrams queued beforehand (tx 0), or
 * bare sendmmsg bursts of total datagrams (tx 1): CPU ns per frame.
 */
static double
bare(unsigned total, int tx)
{
	struct sockaddr_in a, b;
	int fa = udp_local(&a), fb = udp_local(&b), big = 256 << 20;
	static uint8_t data[HAL_BURST][FRAME_LEN * 2];
	struct mmsghdr m[HAL_BURST];
	struct iovec iov[HAL_BURST];
	unsigned want = total, done = 0;
	double t0;

	if (!tx) {
		if (setsockopt(fa, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
			die("SO_RCVBUFFORCE");
		want = udp_queue(fb, &a, total);
	}
	t0 = thread_cpu_ns();
	while (done < want) {
		int r;

		/* Rebuilt per burst, as a receiver must (recvmmsg writes into it). */
		mmsg_burst(m, iov, data, tx ? FRAME_LEN : sizeof(data[0]), tx ? &b : NULL);
		r = tx ? sendmmsg(fa, m, HAL_BURST, MSG_DONTWAIT) :
		    recvmmsg(fa, m, HAL_BURST, MSG_DONTWAIT, NULL);
		if (r <= 0 && (!tx || errno != EAGAIN))
			break;
		if (r > 0)
			done += (unsigned)r;
	}
	t0 = thread_cpu_ns() - t0;
	close(fa);
	close(fb);
	return done > 0 ? t0 / done : 0;
}

/* The host, in a child ---------------------------------------------------- */

static int
child_parent(void *arg)
{
	char c;
	ssize_t n = recv(*(const int *)arg, &c, 1, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* The first link report says the host runs: a byte to the bench. */
static int
child_link(void *arg, const struct hal_link_msg *l)
{
	(void)l;
	return send(*(const int *)arg, "l", 1, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int
child_emu_stats(void *arg, const struct hal_emu_stats *s)
{
	(void)arg;
	(void)s;
	return 0;
}

static void __attribute__((noreturn))
child_run(struct bench *b, int sock)
{
	struct hal_config c = { .port = BENCH_PORT };
	struct port_kick kd = { .port = BENCH_PORT, .which = PORT_KICK_DRIVER };
	struct port_kick kw = { .port = BENCH_PORT, .which = PORT_KICK_WORKER };
	const struct hal_host_calls calls = {
		.parent = child_parent,
		.link = child_link,
		.emu_stats = child_emu_stats,
		.arg = &sock,
	};

	log_init("hal-bench", LOG_LVL_WARNING, 0);
	snprintf(c.driver, sizeof(c.driver), "udp");
	snprintf(c.name, sizeof(c.name), "bench");
	if (hal_host_set_config(&c) < 0 || hal_host_set_device(b->drv_fd) < 0 ||
	    hal_host_set_region(b->shm.fd, b->shm.size) < 0 ||
	    hal_host_set_kick(&kd, b->kick_driver) < 0 || hal_host_set_kick(&kw, b->kick_worker) < 0)
		_exit(2);
	hal_host_prepare();
	_exit(hal_host_main(sock, &calls));
}

static void
host_start(struct bench *b)
{
	int sv[2];
	char c;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	if ((b->pid = fork()) < 0)
		die("fork");
	if (b->pid == 0) {
		close(sv[0]);
		child_run(b, sv[1]);
	}
	close(sv[1]);
	b->sock = sv[0];
	if (recv(b->sock, &c, 1, 0) != 1) {
		fprintf(stderr, "hal-bench: the host did not start\n");
		exit(1);
	}
}

static int
host_stop(struct bench *b)
{
	int status = -1;

	close(b->sock);
	waitpid(b->pid, &status, 0);
	return status;
}

/* As the worker does after enqueuing: wake the driver if it sleeps (port.h). */
static void
host_kick(struct bench *b)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&b->port->driver_sleeping))
		(void)eventfd_write(b->kick_driver, 1);
}

static void
bench_setup(struct bench *b)
{
	struct cnw_error err = { 0 };
	struct port_region *r;
	int big = 256 << 20;

	if (shm_create(&b->shm, "halbench", port_region_size(), &err) < 0 ||
	    port_region_init(b->shm.base, b->shm.size) < 0) {
		fprintf(stderr, "hal-bench: region: %s\n", err.msg);
		exit(1);
	}
	r = b->shm.base;
	b->port = &r->ports[BENCH_PORT];
	b->port->kind = PORT_UDP;
	b->pool = port_pool(r);
	b->fill = port_ring(r, b->port->fill_off);
	b->rx = port_ring(r, b->port->rx_off);
	b->tx = port_ring(r, b->port->tx_off);
	b->comp = port_ring(r, b->port->comp_off);
	b->kick_driver = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->kick_worker = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->kick_driver < 0 || b->kick_worker < 0)
		die("eventfd");
	b->drv_fd = udp_local(&b->drv);
	b->peer_fd = udp_local(&b->peer);
	if (setsockopt(b->drv_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		die("SO_RCVBUFFORCE");
}

static void
report(const char *what, unsigned frames, double cpu_ns, uint64_t wall_ns, double base,
    const char *base_what)
{
	double per = frames > 0 ? cpu_ns / frames : 0;

	printf("host %s  %7u frames  %6.0f ns/frame driver CPU  %5.1f us/burst  %9.0f frames/s"
	    "  %5.2f x bare %s (%.0f ns/frame)\n", what, frames, per, per * HAL_BURST / 1000.0,
	    wall_ns > 0 ? frames * 1e9 / (double)wall_ns : 0, base > 0 ? per / base : 0, base_what,
	    base);
}

/* Drain the queued datagrams through the host, recycling rx to fill. */
static void
host_rx(struct bench *b, unsigned total, double base)
{
	double cpu0 = proc_cpu_ns(b->pid);
	uint64_t t0 = cnw_now_ns();
	uint32_t idx[256];
	unsigned got = 0;

	if (pool_alloc_burst(b->pool, idx, 256) != 256)
		die("pool");
	for (unsigned i = 0; i < 256; i++)
		pool_buf_reset(pool_buf(b->pool, idx[i]));
	ring_enqueue_burst(b->fill, idx, 256);
	host_kick(b);
	while (got < total && cnw_now_ns() - t0 < WAIT_MS * 1000000ULL) {
		unsigned n = ring_dequeue_burst(b->rx, idx, HAL_BURST);

		for (unsigned i = 0; i < n; i++)
			pool_buf_reset(pool_buf(b->pool, idx[i]));
		if (n > 0) {
			ring_enqueue_burst(b->fill, idx, n);
			host_kick(b);
		}
		got += n;
	}
	report("rx", got, proc_cpu_ns(b->pid) - cpu0, cnw_now_ns() - t0, base, "recvmmsg");
}

/* Keep the tx ring full of frames to the peer until total came back on comp. */
static void
host_tx(struct bench *b, unsigned total, double base)
{
	double cpu0 = proc_cpu_ns(b->pid);
	uint64_t t0 = cnw_now_ns();
	uint32_t idx[512];
	unsigned queued = 512, done = 0;

	if (pool_alloc_burst(b->pool, idx, 512) != 512)
		die("pool");
	for (unsigned i = 0; i < 512; i++) {
		struct pool_buf *buf = pool_buf(b->pool, idx[i]);

		pool_buf_reset(buf);
		buf->len = FRAME_LEN;
		buf->peer.family = AF_INET;
		buf->peer.port = b->peer.sin_port;
		memcpy(buf->peer.addr, &b->peer.sin_addr, 4);
	}
	ring_enqueue_burst(b->tx, idx, 512);
	host_kick(b);
	while (done < total && cnw_now_ns() - t0 < WAIT_MS * 1000000ULL) {
		uint32_t back[HAL_BURST];
		unsigned n = ring_dequeue_burst(b->comp, back, HAL_BURST);

		done += n;
		if (n > 0 && queued < total) {
			ring_enqueue_burst(b->tx, back, n);
			host_kick(b);
			queued += n;
		}
	}
	report("tx", done, proc_cpu_ns(b->pid) - cpu0, cnw_now_ns() - t0, base, "sendmmsg");
}

int
main(int argc, char **argv)
{
	unsigned total = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 50000, queued;
	struct bench b = { .pid = -1 };
	double rx_base, tx_base;
	int status;

	signal(SIGPIPE, SIG_IGN);
	printf("hal-bench: %u frames of %d bytes on loopback, bursts of %d, udp driver\n", total,
	    FRAME_LEN, HAL_BURST);
	rx_base = bare(total, 0);
	tx_base = bare(total, 1);
	bench_setup(&b);
	host_start(&b);
	queued = udp_queue(b.peer_fd, &b.drv, total);
	host_rx(&b, queued, rx_base);
	host_tx(&b, total, tx_base);
	status = host_stop(&b);
	shm_unmap(&b.shm);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "hal-bench: the host ended with status %d\n", status);
		return 1;
	}
	return 0;
}
