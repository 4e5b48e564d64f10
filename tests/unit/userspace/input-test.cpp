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
	EXPECT_EQ(m.pointer(32 | 2, 0, 0),
		  (Ev{{EV_KEY, BTN_MIDDLE, 1}, {EV_REL, REL_HWHEEL, -1}, {EV_SYN, SYN_REPORT, 0}}));
}

// A viewer that disconnects with a key and a button held leaves neither
// stuck (issue 18); viewers' buttons and keys are their own.
TEST(ViewerInputs, ReleasedOnDisconnect)
{
	ViewerInputs in;
	in.pointer(1, 0, 5, 5);
	EXPECT_EQ(in.key(1, KEY_A, true), (Ev{{EV_KEY, KEY_A, 1}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(in.key(1, KEY_LEFTSHIFT, true),
		  (Ev{{EV_KEY, KEY_LEFTSHIFT, 1}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(in.pointer(1, 1, 5, 5), (Ev{{EV_KEY, BTN_LEFT, 1}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(in.gone(1), (Ev{{EV_KEY, KEY_LEFTSHIFT, 0},
				  {EV_SYN, SYN_REPORT, 0},
				  {EV_KEY, KEY_A, 0},
				  {EV_SYN, SYN_REPORT, 0},
				  {EV_KEY, BTN_LEFT, 0},
				  {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_TRUE(in.gone(1).empty());
}

TEST(ViewerInputs, EachViewerHasItsOwnButtonsAndKeys)
{
	ViewerInputs in;
	in.pointer(1, 0, 5, 5);
	EXPECT_EQ(in.pointer(1, 1, 5, 5), (Ev{{EV_KEY, BTN_LEFT, 1}, {EV_SYN, SYN_REPORT, 0}}));
	// Viewer 2 moves with no button: viewer 1's drag goes on.
	EXPECT_EQ(in.pointer(2, 0, 7, 5), (Ev{{EV_ABS, ABS_X, 7}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(in.pointer(1, 0, 7, 5), (Ev{{EV_KEY, BTN_LEFT, 0}, {EV_SYN, SYN_REPORT, 0}}));
	// A key both hold is up only when the last one lets go.
	EXPECT_FALSE(in.key(1, KEY_B, true).empty());
	EXPECT_TRUE(in.key(2, KEY_B, true).empty());
	EXPECT_TRUE(in.key(1, KEY_B, false).empty());
	EXPECT_TRUE(in.key(1, KEY_B, false).empty()); // a stray release
	EXPECT_EQ(in.key(2, KEY_B, false), (Ev{{EV_KEY, KEY_B, 0}, {EV_SYN, SYN_REPORT, 0}}));
	// Auto-repeat of one viewer presses again.
	EXPECT_FALSE(in.key(1, KEY_C, true).empty());
	EXPECT_EQ(in.key(1, KEY_C, true), (Ev{{EV_KEY, KEY_C, 1}, {EV_SYN, SYN_REPORT, 0}}));
}

// The absolute range is fixed: the device survives resizes.
TEST(UinputDevice, ScaleToTheFixedRange)
{
	EXPECT_EQ(UinputDevice::scale(0, 640), 0);
	EXPECT_EQ(UinputDevice::scale(639, 640), UinputDevice::kAbsMax);
	EXPECT_EQ(UinputDevice::scale(1919, 1920), UinputDevice::kAbsMax);
	EXPECT_EQ(UinputDevice::scale(5000, 640), UinputDevice::kAbsMax); // clamped
	EXPECT_EQ(UinputDevice::scale(-3, 640), 0);
	EXPECT_NEAR(UinputDevice::scale(320, 641), UinputDevice::kAbsMax / 2, 1);
}

// '@' typed on a US keyboard (Shift+2) into a German layout: AltGr+Q, with
// Shift lifted for that key and put back after it.
TEST(ViewerInputs, LevelModifiersAroundTheKey)
{
	ViewerInputs in;
	EXPECT_EQ(in.key(1, KeyLevel{KEY_LEFTSHIFT}, true),
		  (Ev{{EV_KEY, KEY_LEFTSHIFT, 1}, {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(in.key(1, KeyLevel{KEY_Q, false, true}, true), (Ev{{EV_KEY, KEY_LEFTSHIFT, 0},
								     {EV_KEY, KEY_RIGHTALT, 1},
								     {EV_SYN, SYN_REPORT, 0},
								     {EV_KEY, KEY_Q, 1},
								     {EV_SYN, SYN_REPORT, 0},
								     {EV_KEY, KEY_LEFTSHIFT, 1},
								     {EV_KEY, KEY_RIGHTALT, 0},
								     {EV_SYN, SYN_REPORT, 0}}));
	EXPECT_EQ(in.key(1, KeyLevel{KEY_Q, false, true}, false),
		  (Ev{{EV_KEY, KEY_Q, 0}, {EV_SYN, SYN_REPORT, 0}}));
	// 'A' with the viewer's Shift down: nothing to add.
	EXPECT_EQ(in.key(1, KeyLevel{KEY_A, true, false}, true),
		  (Ev{{EV_KEY, KEY_A, 1}, {EV_SYN, SYN_REPORT, 0}}));
	in.key(1, KeyLevel{KEY_A, true, false}, false);
	in.key(1, KeyLevel{KEY_LEFTSHIFT}, false);
	// 'A' without it (a viewer sending the keysym alone): Shift added.
	EXPECT_EQ(in.key(2, KeyLevel{KEY_A, true, false}, true), (Ev{{EV_KEY, KEY_LEFTSHIFT, 1},
								     {EV_SYN, SYN_REPORT, 0},
								     {EV_KEY, KEY_A, 1},
								     {EV_SYN, SYN_REPORT, 0},
								     {EV_KEY, KEY_LEFTSHIFT, 0},
								     {EV_SYN, SYN_REPORT, 0}}));
}
