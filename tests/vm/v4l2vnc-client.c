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
 *                                           "updates N"
 *   v4l2vnc-client stall HOST:PORT SECS     a viewer that stops reading: own
 *                                           socket with a tiny receive buffer,
 *                                           handshake (no password), then asks
 *                                           for whole non-incremental updates
 *                                           every 10 ms for SECS seconds and
 *                                           reads nothing; prints "stalling
 *                                           LOCALPORT" once it starts
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
	c->appData.encodingsString = "raw";
	c->MallocFrameBuffer = resize;
	c->GotFrameBufferUpdate = got_update;
	c->canHandleNewFBSize = TRUE;
	c->GetPassword = get_password;
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

static void count_done(int sig)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "updates %ld\n", n_updates);

	(void)sig;
	if (write(1, line, (size_t)n) != n)
		_exit(1);
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

	signal(SIGALRM, count_done);
	alarm((unsigned)secs);
	c = connect_to(hostport);
	c->FinishedFrameBufferUpdate = finished_update;
	/* libvncclient asks for the next incremental update after each one. */
	for (;;) {
		int r = WaitForMessage(c, 100000);

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

/* RFB 3.8 by hand, on a socket whose receive buffer is set before connect. */
static int stall(const char *hostport, int secs)
{
	const char *colon = strrchr(hostport, ':');
	char host[256], ver[12], name_len[4], init[24];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	struct sockaddr_storage me;
	socklen_t me_len = sizeof(me);
	unsigned char ntypes, types[256], none = 1;
	unsigned char result[4];
	int fd, rcvbuf = 2048, w, h, port;
	double end;

	if (!colon || colon - hostport >= (long)sizeof(host))
		return 2;
	if (hostport[0] == '[')
		snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport - 2), hostport + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	if (getaddrinfo(host, colon + 1, &hints, &ai)) {
		fprintf(stderr, "v4l2vnc-client: stall: cannot resolve %s\n", hostport);
		return 1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("v4l2vnc-client: stall: connect");
		return 1;
	}
	freeaddrinfo(ai);
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
	if (argc == 4 && !strcmp(argv[1], "stall"))
		return stall(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "evread"))
		return evread(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of v4l2vnc-client.c\n");
	return 2;
}
