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
	// Nor the keys logind acts on behind a lock screen: XF86PowerOff,
	// XF86Sleep, XF86Suspend, XF86WakeUp (evdev rules: 116, 142, 205, 143).
	for (uint32_t sym : {0x1008ff2aU, 0x1008ff2fU, 0x1008ffa7U, 0x1008ff2bU})
		for (const auto *km : {us.get(), de.get()})
			EXPECT_FALSE(km->evdev_code(sym)) << std::hex << sym;
	for (unsigned code : {KEY_SYSRQ, KEY_POWER, KEY_SLEEP, KEY_SUSPEND, KEY_WAKEUP})
		EXPECT_FALSE(key_exposed(code)) << code;
	EXPECT_TRUE(key_exposed(KEY_A));
	EXPECT_TRUE(key_exposed(KEY_PRINT));
}

// QEMU extended key events name keys by XT scan code (E0-prefixed ones as
// 0x80 | code): the main block is evdev's own numbering, the rest by
// table; SysRq is not exposed (PrintScreen is KEY_PRINT), unknown codes
// are left to the keysym.
TEST(Keymap, XtScancodesOfQemuKeyEvents)
{
	EXPECT_EQ(xt_to_evdev(0x01), unsigned(KEY_ESC));
	EXPECT_EQ(xt_to_evdev(0x1e), unsigned(KEY_A));
	EXPECT_EQ(xt_to_evdev(0x2a), unsigned(KEY_LEFTSHIFT));
	EXPECT_EQ(xt_to_evdev(0x53), unsigned(KEY_KPDOT));
	EXPECT_EQ(xt_to_evdev(0x56), unsigned(KEY_102ND)); // '<' on a German keyboard
	EXPECT_EQ(xt_to_evdev(0x58), unsigned(KEY_F12));
	EXPECT_EQ(xt_to_evdev(0x9d), unsigned(KEY_RIGHTCTRL));
	EXPECT_EQ(xt_to_evdev(0xb8), unsigned(KEY_RIGHTALT)); // AltGr
	EXPECT_EQ(xt_to_evdev(0xc8), unsigned(KEY_UP));
	EXPECT_EQ(xt_to_evdev(0xd3), unsigned(KEY_DELETE));
	EXPECT_EQ(xt_to_evdev(0xdb), unsigned(KEY_LEFTMETA));
	EXPECT_EQ(xt_to_evdev(0xb7), unsigned(KEY_PRINT));
	EXPECT_FALSE(xt_to_evdev(0x54)); // Alt+SysRq
	EXPECT_FALSE(xt_to_evdev(0));
	EXPECT_FALSE(xt_to_evdev(0x1e | 0xe000)); // not the wire's encoding
	for (uint32_t code = 0; code < 0x200; code++) {
		if (auto k = xt_to_evdev(code)) {
			EXPECT_TRUE(key_exposed(*k)) << code;
		}
	}
}
