// SPDX-License-Identifier: MIT
/*
 * libkms2v4l: V4L2 capture through plain ioctls.  See kms2v4l.h.
 */
#define _GNU_SOURCE
#include <kms2v4l/kms2v4l.h>

#include "damage.h"
#include "slots.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kms2v4l.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* The public header spells the kernel's control ids out: keep them equal. */
_Static_assert(KMS2V4L_CID_SEQUENCE_BASE == V4L2_CID_KMS2V4L_SEQUENCE_BASE,
	       "sequence base control id");
_Static_assert(KMS2V4L_CID_CRTC_ID == V4L2_CID_KMS2V4L_CRTC_ID,
	       "CRTC id control id");
_Static_assert(KMS2V4L_CID_CONNECTORS == V4L2_CID_KMS2V4L_CONNECTORS,
	       "connectors control id");
_Static_assert(KMS2V4L_CID_FRAME_PACING == V4L2_CID_KMS2V4L_FRAME_PACING,
	       "frame pacing control id");
_Static_assert(KMS2V4L_CID_PARTIAL_FRAMES == V4L2_CID_KMS2V4L_PARTIAL_FRAMES,
	       "partial frames control id");
_Static_assert(KMS2V4L_PACING_ON_CHANGE == V4L2_KMS2V4L_PACING_ON_CHANGE,
	       "on-change pacing");

/*
 * Caller structs (see "Structs and ABI" in kms2v4l.h): the smallest
 * struct_size accepted is the end of the first version's last member.
 * Later versions append members and keep these.
 */
#define END_OF(type, member)                                                   \
	(offsetof(struct type, member) + sizeof(((struct type *)0)->member))
#define NODE_INFO_SIZE_V1 END_OF(kms2v4l_node_info, refresh_mhz)
#define FORMAT_SIZE_V1 END_OF(kms2v4l_format, sizeimage)
#define FRAME_SIZE_V1 END_OF(kms2v4l_frame, n_damage)

/*
 * The unit test libkms2v4l-abi-test builds this file with
 * KMS2V4L_TEST_GROW=N to stand for a later library whose structs have N
 * bytes more (which it fills with KMS2V4L_TEST_GROW_BYTE), against which
 * the public structs are an older program's.
 */
#ifndef KMS2V4L_TEST_GROW
#define KMS2V4L_TEST_GROW 0
#endif
#define KMS2V4L_TEST_GROW_BYTE 0x5a

/* The caller's struct_size @size fits a struct whose first version ends at
 * @v1. */
static int size_ok(uint32_t size, size_t v1)
{
	return size >= v1;
}

/*
 * Puts our @src (a whole struct of @ours bytes, struct_size first) into
 * the caller's @dst of @size bytes: min(@size, ours) bytes, struct_size
 * left as the caller set it, nothing beyond.
 */
static void put_struct(void *dst, uint32_t size, const void *src, size_t ours)
{
	size_t skip = sizeof(uint32_t);
	size_t n = size < ours ? size : ours;

	memcpy((char *)dst + skip, (const char *)src + skip, n - skip);
	if (KMS2V4L_TEST_GROW && size > ours) {
		size_t more = size - ours;

		if (more > KMS2V4L_TEST_GROW)
			more = KMS2V4L_TEST_GROW;
		memset((char *)dst + ours, KMS2V4L_TEST_GROW_BYTE, more);
	}
}

/* Reads the caller's @src of @size bytes into our zeroed @dst of @ours:
 * members the caller's version lacks stay 0. */
static void get_struct(void *dst, size_t ours, const void *src, uint32_t size)
{
	memset(dst, 0, ours);
	memcpy(dst, src, size < ours ? size : ours);
}

struct kms2v4l_buffer {
	void *map;     /* MMAP: the mapping, else NULL */
	size_t length; /* mapping or dma-buf length */
	int dmabuf_fd; /* DMABUF: our dup of the caller's fd, else -1 */
};

/*
 * kms2v4l's damage node beside a kms2v4l capture node: a metadata capture
 * node streamed with the capture, whose records give frame->damage.
 */
struct kms2v4l_damage_node {
	int fd;             /* O_RDWR; -1: the node has none */
	int streaming;      /* off again after any error: whole frames */
	unsigned int count; /* buffers allocated, mapped read-only */
	void *map[KMS2V4L_MAX_SLOTS];
	size_t length[KMS2V4L_MAX_SLOTS];
	int pending; /* dequeued record of a later frame, or -1 */
	uint32_t pending_seq, pending_bytes;
};

/* At least this many damage buffers, and one more than capture buffers:
 * records wait only for frames delivered but not yet dequeued. */
#define DAMAGE_BUFS_MIN 8

struct kms2v4l_device {
	int fd;
	char path[KMS2V4L_NAME_MAX];
	struct kms2v4l_node_info info;
	char err[256];
	int events;         /* SOURCE_CHANGE subscribed */
	int change_pending; /* a source change kms2v4l_dequeue() still owes */
	int streaming;
	enum kms2v4l_memory memory;
	struct kms2v4l_slots slots;
	struct kms2v4l_buffer buf[KMS2V4L_MAX_SLOTS];
	struct kms2v4l_format fmt; /* as of the last G_FMT/S_FMT */
	struct kms2v4l_rect whole;
	struct kms2v4l_damage_node meta;
	/* Each held slot's frame->damage. */
	struct kms2v4l_rect damage[KMS2V4L_MAX_SLOTS][KMS2V4L_DAMAGE_MAX_RECTS];
};

static __thread char open_err[256];

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* VIDIOC_REQBUFS for @count buffers (0: free them); the count granted
 * in *@granted, if not NULL.  0 or -errno. */
static int reqbufs(int fd, uint32_t type, uint32_t memory, uint32_t count,
		   uint32_t *granted)
{
	struct v4l2_requestbuffers req;
	int r;

	memset(&req, 0, sizeof(req));
	req.count = count;
	req.type = type;
	req.memory = memory;
	r = xioctl(fd, VIDIOC_REQBUFS, &req);
	if (!r && granted)
		*granted = req.count;
	return r;
}

/* VIDIOC_QUERYBUF of MMAP buffer @index, then its shared mapping with
 * @prot, into *@map and *@length.  0 or -errno, the call that failed in
 * *@what. */
static int map_buffer(int fd, uint32_t type, unsigned int index, int prot,
		      void **map, size_t *length, const char **what)
{
	struct v4l2_buffer b;
	void *p;
	int r;

	memset(&b, 0, sizeof(b));
	b.index = index;
	b.type = type;
	b.memory = V4L2_MEMORY_MMAP;
	r = xioctl(fd, VIDIOC_QUERYBUF, &b);
	if (r < 0) {
		*what = "VIDIOC_QUERYBUF";
		return r;
	}
	p = mmap(NULL, b.length, prot, MAP_SHARED, fd, b.m.offset);
	if (p == MAP_FAILED) {
		*what = "mmap";
		return -errno;
	}
	*map = p;
	*length = b.length;
	return 0;
}

/* Records "<path>: <call>: <strerror>" (plus detail) and returns @err. */
static int fail(struct kms2v4l_device *dev, int err, const char *call,
		const char *detail_fmt, ...)
{
	char detail[128] = "";

	if (detail_fmt) {
		va_list ap;

		va_start(ap, detail_fmt);
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
		va_end(ap);
	}
	snprintf(dev->err, sizeof(dev->err), "%s: %s%s%s: %s", dev->path, call,
		 detail[0] ? " " : "", detail, strerror(-err));
	return err;
}

char *kms2v4l_fourcc_str(uint32_t fourcc, char buf[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)((fourcc >> (8 * i)) & 0xff);

		buf[i] = (c >= 32 && c < 127) ? c : '?';
	}
	buf[4] = '\0';
	return buf;
}

static void copy_str(char *dst, const void *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n >= KMS2V4L_NAME_MAX)
		n = KMS2V4L_NAME_MAX - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void read_sysfs_name(const char *node, char *out)
{
	char p[256];
	FILE *f;

	out[0] = '\0';
	snprintf(p, sizeof(p), "/sys/class/video4linux/%s/name", node);
	f = fopen(p, "re");
	if (!f)
		return;
	if (fgets(out, KMS2V4L_NAME_MAX, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* "platform:vkms-card0-crtc1": card 0, CRTC 1 (the last "-card" wins, as
 * the driver name may hold one); -1 for both when @bus is not like that. */
static void parse_bus_info(const char *bus, int *card, int *crtc)
{
	const char *p = NULL, *q = bus;
	int c, k, end = 0;

	*card = -1;
	*crtc = -1;
	while ((q = strstr(q, "-card"))) {
		p = q;
		q++;
	}
	if (!p || sscanf(p, "-card%d-crtc%d%n", &c, &k, &end) != 2 || p[end] ||
	    c < 0 || k < 0)
		return;
	*card = c;
	*crtc = k;
}

/* What the node shows: kms2v4l's controls and the DV timings. */
static void query_output(int fd, struct kms2v4l_node_info *info)
{
	struct v4l2_ext_control c[2];
	struct v4l2_ext_controls cs;
	struct v4l2_dv_timings t;

	info->drm_crtc_id = 0;
	info->connectors[0] = '\0';
	info->width = info->height = info->refresh_mhz = 0;
	info->drm_card = info->drm_crtc_index = -1;
	if (!strcmp(info->driver, "kms2v4l")) {
		parse_bus_info(info->bus_info, &info->drm_card,
			       &info->drm_crtc_index);
		memset(c, 0, sizeof(c));
		memset(&cs, 0, sizeof(cs));
		c[0].id = KMS2V4L_CID_CRTC_ID;
		c[1].id = KMS2V4L_CID_CONNECTORS;
		c[1].size = sizeof(info->connectors);
		c[1].string = info->connectors;
		cs.which = V4L2_CTRL_WHICH_CUR_VAL;
		cs.count = 2;
		cs.controls = c;
		if (xioctl(fd, VIDIOC_G_EXT_CTRLS, &cs) == 0)
			info->drm_crtc_id = (uint32_t)c[0].value;
		else
			info->connectors[0] = '\0';
	}
	memset(&t, 0, sizeof(t));
	if (xioctl(fd, VIDIOC_QUERY_DV_TIMINGS, &t) == 0 &&
	    t.type == V4L2_DV_BT_656_1120) {
		uint64_t total = (uint64_t)V4L2_DV_BT_FRAME_WIDTH(&t.bt) *
				 V4L2_DV_BT_FRAME_HEIGHT(&t.bt);

		info->width = t.bt.width;
		info->height = t.bt.height;
		if (total)
			info->refresh_mhz = (t.bt.pixelclock * 1000 +
					     total / 2) /
					    total;
	}
}

/* QUERYCAP into @info; returns 0 if the node is a streaming
 * single-planar capture node, else -errno (-ENODEV if not a capture node). */
static int query_node(int fd, struct kms2v4l_node_info *info)
{
	struct v4l2_capability cap;
	uint32_t caps;
	int r;

	memset(&cap, 0, sizeof(cap));
	r = xioctl(fd, VIDIOC_QUERYCAP, &cap);
	if (r < 0)
		return r;
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps :
							   cap.capabilities;
	copy_str(info->driver, cap.driver, sizeof(cap.driver));
	copy_str(info->card, cap.card, sizeof(cap.card));
	copy_str(info->bus_info, cap.bus_info, sizeof(cap.bus_info));
	info->device_caps = caps;
	if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING))
		return -ENODEV;
	query_output(fd, info);
	return 0;
}

static int node_number(const char *name)
{
	return atoi(name + strlen("video"));
}

static int cmp_nodes(const void *a, const void *b)
{
	const struct kms2v4l_node_info *x = a, *y = b;

	return node_number(x->path + strlen("/dev/")) -
	       node_number(y->path + strlen("/dev/"));
}

/* The nodes as our own structs, in *@list (NULL when none), sorted. */
static int enumerate(struct kms2v4l_node_info **list, size_t *count)
{
	struct kms2v4l_node_info *out = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*list = NULL;
	*count = 0;
	d = opendir("/sys/class/video4linux");
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct kms2v4l_node_info info;
		int fd;

		if (strncmp(de->d_name, "video", 5) != 0)
			continue;
		memset(&info, 0, sizeof(info));
		info.struct_size = sizeof(info);
		snprintf(info.path, sizeof(info.path), "/dev/%.50s",
			 de->d_name);
		/* Read-only: QUERYCAP, G_EXT_CTRLS and QUERY_DV_TIMINGS need
		 * no more, and a node of another driver (a webcam, an
		 * encoder) is not opened for writing by a mere listing. */
		fd = open(info.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (query_node(fd, &info) < 0) {
			close(fd);
			continue;
		}
		close(fd);
		read_sysfs_name(de->d_name, info.name);
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct kms2v4l_node_info *t = realloc(
				out, ncap * sizeof(*t));

			if (!t) {
				free(out);
				closedir(d);
				return -ENOMEM;
			}
			out = t;
			cap = ncap;
		}
		out[n++] = info;
	}
	closedir(d);
	if (n)
		qsort(out, n, sizeof(*out), cmp_nodes);
	*list = out;
	*count = n;
	return 0;
}

int kms2v4l_enumerate_sized(struct kms2v4l_node_info **list, size_t *count,
			    uint32_t struct_size)
{
	struct kms2v4l_node_info *ours;
	char *out;
	size_t n;
	int r;

	*list = NULL;
	*count = 0;
	if (!size_ok(struct_size, NODE_INFO_SIZE_V1))
		return -EINVAL;
	r = enumerate(&ours, &n);
	if (r < 0 || !n)
		return r;
	/* The caller's sizeof is the stride its list[i] uses. */
	out = calloc(n, struct_size);
	if (!out) {
		free(ours);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct kms2v4l_node_info *e =
			(struct kms2v4l_node_info *)(out + i * struct_size);

		e->struct_size = struct_size;
		put_struct(e, struct_size, &ours[i], sizeof(ours[i]));
	}
	free(ours);
	*list = (struct kms2v4l_node_info *)out;
	*count = n;
	return 0;
}

/*
 * The damage node of a kms2v4l capture node: the video4linux node named
 * as the capture node plus " damage" (looked up in sysfs first, so that
 * no other node is opened at all), opened read-write (vb2 maps only
 * VM_SHARED mappings, and a MAP_SHARED mapping of a read-only file is not
 * one: mmap() fails with EINVAL; the mapping itself is PROT_READ), and
 * only kept if QUERYCAP says
 * kms2v4l, the capture node's bus_info and metadata capture with
 * streaming, and its format is V4L2_META_FMT_KMS2V4L_DAMAGE.
 */
static int open_damage_node(const struct kms2v4l_node_info *info)
{
	char want[KMS2V4L_NAME_MAX], name[KMS2V4L_NAME_MAX];
	struct dirent *de;
	int found = -1;
	DIR *d;

	/* Truncated as the kernel truncates its node names (64 bytes). */
	if (!info->name[0] ||
	    snprintf(want, sizeof(want), "%s damage", info->name) < 0)
		return -1;
	d = opendir("/sys/class/video4linux");
	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		struct v4l2_capability cap;
		struct v4l2_format f;
		char path[KMS2V4L_NAME_MAX];
		uint32_t caps;
		int fd;

		if (strncmp(de->d_name, "video", 5) != 0)
			continue;
		read_sysfs_name(de->d_name, name);
		if (strcmp(name, want) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%.50s", de->d_name);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		memset(&f, 0, sizeof(f));
		f.type = V4L2_BUF_TYPE_META_CAPTURE;
		caps = 0;
		if (xioctl(fd, VIDIOC_QUERYCAP, &cap) == 0)
			caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ?
				       cap.device_caps :
				       cap.capabilities;
		if ((caps & V4L2_CAP_META_CAPTURE) &&
		    (caps & V4L2_CAP_STREAMING) &&
		    !strncmp((const char *)cap.driver, "kms2v4l",
			     sizeof(cap.driver)) &&
		    !strncmp((const char *)cap.bus_info, info->bus_info,
			     sizeof(cap.bus_info)) &&
		    xioctl(fd, VIDIOC_G_FMT, &f) == 0 &&
		    f.fmt.meta.dataformat == V4L2_META_FMT_KMS2V4L_DAMAGE &&
		    f.fmt.meta.buffersize >= sizeof(struct kms2v4l_damage_meta))
			found = fd;
		else
			close(fd);
	}
	closedir(d);
	return found;
}

static void damage_release(struct kms2v4l_device *dev)
{
	struct kms2v4l_damage_node *m = &dev->meta;

	if (!m->count)
		return;
	for (unsigned int i = 0; i < m->count; i++) {
		if (m->map[i])
			munmap(m->map[i], m->length[i]);
		m->map[i] = NULL;
		m->length[i] = 0;
	}
	m->count = 0;
	reqbufs(m->fd, V4L2_BUF_TYPE_META_CAPTURE, V4L2_MEMORY_MMAP, 0, NULL);
}

/* MMAP buffers for one more record than capture buffers; 0 or -errno. */
static int damage_alloc(struct kms2v4l_device *dev)
{
	struct kms2v4l_damage_node *m = &dev->meta;
	unsigned int want = dev->slots.count + 1;
	const char *what;
	uint32_t granted = 0;
	int r;

	if (want < DAMAGE_BUFS_MIN)
		want = DAMAGE_BUFS_MIN;
	if (want > KMS2V4L_MAX_SLOTS)
		want = KMS2V4L_MAX_SLOTS;
	if (m->count >= want)
		return 0;
	damage_release(dev);
	r = reqbufs(m->fd, V4L2_BUF_TYPE_META_CAPTURE, V4L2_MEMORY_MMAP, want,
		    &granted);
	if (r < 0)
		return r;
	if (granted > KMS2V4L_MAX_SLOTS)
		granted = KMS2V4L_MAX_SLOTS;
	m->count = granted;
	for (unsigned int i = 0; i < m->count; i++) {
		r = map_buffer(m->fd, V4L2_BUF_TYPE_META_CAPTURE, i, PROT_READ,
			       &m->map[i], &m->length[i], &what);
		if (r < 0)
			goto err;
	}
	return m->count ? 0 : -ENOMEM;
err:
	damage_release(dev);
	return r;
}

static int damage_qbuf(struct kms2v4l_damage_node *m, unsigned int index)
{
	struct v4l2_buffer b;

	memset(&b, 0, sizeof(b));
	b.index = index;
	b.type = V4L2_BUF_TYPE_META_CAPTURE;
	b.memory = V4L2_MEMORY_MMAP;
	return xioctl(m->fd, VIDIOC_QBUF, &b);
}

static void damage_stop(struct kms2v4l_device *dev)
{
	struct kms2v4l_damage_node *m = &dev->meta;
	int type = V4L2_BUF_TYPE_META_CAPTURE;

	if (!m->streaming)
		return;
	xioctl(m->fd, VIDIOC_STREAMOFF, &type);
	m->streaming = 0;
	m->pending = -1;
}

/*
 * Before the capture's STREAMON: every damage buffer queued, STREAMON.
 * Any failure (the node streamed by another process: -EBUSY) leaves the
 * node off and the frames whole; it is not the caller's error.
 */
static void damage_start(struct kms2v4l_device *dev)
{
	struct kms2v4l_damage_node *m = &dev->meta;
	int type = V4L2_BUF_TYPE_META_CAPTURE;

	m->pending = -1;
	if (m->fd < 0 || m->streaming || damage_alloc(dev) < 0)
		return;
	for (unsigned int i = 0; i < m->count; i++)
		if (damage_qbuf(m, i) < 0)
			goto err;
	if (xioctl(m->fd, VIDIOC_STREAMON, &type) < 0)
		goto err;
	m->streaming = 1;
	return;
err:
	/* STREAMOFF takes back the buffers queued so far. */
	xioctl(m->fd, VIDIOC_STREAMOFF, &type);
}

/* Gives the pending record back to the driver. */
static int damage_requeue(struct kms2v4l_device *dev)
{
	struct kms2v4l_damage_node *m = &dev->meta;
	int r = damage_qbuf(m, (unsigned int)m->pending);

	m->pending = -1;
	if (r < 0)
		damage_stop(dev);
	return r;
}

/* The next record into @pending; -EAGAIN when none is done. */
static int damage_dqbuf(struct kms2v4l_device *dev)
{
	struct kms2v4l_damage_node *m = &dev->meta;

	for (unsigned int i = 0; i <= m->count; i++) {
		struct v4l2_buffer b;
		int r;

		memset(&b, 0, sizeof(b));
		b.type = V4L2_BUF_TYPE_META_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		r = xioctl(m->fd, VIDIOC_DQBUF, &b);
		if (r == -EAGAIN)
			return r;
		if (r < 0 || b.index >= m->count) {
			damage_stop(dev);
			return r < 0 ? r : -EPROTO;
		}
		m->pending = (int)b.index;
		m->pending_seq = b.sequence;
		m->pending_bytes = b.bytesused;
		if (!(b.flags & V4L2_BUF_FLAG_ERROR))
			return 0;
		if (damage_requeue(dev) < 0)
			return -EIO;
	}
	return -EAGAIN;
}

/*
 * The damage of the frame of @sequence just dequeued into @slot, from
 * the record of that sequence: records of earlier frames are dropped, one
 * of a later frame is kept for it.  Return: the rectangles in
 * dev->damage[@slot], or -1 for the whole frame (no such record).
 */
static int damage_for_frame(struct kms2v4l_device *dev, uint32_t sequence,
			    unsigned int slot)
{
	struct kms2v4l_damage_node *m = &dev->meta;

	for (unsigned int i = 0; m->streaming && i <= m->count; i++) {
		int n;

		if (m->pending < 0 && damage_dqbuf(dev) < 0)
			return -1;
		switch (kms2v4l_damage_order(m->pending_seq, sequence)) {
		case KMS2V4L_DAMAGE_OLDER:
			if (damage_requeue(dev) < 0)
				return -1;
			continue;
		case KMS2V4L_DAMAGE_NEWER:
			return -1;
		case KMS2V4L_DAMAGE_MATCH:
			n = kms2v4l_damage_rects(
				m->map[m->pending], m->pending_bytes, sequence,
				dev->fmt.width, dev->fmt.height,
				dev->damage[slot]);
			damage_requeue(dev);
			return n;
		}
	}
	return -1;
}

const char *kms2v4l_open_error(void)
{
	return open_err;
}

int kms2v4l_open(const char *path, struct kms2v4l_device **out)
{
	struct v4l2_event_subscription sub;
	struct kms2v4l_device *dev;
	const char *base;
	int input = 0, r;

	*out = NULL;
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		snprintf(open_err, sizeof(open_err), "%s: calloc: %s", path,
			 strerror(ENOMEM));
		return -ENOMEM;
	}
	snprintf(dev->path, sizeof(dev->path), "%s", path);
	for (int i = 0; i < KMS2V4L_MAX_SLOTS; i++)
		dev->buf[i].dmabuf_fd = -1;
	dev->meta.fd = -1;
	dev->meta.pending = -1;
	dev->info.struct_size = sizeof(dev->info);
	dev->fmt.struct_size = sizeof(dev->fmt);
	dev->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (dev->fd < 0) {
		r = -errno;
		snprintf(open_err, sizeof(open_err), "%s: open: %s", path,
			 strerror(-r));
		free(dev);
		return r;
	}
	r = query_node(dev->fd, &dev->info);
	if (r < 0) {
		if (r == -ENODEV)
			snprintf(
				open_err, sizeof(open_err),
				"%s: VIDIOC_QUERYCAP: not a single-planar streaming capture node (device_caps 0x%08x)",
				path, dev->info.device_caps);
		else
			snprintf(open_err, sizeof(open_err),
				 "%s: VIDIOC_QUERYCAP: %s", path, strerror(-r));
		close(dev->fd);
		free(dev);
		return r;
	}
	snprintf(dev->info.path, sizeof(dev->info.path), "%s", path);
	base = strrchr(path, '/');
	read_sysfs_name(base ? base + 1 : path, dev->info.name);
	if (!strcmp(dev->info.driver, "kms2v4l"))
		dev->meta.fd = open_damage_node(&dev->info);

	/* SOURCE_CHANGE events carry the input number as id. */
	memset(&sub, 0, sizeof(sub));
	sub.type = V4L2_EVENT_SOURCE_CHANGE;
	if (xioctl(dev->fd, VIDIOC_G_INPUT, &input) == 0)
		sub.id = (uint32_t)input;
	dev->events = xioctl(dev->fd, VIDIOC_SUBSCRIBE_EVENT, &sub) == 0;
	kms2v4l_get_format(dev, &dev->fmt);
	dev->err[0] = '\0';
	*out = dev;
	return 0;
}

void kms2v4l_close(struct kms2v4l_device *dev)
{
	if (!dev)
		return;
	kms2v4l_free_buffers(dev);
	if (dev->meta.fd >= 0)
		close(dev->meta.fd);
	close(dev->fd);
	free(dev);
}

const char *kms2v4l_error(const struct kms2v4l_device *dev)
{
	return dev->err;
}

const char *kms2v4l_path(const struct kms2v4l_device *dev)
{
	return dev->path;
}

int kms2v4l_info(const struct kms2v4l_device *dev,
		 struct kms2v4l_node_info *info)
{
	struct kms2v4l_node_info now = dev->info;

	if (!size_ok(info->struct_size, NODE_INFO_SIZE_V1))
		return -EINVAL;
	query_output(dev->fd, &now); /* connectors and mode change */
	put_struct(info, info->struct_size, &now, sizeof(now));
	return 0;
}

/* Does @list ("Virtual-1,HDMI-A-1") name @what? */
static int names_match(const char *list, const char *what)
{
	size_t n = strlen(what);

	while (*list) {
		size_t len = strcspn(list, ",");

		if (len == n && !strncasecmp(list, what, n))
			return 1;
		list += len;
		if (*list == ',')
			list++;
	}
	return 0;
}

int kms2v4l_find(const char *what, struct kms2v4l_node_info *info)
{
	struct kms2v4l_node_info *list;
	size_t n;
	int r;

	if (!size_ok(info->struct_size, NODE_INFO_SIZE_V1))
		return -EINVAL;
	r = enumerate(&list, &n);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n && r; i++) {
		const struct kms2v4l_node_info *x = &list[i];
		char crtc[32] = "", card[16] = "";
		size_t clen = 0;

		if (x->drm_card >= 0) {
			snprintf(crtc, sizeof(crtc), "card%d-crtc%d",
				 x->drm_card, x->drm_crtc_index);
			clen = (size_t)snprintf(card, sizeof(card),
						"card%d:", x->drm_card);
		}
		if (!strcmp(x->path, what) ||
		    names_match(x->connectors, what) || !strcmp(crtc, what) ||
		    (clen && !strncmp(what, card, clen) &&
		     names_match(x->connectors, what + clen)) ||
		    !strcmp(x->name, what) || !strcmp(x->card, what)) {
			put_struct(info, info->struct_size, x, sizeof(*x));
			r = 0;
		}
	}
	free(list);
	return r;
}

int kms2v4l_fd(const struct kms2v4l_device *dev)
{
	return dev->fd;
}

int kms2v4l_enum_formats(struct kms2v4l_device *dev, uint32_t *fourccs,
			 size_t max)
{
	struct v4l2_fmtdesc d;
	int n = 0, r;

	for (;;) {
		memset(&d, 0, sizeof(d));
		d.index = n;
		d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		r = xioctl(dev->fd, VIDIOC_ENUM_FMT, &d);
		if (r == -EINVAL)
			break;
		if (r < 0)
			return fail(dev, r, "VIDIOC_ENUM_FMT", "index %d", n);
		if ((size_t)n < max)
			fourccs[n] = d.pixelformat;
		n++;
	}
	return n;
}

static void from_v4l2(struct kms2v4l_format *f, const struct v4l2_format *v)
{
	f->struct_size = sizeof(*f);
	f->fourcc = v->fmt.pix.pixelformat;
	f->width = v->fmt.pix.width;
	f->height = v->fmt.pix.height;
	f->stride = v->fmt.pix.bytesperline;
	f->sizeimage = v->fmt.pix.sizeimage;
}

static void remember_format(struct kms2v4l_device *dev,
			    const struct kms2v4l_format *f)
{
	dev->fmt = *f;
	dev->whole.x = 0;
	dev->whole.y = 0;
	dev->whole.width = f->width;
	dev->whole.height = f->height;
}

int kms2v4l_get_format(struct kms2v4l_device *dev, struct kms2v4l_format *fmt)
{
	struct kms2v4l_format f;
	struct v4l2_format v;
	int r;

	if (!size_ok(fmt->struct_size, FORMAT_SIZE_V1))
		return fail(dev, -EINVAL, "kms2v4l_get_format",
			    "struct_size %u", fmt->struct_size);
	memset(&v, 0, sizeof(v));
	v.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	r = xioctl(dev->fd, VIDIOC_G_FMT, &v);
	if (r < 0)
		return fail(dev, r, "VIDIOC_G_FMT", NULL);
	from_v4l2(&f, &v);
	remember_format(dev, &f);
	put_struct(fmt, fmt->struct_size, &f, sizeof(f));
	return 0;
}

/*
 * Inputs with DV timings (HDMI receivers, kms2v4l's CRTC nodes) change
 * their size through timings: take the detected ones, as an HDMI
 * application does after a source change.  Inputs without them answer
 * ENOTTY/ENODATA/ENOLINK, which is not an error here.
 */
static int take_event(struct kms2v4l_device *dev);

static int same_timings(const struct v4l2_dv_timings *a,
			const struct v4l2_dv_timings *b)
{
	return a->bt.width == b->bt.width && a->bt.height == b->bt.height &&
	       a->bt.interlaced == b->bt.interlaced &&
	       a->bt.pixelclock == b->bt.pixelclock;
}

static int adopt_dv_timings(struct kms2v4l_device *dev)
{
	struct v4l2_dv_timings detected, current;
	int r;

	memset(&detected, 0, sizeof(detected));
	if (xioctl(dev->fd, VIDIOC_QUERY_DV_TIMINGS, &detected) < 0)
		return 0;
	memset(&current, 0, sizeof(current));
	if (xioctl(dev->fd, VIDIOC_G_DV_TIMINGS, &current) == 0 &&
	    same_timings(&current, &detected))
		return 0;
	r = xioctl(dev->fd, VIDIOC_S_DV_TIMINGS, &detected);
	if (r < 0)
		return fail(dev, r, "VIDIOC_S_DV_TIMINGS", "%ux%u",
			    detected.bt.width, detected.bt.height);
	/*
	 * Drivers may report our own S_DV_TIMINGS as a source change: drop
	 * the events queued by now, then look again.  A mode change that
	 * came since QUERY_DV_TIMINGS (its event dropped with ours) shows
	 * as timings other than the ones just set: it is owed to the
	 * caller, whose next kms2v4l_dequeue() reports it.  A change after
	 * this second look keeps its event in the queue.
	 */
	r = take_event(dev);
	if (r < 0)
		return r;
	memset(&current, 0, sizeof(current));
	if (xioctl(dev->fd, VIDIOC_QUERY_DV_TIMINGS, &current) < 0 ||
	    !same_timings(&current, &detected))
		dev->change_pending = 1;
	return 0;
}

int kms2v4l_set_format(struct kms2v4l_device *dev, struct kms2v4l_format *fmt)
{
	struct kms2v4l_format want;
	struct v4l2_format v;
	char fc[5];
	int r;

	if (!size_ok(fmt->struct_size, FORMAT_SIZE_V1))
		return fail(dev, -EINVAL, "kms2v4l_set_format",
			    "struct_size %u", fmt->struct_size);
	get_struct(&want, sizeof(want), fmt, fmt->struct_size);
	if (!want.width && !want.height) {
		r = adopt_dv_timings(dev);
		if (r < 0)
			return r;
	}
	memset(&v, 0, sizeof(v));
	v.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	r = xioctl(dev->fd, VIDIOC_G_FMT, &v);
	if (r < 0)
		return fail(dev, r, "VIDIOC_G_FMT", NULL);
	if (want.fourcc)
		v.fmt.pix.pixelformat = want.fourcc;
	if (want.width)
		v.fmt.pix.width = want.width;
	if (want.height)
		v.fmt.pix.height = want.height;
	v.fmt.pix.bytesperline = 0;
	v.fmt.pix.sizeimage = 0;
	v.fmt.pix.field = V4L2_FIELD_NONE;
	r = xioctl(dev->fd, VIDIOC_S_FMT, &v);
	if (r < 0)
		return fail(dev, r, "VIDIOC_S_FMT", "%s %ux%u",
			    kms2v4l_fourcc_str(v.fmt.pix.pixelformat, fc),
			    v.fmt.pix.width, v.fmt.pix.height);
	from_v4l2(&want, &v);
	remember_format(dev, &want);
	put_struct(fmt, fmt->struct_size, &want, sizeof(want));
	return 0;
}

int kms2v4l_get_frame_rate(struct kms2v4l_device *dev, uint32_t *num,
			   uint32_t *den)
{
	struct v4l2_streamparm parm;
	int r;

	memset(&parm, 0, sizeof(parm));
	parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	r = xioctl(dev->fd, VIDIOC_G_PARM, &parm);
	if (r < 0)
		return fail(dev, r, "VIDIOC_G_PARM", NULL);
	if (!parm.parm.capture.timeperframe.numerator ||
	    !parm.parm.capture.timeperframe.denominator)
		return fail(dev, -ENOTTY, "VIDIOC_G_PARM", "(no timeperframe)");
	*num = parm.parm.capture.timeperframe.denominator;
	*den = parm.parm.capture.timeperframe.numerator;
	return 0;
}

static void release_buffers(struct kms2v4l_device *dev)
{
	for (unsigned int i = 0; i < KMS2V4L_MAX_SLOTS; i++) {
		struct kms2v4l_buffer *b = &dev->buf[i];

		if (b->map)
			munmap(b->map, b->length);
		if (b->dmabuf_fd >= 0)
			close(b->dmabuf_fd);
		b->map = NULL;
		b->length = 0;
		b->dmabuf_fd = -1;
	}
	kms2v4l_slots_init(&dev->slots, 0);
}

int kms2v4l_request_buffers(struct kms2v4l_device *dev,
			    enum kms2v4l_memory memory, unsigned int count)
{
	const char *what;
	uint32_t granted = 0;
	int r;

	if (dev->slots.count)
		return fail(dev, -EBUSY, "VIDIOC_REQBUFS",
			    "(buffers already allocated)");
	if (count > KMS2V4L_MAX_SLOTS)
		count = KMS2V4L_MAX_SLOTS;
	r = reqbufs(dev->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, memory, count,
		    &granted);
	if (r < 0)
		return fail(dev, r, "VIDIOC_REQBUFS", "count %u %s", count,
			    memory == KMS2V4L_MEMORY_MMAP ? "MMAP" : "DMABUF");
	if (granted == 0)
		return fail(dev, -ENOMEM, "VIDIOC_REQBUFS", "(0 buffers)");
	dev->memory = memory;
	kms2v4l_slots_init(&dev->slots, granted);
	if (memory != KMS2V4L_MEMORY_MMAP)
		return (int)dev->slots.count;

	for (unsigned int i = 0; i < dev->slots.count; i++) {
		r = map_buffer(dev->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, i,
			       PROT_READ | PROT_WRITE, &dev->buf[i].map,
			       &dev->buf[i].length, &what);
		if (r < 0) {
			fail(dev, r, what, "buffer %u", i);
			goto err_free;
		}
	}
	return (int)dev->slots.count;

err_free:
	release_buffers(dev);
	reqbufs(dev->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, memory, 0, NULL);
	return r;
}

int kms2v4l_free_buffers(struct kms2v4l_device *dev)
{
	int r;

	if (dev->streaming)
		kms2v4l_stop(dev);
	damage_release(dev);
	if (!dev->slots.count)
		return 0;
	release_buffers(dev);
	r = reqbufs(dev->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, dev->memory, 0, NULL);
	if (r < 0)
		return fail(dev, r, "VIDIOC_REQBUFS", "count 0");
	return 0;
}

unsigned int kms2v4l_buffer_count(const struct kms2v4l_device *dev)
{
	return dev->slots.count;
}

void *kms2v4l_buffer_data(const struct kms2v4l_device *dev, unsigned int index,
			  size_t *size)
{
	if (index >= dev->slots.count)
		return NULL;
	if (size)
		*size = dev->buf[index].length;
	return dev->buf[index].map;
}

int kms2v4l_export(struct kms2v4l_device *dev, unsigned int index)
{
	struct v4l2_exportbuffer e;
	int r;

	if (index >= dev->slots.count || dev->memory != KMS2V4L_MEMORY_MMAP)
		return fail(dev, -EINVAL, "VIDIOC_EXPBUF", "index %u", index);
	memset(&e, 0, sizeof(e));
	e.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	e.index = index;
	e.flags = O_CLOEXEC | O_RDONLY;
	r = xioctl(dev->fd, VIDIOC_EXPBUF, &e);
	if (r < 0)
		return fail(dev, r, "VIDIOC_EXPBUF", "index %u", index);
	return e.fd;
}

int kms2v4l_import(struct kms2v4l_device *dev, unsigned int index, int fd,
		   size_t length)
{
	int nfd;

	if (index >= dev->slots.count || dev->memory != KMS2V4L_MEMORY_DMABUF ||
	    dev->slots.state[index] == KMS2V4L_SLOT_QUEUED)
		return fail(dev, -EINVAL, "import", "index %u", index);
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (nfd < 0)
		return fail(dev, -errno, "import: dup", "fd %d", fd);
	if (dev->buf[index].dmabuf_fd >= 0)
		close(dev->buf[index].dmabuf_fd);
	dev->buf[index].dmabuf_fd = nfd;
	dev->buf[index].length = length;
	return 0;
}

static int qbuf(struct kms2v4l_device *dev, unsigned int index)
{
	struct v4l2_buffer b;
	int r;

	memset(&b, 0, sizeof(b));
	b.index = index;
	b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b.memory = dev->memory;
	if (dev->memory == KMS2V4L_MEMORY_DMABUF) {
		if (dev->buf[index].dmabuf_fd < 0)
			return fail(dev, -EINVAL, "VIDIOC_QBUF",
				    "index %u (no dma-buf imported)", index);
		b.m.fd = dev->buf[index].dmabuf_fd;
		b.length = (uint32_t)dev->buf[index].length;
	}
	r = xioctl(dev->fd, VIDIOC_QBUF, &b);
	if (r < 0)
		return fail(dev, r, "VIDIOC_QBUF", "index %u", index);
	return 0;
}

int kms2v4l_queue(struct kms2v4l_device *dev, unsigned int index)
{
	int r;

	if (index >= dev->slots.count ||
	    dev->slots.state[index] != KMS2V4L_SLOT_HELD)
		return fail(dev, -EINVAL, "VIDIOC_QBUF",
			    "index %u (not held by the caller)", index);
	if (!dev->streaming) {
		/* Queued again at the next kms2v4l_start(). */
		dev->slots.state[index] = KMS2V4L_SLOT_IDLE;
		return 0;
	}
	r = qbuf(dev, index);
	if (r < 0)
		return r;
	return kms2v4l_slots_queue(&dev->slots, index);
}

int kms2v4l_start(struct kms2v4l_device *dev)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	int r;

	if (dev->streaming)
		return 0;
	if (!dev->slots.count)
		return fail(dev, -EINVAL, "VIDIOC_STREAMON", "(no buffers)");
	for (unsigned int i = 0; i < dev->slots.count; i++) {
		if (dev->slots.state[i] != KMS2V4L_SLOT_IDLE)
			continue;
		r = qbuf(dev, i);
		if (r < 0)
			goto err;
		kms2v4l_slots_queue(&dev->slots, i);
	}
	/* Streaming before the first frame: its record is there too. */
	damage_start(dev);
	r = xioctl(dev->fd, VIDIOC_STREAMON, &type);
	if (r < 0) {
		fail(dev, r, "VIDIOC_STREAMON", NULL);
		goto err;
	}
	dev->streaming = 1;
	return 0;
err:
	/* STREAMOFF also takes back buffers queued so far. */
	xioctl(dev->fd, VIDIOC_STREAMOFF, &type);
	kms2v4l_slots_streamoff(&dev->slots);
	damage_stop(dev);
	return r;
}

int kms2v4l_stop(struct kms2v4l_device *dev)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	int r;

	if (!dev->streaming)
		return 0;
	r = xioctl(dev->fd, VIDIOC_STREAMOFF, &type);
	dev->streaming = 0;
	kms2v4l_slots_streamoff(&dev->slots);
	damage_stop(dev);
	if (r < 0)
		return fail(dev, r, "VIDIOC_STREAMOFF", NULL);
	return 0;
}

static int take_event(struct kms2v4l_device *dev)
{
	struct v4l2_event ev;
	int changed = 0, r;

	if (!dev->events)
		return 0;
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		r = xioctl(dev->fd, VIDIOC_DQEVENT, &ev);
		if (r == -ENOENT)
			break;
		if (r < 0)
			return fail(dev, r, "VIDIOC_DQEVENT", NULL);
		if (ev.type == V4L2_EVENT_SOURCE_CHANGE &&
		    (ev.u.src_change.changes & V4L2_EVENT_SRC_CH_RESOLUTION))
			changed = 1;
		if (!ev.pending)
			break;
	}
	return changed ? KMS2V4L_SOURCE_CHANGED : 0;
}

int kms2v4l_dequeue(struct kms2v4l_device *dev, struct kms2v4l_frame *frame)
{
	struct kms2v4l_frame f;
	struct v4l2_buffer b;
	int n, r;

	if (!size_ok(frame->struct_size, FRAME_SIZE_V1))
		return fail(dev, -EINVAL, "kms2v4l_dequeue", "struct_size %u",
			    frame->struct_size);
	r = take_event(dev);
	if (!r && dev->change_pending)
		r = KMS2V4L_SOURCE_CHANGED;
	if (r == KMS2V4L_SOURCE_CHANGED)
		dev->change_pending = 0;
	if (r)
		return r;
	if (!dev->streaming)
		return -EAGAIN;
	memset(&b, 0, sizeof(b));
	b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b.memory = dev->memory;
	r = xioctl(dev->fd, VIDIOC_DQBUF, &b);
	if (r == -EAGAIN)
		return r;
	if (r < 0)
		return fail(dev, r, "VIDIOC_DQBUF", NULL);
	r = kms2v4l_slots_dequeue(&dev->slots, b.index);
	if (r < 0)
		return fail(dev, r, "VIDIOC_DQBUF",
			    "returned unqueued index %u", b.index);
	if (b.flags & V4L2_BUF_FLAG_ERROR) {
		kms2v4l_queue(dev, b.index);
		return fail(dev, -EPIPE, "VIDIOC_DQBUF",
			    "index %u sequence %u flagged V4L2_BUF_FLAG_ERROR",
			    b.index, b.sequence);
	}
	memset(&f, 0, sizeof(f));
	f.struct_size = sizeof(f);
	f.index = b.index;
	f.data = dev->buf[b.index].map;
	f.bytesused = b.bytesused;
	f.sequence = b.sequence;
	f.timestamp_ns = (uint64_t)b.timestamp.tv_sec * 1000000000ull +
			 (uint64_t)b.timestamp.tv_usec * 1000ull;
	f.flags = b.flags;
	f.dmabuf_fd = dev->buf[b.index].dmabuf_fd;
	n = damage_for_frame(dev, b.sequence, b.index);
	if (n >= 0) {
		f.damage = dev->damage[b.index];
		f.n_damage = (size_t)n;
	} else {
		f.damage = &dev->whole;
		f.n_damage = 1;
	}
	put_struct(frame, frame->struct_size, &f, sizeof(f));
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kms2v4l_wait_frame(struct kms2v4l_device *dev, int timeout_ms,
		       struct kms2v4l_frame *frame)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = dev->fd, .events = POLLIN | POLLPRI };
		int left = -1, r;

		r = kms2v4l_dequeue(dev, frame);
		if (r != -EAGAIN)
			return r;
		if (timeout_ms >= 0) {
			int64_t l = deadline - now_ms();

			if (l <= 0)
				return fail(dev, -ETIMEDOUT, "poll",
					    "(no frame within %d ms)",
					    timeout_ms);
			left = (int)l;
		}
		r = poll(&p, 1, left);
		if (r < 0 && errno != EINTR)
			return fail(dev, -errno, "poll", NULL);
		if (r > 0 && (p.revents & POLLERR) && !(p.revents & POLLPRI))
			return fail(dev, -EIO, "poll",
				    "(POLLERR: not streaming?)");
	}
}

unsigned int kms2v4l_version(void)
{
	return KMS2V4L_VERSION;
}
