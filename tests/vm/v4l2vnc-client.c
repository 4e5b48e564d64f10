// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test client for the v4l2vnc VM tests (libvncclient + libevdev).
 *
 *   v4l2vnc-client snapshot HOST:PORT OUT   whole framebuffer as raw
 *                                           B,G,R,X bytes; prints WxH
 *   v4l2vnc-client watch HOST:PORT WxH SECS stay connected until the
 *                                           framebuffer is WxH and complete
 *   v4l2vnc-client garbage HOST:PORT        handshake, then junk; exit 0
 *                                           when the server drops us
 *   v4l2vnc-client input HOST:PORT X Y      pointer to (X,Y), left click,
 *                                           key 'a', 'A' and '$' (with Shift), Return
 *   v4l2vnc-client keys HOST:PORT SPEC...   sends SPECs in order, then hangs up
 *                                           (what is still down stays down):
 *                                           +HEX key down, -HEX key up (keysym
 *                                           in hex), bN pointer buttons N at 10,10
 *   v4l2vnc-client cmp VNC.raw FRAME FOURCC W H STRIDE
 *                                           compares a snapshot with a V4L2
 *                                           frame (XR24, RGBP or YUYV), exit 0 if
 *                                           every pixel is equal and the
 *                                           frame is not flat
 *   v4l2vnc-client evread NAME COUNT SECS   print COUNT non-SYN events of
 *                                           the input device named NAME as
 *                                           "EV_KEY KEY_A 1" lines
 *   v4l2vnc-client count HOST:PORT SECS     a normal viewer: counts the
 *                                           updates received in SECS seconds
 *                                           from connecting on and prints
 *                                           "updates N" (also on SIGUSR1,
 *                                           going on)
 *   v4l2vnc-client count HOST:PORT SECS ENCODINGS
 *                                           the same, asking for ENCODINGS
 *                                           (libvncclient's list, e.g.
 *                                           "tight zrle raw"), not raw
 *   v4l2vnc-client stall HOST:PORT SECS     a viewer that stops reading: own
 *                                           socket with a tiny receive buffer,
 *                                           handshake (no password), then asks
 *                                           for whole non-incremental updates
 *                                           every 10 ms for SECS seconds and
 *                                           reads nothing; prints "stalling
 *                                           LOCALPORT" once it starts
 *
 * Hostile clients (tests/vm/v4l2vnc-hostile.sh); SRC is the local address
 * they connect from (127.0.0.N: the server's per-address caps and its
 * blacklist count each apart):
 *   v4l2vnc-client flood HOST:PORT SRC N SECS
 *                                           N connections at once that never
 *                                           speak; after SECS seconds prints
 *                                           "flood: N open, C closed by the
 *                                           server", sends junk on the rest
 *   v4l2vnc-client slowloris HOST:PORT SRC N SECS ws|http|tls
 *                                           N connections trickling a request
 *                                           (a WebSocket upgrade, an HTTP GET
 *                                           or a TLS ClientHello record of
 *                                           512 bytes) one byte every 250 ms, each
 *                                           reopened when the server closes
 *                                           it; prints "slowloris: C closed,
 *                                           longest held MS ms"
 *   v4l2vnc-client passwords HOST:PORT SRC SECS
 *                                           VNC authentication with a wrong
 *                                           response, again and again; prints
 *                                           "passwords: T tries, F failed
 *                                           checks, R refused"
 *   v4l2vnc-client junk HOST:PORT SRC N     N connections, each sending junk
 *                                           where a TLS ClientHello belongs
 *                                           (half: a TLS record header with
 *                                           junk inside; half: no TLS at all)
 *                                           and reading until the server
 *                                           closes (8 s at most); prints "junk:
 *                                           C of N closed within 8 s, longest
 *                                           MS ms"
 *   v4l2vnc-client http HOST:PORT PATH      one GET; prints "http: STATUS MS ms"
 *   v4l2vnc-client messages HOST:PORT [FIRST STEP]
 *                                           malformed and oversized RFB
 *                                           messages, each on a connection of
 *                                           its own (password from
 *                                           $V4L2VNC_PASSWORD): a valid one
 *                                           must leave the viewer served, an
 *                                           invalid one dropped (updates of
 *                                           64x64 pixels); prints one line per
 *                                           case, exit 1 on a wrong outcome;
 *                                           cases FIRST, FIRST + STEP, ... only
 *
 * HOST may be an IPv6 address in brackets: [::1]:5901.  HOST:PORT may be
 * the path of a unix socket instead (snapshot, watch, count, input).
 */
#include <rfb/rfbclient.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned char *covered;
static long n_covered;

static void got_update(rfbClient *c, int x, int y, int w, int h)
{
	for (int j = y; j < y + h && j < c->height; j++)
		for (int i = x; i < x + w && i < c->width; i++)
			if (!covered[(long)j * c->width + i]) {
				covered[(long)j * c->width + i] = 1;
				n_covered++;
			}
}

static rfbBool resize(rfbClient *c)
{
	free(c->frameBuffer);
	c->frameBuffer = calloc((size_t)c->width * c->height, 4);
	free(covered);
	covered = calloc((size_t)c->width * c->height, 1);
	n_covered = 0;
	return c->frameBuffer && covered;
}

/* VNC authentication: the password comes from $V4L2VNC_PASSWORD. */
static char *get_password(rfbClient *c)
{
	const char *pw = getenv("V4L2VNC_PASSWORD");

	(void)c;
	return strdup(pw ? pw : "");
}

/* The area viewers ask updates for: w 0 is the whole framebuffer. */
static struct {
	int w, h;
} view;

/* The encodings a viewer asks for: raw (the tests compare pixels). */
static const char *encodings = "raw";

static rfbClient *connect_to(const char *hostport)
{
	rfbClient *c = rfbGetClient(8, 3, 4);
	const char *colon = strrchr(hostport, ':');

	if (hostport[0] == '/') {
		/* A unix socket: libvncclient takes a path as the host. */
		c->serverHost = strdup(hostport);
		c->serverPort = 0;
	} else {
		if (!colon) {
			fprintf(stderr, "v4l2vnc-client: HOST:PORT expected, not %s\n", hostport);
			exit(2);
		}
		if (hostport[0] == '[' && colon > hostport && colon[-1] == ']')
			c->serverHost = strndup(hostport + 1, (size_t)(colon - hostport - 2));
		else
			c->serverHost = strndup(hostport, (size_t)(colon - hostport));
		c->serverPort = atoi(colon + 1);
	}

	/* 0x00RRGGBB pixels: bytes B,G,R,X like the server's framebuffer. */
	c->format.redShift = 16;
	c->format.greenShift = 8;
	c->format.blueShift = 0;
	c->appData.encodingsString = encodings;
	c->MallocFrameBuffer = resize;
	c->GotFrameBufferUpdate = got_update;
	c->canHandleNewFBSize = TRUE;
	c->GetPassword = get_password;
	if (view.w) {
		c->updateRect.x = c->updateRect.y = 0;
		c->updateRect.w = view.w;
		c->updateRect.h = view.h;
	}
	if (!rfbInitClient(c, NULL, NULL)) {
		fprintf(stderr, "v4l2vnc-client: cannot connect to %s\n", hostport);
		exit(1);
	}
	return c;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int snapshot(const char *hostport, const char *out)
{
	rfbClient *c = connect_to(hostport);
	double end = now() + 20;
	FILE *f;

	while (n_covered < (long)c->width * c->height) {
		int r = WaitForMessage(c, 500000);

		if (now() > end) {
			fprintf(stderr, "v4l2vnc-client: only %ld of %d pixels within 20 s\n",
				n_covered, c->width * c->height);
			return 1;
		}
		if (r < 0 || (r > 0 && !HandleRFBServerMessage(c))) {
			fprintf(stderr, "v4l2vnc-client: connection lost\n");
			return 1;
		}
	}
	f = fopen(out, "wb");
	if (!f || fwrite(c->frameBuffer, 4, (size_t)c->width * c->height, f) !=
			  (size_t)c->width * c->height || fclose(f)) {
		perror(out);
		return 1;
	}
	printf("%dx%d\n", c->width, c->height);
	rfbClientCleanup(c);
	return 0;
}

static int watch(const char *hostport, const char *size, int secs)
{
	rfbClient *c = connect_to(hostport);
	double end = now() + secs;
	char got[32] = "";

	while (now() < end) {
		int r = WaitForMessage(c, 200000);

		if (r < 0 || (r > 0 && !HandleRFBServerMessage(c))) {
			fprintf(stderr, "v4l2vnc-client: connection lost\n");
			return 1;
		}
		snprintf(got, sizeof(got), "%dx%d", c->width, c->height);
		if (!strcmp(got, size) && n_covered == (long)c->width * c->height) {
			printf("%s\n", got);
			return 0;
		}
		/* Keep asking, as a viewer does. */
		SendFramebufferUpdateRequest(c, 0, 0, c->width, c->height, TRUE);
	}
	fprintf(stderr, "v4l2vnc-client: still %s after %d s\n", got, secs);
	return 1;
}

static int garbage(const char *hostport)
{
	rfbClient *c = connect_to(hostport);
	char junk[256];
	double end = now() + 10;

	/* Message type 0xee does not exist; the rest is noise. */
	memset(junk, 0xee, sizeof(junk));
	if (!WriteToRFBServer(c, junk, sizeof(junk)))
		return 0; /* already dropped */
	while (now() < end) {
		struct pollfd p = {.fd = c->sock, .events = POLLIN};
		char buf[4096];
		ssize_t n;

		if (poll(&p, 1, 500) <= 0)
			continue;
		n = read(c->sock, buf, sizeof(buf));
		if (n <= 0) {
			printf("dropped\n");
			return 0;
		}
	}
	fprintf(stderr, "v4l2vnc-client: server did not drop a client sending garbage\n");
	return 1;
}

static int input(const char *hostport, int x, int y)
{
	rfbClient *c = connect_to(hostport);
	int ok = 1;

	ok &= SendPointerEvent(c, x, y, 0);
	ok &= SendPointerEvent(c, x, y, 1);
	ok &= SendPointerEvent(c, x, y, 0);
	ok &= SendKeyEvent(c, 'a', TRUE);
	ok &= SendKeyEvent(c, 'a', FALSE);
	ok &= SendKeyEvent(c, 0xffe1 /* Shift_L */, TRUE);
	ok &= SendKeyEvent(c, 'A', TRUE);
	ok &= SendKeyEvent(c, 'A', FALSE);
	ok &= SendKeyEvent(c, 0xffe1, FALSE);
	ok &= SendKeyEvent(c, 0xffe1, TRUE);
	ok &= SendKeyEvent(c, '$', TRUE); /* Shift+4 on us, not KEY_DOLLAR */
	ok &= SendKeyEvent(c, '$', FALSE);
	ok &= SendKeyEvent(c, 0xffe1, FALSE);
	ok &= SendKeyEvent(c, 0xff0d /* Return */, TRUE);
	ok &= SendKeyEvent(c, 0xff0d, FALSE);
	/* Let the server read everything before we hang up. */
	for (int i = 0; i < 10; i++) {
		if (WaitForMessage(c, 100000) > 0 && !HandleRFBServerMessage(c))
			break;
	}
	rfbClientCleanup(c);
	return ok ? 0 : 1;
}

static volatile long n_updates;

static void finished_update(rfbClient *c)
{
	(void)c;
	n_updates++;
}

/* SIGALRM: the time is up; SIGUSR1: the count so far, and on. */
static void count_done(int sig)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "updates %ld\n", n_updates);

	if (write(1, line, (size_t)n) != n)
		_exit(1);
	if (sig == SIGALRM)
		_exit(0);
}

/* Counts from the connection on, so that a server that does not serve us
 * (not even the handshake) gives "updates 0" when the time is up. */
static int keys(const char *hostport, int n, char **spec)
{
	rfbClient *c = connect_to(hostport);
	int ok = 1;

	for (int i = 0; i < n; i++) {
		if (spec[i][0] == 'b')
			ok &= SendPointerEvent(c, 10, 10, atoi(spec[i] + 1));
		else
			ok &= SendKeyEvent(c, (uint32_t)strtoul(spec[i] + 1, NULL, 16),
					   spec[i][0] == '+');
	}
	/* Let the server read everything before we hang up. */
	for (int i = 0; i < 10; i++) {
		if (WaitForMessage(c, 100000) > 0 && !HandleRFBServerMessage(c))
			break;
	}
	rfbClientCleanup(c);
	return ok ? 0 : 1;
}

static int count(const char *hostport, int secs)
{
	rfbClient *c;

	struct sigaction sa = {.sa_handler = count_done, .sa_flags = SA_RESTART};

	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	alarm((unsigned)secs);
	c = connect_to(hostport);
	c->FinishedFrameBufferUpdate = finished_update;
	/* libvncclient asks for the next incremental update after each one. */
	for (;;) {
		int r = WaitForMessage(c, 100000);

		if (r < 0 && errno == EINTR)
			continue; /* SIGUSR1 (select is never restarted) */
		if (r < 0 || (r > 0 && !HandleRFBServerMessage(c))) {
			fprintf(stderr, "v4l2vnc-client: count: connection lost\n");
			return 1;
		}
	}
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/*
 * A TCP connection to HOST:PORT ([V6]:PORT) from the local address @src
 * (NULL: any), with a receive buffer of @rcvbuf bytes (0: the default) set
 * before connecting; with @nonblock the connect is left in progress.
 * -1 on failure (errno says why).
 */
static int tcp_open(const char *hostport, const char *src, int rcvbuf, int nonblock)
{
	const char *colon = strrchr(hostport, ':');
	char host[256];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *me = NULL;
	int fd, err;

	if (!colon || colon - hostport >= (long)sizeof(host)) {
		fprintf(stderr, "v4l2vnc-client: HOST:PORT expected, not %s\n", hostport);
		exit(2);
	}
	if (hostport[0] == '[')
		snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport - 2), hostport + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	if (getaddrinfo(host, colon + 1, &hints, &ai) ||
	    (src && getaddrinfo(src, NULL, &hints, &me))) {
		fprintf(stderr, "v4l2vnc-client: cannot resolve %s or %s\n", hostport,
			src ? src : "-");
		exit(2);
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd >= 0 &&
	    ((rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))) ||
	     (me && bind(fd, me->ai_addr, me->ai_addrlen)) ||
	     (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS))) {
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	freeaddrinfo(ai);
	if (me)
		freeaddrinfo(me);
	return fd;
}

/* RFB 3.8 by hand, on a socket whose receive buffer is set before connect. */
static int stall(const char *hostport, int secs)
{
	char ver[12], name_len[4], init[24];
	struct sockaddr_storage me;
	socklen_t me_len = sizeof(me);
	unsigned char ntypes, types[256], none = 1;
	unsigned char result[4];
	int fd, w, h, port;
	double end;

	fd = tcp_open(hostport, NULL, 2048, 0);
	if (fd < 0) {
		perror("v4l2vnc-client: stall: connect");
		return 1;
	}
	if (read_full(fd, ver, 12) || write(fd, "RFB 003.008\n", 12) != 12 ||
	    read_full(fd, &ntypes, 1) || ntypes == 0 || read_full(fd, types, ntypes) ||
	    !memchr(types, 1, ntypes) || write(fd, &none, 1) != 1 ||
	    read_full(fd, result, 4) || result[3] != 0 ||
	    write(fd, &none, 1) != 1 /* ClientInit: shared */ ||
	    read_full(fd, init, 24)) {
		fprintf(stderr, "v4l2vnc-client: stall: handshake failed (password?)\n");
		return 1;
	}
	memcpy(name_len, init + 20, 4);
	{
		unsigned n = (unsigned char)name_len[0] << 24 | (unsigned char)name_len[1] << 16 |
			     (unsigned char)name_len[2] << 8 | (unsigned char)name_len[3];
		char skip[256];

		while (n > 0) {
			unsigned k = n > sizeof(skip) ? sizeof(skip) : n;

			if (read_full(fd, skip, k))
				return 1;
			n -= k;
		}
	}
	w = (unsigned char)init[0] << 8 | (unsigned char)init[1];
	h = (unsigned char)init[2] << 8 | (unsigned char)init[3];
	getsockname(fd, (struct sockaddr *)&me, &me_len);
	port = ntohs(me.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&me)->sin6_port
					      : ((struct sockaddr_in *)&me)->sin_port);
	printf("stalling %d\n", port);
	fflush(stdout);
	/* Raw encoding only (the server's default): the biggest updates. */
	end = now() + secs;
	while (now() < end) {
		unsigned char req[10] = {3, 0 /* not incremental */, 0, 0, 0, 0,
					 (unsigned char)(w >> 8), (unsigned char)w,
					 (unsigned char)(h >> 8), (unsigned char)h};

		/* Never blocks: the point is to read nothing, ever. */
		if (send(fd, req, sizeof(req), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN) {
			printf("dropped\n");
			return 0;
		}
		usleep(10000);
	}
	printf("still connected\n");
	close(fd);
	return 0;
}

/* Hostile clients. */

static long ms_since(double t)
{
	return (long)((now() - t) * 1000);
}

/* Reads what is there; 1 if the peer closed (EOF or an error). */
static int drained_closed(int fd)
{
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != ENOTCONN);
}

static int flood(const char *hostport, const char *src, int n, int secs)
{
	int *fds = calloc((size_t)n, sizeof(*fds));
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int *at = calloc((size_t)n, sizeof(*at));
	int started = 0, closed = 0;
	double end = now() + secs;

	if (!fds || !p || !at)
		return 1;
	for (int i = 0; i < n; i++) {
		fds[i] = tcp_open(hostport, src, 0, 1);
		if (fds[i] >= 0)
			started++;
	}
	if (started < n)
		fprintf(stderr, "v4l2vnc-client: flood: %d of %d connects started: %s\n", started, n,
			strerror(errno));
	/* Never a byte sent; what the server sends is read to see it close. */
	while (now() < end) {
		int k = 0;

		for (int i = 0; i < n; i++)
			if (fds[i] >= 0) {
				p[k] = (struct pollfd){.fd = fds[i], .events = POLLIN};
				at[k++] = i;
			}
		if (poll(p, (nfds_t)k, 200) <= 0)
			continue;
		for (int j = 0; j < k; j++)
			if (p[j].revents && drained_closed(p[j].fd)) {
				close(p[j].fd);
				fds[at[j]] = -1;
				closed++;
			}
	}
	printf("flood: %d open, %d closed by the server\n", started, closed);
	for (int i = 0; i < n; i++) {
		static const char junk[] = "\xff\xff\xff\xff garbage, not RFB";

		if (fds[i] < 0)
			continue;
		if (send(fds[i], junk, sizeof(junk), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* closed meanwhile */
		}
		close(fds[i]);
	}
	return started == n ? 0 : 1;
}

static int slowloris(const char *hostport, const char *src, int n, int secs, const char *kind)
{
	struct {
		int fd;
		size_t sent;
		double since;
	} *c = calloc((size_t)n, sizeof(*c));
	char req[1024];
	int len, closed = 0, open_now = 0;
	long longest = 0;
	double end = now() + secs;

	if (!strcmp(kind, "ws"))
		len = snprintf(req, sizeof(req),
			       "GET /websockify HTTP/1.1\r\nHost: %s\r\nOrigin: http://%s\r\n"
			       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			       "Sec-WebSocket-Version: 13\r\n\r\n",
			       hostport, hostport);
	else if (!strcmp(kind, "tls")) {
		/* A handshake record of 512 bytes: ClientHello, TLS 1.2, the
		 * rest zeros (never reached at this pace). */
		static const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00,
						      0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};

		memset(req, 0, sizeof(req));
		memcpy(req, hello, sizeof(hello));
		len = 5 + 512;
	} else
		/* Longer than the trickle gets through in SECS seconds. */
		len = snprintf(req, sizeof(req), "GET /vnc.html HTTP/1.1\r\nHost: %s\r\n%0900d\r\n\r\n",
			       hostport, 0);
	if (!c || len <= 0)
		return 1;
	for (int i = 0; i < n; i++)
		c[i].fd = -1;
	while (now() < end) {
		for (int i = 0; i < n; i++) {
			if (c[i].fd >= 0 && drained_closed(c[i].fd)) {
				long held = ms_since(c[i].since);

				longest = held > longest ? held : longest;
				closed++;
				close(c[i].fd);
				c[i].fd = -1;
			}
			if (c[i].fd < 0) {
				c[i].fd = tcp_open(hostport, src, 0, 0);
				c[i].sent = 0;
				c[i].since = now();
				if (c[i].fd < 0)
					continue;
			}
			if (c[i].sent < (size_t)len &&
			    send(c[i].fd, req + c[i].sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
				c[i].sent++;
		}
		usleep(250000);
	}
	for (int i = 0; i < n; i++)
		if (c[i].fd >= 0) {
			open_now++;
			close(c[i].fd);
		}
	printf("slowloris: %d closed, longest held %ld ms, %d open at the end\n", closed, longest,
	       open_now);
	return 0;
}

static int junk(const char *hostport, const char *src, int n)
{
	/* A TLS record header (handshake, 32 bytes) with no handshake inside,
	 * and bytes that are not TLS at all. */
	static const char tls_junk[] = "\x16\x03\x01\x00\x20"
				       "\xff\xff\xff\xff\xff\xff\xff\xff junk, not a ClientHello";
	static const char plain_junk[] = "\xff\xfe junk where a ClientHello belongs\r\n\r\n";
	int closed = 0;
	long longest = 0;

	for (int i = 0; i < n; i++) {
		const char *buf = i % 2 ? plain_junk : tls_junk;
		size_t len = i % 2 ? sizeof(plain_junk) - 1 : 5 + 32;
		int fd = tcp_open(hostport, src, 0, 0);
		double t0 = now(), end = t0 + 8;

		if (fd < 0) {
			perror("v4l2vnc-client: junk: connect");
			return 1;
		}
		if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
			close(fd);
			continue;
		}
		while (now() < end) {
			struct pollfd p = {.fd = fd, .events = POLLIN};

			if (poll(&p, 1, 100) > 0 && drained_closed(fd)) {
				long held = ms_since(t0);

				longest = held > longest ? held : longest;
				closed++;
				break;
			}
		}
		close(fd);
	}
	printf("junk: %d of %d closed within 8 s, longest %ld ms\n", closed, n, longest);
	return 0;
}

static int passwords(const char *hostport, const char *src, int secs)
{
	int tries = 0, failed = 0, refused = 0;
	double end = now() + secs;
	struct timeval tv = {.tv_sec = 5};

	while (now() < end) {
		unsigned char ver[12], ntypes, types[256], vnc_auth = 2, challenge[16];
		unsigned char response[16] = {0}, result[4];
		int fd = tcp_open(hostport, src, 0, 0);

		if (fd < 0) {
			perror("v4l2vnc-client: passwords: connect");
			return 1;
		}
		tries++;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read_full(fd, ver, 12) || write(fd, "RFB 003.008\n", 12) != 12 ||
		    read_full(fd, &ntypes, 1) || ntypes == 0) {
			refused++; /* closed at once: a blocked address */
		} else if (read_full(fd, types, ntypes) || !memchr(types, 2, ntypes)) {
			fprintf(stderr, "v4l2vnc-client: passwords: no VNC authentication offered\n");
			return 1;
		} else if (write(fd, &vnc_auth, 1) != 1 || read_full(fd, challenge, 16) ||
			   write(fd, response, 16) != 16 || read_full(fd, result, 4)) {
			refused++;
		} else if (result[3] == 0) {
			fprintf(stderr, "v4l2vnc-client: passwords: a wrong response was accepted\n");
			return 1;
		} else {
			failed++;
		}
		close(fd);
		usleep(50000);
	}
	printf("passwords: %d tries, %d failed checks, %d refused\n", tries, failed, refused);
	return 0;
}

static int http(const char *hostport, const char *path)
{
	double t0 = now();
	int fd = tcp_open(hostport, NULL, 0, 0), status = 0;
	struct timeval tv = {.tv_sec = 10};
	char req[512], resp[64] = "";
	size_t got = 0;
	ssize_t n;

	if (fd < 0) {
		perror("v4l2vnc-client: http: connect");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, hostport);
	if (write(fd, req, (size_t)n) != n)
		return 1;
	/* The status line, then the rest until the server closes. */
	while ((n = read(fd, got < sizeof(resp) - 1 ? resp + got : req,
			 got < sizeof(resp) - 1 ? sizeof(resp) - 1 - got : sizeof(req))) > 0)
		got += (size_t)n;
	sscanf(resp, "HTTP/1.%*d %d", &status);
	printf("http: %d %ld ms\n", status, ms_since(t0));
	close(fd);
	return status == 200 && n == 0 ? 0 : 1;
}

/* Until the server closes (1) or @secs pass (0), handling what it sends. */
static int dropped_within(rfbClient *c, double secs)
{
	double end = now() + secs;

	while (now() < end) {
		int r = WaitForMessage(c, 100000);

		if (r < 0 || (r > 0 && !HandleRFBServerMessage(c)))
			return 1;
	}
	return 0;
}

/* An update of the viewer's area arrives within @secs of asking for one. */
static int served_within(rfbClient *c, double secs)
{
	long before = n_updates;
	double end = now() + secs;

	if (!SendFramebufferUpdateRequest(c, c->updateRect.x, c->updateRect.y, c->updateRect.w,
					  c->updateRect.h, FALSE))
		return 0;
	while (now() < end && n_updates == before) {
		int r = WaitForMessage(c, 100000);

		if (r < 0 || (r > 0 && !HandleRFBServerMessage(c)))
			return 0;
	}
	return n_updates > before;
}

static unsigned char *put16(unsigned char *p, unsigned v)
{
	*p++ = (unsigned char)(v >> 8);
	*p++ = (unsigned char)v;
	return p;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
	return put16(put16(p, v >> 16), v & 0xffff);
}

/* SetPixelFormat: bpp, depth, true colour, the maxima, the shifts. */
static unsigned char *pixel_format(unsigned char *p, int bpp, int tc, unsigned max, int rs,
				   int gs, int bs)
{
	*p++ = 0;
	p += 3;
	*p++ = (unsigned char)bpp;
	*p++ = 24;
	*p++ = 0; /* little endian */
	*p++ = (unsigned char)tc;
	p = put16(put16(put16(p, max), max), max);
	*p++ = (unsigned char)rs;
	*p++ = (unsigned char)gs;
	*p++ = (unsigned char)bs;
	return p + 3;
}

/* FramebufferUpdateRequest, not incremental. */
static unsigned char *update_request(unsigned char *p, unsigned x, unsigned y, unsigned w,
				     unsigned h)
{
	*p++ = 3;
	*p++ = 0;
	return put16(put16(put16(put16(p, x), y), w), h);
}

enum outcome { kServed, kDropped, kEither };

/*
 * Case @i of the hostile messages into @buf (room for 2 MiB): its length,
 * or 0 past the last.  A valid message (kServed) must leave the viewer
 * served, an invalid one (kDropped) must get it dropped; kEither: the
 * protocol leaves the answer open, only nothing else may suffer.
 */
static size_t hostile_message(int i, unsigned char *buf, const char **name, enum outcome *want)
{
	unsigned char *p = buf;

	switch (i) {
	case 0:
		*name = "SetEncodings with 65535 entries (65534 unknown, then raw)";
		*want = kServed;
		*p++ = 2;
		p = put16(p + 1, 65535);
		for (uint32_t e = 0; e < 65534; e++)
			p = put32(p, 0x7e000000 + e);
		p = put32(p, 0);
		break;
	case 1:
		*name = "ClientCutText of 1 MiB (the limit)";
		*want = kServed;
		*p++ = 6;
		p = put32(p + 3, 1 << 20);
		memset(p, 'x', 1 << 20);
		p += 1 << 20;
		break;
	case 2:
		*name = "ClientCutText of 1 MiB + 1";
		*want = kDropped;
		*p++ = 6;
		p = put32(p + 3, (1 << 20) + 1);
		memset(p, 'x', 4096);
		p += 4096;
		break;
	case 3:
		*name = "ClientCutText claiming 4 GiB - 1";
		*want = kDropped;
		*p++ = 6;
		p = put32(p + 3, 0xffffffff);
		memset(p, 'x', 64);
		p += 64;
		break;
	case 4:
		*name = "SetPixelFormat with 7 bits per pixel";
		*want = kDropped;
		p = pixel_format(p, 7, 1, 255, 16, 8, 0);
		break;
	case 5:
		*name = "SetPixelFormat of a 32-bit colour map";
		*want = kDropped;
		p = pixel_format(p, 32, 0, 255, 16, 8, 0);
		break;
	case 6:
		*name = "SetPixelFormat with shifts past 32 bits and 16-bit maxima";
		*want = kEither;
		p = pixel_format(p, 32, 1, 65535, 200, 100, 40);
		break;
	case 7:
		*name = "SetPixelFormat with zero maxima";
		*want = kEither;
		p = pixel_format(p, 32, 1, 0, 16, 8, 0);
		break;
	case 8:
		*name = "FramebufferUpdateRequest far outside the screen";
		*want = kServed;
		p = update_request(p, 60000, 60000, 60000, 60000);
		break;
	case 9:
		*name = "FramebufferUpdateRequest wrapping past 65535";
		*want = kServed;
		p = update_request(p, 65535, 65535, 65535, 65535);
		break;
	case 10:
		*name = "5000 key events (unknown keysyms, a key held) and pointer events off screen";
		*want = kServed;
		for (int k = 0; k < 5000; k++) {
			static const uint32_t syms[] = {0xffffffff, 0, 0x12345678, 'a', 0x20ac};

			*p++ = 4;
			*p++ = k % 3 != 2; /* downs mostly: held until we hang up */
			p = put32(p + 2, syms[k % 5]);
			*p++ = 5;
			*p++ = (unsigned char)k;
			p = put16(put16(p, k & 1 ? 65535 : 0), k & 2 ? 65535 : 0);
		}
		break;
	case 11:
		*name = "SetScale 0";
		*want = kDropped;
		*p++ = 8;
		p += 3;
		break;
	case 12:
		*name = "SetDesktopSize with 255 screens of junk";
		*want = kEither;
		*p++ = 251;
		p = put16(put16(p + 1, 65535), 65535);
		*p++ = 255;
		p++;
		memset(p, 0xa5, 255 * 16);
		p += 255 * 16;
		break;
	case 13:
		*name = "unknown message type 0xee";
		*want = kDropped;
		memset(p, 0xee, 256);
		p += 256;
		break;
	case 14:
		*name = "SetEncodings of 65535 entries cut short by EOF";
		*want = kDropped;
		*p++ = 2;
		p = put16(p + 1, 65535);
		memset(p, 0, 100);
		p += 100;
		break;
	case 15:
		/* Sent in pieces, while the server sends (see messages()). */
		*name = "SetPixelFormat flipping 8 and 32 bits per pixel under whole updates";
		*want = kServed;
		for (int k = 0; k < 300; k++) {
			p = pixel_format(p, k & 1 ? 32 : 8, 1, k & 1 ? 255 : 7, k & 1 ? 16 : 0,
					 k & 1 ? 8 : 3, k & 1 ? 0 : 6);
			p = update_request(p, 0, 0, 640, 480);
		}
		break;
	default:
		return 0;
	}
	return (size_t)(p - buf);
}

/*
 * Case 15: the messages in pieces, reading (and throwing away: the pixel
 * format changes under libvncclient) what the server sends meanwhile;
 * 1 if the server closed the connection.
 */
static int flip_formats(rfbClient *c, const unsigned char *buf, size_t len)
{
	char junk[65536];
	double end;

	for (size_t off = 0; off < len; off += 30) {
		if (write(c->sock, buf + off, 30) != 30)
			return 1;
		while (recv(c->sock, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		usleep(2000);
	}
	end = now() + 1;
	while (now() < end) {
		struct pollfd p = {.fd = c->sock, .events = POLLIN};

		if (poll(&p, 1, 100) > 0 && recv(c->sock, junk, sizeof(junk), 0) <= 0)
			return 1;
	}
	return 0;
}

static int messages(const char *hostport, int first, int step)
{
	static const char *const said[] = {"served", "dropped"};
	unsigned char *buf = calloc(1, 2 << 20);
	double start = now();
	const char *name;
	enum outcome want;
	size_t len;
	int bad = 0;

	if (!buf)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	/* Small updates but in case 15: quicker cases. */
	view.w = view.h = 64;
	for (int i = first; (len = hostile_message(i, memset(buf, 0, 2 << 20), &name, &want));
	     i += step) {
		rfbClient *c = connect_to(hostport);
		double t0 = now();
		int dropped;

		c->FinishedFrameBufferUpdate = finished_update;
		/* Served first, so that a drop is the message's doing. */
		if (!served_within(c, 10)) {
			fprintf(stderr, "v4l2vnc-client: messages: no update before case %d\n", i);
			return 1;
		}
		if (i != 15 && !WriteToRFBServer(c, (char *)buf, (unsigned)len))
			dropped = 1;
		else if (i == 15)
			dropped = flip_formats(c, buf, len);
		else if (i == 14 && shutdown(c->sock, SHUT_WR) == 0)
			dropped = dropped_within(c, 5);
		else if (want == kDropped)
			dropped = dropped_within(c, 5);
		else
			dropped = !served_within(c, 5) || (want == kEither && dropped_within(c, 0.5));
		printf("case %d, %s: %s in %ld ms%s\n", i, name, said[dropped], ms_since(t0),
		       want != kEither && dropped != (want == kDropped) ? " (WRONG)" : "");
		fflush(stdout);
		bad |= want != kEither && dropped != (want == kDropped);
		rfbClientCleanup(c);
	}
	printf("messages: all cases in %ld ms\n", ms_since(start));
	free(buf);
	return bad;
}

static struct libevdev *open_by_name(const char *name)
{
	DIR *d = opendir("/dev/input");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[300];
		struct libevdev *dev;
		int fd;

		if (strncmp(de->d_name, "event", 5))
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", de->d_name);
		fd = open(path, O_RDONLY | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (libevdev_new_from_fd(fd, &dev) == 0) {
			if (!strcmp(libevdev_get_name(dev), name)) {
				closedir(d);
				return dev;
			}
			libevdev_free(dev);
		}
		close(fd);
	}
	if (d)
		closedir(d);
	return NULL;
}

static int evread(const char *name, int count, int secs)
{
	struct libevdev *dev = NULL;
	double end = now() + secs;
	int got = 0;

	while (!dev && now() < end) {
		dev = open_by_name(name);
		if (!dev)
			usleep(100000);
	}
	if (!dev) {
		fprintf(stderr, "v4l2vnc-client: no input device named '%s'\n", name);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (got < count && now() < end) {
		struct pollfd p = {.fd = libevdev_get_fd(dev), .events = POLLIN};
		struct input_event ev;

		if (poll(&p, 1, 200) <= 0)
			continue;
		while (libevdev_next_event(dev, LIBEVDEV_READ_FLAG_NORMAL, &ev) ==
		       LIBEVDEV_READ_STATUS_SUCCESS) {
			if (ev.type == EV_SYN)
				continue;
			printf("%s %s %d\n", libevdev_event_type_get_name(ev.type),
			       libevdev_event_code_get_name(ev.type, ev.code), ev.value);
			fflush(stdout);
			got++;
		}
	}
	return got >= count ? 0 : 1;
}

static unsigned char *slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;

	if (!f || fseek(f, 0, SEEK_END) || (*len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		exit(1);
	}
	buf = malloc((size_t)*len + 1);
	if (!buf || fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
		perror(path);
		exit(1);
	}
	fclose(f);
	return buf;
}

/* Independent of v4l2vnc's converters: the textbook expansions. */
static unsigned ref_pixel(const unsigned char *row, int x, const char *fourcc)
{
	if (!strcmp(fourcc, "XR24")) {
		const unsigned char *p = row + 4 * x; /* B, G, R, X */
		return (unsigned)p[2] << 16 | (unsigned)p[1] << 8 | p[0];
	}
	if (!strcmp(fourcc, "RGBP")) {
		unsigned v = row[2 * x] | row[2 * x + 1] << 8;
		unsigned r = (v >> 11) & 31, g = (v >> 5) & 63, b = v & 31;

		r = (r * 255 + 15) / 31; /* rounded scaling to 0..255 */
		g = (g * 255 + 31) / 63;
		b = (b * 255 + 15) / 31;
		return r << 16 | g << 8 | b;
	}
	if (!strcmp(fourcc, "YUYV")) {
		/* The common integer form of BT.601 limited range. */
		const unsigned char *p = row + 4 * (x / 2);
		int c = (x & 1 ? p[2] : p[0]) - 16, d = p[1] - 128, e = p[3] - 128;
		int r = (298 * c + 409 * e + 128) >> 8;
		int g = (298 * c - 100 * d - 208 * e + 128) >> 8;
		int b = (298 * c + 516 * d + 128) >> 8;

		r = r < 0 ? 0 : r > 255 ? 255 : r;
		g = g < 0 ? 0 : g > 255 ? 255 : g;
		b = b < 0 ? 0 : b > 255 ? 255 : b;
		return (unsigned)r << 16 | (unsigned)g << 8 | (unsigned)b;
	}
	fprintf(stderr, "v4l2vnc-client: cmp: unknown fourcc %s\n", fourcc);
	exit(2);
}

static int compare(const char *vnc, const char *frame, const char *fourcc, int w,
		   int h, int stride)
{
	long vlen, flen, diff = 0, first = -1;
	unsigned char *v = slurp(vnc, &vlen), *f = slurp(frame, &flen);
	unsigned colors[16];
	int ncolors = 0;

	if (vlen != (long)w * h * 4 || flen < (long)stride * h) {
		fprintf(stderr, "v4l2vnc-client: cmp: sizes %ld and %ld do not fit %dx%d stride %d\n",
			vlen, flen, w, h, stride);
		return 1;
	}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			const unsigned char *p = v + 4 * ((long)y * w + x);
			unsigned got = (unsigned)p[2] << 16 | (unsigned)p[1] << 8 | p[0];
			unsigned want = ref_pixel(f + (long)y * stride, x, fourcc);
			int known = 0;

			if (got != want && diff++ == 0) {
				first = (long)y * w + x;
				fprintf(stderr, "v4l2vnc-client: cmp: first difference at (%d,%d): vnc %06x, frame %06x\n",
					x, y, got, want);
			}
			for (int i = 0; i < ncolors; i++)
				known |= colors[i] == want;
			if (!known && ncolors < 16)
				colors[ncolors++] = want;
		}
	if (diff) {
		fprintf(stderr, "v4l2vnc-client: cmp: %ld of %d pixels differ (first at index %ld)\n",
			diff, w * h, first);
		return 1;
	}
	if (ncolors < 4) {
		fprintf(stderr, "v4l2vnc-client: cmp: the frame has only %d colours\n", ncolors);
		return 1;
	}
	printf("equal: %dx%d, %s%d colours\n", w, h, ncolors == 16 ? ">=" : "", ncolors);
	return 0;
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

int main(int argc, char **argv)
{
	/* libvncclient's chatter only with V4L2VNC_CLIENT_VERBOSE set. */
	if (!getenv("V4L2VNC_CLIENT_VERBOSE"))
		rfbClientLog = quiet;
	if (argc == 4 && !strcmp(argv[1], "snapshot"))
		return snapshot(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "watch"))
		return watch(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "garbage"))
		return garbage(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "input"))
		return input(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 8 && !strcmp(argv[1], "cmp"))
		return compare(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]),
			       atoi(argv[7]));
	if (argc >= 4 && !strcmp(argv[1], "keys"))
		return keys(argv[2], argc - 3, argv + 3);
	if (argc == 4 && !strcmp(argv[1], "count"))
		return count(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "count")) {
		encodings = argv[4];
		return count(argv[2], atoi(argv[3]));
	}
	if (argc == 4 && !strcmp(argv[1], "stall"))
		return stall(argv[2], atoi(argv[3]));
	if (argc == 6 && !strcmp(argv[1], "flood"))
		return flood(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
	if (argc == 7 && !strcmp(argv[1], "slowloris"))
		return slowloris(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), argv[6]);
	if (argc == 5 && !strcmp(argv[1], "passwords"))
		return passwords(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "junk"))
		return junk(argv[2], argv[3], atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "http"))
		return http(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "messages"))
		return messages(argv[2], 0, 1);
	if (argc == 5 && !strcmp(argv[1], "messages"))
		return messages(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "evread"))
		return evread(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of v4l2vnc-client.c\n");
	return 2;
}
