// SPDX-License-Identifier: MIT
/*
 * v4l2-share - a capture node's frames handed to another process, and to
 * another device, as dma-bufs; and what each way of holding a frame costs.
 *
 *   v4l2-share check /dev/videoN EXPECTED.raw FRAMES
 *	MMAP buffers are exported with VIDIOC_EXPBUF and the fds passed
 *	(SCM_RIGHTS) to a second process, started with exec so that it holds
 *	nothing else of the node. That process imports each dma-buf into
 *	another device, vgem (attached and mapped for its DMA; DRM does not
 *	let an imported object be mmapped through the importer), and maps it
 *	itself. For FRAMES frames the capture process dequeues a buffer and
 *	sends its index; the consumer brackets its reads with
 *	DMA_BUF_IOCTL_SYNC and compares the frame with EXPECTED.raw
 *	(XRGB8888, the node's size) byte for byte; the buffer is queued again
 *	only after its answer. Sequence numbers must increase.
 *
 *   v4l2-share bench /dev/videoN idle|mmap|dmabuf|expbuf SECONDS
 *	Streams for SECONDS and prints the number of frames delivered. Each
 *	frame is read by a consumer the same way (one 32-bit word of every
 *	64-byte line): mmap - in the capturing process through its MMAP
 *	mapping; dmabuf - vgem buffers imported as DMABUF, read through
 *	vgem's mapping; expbuf - MMAP buffers exported to a second process
 *	that reads them through its dma-buf mapping. idle: MMAP, each frame
 *	dequeued and queued again unread (the cost of capture alone).
 *
 * Exits 0 on success, 1 on a violation, 2 on a setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>
#include <xf86drm.h>

#include "kmsutil.h"

#define NBUF 4

static const char *self;

static void die(const char *what, int err)
{
	fprintf(stderr, "v4l2-share: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

static void __attribute__((format(printf, 1, 2))) violation(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "v4l2-share: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The message a consumer gets per frame, and its answer. */
struct frame_msg {
	uint32_t index;
	uint32_t sequence;
};

struct frame_ans {
	uint32_t index;
	uint32_t ok;	/* 0: a mapping differs from the expected frame */
	uint32_t sum;
};

/* One word of every 64-byte line, as a consumer that reads the frame. */
static uint32_t touch(const void *p, size_t size)
{
	const volatile uint32_t *w = p;
	uint32_t sum = 0;

	for (size_t i = 0; i < size / 4; i += 16)
		sum += w[i];
	return sum;
}

static void dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags | DMA_BUF_SYNC_READ };

	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s))
		if (errno != EINTR && errno != EAGAIN)
			die("DMA_BUF_IOCTL_SYNC", errno);
}

static void send_fds(int sock, const int *fds, unsigned int n, uint32_t size)
{
	char cbuf[CMSG_SPACE(sizeof(int) * NBUF)] = { 0 };
	struct iovec iov = { .iov_base = &size, .iov_len = sizeof(size) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	if (sendmsg(sock, &m, 0) != sizeof(size))
		die("sendmsg(SCM_RIGHTS)", errno);
}

static unsigned int recv_fds(int sock, int *fds, uint32_t *size)
{
	char cbuf[CMSG_SPACE(sizeof(int) * NBUF)];
	struct iovec iov = { .iov_base = size, .iov_len = sizeof(*size) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	unsigned int n;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != sizeof(*size))
		die("recvmsg(SCM_RIGHTS)", errno ? errno : EPROTO);
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		die("no fds in the message", EPROTO);
	n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (n > NBUF)
		die("too many fds", EPROTO);
	memcpy(fds, CMSG_DATA(c), sizeof(int) * n);
	return n;
}

/*
 * The second process: v4l2-share consumer SOCKFD EXPECTED|-
 * It holds only the socket; everything else arrives through it.
 */
static int consumer(int sock, const char *expected)
{
	int fds[NBUF], gfd;
	void *map[NBUF];
	uint32_t handle;
	unsigned char *expect = NULL;
	uint32_t size;
	unsigned int n = recv_fds(sock, fds, &size);
	struct frame_msg msg;

	if (strcmp(expected, "-")) {
		FILE *f = fopen(expected, "rb");

		expect = malloc(size);
		if (!f || !expect || fread(expect, 1, size, f) != size)
			die(expected, errno ? errno : EINVAL);
		fclose(f);
		gfd = kms_open("vgem");
		if (gfd < 0)
			die("no vgem card (modprobe vgem)", gfd);
		for (unsigned int i = 0; i < n; i++)
			if (drmPrimeFDToHandle(gfd, fds[i], &handle))
				die("importing an exported dma-buf into vgem", errno);
	}
	for (unsigned int i = 0; i < n; i++) {
		map[i] = mmap(NULL, size, PROT_READ, MAP_SHARED, fds[i], 0);
		if (map[i] == MAP_FAILED)
			die("mmap of an exported dma-buf", errno);
	}
	while (read(sock, &msg, sizeof(msg)) == sizeof(msg)) {
		struct frame_ans ans = { .index = msg.index, .ok = 1 };

		if (msg.index >= n)
			die("bad buffer index", EPROTO);
		dmabuf_sync(fds[msg.index], DMA_BUF_SYNC_START);
		if (expect)
			ans.ok = !memcmp(map[msg.index], expect, size);
		else
			ans.sum = touch(map[msg.index], size);
		dmabuf_sync(fds[msg.index], DMA_BUF_SYNC_END);
		if (write(sock, &ans, sizeof(ans)) != sizeof(ans))
			die("answering", errno);
	}
	return 0;
}

struct capture {
	int fd;
	uint32_t size, memory;
	void *map[NBUF];
	int dmabuf[NBUF];
	struct kms_dumb gem[NBUF];
	int sock;
	pid_t child;
	uint32_t last_seq;
	unsigned int frames;
};

static void qbuf(struct capture *c, unsigned int index)
{
	struct v4l2_buffer b = { .index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = c->memory };

	if (c->memory == V4L2_MEMORY_DMABUF) {
		b.m.fd = c->dmabuf[index];
		b.length = c->size;
	}
	if (ioctl(c->fd, VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF", errno);
}

/* Next buffer; -1 when none came within 2 s. */
static int dqbuf(struct capture *c)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = c->memory };
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	if (poll(&p, 1, 2000) <= 0)
		return -1;
	if (ioctl(c->fd, VIDIOC_DQBUF, &b))
		die("VIDIOC_DQBUF", errno);
	if (c->frames && b.sequence <= c->last_seq)
		violation("sequence %u after %u", b.sequence, c->last_seq);
	if (b.bytesused != c->size)
		violation("bytesused %u, expected %u", b.bytesused, c->size);
	c->last_seq = b.sequence;
	c->frames++;
	return b.index;
}

static void setup(struct capture *c, const char *dev, uint32_t memory)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers req = { .count = NBUF, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					   .memory = memory };

	memset(c, 0, sizeof(*c));
	c->memory = memory;
	c->sock = -1;
	c->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		die(dev, errno);
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_XBGR32;
	if (ioctl(c->fd, VIDIOC_S_FMT, &fmt))
		die("VIDIOC_S_FMT", errno);
	c->size = fmt.fmt.pix.sizeimage;
	if (memory == V4L2_MEMORY_DMABUF) {
		int gfd = kms_open("vgem");

		if (gfd < 0)
			die("no vgem card (modprobe vgem)", gfd);
		for (int i = 0; i < NBUF; i++) {
			int ret = kms_dumb_alloc(gfd, fmt.fmt.pix.width, fmt.fmt.pix.height, 32,
						 &c->gem[i]);

			if (ret)
				die("vgem dumb buffer", ret);
			if (c->gem[i].pitch != fmt.fmt.pix.bytesperline)
				die("vgem pitch differs from bytesperline", EINVAL);
			if (drmPrimeHandleToFD(gfd, c->gem[i].handle, DRM_CLOEXEC | DRM_RDWR,
					       &c->dmabuf[i]))
				die("exporting a vgem buffer", errno);
			c->map[i] = c->gem[i].map;
		}
	}
	if (ioctl(c->fd, VIDIOC_REQBUFS, &req) || req.count != NBUF)
		die("VIDIOC_REQBUFS", errno ? errno : ENOMEM);
	if (memory != V4L2_MEMORY_MMAP)
		return;
	for (int i = 0; i < NBUF; i++) {
		struct v4l2_buffer b = { .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = memory };
		struct v4l2_exportbuffer e = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .index = i,
					       .flags = O_RDONLY | O_CLOEXEC };

		if (ioctl(c->fd, VIDIOC_QUERYBUF, &b))
			die("VIDIOC_QUERYBUF", errno);
		c->map[i] = mmap(NULL, b.length, PROT_READ, MAP_SHARED, c->fd, b.m.offset);
		if (c->map[i] == MAP_FAILED)
			die("mmap", errno);
		if (ioctl(c->fd, VIDIOC_EXPBUF, &e))
			die("VIDIOC_EXPBUF", errno);
		c->dmabuf[i] = e.fd;
	}
}

/* Start the second process and hand it the exported buffers. */
static void start_consumer(struct capture *c, const char *expected)
{
	int sv[2];
	char arg[16];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die("socketpair", errno);
	c->child = fork();
	if (c->child < 0)
		die("fork", errno);
	if (!c->child) {
		int fd = dup(sv[1]); /* the one fd that survives exec */

		snprintf(arg, sizeof(arg), "%d", fd);
		execl("/proc/self/exe", self, "consumer", arg, expected, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	c->sock = sv[0];
	send_fds(c->sock, c->dmabuf, NBUF, c->size);
	for (int i = 0; i < NBUF; i++)	/* the consumer holds its own references */
		close(c->dmabuf[i]);
}

static void ask_consumer(struct capture *c, unsigned int index, struct frame_ans *ans)
{
	struct frame_msg msg = { .index = index, .sequence = c->last_seq };

	if (write(c->sock, &msg, sizeof(msg)) != sizeof(msg))
		die("writing to the consumer", errno);
	if (read(c->sock, ans, sizeof(*ans)) != sizeof(*ans))
		die("the consumer did not answer", errno ? errno : EPIPE);
	if (ans->index != index)
		violation("the consumer answered for buffer %u, not %u", ans->index, index);
}

static void stop(struct capture *c)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	int status;

	ioctl(c->fd, VIDIOC_STREAMOFF, &type);
	if (c->sock >= 0) {
		close(c->sock);
		if (waitpid(c->child, &status, 0) != c->child || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			violation("the consumer process failed (status 0x%x)", status);
	}
}

static void streamon(struct capture *c)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	for (int i = 0; i < NBUF; i++)
		qbuf(c, i);
	if (ioctl(c->fd, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON", errno);
}

static int check(const char *dev, const char *expected, unsigned int frames)
{
	struct capture c;

	setup(&c, dev, V4L2_MEMORY_MMAP);
	start_consumer(&c, expected);
	streamon(&c);
	for (unsigned int n = 0; n < frames; n++) {
		struct frame_ans ans;
		int idx = dqbuf(&c);

		if (idx < 0)
			violation("no frame within 2 s after %u frames", n);
		ask_consumer(&c, idx, &ans);
		if (!ans.ok)
			violation("frame %u (buffer %u) differs from the expected one in the second process",
				  c.last_seq, idx);
		qbuf(&c, idx);
	}
	stop(&c);
	printf("v4l2-share: %u frames read by a second process through exported dma-bufs (also imported into vgem), all equal to the expected frame\n",
	       frames);
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int bench(const char *dev, const char *how, double seconds)
{
	struct capture c;
	uint32_t memory = strcmp(how, "dmabuf") ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF;
	bool exported = !strcmp(how, "expbuf"), idle = !strcmp(how, "idle");
	volatile uint32_t sink = 0;
	double end;

	if (strcmp(how, "mmap") && strcmp(how, "dmabuf") && !exported && !idle)
		die("bench: idle, mmap, dmabuf or expbuf", EINVAL);
	setup(&c, dev, memory);
	if (exported)
		start_consumer(&c, "-");
	streamon(&c);
	end = now() + seconds;
	c.frames = 0;
	while (now() < end) {
		int idx = dqbuf(&c);

		if (idx < 0)
			die("no frame within 2 s", ETIMEDOUT);
		if (exported) {
			struct frame_ans ans;

			ask_consumer(&c, idx, &ans);
			sink += ans.sum;
		} else if (!idle) {
			sink += touch(c.map[idx], c.size);
		}
		qbuf(&c, idx);
	}
	stop(&c);
	printf("%u\n", c.frames);
	return 0;
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 4 && !strcmp(argv[1], "consumer"))
		return consumer(atoi(argv[2]), argv[3]);
	if (argc == 5 && !strcmp(argv[1], "check"))
		return check(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "bench"))
		return bench(argv[2], argv[3], atof(argv[4]));
	fprintf(stderr, "usage: v4l2-share check /dev/videoN EXPECTED.raw FRAMES\n"
			"       v4l2-share bench /dev/videoN idle|mmap|dmabuf|expbuf SECONDS\n");
	return 2;
}
