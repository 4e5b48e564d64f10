// SPDX-License-Identifier: MIT
#include "slots.h"

#include <errno.h>

unsigned int kms2v4l_slots_init(struct kms2v4l_slots *s, unsigned int count)
{
	if (count > KMS2V4L_MAX_SLOTS)
		count = KMS2V4L_MAX_SLOTS;
	s->count = count;
	for (unsigned int i = 0; i < KMS2V4L_MAX_SLOTS; i++)
		s->state[i] = KMS2V4L_SLOT_IDLE;
	return count;
}

int kms2v4l_slots_queue(struct kms2v4l_slots *s, unsigned int index)
{
	if (index >= s->count)
		return -EINVAL;
	if (s->state[index] == KMS2V4L_SLOT_QUEUED)
		return -EBUSY;
	s->state[index] = KMS2V4L_SLOT_QUEUED;
	return 0;
}

int kms2v4l_slots_dequeue(struct kms2v4l_slots *s, unsigned int index)
{
	if (index >= s->count)
		return -EINVAL;
	if (s->state[index] != KMS2V4L_SLOT_QUEUED)
		return -EPROTO;
	s->state[index] = KMS2V4L_SLOT_HELD;
	return 0;
}

void kms2v4l_slots_streamoff(struct kms2v4l_slots *s)
{
	for (unsigned int i = 0; i < s->count; i++)
		if (s->state[i] == KMS2V4L_SLOT_QUEUED)
			s->state[i] = KMS2V4L_SLOT_IDLE;
}

unsigned int kms2v4l_slots_in(const struct kms2v4l_slots *s,
			      enum kms2v4l_slot_state state)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->count; i++)
		n += s->state[i] == state;
	return n;
}
