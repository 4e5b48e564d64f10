// SPDX-License-Identifier: GPL-2.0-or-later
#include "keymap.h"

#include <linux/input-event-codes.h>
#include <xkbcommon/xkbcommon.h>

namespace v4l2vnc {

namespace {

struct XkbDeleter {
	void operator()(xkb_context *c) const { xkb_context_unref(c); }
	void operator()(xkb_keymap *k) const { xkb_keymap_unref(k); }
};

// xkbcommon keycodes are evdev codes + 8.
constexpr xkb_keycode_t kEvdevOffset = 8;

// XT codes past the main block that are not their evdev code, and the
// E0-prefixed ones (0x80 | code).  PrintScreen (0xb7) is evdev's
// KEY_SYSRQ, which is not exposed: KEY_PRINT instead.
constexpr struct {
	uint8_t xt;
	uint16_t evdev;
} kXtKeys[] = {
	{0x56, KEY_102ND},     {0x57, KEY_F11},
	{0x58, KEY_F12},       {0x70, KEY_KATAKANAHIRAGANA},
	{0x73, KEY_RO},        {0x79, KEY_HENKAN},
	{0x7b, KEY_MUHENKAN},  {0x7d, KEY_YEN},
	{0x7e, KEY_KPCOMMA},   {0x9c, KEY_KPENTER},
	{0x9d, KEY_RIGHTCTRL}, {0xb5, KEY_KPSLASH},
	{0xb7, KEY_PRINT},     {0xb8, KEY_RIGHTALT},
	{0xc6, KEY_PAUSE},     {0xc7, KEY_HOME},
	{0xc8, KEY_UP},        {0xc9, KEY_PAGEUP},
	{0xcb, KEY_LEFT},      {0xcd, KEY_RIGHT},
	{0xcf, KEY_END},       {0xd0, KEY_DOWN},
	{0xd1, KEY_PAGEDOWN},  {0xd2, KEY_INSERT},
	{0xd3, KEY_DELETE},    {0xdb, KEY_LEFTMETA},
	{0xdc, KEY_RIGHTMETA}, {0xdd, KEY_COMPOSE},
};

} // namespace

bool key_exposed(unsigned code)
{
	switch (code) {
	case KEY_SYSRQ:
	case KEY_POWER:
	case KEY_SLEEP:
	case KEY_SUSPEND:
	case KEY_WAKEUP:
		return false;
	default:
		return true;
	}
}

std::optional<unsigned> xt_to_evdev(uint32_t keycode)
{
	// Escape (0x01) to keypad '.' (0x53): evdev took set 1's numbers.
	if (keycode >= 0x01 && keycode <= 0x53)
		return keycode;
	for (const auto &k : kXtKeys)
		if (k.xt == keycode)
			return k.evdev;
	return std::nullopt;
}

std::unique_ptr<Keymap> Keymap::create(const std::string &layout, const std::string &variant,
				       std::string &error)
{
	std::unique_ptr<xkb_context, XkbDeleter> ctx(xkb_context_new(XKB_CONTEXT_NO_FLAGS));
	if (!ctx) {
		error = "xkb_context_new failed";
		return nullptr;
	}
	xkb_rule_names names{};
	names.rules = "evdev";
	names.model = "pc105";
	names.layout = layout.c_str();
	names.variant = variant.empty() ? nullptr : variant.c_str();
	std::unique_ptr<xkb_keymap, XkbDeleter> km(
		xkb_keymap_new_from_names(ctx.get(), &names, XKB_KEYMAP_COMPILE_NO_FLAGS));
	if (!km) {
		error = "xkb_keymap_new_from_names: cannot compile layout '" + layout +
			(variant.empty() ? "" : "(" + variant + ")") + "' (is xkb-data installed?)";
		return nullptr;
	}
	auto map = std::unique_ptr<Keymap>(new Keymap);
	const xkb_keycode_t min = xkb_keymap_min_keycode(km.get());
	const xkb_keycode_t max = xkb_keymap_max_keycode(km.get());
	auto mod_bit = [&](const char *name) -> xkb_mod_mask_t {
		xkb_mod_index_t i = xkb_keymap_mod_get_index(km.get(), name);
		return i == XKB_MOD_INVALID ? 0 : xkb_mod_mask_t(1) << i;
	};
	const xkb_mod_mask_t shift = mod_bit(XKB_MOD_NAME_SHIFT), lock = mod_bit(XKB_MOD_NAME_CAPS),
			     level3 = mod_bit("Mod5");
	// Keys below 0x100 first, level by level, so that a keysym's classic
	// key wins at its lowest shift level ('$' is Shift+4, not the
	// KEY_DOLLAR that evdev rules also give it); only then the extended
	// codes.  X11 clients never see keycodes above 255.
	for (const bool classic : {true, false}) {
		for (xkb_level_index_t level = 0; level < 4; level++) {
			for (xkb_keycode_t kc = min; kc <= max; kc++) {
				if (kc < kEvdevOffset ||
				    (kc - kEvdevOffset < Keymap::kClassicEnd) != classic)
					continue;
				if (level >= xkb_keymap_num_levels_for_key(km.get(), kc, 0))
					continue;
				if (!key_exposed(kc - kEvdevOffset))
					continue;
				const xkb_keysym_t *syms;
				int n = xkb_keymap_key_get_syms_by_level(km.get(), kc, 0, level,
									 &syms);
				KeyLevel k{kc - kEvdevOffset};
				// The simplest modifier set reaching the level, Lock
				// (Caps Lock's state) not counted.
				xkb_mod_mask_t masks[8];
				size_t nm = xkb_keymap_key_get_mods_for_level(km.get(), kc, 0,
									      level, masks, 8);
				bool found = false;
				xkb_mod_mask_t best = 0;
				for (size_t i = 0; i < nm; i++)
					if (!(masks[i] & lock) &&
					    (!found || __builtin_popcount(masks[i]) <
							       __builtin_popcount(best))) {
						best = masks[i];
						found = true;
					}
				if (level > 0 && !found)
					continue; // reachable only with Caps Lock
				k.shift = best & shift;
				k.altgr = best & level3;
				for (int i = 0; i < n; i++)
					map->map_.emplace(syms[i], k);
			}
		}
	}
	if (map->map_.empty()) {
		error = "layout '" + layout + "' maps no keysym";
		return nullptr;
	}
	return map;
}

std::optional<unsigned> Keymap::evdev_code(uint32_t keysym) const
{
	auto it = map_.find(keysym);
	if (it == map_.end())
		return std::nullopt;
	return it->second.code;
}

std::optional<KeyLevel> Keymap::key_level(uint32_t keysym) const
{
	auto it = map_.find(keysym);
	if (it == map_.end())
		return std::nullopt;
	return it->second;
}

} // namespace v4l2vnc
