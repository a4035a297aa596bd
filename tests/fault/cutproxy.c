/* cutproxy: a TCP proxy for fault tests that cuts connections at random points.
 *
 * Listens on 127.0.0.1 (a free port, written to --port-file), forwards each connection to
 * 127.0.0.1:--target, and after a random number of bytes (uniform in [--cut-min, --cut-max],
 * counted in both directions, seeded by --seed) resets both sides (SO_LINGER 0), so a push or a
 * pull dies mid-frame, as on a phone entering the metro. --cut-max 0 forwards without cutting.
 * Stops on SIGTERM/SIGINT or after --max-seconds, printing "cutproxy: N connections, M cuts"
 * on stderr. Loopback only.
 *
 * Design: one poll() loop over non-blocking sockets, at most MAX_PAIRS connections. Each
 * direction of a pair has one buffer: it reads from its source only when the buffer is empty
 * and waits for POLLOUT on its sink while it is not, so a peer that does not read stalls only
 * its own direction, never the proxy. An end of stream from one side is passed on as a
 * half-close (shutdown), so an orderly close through the proxy stays orderly; only a cut, an
 * error or the end of the proxy resets.
 *
 * Fixed from the first version: pairs accepted during a round were then served from pollfd
 * slots that poll() had not filled (stale or uninitialised revents: a blocking read on a quiet
 * socket stalled every connection), blocking writes could stall the whole proxy, an orderly
 * close was turned into a reset, the port file could be read half written, and a seed could
 * zero the generator. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 256
#define BUF 16384

/* One direction: bytes read from fd[from] not yet written to fd[1 - from]. */
struct dir {
	char buf[BUF];
	size_t len, off;
	int eof;          /* the source ended: shut the sink's write side once buf is out */
	int shut;         /* done */
};

struct pair {
	int fd[2];        /* 0: client side, 1: server side */
	long budget;      /* bytes left before the cut; < 0: never */
	struct dir d[2];  /* d[0]: client to server, d[1]: server to client */
};

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rng;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void hard_close(int fd)
{
	struct linger l = {1, 0};

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static void nonblocking(int fd)
{
	int one = 1, fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int dial(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	nonblocking(fd);
	return fd;
}

static int write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	if (fprintf(f, "%d\n", port) < 0) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path); /* readers see no file or the whole number */
}

/* Moves bytes along direction s of p as far as the sockets allow (they are non-blocking: a
 * write that does not fit now is finished at a later POLLOUT). Returns 1 when the pair must be
 * reset: an error, or the byte budget spent (*cut set); 0 otherwise. */
static int pump(struct pair *p, int s, short rev_src, int *cut)
{
	struct dir *d = &p->d[s];
	int src = p->fd[s], dst = p->fd[1 - s];

	if (d->shut)
		return 0;
	if (d->len == 0 && p->budget == 0) {
		*cut = 1; /* everything allowed went through: now the metro */
		return 1;
	}
	if (d->len == 0 && !d->eof && (rev_src & (POLLIN | POLLHUP | POLLERR))) {
		size_t want = BUF;
		ssize_t r;

		if (p->budget > 0 && (size_t)p->budget < want)
			want = (size_t)p->budget;
		r = read(src, d->buf, want);
		if (r < 0)
			return errno != EAGAIN && errno != EINTR;
		if (r == 0) {
			d->eof = 1;
		} else {
			d->len = (size_t)r;
			d->off = 0;
			if (p->budget > 0)
				p->budget -= r;
		}
	}
	if (d->len > d->off) {
		ssize_t w = write(dst, d->buf + d->off, d->len - d->off);

		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return 1;
		if (w > 0)
			d->off += (size_t)w;
		if (d->off == d->len)
			d->len = d->off = 0;
	}
	if (d->len == 0 && p->budget == 0) {
		*cut = 1;
		return 1;
	}
	if (d->len == 0 && d->eof) {
		shutdown(dst, SHUT_WR); /* pass the end of stream on */
		d->shut = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct pair pairs[MAX_PAIRS];
	static struct pollfd pfd[1 + 2 * MAX_PAIRS];
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	const char *port_file = NULL;
	long cut_min = 0, cut_max = 0, max_seconds = 600;
	int target = 0, lfd, one = 1, npairs = 0, cuts = 0, conns = 0;
	time_t deadline;

	rng = 88172645463325252ull;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
		else if (!strcmp(argv[i], "--target"))
			target = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			rng ^= strtoull(argv[i + 1], NULL, 10) * 2654435761ull + 1;
		else if (!strcmp(argv[i], "--cut-min"))
			cut_min = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--cut-max"))
			cut_max = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--max-seconds"))
			max_seconds = atol(argv[i + 1]);
	}
	if (rng == 0)
		rng = 88172645463325252ull; /* xorshift stays at 0 for ever */
	if (!port_file || target <= 0 || target > 65535 || cut_min < 0 || cut_max < cut_min ||
	    max_seconds <= 0) {
		fprintf(stderr, "usage: cutproxy --port-file F --target PORT [--seed N] "
				"[--cut-min B --cut-max B] [--max-seconds S]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 64) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
		perror("cutproxy: listen");
		return 1;
	}
	if (write_port_file(port_file, ntohs(a.sin_port)) != 0) {
		perror("cutproxy: port file");
		return 1;
	}
	deadline = time(NULL) + max_seconds;
	while (!stop && time(NULL) < deadline) {
		int n = 0, served = npairs; /* the pairs whose pollfd slots this poll fills */

		pfd[n++] = (struct pollfd){lfd, npairs < MAX_PAIRS ? POLLIN : 0, 0};
		for (int i = 0; i < npairs; i++) {
			struct pair *p = &pairs[i];

			for (int s = 0; s < 2; s++) {
				short ev = 0;

				/* Read side s when its buffer is free; write side s when the
				 * other direction has bytes for it. */
				if (!p->d[s].shut && !p->d[s].eof && p->d[s].len == 0)
					ev |= POLLIN;
				if (p->d[1 - s].len > p->d[1 - s].off)
					ev |= POLLOUT;
				pfd[n++] = (struct pollfd){p->fd[s], ev, 0};
			}
		}
		if (poll(pfd, (nfds_t)n, 200) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < served; i++) {
			struct pair *p = &pairs[i];
			short rc = pfd[1 + 2 * i].revents, rs = pfd[2 + 2 * i].revents;
			int cut = 0;

			/* An error on either socket (a reset from the peer) ends the pair now: with
			 * nothing to read or write on it, poll would report it again at once. */
			if ((rc | rs) & (POLLERR | POLLNVAL) || pump(p, 0, rc, &cut) ||
			    pump(p, 1, rs, &cut)) {
				hard_close(p->fd[0]);
				hard_close(p->fd[1]);
				p->fd[0] = p->fd[1] = -1;
				cuts += cut;
			} else if (p->d[0].shut && p->d[1].shut) {
				close(p->fd[0]); /* both ends closed in order */
				close(p->fd[1]);
				p->fd[0] = p->fd[1] = -1;
			}
		}
		for (int i = 0; i < npairs;) { /* drop the closed pairs */
			if (pairs[i].fd[0] < 0)
				pairs[i] = pairs[--npairs];
			else
				i++;
		}
		if (pfd[0].revents & POLLIN) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), srv = c >= 0 ? dial(target) : -1;

			if (c >= 0 && srv < 0) {
				hard_close(c); /* the target is down: the client sees a reset */
			} else if (c >= 0) {
				struct pair *p = &pairs[npairs++];

				nonblocking(c);
				memset(p, 0, sizeof(*p));
				p->fd[0] = c;
				p->fd[1] = srv;
				p->budget = cut_max ? cut_min + (long)(next_rand() %
					(uint64_t)(cut_max - cut_min + 1)) : -1;
				conns++;
			}
		}
	}
	for (int i = 0; i < npairs; i++) {
		hard_close(pairs[i].fd[0]);
		hard_close(pairs[i].fd[1]);
	}
	close(lfd);
	fprintf(stderr, "cutproxy: %d connections, %d cuts\n", conns, cuts);
	return 0;
}
