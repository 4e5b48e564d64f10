// SPDX-License-Identifier: GPL-2.0-or-later
#include "input.h"

#include <linux/input-event-codes.h>

#include <gtest/gtest.h>

using namespace v4l2vnc;
using Ev = std::vector<InputEvent>;

TEST(PointerMapper, MoveClickRelease)
{
	PointerMapper m;
	EXPECT_EQ(m.pointer(0, 10, 20),
		  (Ev{{EV_ABS, ABS_X, 10}, {EV_ABS, ABS_Y, 20}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(m.pointer(1, 10, 20), (Ev{{EV_KEY, BTN_LEFT, 1}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(m.pointer(1 | 4, 11, 20),
		  (Ev{{EV_ABS, ABS_X, 11}, {EV_KEY, BTN_RIGHT, 1}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(m.pointer(0, 11, 20),
		  (Ev{{EV_KEY, BTN_LEFT, 0}, {EV_KEY, BTN_RIGHT, 0}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_TRUE(m.pointer(0, 11, 20).empty()); // nothing changed
}

TEST(PointerMapper, WheelOnPressOnly)
{
	PointerMapper m;
	m.pointer(0, 0, 0);
	EXPECT_EQ(m.pointer(8, 0, 0), (Ev{{EV_REL, REL_WHEEL, 1}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_TRUE(m.pointer(8, 0, 0).empty());
	EXPECT_TRUE(m.pointer(0, 0, 0).empty());
	EXPECT_EQ(m.pointer(16, 0, 0), (Ev{{EV_REL, REL_WHEEL, -1}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(m.pointer(32 | 2, 0, 0), (Ev{{EV_KEY, BTN_MIDDLE, 1},
					       {EV_REL, REL_HWHEEL, -1},
					       {EV_SYN, SYN_REPORT, 0}}));
}
