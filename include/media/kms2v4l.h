/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kms2v4l - export what a KMS CRTC shows as a V4L2 capture device
 *
 * The in-kernel API a DRM driver uses to offer a CRTC as a capture
 * source. See the DOC section of kms2v4l-core.c for the contract.
 */
#ifndef _MEDIA_KMS2V4L_H
#define _MEDIA_KMS2V4L_H

#include <drm/drm_rect.h>
#include <linux/iosys-map.h>
#include <linux/ktime.h>
#include <linux/types.h>
#include <uapi/linux/kms2v4l.h>

struct drm_atomic_state;
struct drm_crtc;
struct drm_crtc_state;
struct drm_format_info;
struct kms2v4l_source;

/**
 * struct kms2v4l_funcs - what the core asks of the DRM driver
 * @start: a client started streaming: from now on, offer each frame the
 *	CRTC shows with kms2v4l_frame_begin(). Process context, may sleep;
 *	called with the node's lock held.
 * @stop: streaming stopped. The core refuses new frames from now on
 *	and itself waits for a frame already begun to end, so @stop need
 *	not wait for the driver's composer. Same context as @start.
 * @frame_due: optional: while streaming, a frame may have become due
 *	(the stream started, a buffer was queued, damage was recorded or
 *	the pacing changed). A driver that stops producing frames while
 *	kms2v4l_frame_wanted() says no (vkms drops its vblank reference
 *	then) starts again. Called after the change is visible to
 *	kms2v4l_frame_wanted(), in the context of the call that made it:
 *	kms2v4l_crtc_update() and kms2v4l_crtc_damage() (any context, no
 *	core lock held) or an ioctl of the client (process context, the
 *	node's lock held). May come when nothing changed.
 */
struct kms2v4l_funcs {
	int (*start)(struct kms2v4l_source *src);
	void (*stop)(struct kms2v4l_source *src);
	void (*frame_due)(struct kms2v4l_source *src);
};

/**
 * struct kms2v4l_frame - a capture buffer handed to the driver
 * @map: where the image starts (system or I/O memory)
 * @format: the DRM format of the pixels to write, one the driver
 *	declared at kms2v4l_crtc_init()
 * @width: width in pixels (the mode's hdisplay)
 * @height: height in lines (the mode's vdisplay)
 * @pitch: bytes from one line of the first plane to the next; further
 *	planes (e.g. the CbCr plane of NV12) follow the first one
 *	contiguously, each with pitch @pitch * format->cpp[i] /
 *	format->cpp[0] / format->hsub
 * @age: how many delivered frames ago this buffer was filled: 0 when it
 *	holds no frame (new, or since the size or format changed), 1 when
 *	it holds the previous delivered frame, and so on
 * @clip: the part of the frame the driver must write (it may write
 *	more); the rest of the buffer already holds the right pixels. The
 *	whole frame unless the client set V4L2_CID_KMS2V4L_PARTIAL_FRAMES,
 *	in which case it is what changed since the frame the buffer holds
 *	(aligned to the format's chroma subsampling), possibly empty
 * @vblank: set by the driver before kms2v4l_frame_end(): the CRTC's
 *	vblank counter of the frame; ignored for a CRTC without vblank
 *	support (the core counts frames itself)
 * @timestamp: set by the driver: the CLOCK_MONOTONIC time the frame
 *	started (its vblank); 0 to take the time of kms2v4l_frame_end()
 * @buf: core-private: the buffer
 */
struct kms2v4l_frame {
	struct iosys_map map;
	const struct drm_format_info *format;
	unsigned int width;
	unsigned int height;
	unsigned int pitch;
	unsigned int age;
	struct drm_rect clip;
	u64 vblank;
	ktime_t timestamp;
	void *buf;
};

struct kms2v4l_source *kms2v4l_crtc_init(struct drm_crtc *crtc,
					 const u32 *formats,
					 unsigned int num_formats,
					 const struct kms2v4l_funcs *funcs,
					 void *priv);
struct kms2v4l_source *kms2v4l_mirror_init(struct drm_crtc *crtc);
void *kms2v4l_source_priv(struct kms2v4l_source *src);
void kms2v4l_crtc_unplug(struct kms2v4l_source *src);

void kms2v4l_crtc_update(struct kms2v4l_source *src,
			 struct drm_atomic_state *state);
void kms2v4l_crtc_damage(struct kms2v4l_source *src,
			 const struct drm_rect *rects, unsigned int num_rects);

bool kms2v4l_frame_wanted(struct kms2v4l_source *src);
int kms2v4l_frame_begin(struct kms2v4l_source *src,
			const struct drm_crtc_state *state,
			struct kms2v4l_frame *frame);
void kms2v4l_frame_end(struct kms2v4l_source *src,
		       struct kms2v4l_frame *frame, int error);

#endif /* _MEDIA_KMS2V4L_H */
