// SPDX-License-Identifier: MIT
#include "slots.h"

#include <gtest/gtest.h>

#include <cerrno>

TEST(Slots, Lifecycle)
{
	kms2v4l_slots s;
	EXPECT_EQ(kms2v4l_slots_init(&s, 3), 3u);
	EXPECT_EQ(kms2v4l_slots_in(&s, KMS2V4L_SLOT_IDLE), 3u);
	EXPECT_EQ(kms2v4l_slots_queue(&s, 0), 0);
	EXPECT_EQ(kms2v4l_slots_queue(&s, 1), 0);
	EXPECT_EQ(kms2v4l_slots_queue(&s, 1), -EBUSY); // twice
	EXPECT_EQ(kms2v4l_slots_queue(&s, 3), -EINVAL); // out of range
	EXPECT_EQ(kms2v4l_slots_dequeue(&s, 1), 0);
	EXPECT_EQ(kms2v4l_slots_dequeue(&s, 1), -EPROTO); // not queued any more
	EXPECT_EQ(kms2v4l_slots_dequeue(&s, 2), -EPROTO); // never queued
	EXPECT_EQ(kms2v4l_slots_in(&s, KMS2V4L_SLOT_HELD), 1u);
	EXPECT_EQ(kms2v4l_slots_in(&s, KMS2V4L_SLOT_QUEUED), 1u);
	kms2v4l_slots_streamoff(&s);
	// STREAMOFF takes back queued buffers; held ones stay with the caller.
	EXPECT_EQ(s.state[0], KMS2V4L_SLOT_IDLE);
	EXPECT_EQ(s.state[1], KMS2V4L_SLOT_HELD);
	EXPECT_EQ(kms2v4l_slots_queue(&s, 1), 0); // held -> queued
}

TEST(Slots, ClampsCount)
{
	kms2v4l_slots s;
	EXPECT_EQ(kms2v4l_slots_init(&s, 1000), unsigned(KMS2V4L_MAX_SLOTS));
	EXPECT_EQ(kms2v4l_slots_queue(&s, KMS2V4L_MAX_SLOTS - 1), 0);
	EXPECT_EQ(kms2v4l_slots_init(&s, 0), 0u);
	EXPECT_EQ(kms2v4l_slots_queue(&s, 0), -EINVAL);
}
