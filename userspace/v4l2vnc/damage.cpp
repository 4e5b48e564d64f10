// SPDX-License-Identifier: GPL-2.0-or-later
#include "damage.h"

#include <xxhash.h>

#include <algorithm>

namespace v4l2vnc {

std::vector<Rect> merge_tiles(std::span<const uint8_t> dirty, unsigned tiles_x, unsigned tiles_y,
			      unsigned tile, unsigned width, unsigned height)
{
	struct Open {
		unsigned a, b, y0; // tile columns [a, b), first tile row
		bool extended;
	};
	std::vector<Rect> out;
	std::vector<Open> open, next;

	auto emit = [&](const Open &o, unsigned y_end) {
		Rect r;
		r.x = o.a * tile;
		r.y = o.y0 * tile;
		r.w = std::min(o.b * tile, width) - r.x;
		r.h = std::min(y_end * tile, height) - r.y;
		out.push_back(r);
	};

	for (unsigned ty = 0; ty < tiles_y; ty++) {
		next.clear();
		for (auto &o : open)
			o.extended = false;
		for (unsigned tx = 0; tx < tiles_x;) {
			if (!dirty[ty * tiles_x + tx]) {
				tx++;
				continue;
			}
			unsigned a = tx;
			while (tx < tiles_x && dirty[ty * tiles_x + tx])
				tx++;
			auto it = std::find_if(open.begin(), open.end(), [&](const Open &o) {
				return o.a == a && o.b == tx && !o.extended;
			});
			if (it != open.end()) {
				it->extended = true;
				next.push_back(*it);
			} else {
				next.push_back({a, tx, ty, true});
			}
		}
		for (const auto &o : open)
			if (!o.extended)
				emit(o, ty);
		open.swap(next);
	}
	for (const auto &o : open)
		emit(o, tiles_y);
	return out;
}

bool is_whole_frame(std::span<const Rect> areas, unsigned width, unsigned height)
{
	return areas.size() == 1 && areas[0] == Rect{0, 0, width, height};
}

void TileDamage::reset(unsigned width, unsigned height, unsigned bytes_per_pixel)
{
	width_ = width;
	height_ = height;
	bpp_ = bytes_per_pixel;
	tiles_x_ = (width + kTile - 1) / kTile;
	tiles_y_ = (height + kTile - 1) / kTile;
	hashed_ = 0;
	hash_.assign(size_t(tiles_x_) * tiles_y_, 0);
	dirty_.assign(hash_.size(), 0);
	touched_.assign(hash_.size(), 0);
	valid_ = false;
}

Rect TileDamage::tile_rect(unsigned tx, unsigned ty) const
{
	Rect r{tx * kTile, ty * kTile, 0, 0};
	r.w = std::min(r.x + kTile, width_) - r.x;
	r.h = std::min(r.y + kTile, height_) - r.y;
	return r;
}

size_t TileDamage::update(const uint8_t *data, size_t stride, std::span<const Rect> areas)
{
	size_t changed = 0;

	hashed_ = 0;
	std::fill(dirty_.begin(), dirty_.end(), 0);
	std::fill(touched_.begin(), touched_.end(), 0);
	for (const Rect &a : areas) {
		if (a.w == 0 || a.h == 0 || a.x >= width_ || a.y >= height_)
			continue;
		unsigned x1 = std::min(a.x + a.w, width_), y1 = std::min(a.y + a.h, height_);
		for (unsigned ty = a.y / kTile; ty <= (y1 - 1) / kTile; ty++)
			for (unsigned tx = a.x / kTile; tx <= (x1 - 1) / kTile; tx++)
				touched_[ty * tiles_x_ + tx] = 1;
	}
	for (unsigned ty = 0; ty < tiles_y_; ty++) {
		for (unsigned tx = 0; tx < tiles_x_; tx++) {
			const size_t i = size_t(ty) * tiles_x_ + tx;
			if (!touched_[i])
				continue;
			const Rect r = tile_rect(tx, ty);
			const uint8_t *p = data + r.y * stride + size_t(r.x) * bpp_;
			uint64_t h = 0;
			for (unsigned row = 0; row < r.h; row++)
				h = XXH3_64bits_withSeed(p + row * stride, size_t(r.w) * bpp_, h);
			hashed_++;
			if (!valid_ || h != hash_[i]) {
				hash_[i] = h;
				dirty_[i] = 1;
				changed++;
			}
		}
	}
	if (!valid_) {
		// Tiles outside @areas were never seen: send them once too.
		for (size_t i = 0; i < dirty_.size(); i++)
			if (!touched_[i]) {
				dirty_[i] = 1;
				changed++;
			}
		// Their hashes stay unknown; they are rehashed when damaged.
		valid_ = true;
	}
	return changed;
}

std::vector<Rect> TileDamage::rects() const
{
	return merge_tiles(dirty_, tiles_x_, tiles_y_, kTile, width_, height_);
}

} // namespace v4l2vnc
