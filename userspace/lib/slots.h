/* SPDX-License-Identifier: MIT */
/*
 * Buffer slot bookkeeping of libkms2v4l, kept apart from the ioctls so
 * that host unit tests can check it.  A slot is IDLE (allocated, neither
 * queued nor handed out), QUEUED (owned by the driver) or HELD (dequeued,
 * owned by the caller until kms2v4l_queue()).
 */
#ifndef KMS2V4L_SLOTS_H
#define KMS2V4L_SLOTS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kms2v4l_slot_state {
	KMS2V4L_SLOT_IDLE,
	KMS2V4L_SLOT_QUEUED,
	KMS2V4L_SLOT_HELD,
};

#define KMS2V4L_MAX_SLOTS 32

struct kms2v4l_slots {
	unsigned int count;
	enum kms2v4l_slot_state state[KMS2V4L_MAX_SLOTS];
};

/* Sets @count slots (clamped to KMS2V4L_MAX_SLOTS) to IDLE; returns the count. */
unsigned int kms2v4l_slots_init(struct kms2v4l_slots *s, unsigned int count);
/* IDLE or HELD -> QUEUED.  -EINVAL for a bad index, -EBUSY if already queued. */
int kms2v4l_slots_queue(struct kms2v4l_slots *s, unsigned int index);
/* QUEUED -> HELD.  -EINVAL for a bad index, -EPROTO if it was not queued. */
int kms2v4l_slots_dequeue(struct kms2v4l_slots *s, unsigned int index);
/* After STREAMOFF: every QUEUED slot becomes IDLE; HELD ones stay HELD. */
void kms2v4l_slots_streamoff(struct kms2v4l_slots *s);
/* Number of slots in @state. */
unsigned int kms2v4l_slots_in(const struct kms2v4l_slots *s,
			      enum kms2v4l_slot_state state);

#ifdef __cplusplus
}
#endif

#endif
