// SPDX-License-Identifier: GPL-2.0-or-later
#include "keymap.h"

#include <linux/input-event-codes.h>

#include <gtest/gtest.h>

using namespace v4l2vnc;

namespace {

std::unique_ptr<Keymap> make(const char *layout, const char *variant = "")
{
	std::string err;
	auto km = Keymap::create(layout, variant, err);
	EXPECT_TRUE(km) << err;
	return km;
}

} // namespace

TEST(Keymap, UsLayout)
{
	auto km = make("us");
	ASSERT_TRUE(km);
	EXPECT_EQ(km->evdev_code('a'), KEY_A);
	EXPECT_EQ(km->evdev_code('A'), KEY_A); // shifted level, same key
	EXPECT_EQ(km->evdev_code('z'), KEY_Z);
	EXPECT_EQ(km->evdev_code('1'), KEY_1);
	EXPECT_EQ(km->evdev_code('!'), KEY_1);
	EXPECT_EQ(km->evdev_code('$'), KEY_4); // not KEY_DOLLAR
	EXPECT_EQ(km->evdev_code(' '), KEY_SPACE);
	EXPECT_EQ(km->evdev_code(0xff0d), KEY_ENTER);     // Return
	EXPECT_EQ(km->evdev_code(0xff1b), KEY_ESC);       // Escape
	EXPECT_EQ(km->evdev_code(0xff08), KEY_BACKSPACE); // BackSpace
	EXPECT_EQ(km->evdev_code(0xffe1), KEY_LEFTSHIFT); // Shift_L
	EXPECT_EQ(km->evdev_code(0xffe3), KEY_LEFTCTRL);  // Control_L
	EXPECT_EQ(km->evdev_code(0xff51), KEY_LEFT);      // Left
	EXPECT_EQ(km->evdev_code(0xffbe), KEY_F1);        // F1
	EXPECT_EQ(km->evdev_code(0x12345678), std::nullopt);
	EXPECT_GT(km->size(), 100u);
}

TEST(Keymap, GermanLayoutSwapsYZ)
{
	auto km = make("de");
	ASSERT_TRUE(km);
	EXPECT_EQ(km->evdev_code('z'), KEY_Y);
	EXPECT_EQ(km->evdev_code('y'), KEY_Z);
	EXPECT_EQ(km->evdev_code(0x00fc), KEY_LEFTBRACE); // udiaeresis
	EXPECT_EQ(km->evdev_code(0x20ac), KEY_E);         // EuroSign, AltGr level
}

TEST(Keymap, FrenchAzerty)
{
	auto km = make("fr");
	ASSERT_TRUE(km);
	EXPECT_EQ(km->evdev_code('a'), KEY_Q);
	EXPECT_EQ(km->evdev_code('q'), KEY_A);
}

TEST(Keymap, UnknownLayoutFails)
{
	std::string err;
	EXPECT_FALSE(Keymap::create("no-such-layout", "", err));
	EXPECT_NE(err.find("no-such-layout"), std::string::npos);
}

// Keysyms with the modifiers of their level (issue 18: 'A' came without
// Shift, '@' and '€' wrong on a German layout).
TEST(Keymap, LevelsCarryTheirModifiers)
{
	std::string err;
	auto us = Keymap::create("us", "", err);
	ASSERT_TRUE(us) << err;
	auto de = Keymap::create("de", "", err);
	ASSERT_TRUE(de) << err;
	EXPECT_EQ(us->key_level('a'), (KeyLevel{KEY_A, false, false}));
	EXPECT_EQ(us->key_level('A'), (KeyLevel{KEY_A, true, false}));
	EXPECT_EQ(us->key_level('@'), (KeyLevel{KEY_2, true, false}));
	EXPECT_EQ(us->key_level(0x20ac), (KeyLevel{KEY_EURO, false, false})); // evdev's extra key
	EXPECT_EQ(de->key_level('A'), (KeyLevel{KEY_A, true, false}));
	EXPECT_EQ(de->key_level('@'), (KeyLevel{KEY_Q, false, true}));
	EXPECT_EQ(de->key_level(0x20ac), (KeyLevel{KEY_E, false, true}));
	EXPECT_EQ(de->key_level('z'), (KeyLevel{KEY_Y, false, false}));
	// KEY_SYSRQ is not exposed: Print goes to KEY_PRINT, Sys_Req nowhere.
	EXPECT_EQ(us->evdev_code(0xff61), unsigned(KEY_PRINT));
	EXPECT_FALSE(us->evdev_code(0xff15));
}
