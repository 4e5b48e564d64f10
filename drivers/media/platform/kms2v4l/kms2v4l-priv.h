/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kms2v4l - private definitions shared by the core and the capture node
 */
#ifndef _KMS2V4L_PRIV_H
#define _KMS2V4L_PRIV_H

#include <drm/drm_crtc.h>
#include <drm/drm_device.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <media/kms2v4l.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-device.h>
#include <media/videobuf2-v4l2.h>

#define KMS2V4L_NAME "kms2v4l"

/* Most pixel formats a driver may declare. */
#define KMS2V4L_MAX_FORMATS	16

/* Commits whose damage is told apart until a frame takes it. */
#define KMS2V4L_DAMAGE_PENDING	4
/*
 * Delivered frames whose damage is remembered (the oldest buffer age
 * that gets less than a full frame, minus one).
 */
#define KMS2V4L_DAMAGE_HISTORY	8

/* Rectangles a damage region holds (kms2v4l-region.c). */
#define KMS2V4L_REGION_RECTS	8

/**
 * struct kms2v4l_region - damage as a few rectangles (kms2v4l-region.c)
 * @n: entries of @r in use; 0: nothing changed
 * @r: the rectangles, none empty, CRTC coordinates; they may overlap
 */
struct kms2v4l_region {
	unsigned int n;
	struct drm_rect r[KMS2V4L_REGION_RECTS];
};

/**
 * struct kms2v4l_damage - what a commit changed, not yet in a frame
 * @state: the CRTC state the commit made (a key, never dereferenced);
 *	NULL for damage no commit reported, seen by any later frame
 * @region: the change, CRTC coordinates
 */
struct kms2v4l_damage {
	const struct drm_crtc_state *state;
	struct kms2v4l_region region;
};

/**
 * struct kms2v4l_format - a pixel format the node offers
 * @fourcc: V4L2 pixel format
 * @drm: the same memory layout as a DRM format
 */
struct kms2v4l_format {
	u32 fourcc;
	const struct drm_format_info *drm;
};

/**
 * struct kms2v4l_buffer - a capture buffer
 * @vb: the vb2 buffer (first member)
 * @list: entry in &kms2v4l_source.buf_list
 * @frame: &kms2v4l_source.frames when the buffer was last delivered,
 *	0 if it holds no frame
 * @damage: what changed in the frame it holds (or is being written)
 *	since the delivered frame before (CRTC coordinates)
 * @state: the CRTC state of the frame being written into it
 * @fence: write fence published on an imported dma-buf while a frame is
 *	written into it, NULL otherwise
 */
struct kms2v4l_buffer {
	struct vb2_v4l2_buffer vb;
	struct list_head list;
	u64 frame;
	struct kms2v4l_region damage;
	const struct drm_crtc_state *state;
	struct dma_fence *fence;
};

#define to_kms2v4l_buffer(b) container_of(b, struct kms2v4l_buffer, vb)

/**
 * struct kms2v4l_meta_buffer - a damage node buffer
 * @vb: the vb2 buffer (first member)
 * @list: entry in &kms2v4l_source.meta_list
 */
struct kms2v4l_meta_buffer {
	struct vb2_v4l2_buffer vb;
	struct list_head list;
};

/**
 * struct kms2v4l_shown - the CRTC state a frame shows, as the core needs it
 * @state: the state (a key for its commit's damage, never dereferenced)
 * @active: whether the CRTC is on in it
 * @width: its mode's hdisplay
 * @height: its mode's vdisplay
 */
struct kms2v4l_shown {
	const struct drm_crtc_state *state;
	bool active;
	unsigned int width;
	unsigned int height;
};

struct kms2v4l_mirror;

/**
 * struct kms2v4l_source - one CRTC offered as a V4L2 capture node
 * @crtc: the CRTC; NULL once its DRM device is released
 * @funcs: the driver's callbacks; NULL once its DRM device is released
 * @priv: driver data
 * @driver: the DRM driver's name
 * @card: DRM minor index (the N of /dev/dri/cardN)
 * @crtc_index: index of the CRTC on its device
 * @crtc_id: KMS object id of the CRTC
 * @has_vblank: the driver gives each frame's sequence (the CRTC's vblank
 *	counter, or a mirror's count of commits), else the core counts the
 *	frames produced
 * @mirror: the core's readback of the CRTC's primary plane, for a driver
 *	that joined with kms2v4l_mirror_init(); NULL otherwise
 * @unplugged: the node is gone (kms2v4l_crtc_unplug() or release)
 * @formats: the formats the node offers, from the driver's list
 * @num_formats: entries of @formats
 * @v4l2_dev: the V4L2 device of this node
 * @vdev: the capture video device
 * @queue: its vb2 queue
 * @ctrls: the node's controls
 * @meta_vdev: the damage node (kms2v4l-meta.c)
 * @meta_queue: its vb2 queue
 * @meta_lock: serialises its ioctls (meta_vdev->lock and meta_queue->lock)
 * @lock: serialises ioctls (vdev->lock and queue->lock) and the calls
 *	into @funcs; writers of @fmt, @format and @timings hold it as
 *	well as @qlock, except kms2v4l_crtc_update()
 * @qlock: protects everything below; taken with irqsave since drivers
 *	call in from any context
 * @timings: DV timings the format follows (the CRTC's mode while no
 *	buffers are allocated, else as negotiated)
 * @fmt: the negotiated capture format
 * @format: the entry of @fmt.pixelformat
 * @fmt_locked: buffers were allocated for @fmt: its size stays until
 *	they are freed
 * @mode: the CRTC's current mode as DV timings
 * @lit: whether the CRTC is on (@mode valid)
 * @connector_mask: the connectors the CRTC drives (drm_connector_mask())
 * @buf_list: buffers queued by userspace, not yet handed to the driver
 * @stream: a snapshot of @fmt and @format while streaming, NULL when not
 * @stream_fmt: storage for @stream
 * @stream_format: storage for @stream's format entry
 * @in_flight: frames begun and not yet ended
 * @idle: woken when @in_flight drops to 0
 * @fence_context: the dma_fence context of this source's write fences
 * @fence_seqno: the last seqno given to one
 * @frames: frames delivered since the node was created
 * @produced: frames ended by the driver in this stream (the sequence
 *	of a CRTC without vblank support)
 * @pending: damage since the last frame begun, one entry per commit,
 *	oldest first
 * @num_pending: entries of @pending
 * @taken_state: the CRTC state of the last frame that took damage
 * @history: damage of delivered frame f (against frame f - 1) at
 *	f % KMS2V4L_DAMAGE_HISTORY
 * @pacing: V4L2_CID_KMS2V4L_FRAME_PACING
 * @partial: V4L2_CID_KMS2V4L_PARTIAL_FRAMES
 * @first_sequence: vblank counter of the stream's first frame
 * @last_sequence: vblank counter of the last completed buffer
 * @sequence_valid: whether the two are set in this stream
 * @meta_list: damage buffers queued by userspace
 * @meta_streaming: the damage node streams
 * @meta_full: its next record is the whole frame
 * @meta_acc: damage of the frames delivered since its last record
 */
struct kms2v4l_source {
	struct drm_crtc *crtc;
	const struct kms2v4l_funcs *funcs;
	void *priv;
	const char *driver;
	unsigned int card;
	unsigned int crtc_index;
	u32 crtc_id;
	bool has_vblank;
	struct kms2v4l_mirror *mirror;
	bool unplugged;
	struct kms2v4l_format formats[KMS2V4L_MAX_FORMATS];
	unsigned int num_formats;

	struct v4l2_device v4l2_dev;
	struct video_device vdev;
	struct vb2_queue queue;
	struct v4l2_ctrl_handler ctrls;
	struct video_device meta_vdev;
	struct vb2_queue meta_queue;
	struct mutex meta_lock; /* see @meta_lock above */

	struct mutex lock; /* see @lock above */

	spinlock_t qlock; /* see @qlock above */
	struct v4l2_dv_timings timings;
	struct v4l2_pix_format fmt;
	const struct kms2v4l_format *format;
	bool fmt_locked;
	struct v4l2_dv_timings mode;
	bool lit;
	u32 connector_mask;
	struct list_head buf_list;
	const struct v4l2_pix_format *stream;
	struct v4l2_pix_format stream_fmt;
	const struct kms2v4l_format *stream_format;
	unsigned int in_flight;
	wait_queue_head_t idle;
	u64 fence_context;
	u64 fence_seqno;
	u64 frames;
	u64 produced;
	struct kms2v4l_damage pending[KMS2V4L_DAMAGE_PENDING];
	unsigned int num_pending;
	const struct drm_crtc_state *taken_state;
	struct kms2v4l_region history[KMS2V4L_DAMAGE_HISTORY];
	u32 pacing;
	bool partial;
	u64 first_sequence;
	u64 last_sequence;
	bool sequence_valid;
	struct list_head meta_list;
	bool meta_streaming;
	bool meta_full;
	struct kms2v4l_region meta_acc;
};

/* kms2v4l-formats.c */
int kms2v4l_formats_init(struct kms2v4l_source *src, const u32 *formats,
			 unsigned int num_formats);
bool kms2v4l_format_fits(const struct kms2v4l_format *format,
			 const struct v4l2_dv_timings *t);
const struct kms2v4l_format *kms2v4l_format_find(struct kms2v4l_source *src,
						 u32 fourcc,
						 const struct v4l2_dv_timings *t);
void kms2v4l_mode_to_timings(const struct drm_display_mode *mode,
			     struct v4l2_dv_timings *t);
void kms2v4l_fill_pix_format(struct v4l2_pix_format *pix,
			     const struct kms2v4l_format *format,
			     const struct v4l2_dv_timings *t);

/* kms2v4l-core.c */
void kms2v4l_follow_mode(struct kms2v4l_source *src);
void kms2v4l_get_format(struct kms2v4l_source *src,
			struct v4l2_pix_format *fmt,
			struct v4l2_dv_timings *timings);
void kms2v4l_notify_due(struct kms2v4l_source *src);
int kms2v4l_frame_begin_shown(struct kms2v4l_source *src,
			      const struct kms2v4l_shown *shown,
			      struct kms2v4l_frame *frame);
void kms2v4l_frame_finish(struct kms2v4l_source *src,
			  struct kms2v4l_frame *frame, int error, bool cancel);
void kms2v4l_detach(struct kms2v4l_source *src);

/* kms2v4l-region.c */
void kms2v4l_region_add(struct kms2v4l_region *rg, const struct drm_rect *r);
void kms2v4l_region_or(struct kms2v4l_region *acc,
		       const struct kms2v4l_region *rg);
void kms2v4l_region_set(struct kms2v4l_region *rg, const struct drm_rect *r);
void kms2v4l_region_clip(struct kms2v4l_region *rg, const struct drm_rect *clip);
void kms2v4l_region_bounds(const struct kms2v4l_region *rg, struct drm_rect *box);

/* kms2v4l-mirror.c */
void kms2v4l_mirror_update(struct kms2v4l_mirror *m,
			   struct drm_atomic_state *state,
			   const struct drm_crtc_state *cs);

/* kms2v4l-meta.c */
int kms2v4l_meta_init(struct kms2v4l_source *src);
void kms2v4l_meta_frame(struct kms2v4l_source *src,
			const struct kms2v4l_buffer *buf,
			unsigned int width, unsigned int height, u64 timestamp);

/* kms2v4l-fence.c */
int kms2v4l_fence_begin(struct kms2v4l_buffer *buf, struct dma_fence *fence);
struct dma_fence *kms2v4l_fence_create(struct kms2v4l_source *src);
bool kms2v4l_buffer_is_imported(struct kms2v4l_buffer *buf);
void kms2v4l_fence_end(struct kms2v4l_buffer *buf, int error);

/* kms2v4l-vid-cap.c */
int kms2v4l_vid_cap_init(struct kms2v4l_source *src);
void kms2v4l_vid_cap_return_all(struct kms2v4l_source *src,
				enum vb2_buffer_state state);
int kms2v4l_querycap(struct file *file, void *priv, struct v4l2_capability *cap);
int kms2v4l_enum_input(struct file *file, void *priv, struct v4l2_input *inp);
int kms2v4l_g_input(struct file *file, void *priv, unsigned int *i);
int kms2v4l_s_input(struct file *file, void *priv, unsigned int i);

#endif /* _KMS2V4L_PRIV_H */
