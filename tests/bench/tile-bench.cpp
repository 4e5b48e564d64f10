// SPDX-License-Identifier: GPL-2.0-or-later
// Host benchmark (not a test): 1920x1080 XRGB frames through v4l2vnc's
// tile compare + framebuffer update, for 0 %, 1 % and 100 % changed tiles.
// Prints frames per second (best of 5 runs, as the machine may be busy)
// and the ratios to the 100 % case.
#include "damage.h"
#include "format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

using namespace v4l2vnc;

namespace {

constexpr unsigned W = 1920, H = 1080, kStride = W * 4;

double run_once(double fraction, int frames, bool print)
{
	std::vector<uint8_t> frame(size_t(kStride) * H);
	std::vector<uint32_t> fb(size_t(W) * H);
	std::mt19937 rng(1);
	for (auto &b : frame)
		b = uint8_t(rng());
	TileDamage tiles;
	tiles.reset(W, H, 4);
	const Rect whole{0, 0, W, H};
	tiles.update(frame.data(), kStride, {&whole, 1}); // prime the hashes
	const unsigned ntiles = tiles.tiles_x() * tiles.tiles_y();
	const unsigned nchange = unsigned(fraction * ntiles + 0.5);
	size_t rects = 0;

	auto t0 = std::chrono::steady_clock::now();
	for (int i = 0; i < frames; i++) {
		// Change one byte in nchange distinct tiles (spread over the frame).
		for (unsigned k = 0; k < nchange; k++) {
			unsigned t = unsigned((uint64_t(k) * ntiles) / (nchange ? nchange : 1));
			Rect r = tiles.tile_rect(t % tiles.tiles_x(), t / tiles.tiles_x());
			frame[size_t(r.y) * kStride + r.x * 4] ^= uint8_t(i + 1);
		}
		tiles.update(frame.data(), kStride, {&whole, 1});
		auto dirty = tiles.dirty();
		for (unsigned ty = 0; ty < tiles.tiles_y(); ty++)
			for (unsigned tx = 0; tx < tiles.tiles_x(); tx++)
				if (dirty[ty * tiles.tiles_x() + tx]) {
					Rect r = tiles.tile_rect(tx, ty);
					convert_rect(PixelLayout::BGRX32, frame.data(), kStride,
						     fb.data(), W, r.x, r.y, r.w, r.h);
				}
		rects += tiles.rects().size();
	}
	double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	if (print)
		std::printf("%5.1f %% changed (%4u of %u tiles), %5.1f rects/frame: ",
			    fraction * 100, nchange, ntiles, double(rects) / frames);
	return frames / s;
}

double run(double fraction, int frames)
{
	double best = 0;
	for (int i = 0; i < 5; i++)
		best = std::max(best, run_once(fraction, frames, false));
	run_once(fraction, 1, true); // the line's head, with rects per frame
	std::printf("%8.1f fps (best of 5)\n", best);
	return best;
}

} // namespace

int main(int argc, char **argv)
{
	int frames = argc > 1 ? std::atoi(argv[1]) : 200;
	std::printf("1920x1080 XRGB8888, %d frames each\n", frames);
	double f0 = run(0.0, frames), f1 = run(0.01, frames), f100 = run(1.0, frames);
	std::printf("ratio 0 %%/100 %%: %.2f, 1 %%/100 %%: %.2f\n", f0 / f100, f1 / f100);
	return 0;
}
