/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kms2v4l - export what a KMS CRTC shows as a V4L2 capture device
 *
 * The in-kernel API a DRM driver uses to offer a CRTC as a capture
 * source. See the DOC section of kms2v4l-core.c for the model.
 */
#ifndef _MEDIA_KMS2V4L_H
#define _MEDIA_KMS2V4L_H

#include <linux/ktime.h>
#include <linux/types.h>
#include <linux/v4l2-controls.h>

/*
 * Read-only control: the CRTC vblank counter of the first frame of the
 * current stream. Buffer sequence numbers count vblanks from it, so a
 * frame shows vblank (sequence base + buffer sequence).
 */
#define V4L2_CID_KMS2V4L_SEQUENCE_BASE	(V4L2_CID_USER_BASE | 0x1a00)

/*
 * Read-only controls naming what the node shows: the KMS object id of the
 * CRTC (as in drmModeGetCrtc()), and the names of the connectors the CRTC
 * drives, comma-separated (e.g. "Virtual-1"), empty while it is off.
 */
#define V4L2_CID_KMS2V4L_CRTC_ID	(V4L2_CID_USER_BASE | 0x1a01)
#define V4L2_CID_KMS2V4L_CONNECTORS	(V4L2_CID_USER_BASE | 0x1a02)

/* Longest connector list kept, in bytes with the NUL. */
#define KMS2V4L_CONNECTORS_MAX		64

struct device;
struct drm_display_mode;
struct kms2v4l_source;

/**
 * struct kms2v4l_source_ops - what the core asks of the DRM driver
 * @start: a client started streaming: compose every frame from now on
 *	and offer it with kms2v4l_frame_begin(). Called in process context
 *	with the node's lock held; may sleep.
 * @stop: streaming stopped: stop composing for capture. The core
 *	refuses new frames from now on and itself waits for the end of a
 *	frame already begun, so @stop need not wait for the composer.
 */
struct kms2v4l_source_ops {
	int (*start)(struct kms2v4l_source *src);
	void (*stop)(struct kms2v4l_source *src);
};

/**
 * struct kms2v4l_source_info - a CRTC offered as a capture source
 * @parent: the DRM device's struct device (the node's sysfs parent)
 * @driver: DRM driver name, e.g. "vkms"
 * @card: DRM minor index (the N of /dev/dri/cardN)
 * @crtc_index: index of the CRTC on its device
 * @crtc_id: KMS object id of the CRTC
 * @ops: callbacks into the driver
 * @priv: driver data, returned by kms2v4l_source_priv()
 */
struct kms2v4l_source_info {
	struct device *parent;
	const char *driver;
	unsigned int card;
	unsigned int crtc_index;
	u32 crtc_id;
	const struct kms2v4l_source_ops *ops;
	void *priv;
};

/**
 * struct kms2v4l_frame - a capture buffer handed to the driver
 * @vaddr: kernel address of the first byte of the image
 * @drm_format: DRM fourcc of the pixels to write (DRM_FORMAT_*)
 * @width: width in pixels (the CRTC's hdisplay)
 * @height: height in lines (the CRTC's vdisplay)
 * @pitch: bytes from one line to the next
 * @cookie: core-private, do not touch
 */
struct kms2v4l_frame {
	void *vaddr;
	u32 drm_format;
	unsigned int width;
	unsigned int height;
	unsigned int pitch;
	void *cookie;
};

struct kms2v4l_source *
kms2v4l_source_register(const struct kms2v4l_source_info *info);
void kms2v4l_source_unregister(struct kms2v4l_source *src);
void *kms2v4l_source_priv(struct kms2v4l_source *src);

void kms2v4l_source_set_connectors(struct kms2v4l_source *src,
				   const char *names);
void kms2v4l_source_set_mode(struct kms2v4l_source *src,
			     const struct drm_display_mode *mode);

int kms2v4l_frame_begin(struct kms2v4l_source *src,
			struct kms2v4l_frame *frame);
void kms2v4l_frame_end(struct kms2v4l_source *src,
		       struct kms2v4l_frame *frame, u64 sequence,
		       ktime_t timestamp, bool error);

#endif /* _MEDIA_KMS2V4L_H */
