// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - damage regions: a few rectangles instead of one bounding box
 *
 * A region is what changed in a frame (or since a frame), as up to
 * KMS2V4L_REGION_RECTS rectangles. Two separate changes (a cursor that
 * jumped across the screen, a clock in one corner and a notification in
 * the other) stay two rectangles rather than the box around both, so the
 * damage node reports, and clients re-read, little more than what
 * changed. Rectangles whose bounding box is no larger than their two
 * areas together (one inside the other, neighbours forming a rectangle,
 * large overlaps) are merged as they come; when a region is full, the
 * two whose bounding box adds the fewest pixels are merged. A region
 * thus always covers every pixel added to it, and may cover a few more.
 *
 * Everything here runs under &kms2v4l_source.qlock: no allocation, a
 * bounded loop over at most KMS2V4L_REGION_RECTS + 1 rectangles.
 */

#include "kms2v4l-priv.h"

static u64 kms2v4l_rect_area(const struct drm_rect *r)
{
	return (u64)drm_rect_width(r) * drm_rect_height(r);
}

/* The bounding box of @a and @b, both not empty. */
static struct drm_rect kms2v4l_rect_box(const struct drm_rect *a,
					const struct drm_rect *b)
{
	struct drm_rect box = {
		.x1 = min(a->x1, b->x1),
		.y1 = min(a->y1, b->y1),
		.x2 = max(a->x2, b->x2),
		.y2 = max(a->y2, b->y2),
	};

	return box;
}

/* Pixels the bounding box of @a and @b covers beyond theirs (may be < 0). */
static s64 kms2v4l_rect_waste(const struct drm_rect *a, const struct drm_rect *b)
{
	struct drm_rect box = kms2v4l_rect_box(a, b);

	return (s64)kms2v4l_rect_area(&box) - kms2v4l_rect_area(a) -
	       kms2v4l_rect_area(b);
}

static void kms2v4l_region_remove(struct kms2v4l_region *rg, unsigned int i)
{
	rg->r[i] = rg->r[--rg->n];
}

/*
 * Merge into @cur every rectangle of @rg whose bounding box with it
 * wastes nothing, until none is left.
 */
static void kms2v4l_region_absorb(struct kms2v4l_region *rg,
				  struct drm_rect *cur)
{
	unsigned int i = 0;

	while (i < rg->n) {
		if (kms2v4l_rect_waste(&rg->r[i], cur) <= 0) {
			*cur = kms2v4l_rect_box(&rg->r[i], cur);
			kms2v4l_region_remove(rg, i);
			i = 0;	/* the grown @cur may now take earlier ones */
		} else {
			i++;
		}
	}
}

/**
 * kms2v4l_region_add() - add a rectangle to a region
 * @rg: the region
 * @r: the rectangle; an empty one adds nothing
 */
void kms2v4l_region_add(struct kms2v4l_region *rg, const struct drm_rect *r)
{
	struct drm_rect cur = *r;
	unsigned int i, j, bi, bj;
	s64 best, w;

	if (!drm_rect_visible(r))
		return;
	for (;;) {
		kms2v4l_region_absorb(rg, &cur);
		if (rg->n < KMS2V4L_REGION_RECTS) {
			rg->r[rg->n++] = cur;
			return;
		}
		/* Full: merge the cheapest pair; j == n stands for @cur. */
		best = S64_MAX;
		bi = 0;
		bj = rg->n;
		for (i = 0; i < rg->n; i++) {
			for (j = i + 1; j <= rg->n; j++) {
				w = kms2v4l_rect_waste(&rg->r[i],
						       j < rg->n ? &rg->r[j] : &cur);
				if (w < best) {
					best = w;
					bi = i;
					bj = j;
				}
			}
		}
		if (bj == rg->n) {
			cur = kms2v4l_rect_box(&rg->r[bi], &cur);
			kms2v4l_region_remove(rg, bi);
		} else {
			/*
			 * @cur goes in as it is (it wastes nothing with none
			 * of the others); the merged pair is added next.
			 */
			struct drm_rect merged = kms2v4l_rect_box(&rg->r[bi],
								  &rg->r[bj]);

			kms2v4l_region_remove(rg, bj);
			kms2v4l_region_remove(rg, bi);
			rg->r[rg->n++] = cur;
			cur = merged;
		}
	}
}

/**
 * kms2v4l_region_or() - add a region to another
 * @acc: the region that grows
 * @rg: the region added
 */
void kms2v4l_region_or(struct kms2v4l_region *acc,
		       const struct kms2v4l_region *rg)
{
	unsigned int i;

	for (i = 0; i < rg->n; i++)
		kms2v4l_region_add(acc, &rg->r[i]);
}

/**
 * kms2v4l_region_set() - a region of one rectangle
 * @rg: the region
 * @r: the rectangle; an empty one leaves @rg empty
 */
void kms2v4l_region_set(struct kms2v4l_region *rg, const struct drm_rect *r)
{
	rg->n = 0;
	kms2v4l_region_add(rg, r);
}

/**
 * kms2v4l_region_clip() - keep only what lies within a rectangle
 * @rg: the region
 * @clip: the rectangle (the frame)
 */
void kms2v4l_region_clip(struct kms2v4l_region *rg, const struct drm_rect *clip)
{
	unsigned int i = 0;

	while (i < rg->n) {
		if (drm_rect_intersect(&rg->r[i], clip))
			i++;
		else
			kms2v4l_region_remove(rg, i);
	}
}

/**
 * kms2v4l_region_bounds() - grow a rectangle by a region's bounding box
 * @rg: the region
 * @box: the rectangle that grows (an empty one is replaced)
 */
void kms2v4l_region_bounds(const struct kms2v4l_region *rg, struct drm_rect *box)
{
	unsigned int i;

	for (i = 0; i < rg->n; i++)
		*box = drm_rect_visible(box) ? kms2v4l_rect_box(box, &rg->r[i]) : rg->r[i];
}
