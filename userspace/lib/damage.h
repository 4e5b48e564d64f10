/* SPDX-License-Identifier: MIT */
/*
 * Damage records of libkms2v4l: how a record of kms2v4l's damage node
 * (struct kms2v4l_damage_meta) becomes a frame's rectangles, kept apart
 * from the ioctls so that host unit tests can check it.
 */
#ifndef KMS2V4L_DAMAGE_H
#define KMS2V4L_DAMAGE_H

#include <kms2v4l/kms2v4l.h>

#include <linux/kms2v4l.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a record of sequence @record stands to the frame of sequence
 * @frame (sequence numbers wrap at 2^32). */
enum kms2v4l_damage_order {
	KMS2V4L_DAMAGE_OLDER, /* of a frame before: discard it */
	KMS2V4L_DAMAGE_MATCH, /* the frame's own */
	KMS2V4L_DAMAGE_NEWER, /* of a later frame: keep it for that one */
};

enum kms2v4l_damage_order kms2v4l_damage_order(uint32_t record, uint32_t frame);

/*
 * The rectangles of the record @rec (@bytes of it were written) for the
 * frame of sequence @sequence, @width x @height pixels, clipped to the
 * frame, into @out[KMS2V4L_DAMAGE_MAX_RECTS].  Return: their number (0:
 * nothing changed), or -1 when the frame is to be taken as changed
 * everywhere: KMS2V4L_DAMAGE_FULL, a short record, another sequence or
 * size, or more rectangles than a record holds.
 */
int kms2v4l_damage_rects(const struct kms2v4l_damage_meta *rec, size_t bytes,
			 uint32_t sequence, uint32_t width, uint32_t height,
			 struct kms2v4l_rect *out);

#ifdef __cplusplus
}
#endif

#endif
