// SPDX-License-Identifier: GPL-2.0-or-later
// Tile damage: which 32x32 tiles of a frame changed since the previous
// frame (XXH3 hash per tile), and those tiles merged into few rectangles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace v4l2vnc {

struct Rect {
	unsigned x = 0, y = 0, w = 0, h = 0;
	bool operator==(const Rect &) const = default;
};

// Merges the set tiles of a tiles_x x tiles_y bitmap (row-major, nonzero =
// dirty) into rectangles: horizontal runs per tile row, then runs with the
// same columns in consecutive rows joined.  Rectangles are in pixels and
// clipped to width x height; they do not overlap.
std::vector<Rect> merge_tiles(std::span<const uint8_t> dirty, unsigned tiles_x, unsigned tiles_y,
			      unsigned tile, unsigned width, unsigned height);

// Whether @areas is the whole width x height frame as one rectangle (what
// libkms2v4l gives when the driver says nothing better).
bool is_whole_frame(std::span<const Rect> areas, unsigned width, unsigned height);

class TileDamage {
public:
	static constexpr unsigned kTile = 32;

	// New geometry; every tile counts as changed at the next update().
	void reset(unsigned width, unsigned height, unsigned bytes_per_pixel);

	// Hashes the tiles that intersect @areas (the driver's damage: what
	// may differ from the frame before; pass the whole frame when unknown)
	// and marks those whose hash changed; the other tiles are neither read
	// nor marked (empty @areas: nothing changed).  The first update()
	// after reset() marks every tile, hashing only those of @areas.
	// Returns the number of changed tiles.
	size_t update(const uint8_t *data, size_t stride, std::span<const Rect> areas);
	// Tiles the last update() hashed.
	size_t hashed() const { return hashed_; }

	// Changed tiles of the last update(), merged.
	std::vector<Rect> rects() const;
	std::span<const uint8_t> dirty() const { return dirty_; }
	unsigned tiles_x() const { return tiles_x_; }
	unsigned tiles_y() const { return tiles_y_; }
	Rect tile_rect(unsigned tx, unsigned ty) const;

private:
	unsigned width_ = 0, height_ = 0, bpp_ = 0;
	unsigned tiles_x_ = 0, tiles_y_ = 0;
	bool valid_ = false;
	size_t hashed_ = 0;
	std::vector<uint64_t> hash_;
	std::vector<uint8_t> dirty_;
	std::vector<uint8_t> touched_;
};

} // namespace v4l2vnc
