// SPDX-License-Identifier: MIT
/*
 * v4l2-race - clients that race kms2v4l's stream and buffer lifetime.
 *
 *   v4l2-race cycle /dev/videoN ROUNDS FRAMES
 *	ROUNDS times: REQBUFS(4), QBUF all, STREAMON, DQBUF (and requeue)
 *	FRAMES frames, STREAMOFF, REQBUFS(0). A round whose frames do not
 *	come within 1 s (the mode changed under it) ends early. Prints the
 *	rounds with frames and the frames; exits 1 if no round got one.
 *   v4l2-race minimal /dev/videoN FRAMES
 *	open, REQBUFS(4), QBUF, STREAMON with no other ioctl first (legal
 *	V4L2: the current format): FRAMES frames must arrive within 5 s,
 *	each as large as the format G_FMT reports afterwards.
 *   v4l2-race fence-hold /dev/videoN
 *	Streams into an imported vgem buffer until its implicit write
 *	fence is kms2v4l's and unsignalled, keeps that fence as a
 *	sync_file, closes the node, vgem and the buffer, prints "holding"
 *	and waits for a line on stdin; then queries the sync_file
 *	(SYNC_IOC_FILE_INFO) and waits on it: exit 0 if it names kms2v4l
 *	and has signalled.
 * Exits 0 when all holds, 1 on a violation, 2 on a setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>
#include <xf86drm.h>

#include "kmsutil.h"

static const char *dev;

static void die(const char *what, int err)
{
	fprintf(stderr, "v4l2-race: %s: %s: %s\n", dev, what, strerror(err < 0 ? -err : err));
	exit(2);
}

static void violation(const char *what)
{
	fprintf(stderr, "v4l2-race: %s: FAIL: %s\n", dev, what);
	exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r;
}

static int reqbufs(int fd, unsigned int count, unsigned int memory)
{
	struct v4l2_requestbuffers req = { .count = count, .memory = memory,
					   .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	if (xioctl(fd, VIDIOC_REQBUFS, &req))
		die("VIDIOC_REQBUFS", errno);
	return req.count;
}

static void qbuf(int fd, unsigned int index, unsigned int memory, int dmabuf,
		 unsigned int length)
{
	struct v4l2_buffer b = { .index = index, .memory = memory,
				 .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	if (memory == V4L2_MEMORY_DMABUF) {
		b.m.fd = dmabuf;
		b.length = length;
	}
	if (xioctl(fd, VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF", errno);
}

/* The next buffer within @ms, into @b; 0, or -1 on timeout. */
static int dqbuf(int fd, unsigned int memory, struct v4l2_buffer *b, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	memset(b, 0, sizeof(*b));
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = memory;
	if (poll(&p, 1, ms) <= 0)
		return -1;
	if (xioctl(fd, VIDIOC_DQBUF, b))
		die("VIDIOC_DQBUF", errno);
	return 0;
}

static void stream(int fd, int on)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	if (xioctl(fd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &type))
		die(on ? "VIDIOC_STREAMON" : "VIDIOC_STREAMOFF", errno);
}

static int cycle(int fd, int rounds, int frames)
{
	int good = 0, total = 0;

	for (int r = 0; r < rounds; r++) {
		struct v4l2_buffer b;
		int n = reqbufs(fd, 4, V4L2_MEMORY_MMAP), got = 0;

		for (int i = 0; i < n; i++)
			qbuf(fd, i, V4L2_MEMORY_MMAP, -1, 0);
		stream(fd, 1);
		while (got < frames && !dqbuf(fd, V4L2_MEMORY_MMAP, &b, 1000)) {
			got++;
			qbuf(fd, b.index, V4L2_MEMORY_MMAP, -1, 0);
		}
		stream(fd, 0);
		reqbufs(fd, 0, V4L2_MEMORY_MMAP);
		good += got > 0;
		total += got;
	}
	printf("v4l2-race: %s: %d of %d rounds got frames, %d frames\n", dev, good,
	       rounds, total);
	if (!good)
		violation("no round got a frame");
	return 0;
}

static int minimal(int fd, int frames)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_buffer b;
	int n = reqbufs(fd, 4, V4L2_MEMORY_MMAP);

	for (int i = 0; i < n; i++)
		qbuf(fd, i, V4L2_MEMORY_MMAP, -1, 0);
	stream(fd, 1);
	for (int i = 0; i < frames; i++) {
		if (dqbuf(fd, V4L2_MEMORY_MMAP, &b, 5000))
			violation("no frame within 5 s (format left behind by a modeset?)");
		if (i == 0) {
			if (xioctl(fd, VIDIOC_G_FMT, &fmt))
				die("VIDIOC_G_FMT", errno);
			printf("v4l2-race: %s: frames of %ux%u, %u bytes\n", dev,
			       fmt.fmt.pix.width, fmt.fmt.pix.height, b.bytesused);
		}
		if (b.bytesused != fmt.fmt.pix.sizeimage)
			violation("a frame's size is not the format's");
		qbuf(fd, b.index, V4L2_MEMORY_MMAP, -1, 0);
	}
	stream(fd, 0);
	printf("v4l2-race: %s: %d frames without G_FMT/S_FMT first\n", dev, frames);
	return 0;
}

/* A sync_file of @dmabuf's write fence if it is kms2v4l's and unsignalled. */
static int kms2v4l_busy_fence(int dmabuf)
{
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct sync_fence_info info = { 0 };
	struct sync_file_info fi = { .num_fences = 1, .sync_fence_info = (uintptr_t)&info };

	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		die("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", errno);
	/* one fence, kms2v4l's, still active */
	if (!ioctl(exp.fd, SYNC_IOC_FILE_INFO, &fi) && fi.num_fences == 1 &&
	    info.status == 0 && !strcmp(info.driver_name, "kms2v4l"))
		return exp.fd;
	close(exp.fd);
	return -1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int fence_hold(int fd)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct sync_fence_info info = { 0 };
	struct sync_file_info fi = { .num_fences = 1, .sync_fence_info = (uintptr_t)&info };
	struct pollfd p = { .events = POLLIN };
	struct v4l2_buffer b;
	struct kms_dumb bo;
	int gfd, dmabuf, sf = -1, ret;
	char line[16];

	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_XBGR32;
	if (xioctl(fd, VIDIOC_S_FMT, &fmt))
		die("VIDIOC_S_FMT", errno);
	gfd = kms_open("vgem");
	if (gfd < 0)
		die("no vgem card (modprobe vgem)", gfd);
	ret = kms_dumb_alloc(gfd, fmt.fmt.pix.width, fmt.fmt.pix.height, 32, &bo);
	if (ret)
		die("vgem dumb buffer", ret);
	if (bo.pitch != fmt.fmt.pix.bytesperline)
		die("vgem pitch differs from bytesperline", EINVAL);
	if (drmPrimeHandleToFD(gfd, bo.handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf))
		die("exporting the vgem buffer", errno);
	reqbufs(fd, 1, V4L2_MEMORY_DMABUF);
	stream(fd, 1);
	for (double end = now() + 20; sf < 0 && now() < end;) {
		qbuf(fd, 0, V4L2_MEMORY_DMABUF, dmabuf, fmt.fmt.pix.sizeimage);
		for (double f = now() + 2; sf < 0 && now() < f;) {
			p.fd = fd;
			if (poll(&p, 1, 0) > 0)
				break;
			sf = kms2v4l_busy_fence(dmabuf);
		}
		if (dqbuf(fd, V4L2_MEMORY_DMABUF, &b, 2000))
			violation("the stream stopped");
	}
	if (sf < 0)
		violation("never caught kms2v4l's write fence unsignalled");
	stream(fd, 0);
	close(fd);
	close(dmabuf);
	kms_dumb_destroy(gfd, &bo);
	close(gfd);
	printf("holding\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		die("stdin closed", EPIPE);

	if (ioctl(sf, SYNC_IOC_FILE_INFO, &fi))
		die("SYNC_IOC_FILE_INFO", errno);
	p.fd = sf;
	if (poll(&p, 1, 5000) != 1)
		violation("the sync_file never signalled");
	if (strcmp(info.driver_name, "kms2v4l") || info.status != 1)
		violation("the sync_file's fence is not kms2v4l's, signalled");
	printf("v4l2-race: %s: kms2v4l fence (timeline %s) signalled, readable after its node went away\n",
	       dev, info.obj_name);
	close(sf);
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 3)
		die("usage: v4l2-race cycle|minimal|fence-hold /dev/videoN [ARGS]", EINVAL);
	dev = argv[2];
	fd = open(dev, O_RDWR);
	if (fd < 0)
		die("open", errno);
	if (!strcmp(argv[1], "cycle") && argc == 5)
		return cycle(fd, atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(argv[1], "minimal") && argc == 4)
		return minimal(fd, atoi(argv[3]));
	if (!strcmp(argv[1], "fence-hold") && argc == 3)
		return fence_hold(fd);
	die("usage: v4l2-race cycle|minimal|fence-hold /dev/videoN [ARGS]", EINVAL);
	return 2;
}
