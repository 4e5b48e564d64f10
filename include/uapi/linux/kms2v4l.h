/* SPDX-License-Identifier: ((GPL-2.0-only WITH Linux-syscall-note) OR MIT) */
/*
 * kms2v4l - the V4L2 capture nodes of KMS CRTCs: what userspace sees
 * beyond standard V4L2.
 *
 * The driver-specific controls live in a range of 16 control ids
 * reserved for kms2v4l at V4L2_CID_USER_BASE + 0x1200, above every range
 * <linux/v4l2-controls.h> hands out to drivers (the highest in Linux 6.1
 * is V4L2_CID_USER_DW100_BASE, + 0x1190).
 */
#ifndef _UAPI_LINUX_KMS2V4L_H
#define _UAPI_LINUX_KMS2V4L_H

#include <linux/types.h>
#include <linux/v4l2-controls.h>
#include <linux/videodev2.h>

#define V4L2_CID_USER_KMS2V4L_BASE	(V4L2_CID_USER_BASE + 0x1200)

/*
 * Read-only, 64-bit integer: the CRTC vblank counter of the first frame
 * of the current stream. Buffer sequence numbers count from it, so a
 * frame shows vblank (sequence base + buffer sequence). For a CRTC
 * without vblank interrupts, the counter is the node's own count of
 * frames the driver produced.
 */
#define V4L2_CID_KMS2V4L_SEQUENCE_BASE	(V4L2_CID_USER_KMS2V4L_BASE + 0)

/* Read-only integer: the KMS object id of the CRTC (drmModeGetCrtc()). */
#define V4L2_CID_KMS2V4L_CRTC_ID	(V4L2_CID_USER_KMS2V4L_BASE + 1)

/*
 * Read-only string: the names of the connectors the CRTC drives,
 * comma-separated (e.g. "Virtual-1"), empty while the CRTC is off.
 * At most KMS2V4L_CONNECTORS_MAX - 1 bytes: the names of up to 32
 * connectors of the longest name DRM gives (32 bytes) fit.
 */
#define V4L2_CID_KMS2V4L_CONNECTORS	(V4L2_CID_USER_KMS2V4L_BASE + 2)

#define KMS2V4L_CONNECTORS_MAX		1056

/*
 * Menu: when a streaming node delivers a frame.
 * V4L2_KMS2V4L_PACING_VBLANK (the default): at every vblank of the CRTC
 * for which a buffer is queued. V4L2_KMS2V4L_PACING_ON_CHANGE: only when
 * what the CRTC shows changed (a commit, or damage such as DIRTYFB) since
 * the frame delivered before, and always for the first frame of a stream;
 * a static screen costs nothing. Sequence numbers and timestamps stay
 * those of the vblank each frame was taken at, so the gaps between them
 * are the vblanks without change, not lost frames.
 */
#define V4L2_CID_KMS2V4L_FRAME_PACING	(V4L2_CID_USER_KMS2V4L_BASE + 3)

#define V4L2_KMS2V4L_PACING_VBLANK	0
#define V4L2_KMS2V4L_PACING_ON_CHANGE	1

/*
 * Boolean, default 0. Set to 1 by a client that never writes into its
 * capture buffers (nor lets anything else write into them): each frame
 * then updates only what changed since the frame the buffer last held
 * (its damage since then), and leaves the rest as it is. The content of
 * every delivered buffer is the same as with 0. Clear it for clients
 * that draw into capture buffers (e.g. GStreamer elements that work in
 * place on v4l2src's buffers).
 */
#define V4L2_CID_KMS2V4L_PARTIAL_FRAMES	(V4L2_CID_USER_KMS2V4L_BASE + 4)

/*
 * The damage node: beside each capture node, a metadata capture node
 * (V4L2_CAP_META_CAPTURE, the same bus_info, its name that of the
 * capture node followed by " damage") whose buffers tell what changed
 * in each delivered frame, in the format below.
 *
 * While both stream, every frame the capture node delivers without
 * V4L2_BUF_FLAG_ERROR completes the oldest queued damage buffer with
 * the same sequence number and timestamp as the frame, and a payload of
 * one struct kms2v4l_damage_meta. Its rectangles cover every pixel that
 * may differ from the frame delivered before it on the capture node,
 * the frames dropped in between included. When no damage buffer is
 * queued for a frame, its record is not lost: its damage is part of the
 * next record (a superset is always correct for the frames in between).
 * Frames are matched to records by sequence number; a frame without a
 * record is to be taken as changed everywhere.
 */
#define V4L2_META_FMT_KMS2V4L_DAMAGE	v4l2_fourcc('K', '2', 'V', 'D')

/* Rectangles one record holds. */
#define KMS2V4L_DAMAGE_MAX_RECTS	16

/*
 * The whole frame changed (the first frame of a stream, a new mode, or
 * more rectangles than a record holds); the rectangles then hold the
 * whole frame.
 */
#define KMS2V4L_DAMAGE_FULL		(1U << 0)

/* A rectangle in pixels of the frame; width and height are not 0. */
struct kms2v4l_damage_rect {
	__u32 x;
	__u32 y;
	__u32 width;
	__u32 height;
};

/**
 * struct kms2v4l_damage_meta - what changed in one delivered frame
 * @sequence: the frame's sequence number (struct v4l2_buffer)
 * @flags: KMS2V4L_DAMAGE_*
 * @width: the frame's width
 * @height: the frame's height
 * @num_rects: entries of @rects in use; 0: nothing changed
 * @reserved: zero
 * @rects: the changed areas, within the frame
 */
struct kms2v4l_damage_meta {
	__u32 sequence;
	__u32 flags;
	__u32 width;
	__u32 height;
	__u32 num_rects;
	__u32 reserved[3];
	struct kms2v4l_damage_rect rects[KMS2V4L_DAMAGE_MAX_RECTS];
};

#endif /* _UAPI_LINUX_KMS2V4L_H */
