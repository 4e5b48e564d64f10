// SPDX-License-Identifier: GPL-2.0-or-later
#include "keymap.h"

#include <xkbcommon/xkbcommon.h>

namespace v4l2vnc {

namespace {

struct XkbDeleter {
	void operator()(xkb_context *c) const { xkb_context_unref(c); }
	void operator()(xkb_keymap *k) const { xkb_keymap_unref(k); }
};

// xkbcommon keycodes are evdev codes + 8.
constexpr xkb_keycode_t kEvdevOffset = 8;

} // namespace

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
				const xkb_keysym_t *syms;
				int n = xkb_keymap_key_get_syms_by_level(km.get(), kc, 0, level,
									 &syms);
				for (int i = 0; i < n; i++)
					map->map_.emplace(syms[i], kc - kEvdevOffset);
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
	return it->second;
}

} // namespace v4l2vnc
