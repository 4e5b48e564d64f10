// SPDX-License-Identifier: MIT
// libkms2v4l's reading of kms2v4l's damage records (userspace/lib/damage.c):
// a frame gets its own record's rectangles, and anything doubtful makes it
// whole, never less than what changed.
#include "damage.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

kms2v4l_damage_meta record(uint32_t seq, uint32_t w, uint32_t h)
{
	kms2v4l_damage_meta m;
	std::memset(&m, 0, sizeof(m));
	m.sequence = seq;
	m.width = w;
	m.height = h;
	return m;
}

void add(kms2v4l_damage_meta &m, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	m.rects[m.num_rects++] = {x, y, w, h};
}

} // namespace

// Found by gtest through the struct's (global) namespace.
static bool operator==(const kms2v4l_rect &a, const kms2v4l_rect &b)
{
	return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
}

TEST(DamageOrder, OlderMatchNewerAcrossTheWrap)
{
	EXPECT_EQ(kms2v4l_damage_order(4, 5), KMS2V4L_DAMAGE_OLDER);
	EXPECT_EQ(kms2v4l_damage_order(5, 5), KMS2V4L_DAMAGE_MATCH);
	EXPECT_EQ(kms2v4l_damage_order(6, 5), KMS2V4L_DAMAGE_NEWER);
	EXPECT_EQ(kms2v4l_damage_order(0xffffffffu, 1), KMS2V4L_DAMAGE_OLDER);
	EXPECT_EQ(kms2v4l_damage_order(1, 0xffffffffu), KMS2V4L_DAMAGE_NEWER);
}

TEST(DamageRects, TheRecordsRectangles)
{
	kms2v4l_rect out[KMS2V4L_DAMAGE_MAX_RECTS];
	auto m = record(7, 640, 480);
	add(m, 100, 50, 64, 64);
	ASSERT_EQ(kms2v4l_damage_rects(&m, sizeof(m), 7, 640, 480, out), 1);
	EXPECT_EQ(out[0], (kms2v4l_rect{100, 50, 64, 64}));
	// Nothing changed: no rectangle.
	auto none = record(8, 640, 480);
	EXPECT_EQ(kms2v4l_damage_rects(&none, sizeof(none), 8, 640, 480, out), 0);
}

TEST(DamageRects, FullShortForeignOrOtherSizeIsTheWholeFrame)
{
	kms2v4l_rect out[KMS2V4L_DAMAGE_MAX_RECTS];
	auto m = record(7, 640, 480);
	add(m, 0, 0, 640, 480);
	m.flags = KMS2V4L_DAMAGE_FULL;
	EXPECT_EQ(kms2v4l_damage_rects(&m, sizeof(m), 7, 640, 480, out), -1);
	m.flags = 0;
	EXPECT_EQ(kms2v4l_damage_rects(&m, sizeof(m), 7, 640, 480, out), 1);
	EXPECT_EQ(kms2v4l_damage_rects(&m, sizeof(m) - 1, 7, 640, 480, out), -1);
	EXPECT_EQ(kms2v4l_damage_rects(&m, sizeof(m), 8, 640, 480, out), -1);
	EXPECT_EQ(kms2v4l_damage_rects(&m, sizeof(m), 7, 800, 600, out), -1);
	m.num_rects = KMS2V4L_DAMAGE_MAX_RECTS + 1;
	EXPECT_EQ(kms2v4l_damage_rects(&m, sizeof(m), 7, 640, 480, out), -1);
}

TEST(DamageRects, ClippedToTheFrame)
{
	kms2v4l_rect out[KMS2V4L_DAMAGE_MAX_RECTS];
	auto m = record(1, 100, 70);
	add(m, 90, 60, 50, 50); // past the corner: clipped
	add(m, 100, 0, 5, 5);   // beyond the right edge: dropped
	add(m, 0, 0, 0, 10);    // empty: dropped
	add(m, 10, 20, 30, 40);
	ASSERT_EQ(kms2v4l_damage_rects(&m, sizeof(m), 1, 100, 70, out), 2);
	EXPECT_EQ(out[0], (kms2v4l_rect{90, 60, 10, 10}));
	EXPECT_EQ(out[1], (kms2v4l_rect{10, 20, 30, 40}));
}
