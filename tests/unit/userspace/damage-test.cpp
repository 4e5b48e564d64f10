// SPDX-License-Identifier: GPL-2.0-or-later
#include "damage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

using namespace v4l2vnc;

namespace {

struct Frame {
	unsigned w, h, bpp;
	std::vector<uint8_t> px;
	Frame(unsigned w_, unsigned h_, unsigned bpp_ = 4)
		: w(w_), h(h_), bpp(bpp_), px(size_t(w_) * h_ * bpp_, 0x40) {}
	size_t stride() const { return size_t(w) * bpp; }
	uint8_t &at(unsigned x, unsigned y) { return px[y * stride() + x * bpp]; }
};

std::vector<Rect> whole(const Frame &f)
{
	return {{0, 0, f.w, f.h}};
}

// Pixels covered by @rects, each at most once (checks no overlap).
size_t area(const std::vector<Rect> &rects, unsigned w, unsigned h)
{
	std::vector<int> cov(size_t(w) * h, 0);
	size_t n = 0;
	for (const auto &r : rects)
		for (unsigned y = r.y; y < r.y + r.h; y++)
			for (unsigned x = r.x; x < r.x + r.w; x++) {
				EXPECT_LT(x, w);
				EXPECT_LT(y, h);
				EXPECT_EQ(cov[y * w + x]++, 0) << "overlap at " << x << "," << y;
				n++;
			}
	return n;
}

} // namespace

TEST(TileDamage, FirstFrameIsAllDirtyThenNothing)
{
	Frame f(100, 70); // 4 x 3 tiles, partial ones at the edges
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	EXPECT_EQ(t.tiles_x(), 4u);
	EXPECT_EQ(t.tiles_y(), 3u);
	auto w = whole(f);
	EXPECT_EQ(t.update(f.px.data(), f.stride(), w), 12u);
	auto rects = t.rects();
	ASSERT_EQ(rects.size(), 1u);
	EXPECT_EQ(rects[0], (Rect{0, 0, 100, 70}));
	EXPECT_EQ(t.update(f.px.data(), f.stride(), w), 0u);
	EXPECT_TRUE(t.rects().empty());
}

TEST(TileDamage, OnePixelChangesOneTile)
{
	Frame f(128, 128);
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	auto w = whole(f);
	t.update(f.px.data(), f.stride(), w);
	f.at(70, 40) ^= 1; // tile (2, 1)
	EXPECT_EQ(t.update(f.px.data(), f.stride(), w), 1u);
	EXPECT_EQ(t.rects(), (std::vector<Rect>{{64, 32, 32, 32}}));
	// The edge pixel of a partial tile counts as well.
	Frame g(40, 40);
	t.reset(g.w, g.h, g.bpp);
	auto gw = whole(g);
	t.update(g.px.data(), g.stride(), gw);
	g.at(39, 39) = 0;
	EXPECT_EQ(t.update(g.px.data(), g.stride(), gw), 1u);
	EXPECT_EQ(t.rects(), (std::vector<Rect>{{32, 32, 8, 8}}));
}

TEST(TileDamage, OnlyReportedAreasAreHashed)
{
	Frame f(128, 64);
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	auto w = whole(f);
	t.update(f.px.data(), f.stride(), w);
	f.at(0, 0) ^= 1;   // tile (0, 0): not in the damage below
	f.at(100, 10) ^= 1; // tile (3, 0)
	std::vector<Rect> dmg{{96, 0, 10, 10}};
	EXPECT_EQ(t.update(f.px.data(), f.stride(), dmg), 1u);
	EXPECT_EQ(t.rects(), (std::vector<Rect>{{96, 0, 32, 32}}));
	// Reported but unchanged: nothing.
	EXPECT_EQ(t.update(f.px.data(), f.stride(), dmg), 0u);
}

TEST(TileDamage, ResetMakesEverythingDirtyAgain)
{
	Frame f(64, 64, 2);
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	auto w = whole(f);
	t.update(f.px.data(), f.stride(), w);
	t.reset(f.w, f.h, f.bpp);
	EXPECT_EQ(t.update(f.px.data(), f.stride(), w), 4u);
}

TEST(MergeTiles, RowRunsAndColumnsJoin)
{
	// 4x3 tiles:
	//   X X . X
	//   X X . .
	//   . X X X
	std::vector<uint8_t> d{1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1};
	auto r = merge_tiles(d, 4, 3, 32, 128, 96);
	std::sort(r.begin(), r.end(), [](const Rect &a, const Rect &b) {
		return a.y != b.y ? a.y < b.y : a.x < b.x;
	});
	EXPECT_EQ(r, (std::vector<Rect>{{0, 0, 64, 64}, {96, 0, 32, 32}, {32, 64, 96, 32}}));
	EXPECT_EQ(area(r, 128, 96), 8u * 32 * 32);
}

TEST(MergeTiles, ClipsToFrame)
{
	std::vector<uint8_t> d(4 * 3, 1);
	auto r = merge_tiles(d, 4, 3, 32, 100, 70);
	EXPECT_EQ(r, (std::vector<Rect>{{0, 0, 100, 70}}));
}

TEST(MergeTiles, CheckerboardCoversExactlyTheDirtyTiles)
{
	const unsigned tx = 9, ty = 7;
	std::vector<uint8_t> d(tx * ty);
	size_t dirty = 0;
	for (unsigned i = 0; i < d.size(); i++)
		dirty += d[i] = ((i * 7) % 3 == 0);
	auto r = merge_tiles(d, tx, ty, 32, tx * 32, ty * 32);
	EXPECT_EQ(area(r, tx * 32, ty * 32), dirty * 32 * 32);
	for (const auto &rc : r)
		for (unsigned y = rc.y / 32; y < (rc.y + rc.h) / 32; y++)
			for (unsigned x = rc.x / 32; x < (rc.x + rc.w) / 32; x++)
				EXPECT_TRUE(d[y * tx + x]);
}

TEST(MergeTiles, EmptyGivesNothing)
{
	std::vector<uint8_t> d(6, 0);
	EXPECT_TRUE(merge_tiles(d, 3, 2, 32, 96, 64).empty());
}

// v4l2vnc hashes only the tiles of the driver's damage (kms2v4l's damage
// node): a 64x64 square's change costs its tiles, not the frame's.
TEST(TileDamage, WholeFrameDamageHashesEveryTile)
{
	Frame f(320, 240); // 10 x 8 tiles
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	auto w = whole(f);
	t.update(f.px.data(), f.stride(), w);
	EXPECT_EQ(t.hashed(), 80u);
	f.at(5, 5) ^= 1;
	EXPECT_EQ(t.update(f.px.data(), f.stride(), w), 1u);
	EXPECT_EQ(t.hashed(), 80u);
}

TEST(TileDamage, DamageHashesOnlyTheTilesItTouches)
{
	Frame f(320, 240);
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	auto w = whole(f);
	t.update(f.px.data(), f.stride(), w);
	// A 64x64 square at (100, 50) spans tile columns 3-5, rows 1-3.
	for (unsigned y = 50; y < 114; y++)
		for (unsigned x = 100; x < 164; x++)
			f.at(x, y) = 0xee;
	std::vector<Rect> dmg{{100, 50, 64, 64}};
	EXPECT_EQ(t.update(f.px.data(), f.stride(), dmg), 9u);
	EXPECT_EQ(t.hashed(), 9u);
	EXPECT_EQ(t.rects(), (std::vector<Rect>{{96, 32, 96, 96}}));
	// Only these tiles are sent: every dirty tile lies in the damage's.
	auto d = t.dirty();
	for (unsigned ty = 0; ty < t.tiles_y(); ty++)
		for (unsigned tx = 0; tx < t.tiles_x(); tx++)
			EXPECT_EQ(d[ty * t.tiles_x() + tx] != 0,
				  tx >= 3 && tx <= 5 && ty >= 1 && ty <= 3)
				<< tx << "," << ty;
	// Damage of one pixel on a tile corner: the four tiles around it.
	f.at(127, 95) ^= 1;
	std::vector<Rect> corner{{127, 95, 2, 2}};
	EXPECT_EQ(t.update(f.px.data(), f.stride(), corner), 1u);
	EXPECT_EQ(t.hashed(), 4u);
}

TEST(TileDamage, ChangeOutsideTheDamageIsNeitherHashedNorSent)
{
	Frame f(128, 64);
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	auto w = whole(f);
	t.update(f.px.data(), f.stride(), w);
	f.at(0, 0) ^= 1; // tile (0, 0), outside the damage
	std::vector<Rect> dmg{{64, 32, 10, 10}};
	EXPECT_EQ(t.update(f.px.data(), f.stride(), dmg), 0u);
	EXPECT_EQ(t.hashed(), 1u);
	EXPECT_TRUE(t.rects().empty());
	// The tile's old hash is kept: whole damage later finds the change.
	EXPECT_EQ(t.update(f.px.data(), f.stride(), w), 1u);
	EXPECT_EQ(t.rects(), (std::vector<Rect>{{0, 0, 32, 32}}));
}

TEST(TileDamage, NoDamageHashesNothing)
{
	Frame f(128, 64);
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	auto w = whole(f);
	t.update(f.px.data(), f.stride(), w);
	f.at(70, 40) ^= 1;
	EXPECT_EQ(t.update(f.px.data(), f.stride(), std::span<const Rect>{}), 0u);
	EXPECT_EQ(t.hashed(), 0u);
}

TEST(TileDamage, OverlappingAndClippedDamageHashesEachTileOnce)
{
	Frame f(100, 70); // 4 x 3 tiles
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	auto w = whole(f);
	t.update(f.px.data(), f.stride(), w);
	// Two overlapping rectangles in tile (0, 0)-(1, 0), one running past
	// the frame's corner (tile (3, 2) only), one wholly outside.
	std::vector<Rect> dmg{{0, 0, 40, 10}, {20, 0, 20, 20}, {96, 64, 500, 500}, {200, 0, 5, 5}};
	f.at(99, 69) ^= 1;
	EXPECT_EQ(t.update(f.px.data(), f.stride(), dmg), 1u);
	EXPECT_EQ(t.hashed(), 3u);
	EXPECT_EQ(t.rects(), (std::vector<Rect>{{96, 64, 4, 6}}));
}

TEST(TileDamage, FirstFrameWithDamageStillSendsEveryTile)
{
	// After a reset the viewer has nothing: every tile goes, though only
	// the damaged ones are hashed; a tile never hashed counts as changed
	// the first time damage reaches it.
	Frame f(128, 64); // 4 x 2 tiles
	TileDamage t;
	t.reset(f.w, f.h, f.bpp);
	std::vector<Rect> dmg{{0, 0, 10, 10}};
	EXPECT_EQ(t.update(f.px.data(), f.stride(), dmg), 8u);
	EXPECT_EQ(t.hashed(), 1u);
	EXPECT_EQ(t.rects(), (std::vector<Rect>{{0, 0, 128, 64}}));
	EXPECT_EQ(t.update(f.px.data(), f.stride(), dmg), 0u);
	std::vector<Rect> other{{40, 40, 4, 4}};
	EXPECT_EQ(t.update(f.px.data(), f.stride(), other), 1u);
	EXPECT_EQ(t.update(f.px.data(), f.stride(), other), 0u);
}

TEST(TileDamage, WholeFrameIsOneRectangleOfTheFrame)
{
	EXPECT_TRUE(is_whole_frame(std::vector<Rect>{{0, 0, 640, 480}}, 640, 480));
	EXPECT_FALSE(is_whole_frame(std::vector<Rect>{{0, 0, 640, 479}}, 640, 480));
	EXPECT_FALSE(is_whole_frame(std::vector<Rect>{{0, 0, 640, 480}, {0, 0, 1, 1}}, 640, 480));
	EXPECT_FALSE(is_whole_frame(std::vector<Rect>{}, 640, 480));
}
