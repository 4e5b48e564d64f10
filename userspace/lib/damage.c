// SPDX-License-Identifier: MIT
#include "damage.h"

enum kms2v4l_damage_order kms2v4l_damage_order(uint32_t record, uint32_t frame)
{
	int32_t d = (int32_t)(record - frame);

	if (d < 0)
		return KMS2V4L_DAMAGE_OLDER;
	return d ? KMS2V4L_DAMAGE_NEWER : KMS2V4L_DAMAGE_MATCH;
}

int kms2v4l_damage_rects(const struct kms2v4l_damage_meta *rec, size_t bytes,
			 uint32_t sequence, uint32_t width, uint32_t height,
			 struct kms2v4l_rect *out)
{
	int n = 0;

	if (bytes < sizeof(*rec) || rec->sequence != sequence ||
	    rec->width != width || rec->height != height ||
	    (rec->flags & KMS2V4L_DAMAGE_FULL) ||
	    rec->num_rects > KMS2V4L_DAMAGE_MAX_RECTS)
		return -1;
	for (uint32_t i = 0; i < rec->num_rects; i++) {
		const struct kms2v4l_damage_rect *r = &rec->rects[i];
		uint32_t w, h;

		/* Clipped to the frame: pixels beyond it do not exist. */
		if (r->x >= width || r->y >= height)
			continue;
		w = r->width < width - r->x ? r->width : width - r->x;
		h = r->height < height - r->y ? r->height : height - r->y;
		if (!w || !h)
			continue;
		out[n].x = r->x;
		out[n].y = r->y;
		out[n].width = w;
		out[n].height = h;
		n++;
	}
	return n;
}
