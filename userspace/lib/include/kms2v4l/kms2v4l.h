/* SPDX-License-Identifier: MIT */
/*
 * MIT License
 *
 * Copyright (c) 2026 the kms2v4l developers
 *
 * Permission is hereby granted, free of charge, to any person obtaining a
 * copy of this software and associated documentation files (the
 * "Software"), to deal in the Software without restriction, including
 * without limitation the rights to use, copy, modify, merge, publish,
 * distribute, sublicense, and/or sell copies of the Software, and to
 * permit persons to whom the Software is furnished to do so, subject to
 * the following conditions:
 *
 * The above copyright notice and this permission notice shall be included
 * in all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS
 * OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 * MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
 * IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
 * CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
 * TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
 * SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 */
/*
 * libkms2v4l - find V4L2 capture nodes and stream frames from them.
 *
 * The library speaks plain V4L2, so it works with any single-planar video
 * capture node: kms2v4l's CRTC nodes, vivid, a webcam.  It has no global
 * state; a struct kms2v4l_device must be used from one thread at a time.
 *
 * Typical use:
 *
 *     struct kms2v4l_device *dev;
 *     struct kms2v4l_format fmt = KMS2V4L_FORMAT_INIT;
 *     struct kms2v4l_frame frame = KMS2V4L_FRAME_INIT;
 *
 *     fmt.fourcc = KMS2V4L_FOURCC('X','R','2','4');
 *
 *     if (kms2v4l_open("/dev/video0", &dev) < 0) { puts(kms2v4l_open_error()); ... }
 *     kms2v4l_set_format(dev, &fmt);            // fmt now holds what the driver chose
 *     kms2v4l_request_buffers(dev, KMS2V4L_MEMORY_MMAP, 4);
 *     kms2v4l_start(dev);
 *     for (;;) {
 *         int r = kms2v4l_wait_frame(dev, 1000, &frame);
 *         if (r == KMS2V4L_SOURCE_CHANGED) { stop, free, set_format, request, start; continue; }
 *         if (r < 0) { puts(kms2v4l_error(dev)); break; }   // -ETIMEDOUT on timeout
 *         use(frame.data, frame.bytesused, frame.damage, frame.n_damage);
 *         kms2v4l_queue(dev, frame.index);
 *     }
 *     kms2v4l_close(dev);
 *
 * Errors: every int-returning call returns 0 (or a documented positive
 * value) on success and a negative errno on failure.  After a failure
 * kms2v4l_error() returns a message naming the device, the call and the
 * errno text, e.g. "/dev/video0: VIDIOC_S_FMT: Device or resource busy".
 * The library never prints anything.
 *
 * Structs and ABI: every struct the caller allocates and the library
 * fills or reads (struct kms2v4l_node_info, kms2v4l_format, kms2v4l_frame)
 * begins with "uint32_t struct_size", which the caller sets to the sizeof
 * of the struct as it was compiled: initialise each with its _INIT macro
 * (KMS2V4L_NODE_INFO_INIT, KMS2V4L_FORMAT_INIT, KMS2V4L_FRAME_INIT), which
 * sets struct_size and zeroes the rest.  Later library versions only
 * append members, and a struct_size tells the library which version the
 * caller has:
 *  - the library reads and writes only the first min(struct_size, its own
 *    sizeof) bytes, never struct_size itself and never a byte beyond it;
 *    members the library does not know (a program newer than the library
 *    it runs with) keep what the caller put there, zero with _INIT;
 *  - a struct_size smaller than the first version's struct fails with
 *    -EINVAL (the struct is left alone);
 *  - arrays the library allocates (kms2v4l_enumerate()) are laid out with
 *    the caller's sizeof as the stride, each element's struct_size set
 *    to it, so list[i] indexes right in old and new programs alike.
 * struct kms2v4l_device is opaque; struct kms2v4l_rect is library memory
 * the caller only reads, and never grows.  The library exports only the
 * functions below, with ELF symbol versions; an incompatible change
 * bumps the SONAME and KMS2V4L_VERSION_MAJOR together (libkms2v4l.so.1 is
 * major 1).
 */
#ifndef KMS2V4L_KMS2V4L_H
#define KMS2V4L_KMS2V4L_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this header; kms2v4l_version() is the library's. */
#define KMS2V4L_VERSION_MAJOR 1
#define KMS2V4L_VERSION_MINOR 0
#define KMS2V4L_VERSION_PATCH 0
/** A version as one number: (major << 16) | (minor << 8) | patch. */
#define KMS2V4L_MAKE_VERSION(major, minor, patch)                              \
	(((unsigned int)(major) << 16) | ((unsigned int)(minor) << 8) |        \
	 (unsigned int)(patch))
#define KMS2V4L_VERSION                                                        \
	KMS2V4L_MAKE_VERSION(KMS2V4L_VERSION_MAJOR, KMS2V4L_VERSION_MINOR,     \
			     KMS2V4L_VERSION_PATCH)

/**
 * kms2v4l_version() - the version of the library loaded at run time.
 *
 * Return: KMS2V4L_MAKE_VERSION() of the library, which may be newer than
 * the KMS2V4L_VERSION a program was built against (same major: compatible).
 */
unsigned int kms2v4l_version(void);

/** Builds a V4L2 fourcc (same value as v4l2_fourcc()). */
#define KMS2V4L_FOURCC(a, b, c, d)                                             \
	((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) |        \
	 ((uint32_t)(d) << 24))

/** Positive return value of kms2v4l_wait_frame()/kms2v4l_dequeue(). */
#define KMS2V4L_SOURCE_CHANGED 1

/** Longest path, name and QUERYCAP strings, including the NUL. */
#define KMS2V4L_NAME_MAX 64

/**
 * One V4L2 video capture node found by kms2v4l_enumerate().  Caller
 * allocated ones start as KMS2V4L_NODE_INFO_INIT (see the top comment).
 */
struct kms2v4l_node_info {
	uint32_t struct_size;            /**< the caller's sizeof, see above */
	char path[KMS2V4L_NAME_MAX];     /**< "/dev/video0" */
	char name[KMS2V4L_NAME_MAX];     /**< sysfs name: vivid-000-vid-cap */
	char driver[KMS2V4L_NAME_MAX];   /**< QUERYCAP driver, e.g. "vivid" */
	char card[KMS2V4L_NAME_MAX];     /**< QUERYCAP card */
	char bus_info[KMS2V4L_NAME_MAX]; /**< QUERYCAP bus_info */
	uint32_t device_caps;            /**< QUERYCAP device_caps */

	/*
	 * What the node shows, where the kernel says it (kms2v4l nodes: bus
	 * info "platform:DRIVER-cardN-crtcM" and the controls below).  For
	 * other nodes drm_card and drm_crtc_index are -1, drm_crtc_id is 0
	 * and connectors is "".
	 */
	int drm_card;                      /**< N of /dev/dri/cardN */
	int drm_crtc_index;                /**< the CRTC's index on that card */
	uint32_t drm_crtc_id;              /**< the CRTC's KMS object id */
	char connectors[KMS2V4L_NAME_MAX]; /**< "Virtual-1,..."; "" while off */
	/* The current input signal (DV timings), 0 when unknown or off. */
	uint32_t width, height; /**< active pixels, lines */
	uint32_t refresh_mhz;   /**< frame rate in millihertz */
};

/**
 * The struct_size of a struct as this header defines it.  The _INIT
 * macros initialise a struct with it and every other member zero, in C
 * (a designated initializer) and C++ (a call of the kms2v4l_*_init()
 * inline function, which C can use too, to reset a struct).
 */
#define KMS2V4L_STRUCT_SIZE(type) ((uint32_t)sizeof(struct type))
#ifdef __cplusplus
#define KMS2V4L_NODE_INFO_INIT (kms2v4l_node_info_init())
#else
#define KMS2V4L_NODE_INFO_INIT                                                 \
	{                                                                      \
		.struct_size = KMS2V4L_STRUCT_SIZE(kms2v4l_node_info)          \
	}
#endif

/* (void) is C's empty prototype, not redundant there: */
/* NOLINTNEXTLINE(modernize-redundant-void-arg) */
static inline struct kms2v4l_node_info kms2v4l_node_info_init(void)
{
#ifdef __cplusplus
	kms2v4l_node_info s{};

	s.struct_size = KMS2V4L_STRUCT_SIZE(kms2v4l_node_info);
#else
	struct kms2v4l_node_info s = KMS2V4L_NODE_INFO_INIT;
#endif
	return s;
}

/**
 * kms2v4l's read-only controls, as the kernel's <linux/kms2v4l.h> defines
 * them (V4L2_CID_USER_BASE + 0x1200, + 0x1201, + 0x1202).
 */
#define KMS2V4L_CID_SEQUENCE_BASE 0x00981b00 /**< int64: vblank of sequence 0 */
#define KMS2V4L_CID_CRTC_ID 0x00981b01       /**< int: KMS CRTC object id */
#define KMS2V4L_CID_CONNECTORS 0x00981b02    /**< string: connector names */

/**
 * kms2v4l's writable controls (V4L2_CID_USER_BASE + 0x1203, + 0x1204), set
 * with VIDIOC_S_CTRL on kms2v4l_fd() before kms2v4l_start(): frame pacing
 * (KMS2V4L_PACING_VBLANK, the default, or KMS2V4L_PACING_ON_CHANGE: a
 * frame only when the CRTC's content changed), and partial frames (1: the
 * client never writes into its buffers, so each frame is written only where
 * it changed since that buffer's frame).
 */
#define KMS2V4L_CID_FRAME_PACING 0x00981b03   /**< menu: when frames come */
#define KMS2V4L_CID_PARTIAL_FRAMES 0x00981b04 /**< bool: write only changes */
#define KMS2V4L_PACING_VBLANK 0               /**< every vblank */
#define KMS2V4L_PACING_ON_CHANGE 1            /**< only on change */

/**
 * kms2v4l_enumerate() - list the single-planar video capture nodes.
 * @list: set to a malloc()ed array (free it with free()), NULL when empty,
 *        whose elements are sizeof(struct kms2v4l_node_info) apart as the
 *        caller was compiled (an inline function passes that size to
 *        kms2v4l_enumerate_sized()).
 * @count: set to the number of entries.
 *
 * Walks /sys/class/video4linux (no udev needed), opens every videoN node
 * and keeps those whose QUERYCAP device_caps has V4L2_CAP_VIDEO_CAPTURE
 * and V4L2_CAP_STREAMING.  Nodes that cannot be opened (permissions) are
 * skipped.  Sorted by node number.
 *
 * Return: 0 or a negative errno (-ENOMEM, or the error opening sysfs).
 */
int kms2v4l_enumerate_sized(struct kms2v4l_node_info **list, size_t *count,
			    uint32_t struct_size);

static inline int kms2v4l_enumerate(struct kms2v4l_node_info **list,
				    size_t *count)
{
	return kms2v4l_enumerate_sized(list, count,
				       KMS2V4L_STRUCT_SIZE(kms2v4l_node_info));
}

/**
 * kms2v4l_find() - the capture node that shows @what.
 * @what: a node path ("/dev/video2"), a connector name ("Virtual-1",
 *        compared case-insensitively with each name the node lists),
 *        a connector of one card ("card1:Virtual-2", for names that
 *        repeat across DRM devices), "cardN-crtcM", or the node's sysfs
 *        name or QUERYCAP card.
 * @info: filled in with the node found (struct_size set by the caller).
 *
 * Return: 0, -ENOENT when no node matches, -EINVAL for a bad
 * @info->struct_size, or -errno from enumeration.
 */
int kms2v4l_find(const char *what, struct kms2v4l_node_info *info);

/** An opened capture node. */
struct kms2v4l_device;

/**
 * kms2v4l_open() - open a capture node.
 * @path: "/dev/videoN".
 * @out: set to the new device on success.
 *
 * Opens non-blocking, checks QUERYCAP for single-planar capture with
 * streaming I/O and subscribes to V4L2_EVENT_SOURCE_CHANGE (if the driver
 * does not support the event, source changes are simply never reported).
 * A kms2v4l node's damage node, if any, is opened too (read-write, as
 * vb2's MMAP needs; see kms2v4l_start()); no other node is opened.
 *
 * Return: 0 or a negative errno; the message is in kms2v4l_open_error().
 */
int kms2v4l_open(const char *path, struct kms2v4l_device **out);

/** Message of the last failed kms2v4l_open() of the calling thread. */
const char *kms2v4l_open_error(void);

/** Stops streaming, frees buffers, closes the node.  NULL is allowed. */
void kms2v4l_close(struct kms2v4l_device *dev);

/** Message of the device's last failure ("" when none). */
const char *kms2v4l_error(const struct kms2v4l_device *dev);

/** The node's path as given to kms2v4l_open(). */
const char *kms2v4l_path(const struct kms2v4l_device *dev);

/**
 * kms2v4l_info() - the node's QUERYCAP result, path and name, and what it
 * shows now (connectors, mode).  Return: 0, or -EINVAL for a bad
 * @info->struct_size.
 */
int kms2v4l_info(const struct kms2v4l_device *dev,
		 struct kms2v4l_node_info *info);

/**
 * kms2v4l_fd() - the V4L2 file descriptor, for the caller's event loop.
 *
 * It is owned by the library.  POLLIN/EPOLLIN: a frame can be dequeued;
 * POLLPRI/EPOLLPRI: an event is pending.  Call kms2v4l_dequeue() then.
 */
int kms2v4l_fd(const struct kms2v4l_device *dev);

/**
 * kms2v4l_enum_formats() - the pixel formats the node offers.
 * @fourccs: array to fill (may be NULL when @max is 0).
 * @max: its size.
 *
 * Return: the total number of formats (may exceed @max), or -errno.
 */
int kms2v4l_enum_formats(struct kms2v4l_device *dev, uint32_t *fourccs,
			 size_t max);

/** Image format (single plane).  Start with KMS2V4L_FORMAT_INIT. */
struct kms2v4l_format {
	uint32_t struct_size; /**< the caller's sizeof, see the top comment */
	uint32_t fourcc;      /**< V4L2 pixel format */
	uint32_t width;       /**< pixels */
	uint32_t height;      /**< lines */
	uint32_t stride;      /**< bytes per line (bytesperline) */
	uint32_t sizeimage;   /**< bytes per buffer */
};

#ifdef __cplusplus
#define KMS2V4L_FORMAT_INIT (kms2v4l_format_init())
#else
#define KMS2V4L_FORMAT_INIT                                                    \
	{                                                                      \
		.struct_size = KMS2V4L_STRUCT_SIZE(kms2v4l_format)             \
	}
#endif

/* (void) is C's empty prototype, not redundant there: */
/* NOLINTNEXTLINE(modernize-redundant-void-arg) */
static inline struct kms2v4l_format kms2v4l_format_init(void)
{
#ifdef __cplusplus
	kms2v4l_format s{};

	s.struct_size = KMS2V4L_STRUCT_SIZE(kms2v4l_format);
#else
	struct kms2v4l_format s = KMS2V4L_FORMAT_INIT;
#endif
	return s;
}

/** Reads the current format (VIDIOC_G_FMT).  Return: 0 or -errno
 *  (-EINVAL for a bad @fmt->struct_size). */
int kms2v4l_get_format(struct kms2v4l_device *dev, struct kms2v4l_format *fmt);

/**
 * kms2v4l_set_format() - negotiate a format with VIDIOC_S_FMT.
 * @fmt: in: the wanted fourcc, width, height; a zero field means "keep
 *       the current one" (so {0} re-reads the current mode after a source
 *       change).  out: what the driver chose; it may differ (check fourcc).
 *
 * With width and height both 0 on an input that has DV timings (an HDMI
 * receiver, a kms2v4l CRTC node), the detected timings are adopted first
 * (VIDIOC_QUERY_DV_TIMINGS, then VIDIOC_S_DV_TIMINGS if they differ), so
 * the format follows the new mode after KMS2V4L_SOURCE_CHANGED.  If the
 * mode changes again while it is adopted, that change is not lost: the
 * next kms2v4l_dequeue() reports KMS2V4L_SOURCE_CHANGED, even though the
 * fd may not poll ready for it (kms2v4l_wait_frame() dequeues first).
 *
 * Return: 0 or -errno (-EBUSY while buffers are allocated, -EINVAL for a
 * bad @fmt->struct_size).
 */
int kms2v4l_set_format(struct kms2v4l_device *dev, struct kms2v4l_format *fmt);

/**
 * kms2v4l_get_frame_rate() - frames per second as @num / @den (from
 * VIDIOC_G_PARM's timeperframe).  Return: 0, or -errno (-ENOTTY when the
 * driver does not say; the caller then assumes a variable rate).
 */
int kms2v4l_get_frame_rate(struct kms2v4l_device *dev, uint32_t *num,
			   uint32_t *den);

/** Buffer memory type (values equal to enum v4l2_memory). */
enum kms2v4l_memory {
	KMS2V4L_MEMORY_MMAP = 1,
	KMS2V4L_MEMORY_DMABUF = 4,
};

/**
 * kms2v4l_request_buffers() - allocate buffers with VIDIOC_REQBUFS.
 * @memory: MMAP (driver memory, mapped by the library) or DMABUF (the
 *          caller attaches its own dma-buf fds with kms2v4l_import()).
 * @count: wanted number; the driver may give more or fewer.
 *
 * Return: the number of buffers allocated (> 0), or -errno.
 */
int kms2v4l_request_buffers(struct kms2v4l_device *dev,
			    enum kms2v4l_memory memory, unsigned int count);

/** Frees all buffers (stops streaming first).  Return: 0 or -errno. */
int kms2v4l_free_buffers(struct kms2v4l_device *dev);

/** Number of allocated buffers. */
unsigned int kms2v4l_buffer_count(const struct kms2v4l_device *dev);

/**
 * kms2v4l_buffer_data() - CPU mapping of an MMAP buffer.
 * @size: set to the mapping's length (may be NULL).
 * Return: the mapping, NULL for DMABUF buffers or a bad index.
 */
void *kms2v4l_buffer_data(const struct kms2v4l_device *dev, unsigned int index,
			  size_t *size);

/**
 * kms2v4l_export() - VIDIOC_EXPBUF: a dma-buf fd for an MMAP buffer.
 *
 * Return: a new fd (O_CLOEXEC, read-only) the caller owns and must close,
 *         or -errno.
 */
int kms2v4l_export(struct kms2v4l_device *dev, unsigned int index);

/**
 * kms2v4l_import() - attach a caller dma-buf to a DMABUF buffer slot.
 * @fd: the dma-buf; the library dup()s it, the caller keeps its own fd.
 * @length: its size in bytes (at least the format's sizeimage).
 *
 * Must be done for every slot before kms2v4l_start(); may be repeated
 * while the slot is not queued.  Return: 0 or -errno.
 */
int kms2v4l_import(struct kms2v4l_device *dev, unsigned int index, int fd,
		   size_t length);

/**
 * kms2v4l_start() - queue every buffer the caller does not hold, then
 * VIDIOC_STREAMON.
 *
 * On a kms2v4l node with a damage node (the metadata capture node of the
 * same driver and bus_info, named as the node plus " damage", found by
 * kms2v4l_open() through sysfs), that node streams
 * first (MMAP, one buffer more than the capture's, at least 8), so that
 * frames carry their damage.  If it cannot stream (another process
 * streams it), frames are whole; that is not an error.
 */
int kms2v4l_start(struct kms2v4l_device *dev);

/** VIDIOC_STREAMOFF (and the damage node's); all buffers return to the
 *  caller-free state. */
int kms2v4l_stop(struct kms2v4l_device *dev);

/** A damaged rectangle, in pixels. */
struct kms2v4l_rect {
	uint32_t x, y, width, height;
};

/**
 * One dequeued frame.  Valid until kms2v4l_queue(index).  Start with
 * KMS2V4L_FRAME_INIT.
 */
struct kms2v4l_frame {
	uint32_t struct_size;  /**< the caller's sizeof, see the top comment */
	unsigned int index;    /**< slot, for kms2v4l_queue() */
	void *data;            /**< CPU mapping (MMAP), NULL for DMABUF */
	uint32_t bytesused;    /**< bytes of image data */
	uint32_t sequence;     /**< driver's frame sequence number */
	uint64_t timestamp_ns; /**< V4L2 timestamp, usually CLOCK_MONOTONIC */
	uint32_t flags;        /**< V4L2_BUF_FLAG_* */
	int dmabuf_fd;         /**< the imported fd for DMABUF slots, else -1 */
	/**
	 * What may differ from the frame dequeued before (@n_damage
	 * rectangles, within the frame; 0: nothing changed).  On a kms2v4l
	 * node, from the record of this frame's sequence on the node's damage
	 * node (see kms2v4l_start()); the whole frame, as one rectangle, when
	 * there is no such record (the first frame of a stream, a new mode,
	 * more changes than a record holds, a record missed) and on every
	 * other node.  Pixels outside it are those of the frame before.
	 * Valid, like @data, until kms2v4l_queue(@index).
	 */
	const struct kms2v4l_rect *damage;
	size_t n_damage;
};

#ifdef __cplusplus
#define KMS2V4L_FRAME_INIT (kms2v4l_frame_init())
#else
#define KMS2V4L_FRAME_INIT                                                     \
	{                                                                      \
		.struct_size = KMS2V4L_STRUCT_SIZE(kms2v4l_frame)              \
	}
#endif

/* (void) is C's empty prototype, not redundant there: */
/* NOLINTNEXTLINE(modernize-redundant-void-arg) */
static inline struct kms2v4l_frame kms2v4l_frame_init(void)
{
#ifdef __cplusplus
	kms2v4l_frame s{};

	s.struct_size = KMS2V4L_STRUCT_SIZE(kms2v4l_frame);
#else
	struct kms2v4l_frame s = KMS2V4L_FRAME_INIT;
#endif
	return s;
}

/**
 * kms2v4l_dequeue() - non-blocking: take a pending event or frame.
 *
 * Pending events are taken first.  Return: 0 with @frame filled,
 * KMS2V4L_SOURCE_CHANGED when the driver reported a resolution change
 * (the caller stops, frees, sets the format again, re-requests and
 * starts; also for a change owed since kms2v4l_set_format(), so call
 * this once before waiting on the fd), -EAGAIN when nothing is ready, or
 * another -errno (-EPIPE:
 * the driver flagged the frame as an error; it is requeued for you;
 * -EINVAL: a bad @frame->struct_size, checked before anything is taken).
 */
int kms2v4l_dequeue(struct kms2v4l_device *dev, struct kms2v4l_frame *frame);

/**
 * kms2v4l_wait_frame() - poll() up to @timeout_ms (-1: forever), then
 * kms2v4l_dequeue().  Return: as kms2v4l_dequeue(), -ETIMEDOUT on timeout.
 */
int kms2v4l_wait_frame(struct kms2v4l_device *dev, int timeout_ms,
		       struct kms2v4l_frame *frame);

/** Gives a dequeued buffer back to the driver.  Return: 0 or -errno
 *  (-EINVAL if the slot is not held by the caller). */
int kms2v4l_queue(struct kms2v4l_device *dev, unsigned int index);

/** Four printable characters of @fourcc plus NUL into @buf[5]; returns buf. */
char *kms2v4l_fourcc_str(uint32_t fourcc, char buf[5]);

#ifdef __cplusplus
}
#endif

#endif /* KMS2V4L_KMS2V4L_H */
