// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - mirror a scanout driver's CRTC: the core reads the frames
 * back from the primary plane's framebuffer
 */

/**
 * DOC: mirroring a CRTC
 *
 * A driver that scans a framebuffer out and composes nothing (bochs,
 * virtio-gpu and most display hardware) joins with kms2v4l_mirror_init()
 * instead of kms2v4l_crtc_init(): the core then produces the frames
 * itself, from the framebuffer of the CRTC's primary plane. The driver
 * makes the same update call as any other, kms2v4l_crtc_update(), from
 * wherever its commit has put the new state on the screen: its CRTC's
 * atomic_enable, atomic_disable and atomic_flush (or a simple display
 * pipe's enable, disable and update). It writes no pixels and needs no
 * callbacks.
 *
 * Each commit that reaches the update call is a frame: a page flip, a
 * plane update, a modeset, and DIRTYFB (which the atomic helper
 * drm_atomic_helper_dirtyfb() turns into a commit with FB_DAMAGE_CLIPS;
 * a driver whose framebuffers have no dirty callback gets no frames for
 * front-buffer drawing, fbcon included). While a client streams and has
 * a buffer queued, a worker maps the framebuffer (system or I/O memory;
 * an imported dma-buf with CPU access bracketed), and copies into the
 * buffer what the buffer lacks: with V4L2_CID_KMS2V4L_PARTIAL_FRAMES the
 * damage since the frame it holds (see the overview), else the whole
 * frame, converting from XRGB8888, ARGB8888, RGB565 or RGB888 into the
 * format the client chose (a framebuffer in the client's format is
 * copied as it is). Pixels of the CRTC the plane does not cover are black.
 * The CRTC's cursor plane (&drm_crtc.cursor), when it shows an ARGB8888
 * or XRGB8888 framebuffer unscaled and unrotated, is blended over the
 * lines it covers, as vkms blends it (premultiplied alpha, DRM's default
 * blend mode), whatever the client's format; other planes are not
 * shown. A commit
 * made while no buffer is queued waits for the next buffer, and nothing
 * is mapped or copied while nobody streams.
 *
 * When the driver is unbound (drm_dev_unplug(), then the commit of
 * drm_atomic_helper_shutdown() switching the CRTC off), the node goes
 * at once: a stream ends, and the mirror holds no framebuffer past the
 * driver's remove.
 *
 * A frame never mixes two commits. A commit that takes the framebuffer
 * being copied off the screen waits in the update call until the copy is
 * done (the copy of the frame's clip, only while a client streams with a
 * buffer queued): its client does not draw into that framebuffer before
 * the commit completes, so the frame is whole and is delivered. A frame
 * is not delivered if a commit came before its copy began, or during
 * it with the same framebuffer (its damage may have been drawn into the
 * framebuffer meanwhile): its buffer goes back to the queue and takes
 * the next commit's frame. A client drawing into a framebuffer it has
 * flipped away from, once the flip is done, is safe either way. Drivers
 * call the update call from process context.
 *
 * Sequence numbers count the commits on the CRTC, from the stream's
 * first frame; V4L2_CID_KMS2V4L_SEQUENCE_BASE holds the count of that
 * first frame, so a gap means commits whose frames were not delivered
 * (no buffer queued in time). Timestamps are the CLOCK_MONOTONIC time of
 * the commit's update call. Frames come when the display changes (a
 * static screen gives a stream's first frame and then none); "Every
 * Vblank" pacing delivers a frame for every commit, "On Change" only for
 * commits that changed a pixel.
 *
 * What the copies cost shows in debugfs, in a folder named as the V4L2
 * device (kms2v4l-DRIVER-cardN-crtcM): mirror_read_bytes (framebuffer
 * bytes read), mirror_copies (frames copied) and mirror_copy_ns (the
 * time those copies took, conversions and cursor included; not the
 * mapping, nor the frame's delivery).
 */

#include <drm/drm_atomic.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_framebuffer.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_plane.h>
#include <drm/drm_print.h>
#include <linux/debugfs.h>
#include <linux/dma-direction.h>
#include <linux/io.h>
#include <linux/iosys-map.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <asm/unaligned.h>

#include "kms2v4l-priv.h"

/*
 * What a mirror offers, preferred first: RGB as framebuffers hold it,
 * YUV for encoders and browsers. NV12 goes last: Debian 12's
 * v4l2-compliance stops listing formats at the description 6.1 gives it.
 */
static const u32 kms2v4l_mirror_formats[] = {
	DRM_FORMAT_XRGB8888,
	DRM_FORMAT_ARGB8888,
	DRM_FORMAT_RGB565,
	DRM_FORMAT_RGB888,
	DRM_FORMAT_YUYV,
	DRM_FORMAT_YUV420,
	DRM_FORMAT_NV12,
};

/* XRGB8888 black, the filler bits set as a plane's own would be. */
#define KMS2V4L_BLACK	0xff000000u

/* Framebuffers kept mapped: a triple-buffered flip chain and a cursor. */
#define KMS2V4L_MIRROR_MAPS	4

/**
 * struct kms2v4l_mirror_view - what the CRTC shows after a commit
 * @fb: the primary plane's framebuffer (a reference), NULL when the
 *	plane shows nothing on the CRTC
 * @src: the part of @fb the plane shows, in whole pixels
 * @dst: where it shows it, CRTC coordinates
 * @cursor: the cursor plane's framebuffer (a reference) when it shows
 *	one on the CRTC the core can blend (see kms2v4l_mirror_cursor()),
 *	NULL otherwise
 * @cursor_src: the part of @cursor it shows, in whole pixels
 * @cursor_dst: where it shows it, CRTC coordinates (the same size)
 * @shown: the commit's CRTC state (as a key), on/off and mode size
 * @commit: commits on the CRTC up to this one
 * @time: when the commit's update call came
 */
struct kms2v4l_mirror_view {
	struct drm_framebuffer *fb;
	struct drm_rect src;
	struct drm_rect dst;
	struct drm_framebuffer *cursor;
	struct drm_rect cursor_src;
	struct drm_rect cursor_dst;
	struct kms2v4l_shown shown;
	u64 commit;
	ktime_t time;
};

/**
 * struct kms2v4l_mirror_map - a framebuffer the worker has mapped
 * @fb: the framebuffer (a reference), NULL if none
 * @used: when it was last asked for (a count of kms2v4l_mirror_map() calls)
 * @map: its mapping
 * @data: its mapping at the first pixel of each plane
 */
struct kms2v4l_mirror_map {
	struct drm_framebuffer *fb;
	u64 used;
	struct iosys_map map[DRM_FORMAT_MAX_PLANES];
	struct iosys_map data[DRM_FORMAT_MAX_PLANES];
};

/**
 * struct kms2v4l_mirror - the core's readback of one CRTC
 * @src: the capture source
 * @crtc: the CRTC
 * @work: copies a frame when one is wanted
 * @lock: protects @view; taken with irqsave (the update call may come
 *	from any context)
 * @view: the last commit's view
 * @reading: the framebuffer the worker is copying a frame from, NULL if
 *	none; under @lock
 * @touched: a commit kept @reading on the screen during the copy (its
 *	damage may have been drawn into it meanwhile); under @lock
 * @read_done: woken when @reading goes back to NULL
 * @maps: the framebuffers mapped last, kept mapped while the stream lasts
 *	(a page flip chain maps each of its framebuffers once, not at every
 *	flip) unless a newer one needs the place or nobody else holds them;
 *	worker and @stop only
 * @map_clock: kms2v4l_mirror_map() calls, for @maps' @used
 * @mapped: the primary plane's framebuffer's entry in @maps, for the frame
 *	being copied
 * @cursor_mapped: the cursor's, the same way
 * @done: the commit whose frame was delivered last in this stream;
 *	worker and @start only
 * @line: one line of XRGB8888 pixels, for the conversions, followed by
 *	as many for the cursor's pixels on that line
 * @line_size: bytes at @line
 * @read_bytes: framebuffer bytes read for frames, since the node was made
 * @copies: frames copied (delivered or not), since the node was made
 * @copy_ns: nanoseconds those copies took
 * @debugfs: the node's debugfs folder, with those three counters
 */
struct kms2v4l_mirror {
	struct kms2v4l_source *src;
	struct drm_crtc *crtc;
	struct work_struct work;
	spinlock_t lock; /* see @lock above */
	struct kms2v4l_mirror_view view;
	struct drm_framebuffer *reading;
	bool touched;
	wait_queue_head_t read_done;
	struct kms2v4l_mirror_map maps[KMS2V4L_MIRROR_MAPS];
	u64 map_clock;
	const struct kms2v4l_mirror_map *mapped;
	const struct kms2v4l_mirror_map *cursor_mapped;
	u64 done;
	u32 *line;
	size_t line_size;
	u64 read_bytes;
	u64 copies;
	u64 copy_ns;
	struct dentry *debugfs;
};

static void kms2v4l_mirror_unmap(struct kms2v4l_mirror *m);

/*
 * The device was unplugged (its driver unbound) and its CRTC switched off
 * by the driver's last commit (drm_atomic_helper_shutdown()): the node
 * goes now, a stream stops and the mirror lets go of every framebuffer,
 * before the driver tears down what freeing one needs. Process context:
 * that commit is a blocking one, made by the driver's remove.
 */
static void kms2v4l_mirror_unplug(struct kms2v4l_mirror *m)
{
	struct drm_framebuffer *fb, *cursor;
	unsigned long flags;

	kms2v4l_detach(m->src);
	cancel_work_sync(&m->work);
	kms2v4l_mirror_unmap(m);
	debugfs_remove_recursive(m->debugfs);
	m->debugfs = NULL;
	spin_lock_irqsave(&m->lock, flags);
	fb = m->view.fb;
	cursor = m->view.cursor;
	m->view.fb = NULL;
	m->view.cursor = NULL;
	spin_unlock_irqrestore(&m->lock, flags);
	if (fb)
		drm_framebuffer_put(fb);
	if (cursor)
		drm_framebuffer_put(cursor);
}

/* Whether the worker is copying a frame from @fb. */
static bool kms2v4l_mirror_reads(struct kms2v4l_mirror *m,
				 const struct drm_framebuffer *fb)
{
	unsigned long flags;
	bool reads;

	spin_lock_irqsave(&m->lock, flags);
	reads = m->reading == fb;
	spin_unlock_irqrestore(&m->lock, flags);
	return reads;
}

/*
 * Whether cursor plane state @ps shows on @crtc a framebuffer the core
 * blends: ARGB8888 or XRGB8888, unscaled, unrotated.
 */
static bool kms2v4l_mirror_cursor(const struct drm_plane_state *ps,
				  const struct drm_crtc *crtc)
{
	u32 format;

	if (ps->crtc != crtc || !ps->visible || !ps->fb ||
	    ps->fb->format->num_planes != 1 || ps->rotation != DRM_MODE_ROTATE_0 ||
	    drm_rect_width(&ps->src) >> 16 != drm_rect_width(&ps->dst) ||
	    drm_rect_height(&ps->src) >> 16 != drm_rect_height(&ps->dst))
		return false;
	format = ps->fb->format->format;
	return format == DRM_FORMAT_ARGB8888 || format == DRM_FORMAT_XRGB8888;
}

/*
 * Under @lock: a view's plane (@slot, @src, @dst) shows @fb (a reference
 * the view takes over) as plane state @ps says. Returns the framebuffer
 * it showed before, whose reference the caller drops.
 */
static struct drm_framebuffer *
kms2v4l_mirror_take(const struct drm_plane_state *ps, struct drm_framebuffer *fb,
		    struct drm_framebuffer **slot, struct drm_rect *src,
		    struct drm_rect *dst)
{
	struct drm_framebuffer *old = *slot;

	*slot = fb;
	drm_rect_init(src, ps->src.x1 >> 16, ps->src.y1 >> 16,
		      drm_rect_width(&ps->src) >> 16, drm_rect_height(&ps->src) >> 16);
	*dst = ps->dst;
	return old;
}

/**
 * kms2v4l_mirror_update() - record what a commit put on the CRTC
 * @m: the mirror
 * @state: the atomic state being committed
 * @cs: its new state of the mirrored CRTC
 *
 * Called by kms2v4l_crtc_update(), which queues the copy through
 * &kms2v4l_funcs.frame_due afterwards. Takes no sleeping lock and
 * allocates nothing; the framebuffer reference it drops is never the
 * last (the commit's old plane state holds one). The exception is the
 * last commit of an unplugged device, see kms2v4l_mirror_unplug().
 *
 * A commit that takes off the screen the framebuffer the worker is
 * copying a frame from waits until that copy is done (at most the copy
 * of the frame's clip, and only while a client streams): until the
 * commit completes, its client does not draw into that framebuffer, so
 * the frame is whole and is delivered although a commit followed it.
 * Process context, then.
 */
void kms2v4l_mirror_update(struct kms2v4l_mirror *m,
			   struct drm_atomic_state *state,
			   const struct drm_crtc_state *cs)
{
	struct drm_crtc *crtc = m->crtc;
	const struct drm_plane_state *ps, *cps = NULL;
	struct drm_framebuffer *fb, *old = NULL;
	struct drm_framebuffer *cfb = NULL, *old_cursor = NULL;
	struct kms2v4l_mirror_view *v = &m->view;
	struct drm_framebuffer *leaving = NULL;
	unsigned long flags;

	ps = drm_atomic_get_new_plane_state(state, crtc->primary);
	fb = ps && ps->crtc == crtc && ps->visible ? ps->fb : NULL;
	if (fb)
		drm_framebuffer_get(fb);
	if (crtc->cursor)
		cps = drm_atomic_get_new_plane_state(state, crtc->cursor);
	if (cps && kms2v4l_mirror_cursor(cps, crtc)) {
		cfb = cps->fb;
		drm_framebuffer_get(cfb);
	}

	spin_lock_irqsave(&m->lock, flags);
	if (ps) {
		old = kms2v4l_mirror_take(ps, fb, &v->fb, &v->src, &v->dst);
		fb = NULL;
	}
	if (cps) {
		old_cursor = kms2v4l_mirror_take(cps, cfb, &v->cursor, &v->cursor_src,
						 &v->cursor_dst);
		cfb = NULL;
	}
	/* One commit may reach several of the driver's hooks. */
	if (v->shown.state != cs || !v->commit)
		v->commit++;
	v->shown.state = cs;
	v->shown.active = cs->active;
	v->shown.width = cs->mode.hdisplay;
	v->shown.height = cs->mode.vdisplay;
	v->time = ktime_get();
	/* (a commit without the plane changes nothing the copy reads) */
	if (ps && m->reading) {
		if (m->reading == v->fb)
			m->touched = true;
		else
			leaving = m->reading;
	}
	spin_unlock_irqrestore(&m->lock, flags);

	if (leaving)
		wait_event(m->read_done, !kms2v4l_mirror_reads(m, leaving));

	if (fb)
		drm_framebuffer_put(fb);
	if (old)
		drm_framebuffer_put(old);
	if (cfb)
		drm_framebuffer_put(cfb);
	if (old_cursor)
		drm_framebuffer_put(old_cursor);
	if (!cs->active && drm_dev_is_unplugged(crtc->dev))
		kms2v4l_mirror_unplug(m);
}

/* The current view, with references on its framebuffers (if any). */
static void kms2v4l_mirror_snapshot(struct kms2v4l_mirror *m,
				    struct kms2v4l_mirror_view *v)
{
	unsigned long flags;

	spin_lock_irqsave(&m->lock, flags);
	*v = m->view;
	if (v->fb)
		drm_framebuffer_get(v->fb);
	if (v->cursor)
		drm_framebuffer_get(v->cursor);
	spin_unlock_irqrestore(&m->lock, flags);
}

/*
 * The worker starts copying the frame of @v: false if a commit came
 * after it already (one that took the framebuffer off the screen did
 * not wait for this copy, and its client may be drawing into it).
 */
static bool kms2v4l_mirror_begin_read(struct kms2v4l_mirror *m,
				      const struct kms2v4l_mirror_view *v)
{
	unsigned long flags;
	bool fresh;

	spin_lock_irqsave(&m->lock, flags);
	fresh = m->view.commit == v->commit;
	if (fresh) {
		m->reading = v->fb;
		m->touched = false;
	}
	spin_unlock_irqrestore(&m->lock, flags);
	return fresh;
}

/*
 * The copy is done (its reads come before this): false if a commit
 * during it kept the framebuffer on the screen, whose damage may have
 * been drawn into the framebuffer meanwhile. Commits that took it off
 * waited for the copy. Wakes them.
 */
static bool kms2v4l_mirror_end_read(struct kms2v4l_mirror *m)
{
	unsigned long flags;
	bool whole;

	spin_lock_irqsave(&m->lock, flags);
	whole = !m->touched;
	m->reading = NULL;
	spin_unlock_irqrestore(&m->lock, flags);
	wake_up_all(&m->read_done);
	return whole;
}

static void kms2v4l_mirror_unmap_fb(struct kms2v4l_mirror_map *mm)
{
	if (!mm->fb)
		return;
	drm_gem_fb_vunmap(mm->fb, mm->map);
	drm_framebuffer_put(mm->fb);
	mm->fb = NULL;
}

static void kms2v4l_mirror_unmap(struct kms2v4l_mirror *m)
{
	int i;

	for (i = 0; i < KMS2V4L_MIRROR_MAPS; i++)
		kms2v4l_mirror_unmap_fb(&m->maps[i]);
}

/*
 * Mapping and unmapping a framebuffer cost more than a small copy (a
 * vmap() and its TLB flush), so the framebuffers of a flip chain stay
 * mapped while the stream lasts, with two exceptions, let go before each
 * frame of @v: a framebuffer only the mirror still holds (removed by its
 * owner, shown by no plane), and one in I/O memory that @v does not show
 * (mapping VRAM pins it there, and the driver may need the room for the
 * next framebuffer it scans out).
 */
static void kms2v4l_mirror_trim(struct kms2v4l_mirror *m,
				const struct kms2v4l_mirror_view *v)
{
	struct kms2v4l_mirror_map *mm;
	int i;

	for (i = 0; i < KMS2V4L_MIRROR_MAPS; i++) {
		mm = &m->maps[i];
		if (!mm->fb || mm->fb == v->fb || mm->fb == v->cursor)
			continue;
		if (drm_framebuffer_read_refcount(mm->fb) == 1 || mm->map[0].is_iomem)
			kms2v4l_mirror_unmap_fb(mm);
	}
}

/*
 * @fb mapped: its entry in @m->maps, mapped now unless it still was (in
 * place of the entry asked for least recently), or an ERR_PTR().
 */
static const struct kms2v4l_mirror_map *
kms2v4l_mirror_map(struct kms2v4l_mirror *m, struct drm_framebuffer *fb)
{
	struct kms2v4l_mirror_map *mm, *found = NULL, *lru = &m->maps[0];
	int i, ret;

	for (i = 0; i < KMS2V4L_MIRROR_MAPS; i++) {
		mm = &m->maps[i];
		if (mm->fb == fb)
			found = mm;
		if (!mm->fb || (lru->fb && mm->used < lru->used))
			lru = mm;
	}
	if (!found) {
		found = lru;
		kms2v4l_mirror_unmap_fb(found);
		ret = drm_gem_fb_vmap(fb, found->map, found->data);
		if (ret)
			return ERR_PTR(ret);
		drm_framebuffer_get(fb);
		found->fb = fb;
	}
	found->used = ++m->map_clock;
	return found;
}

/*
 * @len bytes at @offset of @map into @dst. From I/O memory (bochs's VRAM
 * BAR) in 64-bit reads where the CPU has them: x86's memcpy_fromio()
 * moves 32 bits at a time, and each read of an uncached or
 * write-combined BAR is a bus transaction whatever its width. The reads
 * need no ordering among themselves.
 */
static void kms2v4l_mirror_read(void *dst, const struct iosys_map *map,
				size_t offset, size_t len)
{
#ifdef CONFIG_64BIT
	const u8 __iomem *s = map->vaddr_iomem + offset;
	u8 *d = dst;
	size_t head;

	if (map->is_iomem) {
		head = min_t(size_t, len, -(unsigned long)s & 7);
		memcpy_fromio(d, s, head);
		d += head;
		s += head;
		len -= head;
		for (; len >= 8; len -= 8, s += 8, d += 8)
			put_unaligned(__raw_readq(s), (u64 *)d);
		memcpy_fromio(d, s, len);
		return;
	}
#endif
	iosys_map_memcpy_from(dst, map, offset, len);
}

/*
 * Where CRTC line @y, pixels [@x1, @x2), shows the plane of @v: false if
 * nowhere; else its pixels [*@a, *@b) come from framebuffer line *@sy.
 */
static bool kms2v4l_mirror_span(const struct kms2v4l_mirror_view *v,
				int y, int x1, int x2, int *a, int *b, int *sy)
{
	*sy = y - v->dst.y1 + v->src.y1;
	*a = max(x1, v->dst.x1);
	*b = min3(x2, v->dst.x2, v->dst.x1 + drm_rect_width(&v->src));
	return y >= v->dst.y1 && *sy < v->src.y2 && *a < *b;
}

/*
 * @n pixels of @format at the end of the @n words of @line, widened in
 * place to XRGB8888 (forwards: pixel i is read before word i is
 * written, and word i ends at or before pixel i + 1 starts). Bits are
 * repeated into the low ones, as drm_fb_xrgb8888 conversions do.
 */
static void kms2v4l_mirror_widen(u32 *line, int n, u32 format)
{
	const u8 *s;
	u32 p, r, g, b;
	int i;

	switch (format) {
	case DRM_FORMAT_RGB565:
		s = (const u8 *)line + (size_t)n * 2;
		for (i = 0; i < n; i++, s += 2) {
			p = get_unaligned_le16(s);
			r = (p >> 11) & 0x1f;
			g = (p >> 5) & 0x3f;
			b = p & 0x1f;
			line[i] = KMS2V4L_BLACK | ((r << 3 | r >> 2) << 16) |
				  ((g << 2 | g >> 4) << 8) | (b << 3 | b >> 2);
		}
		break;
	case DRM_FORMAT_RGB888:
		s = (const u8 *)line + (size_t)n;
		for (i = 0; i < n; i++, s += 3)
			line[i] = KMS2V4L_BLACK | s[2] << 16 | s[1] << 8 | s[0];
		break;
	}
}

/*
 * The XRGB8888 pixels [@x1, @x2) of CRTC line @y into @m->line: the
 * plane's where it covers the CRTC, black elsewhere.
 */
static void kms2v4l_mirror_fetch(struct kms2v4l_mirror *m,
				 const struct kms2v4l_mirror_view *v,
				 int y, int x1, int x2)
{
	const struct drm_framebuffer *fb = v->fb;
	unsigned int cpp = fb->format->cpp[0];
	u32 *line = m->line;
	int a, b, x, sy;

	if (!kms2v4l_mirror_span(v, y, x1, x2, &a, &b, &sy)) {
		a = x2;
		b = x2;
	}
	for (x = x1; x < a; x++)
		line[x - x1] = KMS2V4L_BLACK;
	if (a < b) {
		u32 *span = line + (a - x1);

		/* narrower pixels land at the end of the span's words */
		kms2v4l_mirror_read((u8 *)span + (size_t)(b - a) * (4 - cpp),
				    &m->mapped->data[0],
				    (size_t)sy * fb->pitches[0] +
				    (size_t)(a - v->dst.x1 + v->src.x1) * cpp,
				    (size_t)(b - a) * cpp);
		if (cpp != 4)
			kms2v4l_mirror_widen(span, b - a, fb->format->format);
	}
	for (x = b; x < x2; x++)
		line[x - x1] = KMS2V4L_BLACK;
}

/*
 * Same format in and out: CRTC line @y, pixels [@x1, @x2), straight from
 * the framebuffer into @dst (the buffer's line), zeros where the plane
 * does not cover the CRTC.
 */
static void kms2v4l_mirror_copy_line(struct kms2v4l_mirror *m,
				     const struct kms2v4l_mirror_view *v,
				     u8 *dst, int y, int x1, int x2)
{
	const struct drm_framebuffer *fb = v->fb;
	unsigned int cpp = fb->format->cpp[0];
	int a, b, sy;

	if (!kms2v4l_mirror_span(v, y, x1, x2, &a, &b, &sy)) {
		memset(dst + x1 * cpp, 0, (size_t)(x2 - x1) * cpp);
		return;
	}
	if (a > x1)
		memset(dst + x1 * cpp, 0, (size_t)(a - x1) * cpp);
	kms2v4l_mirror_read(dst + a * cpp, &m->mapped->data[0],
			    (size_t)sy * fb->pitches[0] +
			    (size_t)(a - v->dst.x1 + v->src.x1) * cpp,
			    (size_t)(b - a) * cpp);
	if (x2 > b)
		memset(dst + b * cpp, 0, (size_t)(x2 - b) * cpp);
}

/*
 * BT.601 limited range (Y 16..235, Cb and Cr 16..240) from 8-bit RGB in
 * 8-bit fixed point, as vkms's capture computes it: the chroma of a pair
 * of pixels is that of their mean (kept in 9 bits, rounded once).
 */
static u8 kms2v4l_luma(u32 p)
{
	int r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;

	return ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
}

static void kms2v4l_chroma(u32 p0, u32 p1, u8 *cb, u8 *cr)
{
	int r = ((p0 >> 16) & 0xff) + ((p1 >> 16) & 0xff);
	int g = ((p0 >> 8) & 0xff) + ((p1 >> 8) & 0xff);
	int b = (p0 & 0xff) + (p1 & 0xff);

	*cb = ((-38 * r - 74 * g + 112 * b + 256) >> 9) + 128;
	*cr = ((112 * r - 94 * g - 18 * b + 256) >> 9) + 128;
}

/*
 * @m->line, the pixels [@x1, @x2) of line @y, into the frame in its
 * format. For the subsampled formats @x1 is even, and the chroma of a
 * 4:2:0 pair of lines comes from its even line.
 */
static void kms2v4l_mirror_store(struct kms2v4l_mirror *m,
				 const struct kms2v4l_frame *frame,
				 int y, int x1, int x2)
{
	const struct drm_format_info *info = frame->format;
	u8 *base = frame->map.vaddr, *row = base + (size_t)y * frame->pitch;
	size_t luma_size = (size_t)frame->pitch * frame->height;
	unsigned int cpitch = frame->pitch / info->hsub;
	const u32 *line = m->line;
	u8 *cb_row, *cr_row;
	int n = x2 - x1, i;
	u32 p, q;

	switch (info->format) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888: {
		u32 alpha = info->format == DRM_FORMAT_ARGB8888 ? 0xff000000u : 0;
		u32 *d = (u32 *)row + x1;

		for (i = 0; i < n; i++)
			d[i] = line[i] | alpha;
		break;
	}
	case DRM_FORMAT_RGB565: {
		u16 *d = (u16 *)row + x1;

		for (i = 0; i < n; i++) {
			p = line[i];
			d[i] = ((p >> 8) & 0xf800) | ((p >> 5) & 0x07e0) |
			       ((p >> 3) & 0x001f);
		}
		break;
	}
	case DRM_FORMAT_RGB888: {
		u8 *d = row + x1 * 3;

		for (i = 0; i < n; i++, d += 3) {
			p = line[i];
			d[0] = p;
			d[1] = p >> 8;
			d[2] = p >> 16;
		}
		break;
	}
	case DRM_FORMAT_YUYV: {
		u8 *d = row + x1 * 2;

		for (i = 0; i < n; i += 2, d += 4) {
			p = line[i];
			q = i + 1 < n ? line[i + 1] : p;
			d[0] = kms2v4l_luma(p);
			d[2] = kms2v4l_luma(q);
			kms2v4l_chroma(p, q, &d[1], &d[3]);
		}
		break;
	}
	case DRM_FORMAT_NV12:
	case DRM_FORMAT_YUV420:
		for (i = 0; i < n; i++)
			row[x1 + i] = kms2v4l_luma(line[i]);
		if (y & 1)
			break;
		if (info->format == DRM_FORMAT_NV12) {
			/* CbCr interleaved, a line of pitch bytes per pair */
			cb_row = base + luma_size + (size_t)(y / 2) * frame->pitch + x1;
			for (i = 0; i < n; i += 2, cb_row += 2) {
				p = line[i];
				q = i + 1 < n ? line[i + 1] : p;
				kms2v4l_chroma(p, q, &cb_row[0], &cb_row[1]);
			}
		} else {
			cb_row = base + luma_size + (size_t)(y / 2) * cpitch + x1 / 2;
			cr_row = cb_row + (size_t)cpitch * (frame->height / 2);
			for (i = 0; i < n; i += 2) {
				p = line[i];
				q = i + 1 < n ? line[i + 1] : p;
				kms2v4l_chroma(p, q, &cb_row[i / 2], &cr_row[i / 2]);
			}
		}
		break;
	}
}

/* Whether kms2v4l_mirror_fetch() reads @fb's format. */
static bool kms2v4l_mirror_fetches(const struct drm_framebuffer *fb)
{
	u32 in = fb->format->format;

	return in == DRM_FORMAT_XRGB8888 || in == DRM_FORMAT_ARGB8888 ||
	       in == DRM_FORMAT_RGB565 || in == DRM_FORMAT_RGB888;
}

/* Whether the frame's format can be made from @fb's. */
static bool kms2v4l_mirror_can(const struct drm_framebuffer *fb,
			       const struct drm_format_info *out, bool *direct)
{
	*direct = fb->format->format == out->format && fb->format->num_planes == 1;
	return *direct || kms2v4l_mirror_fetches(fb);
}

/*
 * One 8-bit channel of premultiplied @s over @d with alpha @a, the way
 * vkms blends planes: in 16 bits, rounded, then narrowed with rounding.
 */
static u32 kms2v4l_blend_channel(u32 s, u32 d, u32 a)
{
	u64 v = (u64)s * 257 * 0xffff + (u64)d * 257 * (0xffff - a * 257);
	u32 c = div_u64(v + 0xffff / 2, 0xffff);

	return (c + 257 / 2) / 257;
}

/*
 * The cursor of @v over @m->line, the pixels [@x1, @x2) of CRTC line @y
 * (which the cursor covers, at least in part).
 */
static void kms2v4l_mirror_blend_cursor(struct kms2v4l_mirror *m,
					const struct kms2v4l_mirror_view *v,
					int y, int x1, int x2)
{
	const struct drm_framebuffer *c = v->cursor;
	bool opaque = c->format->format == DRM_FORMAT_XRGB8888;
	int a = max(x1, v->cursor_dst.x1), b = min(x2, v->cursor_dst.x2), i;
	u32 *line = m->line + (a - x1), *span = m->line + (x2 - x1);
	u32 p, d, alpha;

	kms2v4l_mirror_read(span, &m->cursor_mapped->data[0],
			    (size_t)(y - v->cursor_dst.y1 + v->cursor_src.y1) * c->pitches[0] +
			    (size_t)(a - v->cursor_dst.x1 + v->cursor_src.x1) * 4,
			    (size_t)(b - a) * 4);
	for (i = 0; i < b - a; i++) {
		p = span[i];
		alpha = opaque ? 0xff : p >> 24;
		if (alpha == 0xff) {
			line[i] = p | KMS2V4L_BLACK;
			continue;
		}
		d = line[i];
		line[i] = KMS2V4L_BLACK |
			  kms2v4l_blend_channel((p >> 16) & 0xff, (d >> 16) & 0xff, alpha) << 16 |
			  kms2v4l_blend_channel((p >> 8) & 0xff, (d >> 8) & 0xff, alpha) << 8 |
			  kms2v4l_blend_channel(p & 0xff, d & 0xff, alpha);
	}
}

/*
 * Whether the lines of @clip are one run of bytes in the framebuffer of
 * @v and in @frame alike (whole lines of one pitch, which the plane
 * covers from its framebuffer's first column); then *@sy is the
 * framebuffer line of the first.
 */
static bool kms2v4l_mirror_one_run(const struct kms2v4l_mirror_view *v,
				   const struct kms2v4l_frame *frame,
				   const struct drm_rect *clip, int *sy)
{
	int a, b, last;

	if (clip->x1 || (size_t)clip->x2 * v->fb->format->cpp[0] != frame->pitch ||
	    v->fb->pitches[0] != frame->pitch || v->dst.x1 || v->src.x1)
		return false;
	/* a rectangle covers every line between two it covers whole */
	return kms2v4l_mirror_span(v, clip->y1, clip->x1, clip->x2, &a, &b, sy) &&
	       a == clip->x1 && b == clip->x2 &&
	       kms2v4l_mirror_span(v, clip->y2 - 1, clip->x1, clip->x2, &a, &b, &last) &&
	       a == clip->x1 && b == clip->x2;
}

/*
 * The frame's clip of the view @v, from the mapped framebuffer, and of
 * its cursor if @cursor (mapped too).
 */
static void kms2v4l_mirror_copy(struct kms2v4l_mirror *m,
				const struct kms2v4l_mirror_view *v,
				const struct kms2v4l_frame *frame, bool direct,
				bool cursor)
{
	const struct drm_rect *clip = &frame->clip;
	const struct drm_rect *cd = &v->cursor_dst;
	u8 *base = frame->map.vaddr;
	u64 t0 = ktime_get_ns();
	bool over;
	int y, sy;

	m->copies++;
	if (!drm_rect_visible(clip))
		return;
	m->read_bytes += (u64)drm_rect_width(clip) * drm_rect_height(clip) *
			 v->fb->format->cpp[0];
	/* the cursor needs the XRGB8888 line: not for a format only copied */
	cursor = cursor && kms2v4l_mirror_fetches(v->fb) &&
		 clip->x1 < cd->x2 && cd->x1 < clip->x2 &&
		 clip->y1 < cd->y2 && cd->y1 < clip->y2;

	/* whole lines in the same format: one copy, not one a line */
	if (direct && !cursor && kms2v4l_mirror_one_run(v, frame, clip, &sy)) {
		kms2v4l_mirror_read(base + (size_t)clip->y1 * frame->pitch,
				    &m->mapped->data[0], (size_t)sy * frame->pitch,
				    (size_t)drm_rect_height(clip) * frame->pitch);
		goto out;
	}
	for (y = clip->y1; y < clip->y2; y++) {
		over = cursor && y >= cd->y1 && y < cd->y2;
		if (direct && !over) {
			kms2v4l_mirror_copy_line(m, v, base + (size_t)y * frame->pitch,
						 y, clip->x1, clip->x2);
			continue;
		}
		kms2v4l_mirror_fetch(m, v, y, clip->x1, clip->x2);
		if (over)
			kms2v4l_mirror_blend_cursor(m, v, y, clip->x1, clip->x2);
		kms2v4l_mirror_store(m, frame, y, clip->x1, clip->x2);
	}
out:
	m->copy_ns += ktime_get_ns() - t0;
}

/*
 * Deliver the frame of @v into the next queued buffer, if one is wanted.
 * Outside any fence signalling section until kms2v4l_frame_begin_shown():
 * the mapping and the line buffer are made first.
 */
static void kms2v4l_mirror_frame(struct kms2v4l_mirror *m,
				 const struct kms2v4l_mirror_view *v)
{
	struct kms2v4l_source *src = m->src;
	const char *node = video_device_node_name(&src->vdev);
	struct drm_framebuffer *fb = v->fb;
	struct kms2v4l_frame frame;
	size_t need;
	bool direct, moved, cursor;
	int ret;

	if (!kms2v4l_frame_wanted(src))
		return;
	if (fb->format->num_planes != 1) {
		dev_warn_ratelimited(&src->vdev.dev, "%s: cannot read a %p4cc framebuffer back\n",
				     node, &fb->format->format);
		return;
	}
	kms2v4l_mirror_trim(m, v);
	m->mapped = kms2v4l_mirror_map(m, fb);
	if (IS_ERR(m->mapped)) {
		dev_warn_ratelimited(&src->vdev.dev, "%s: cannot map framebuffer %u: %pe\n",
				     node, fb->base.id, m->mapped);
		return;
	}
	/* a cursor that cannot be read is left out, the frame is not */
	if (v->cursor)
		m->cursor_mapped = kms2v4l_mirror_map(m, v->cursor);
	cursor = v->cursor && !IS_ERR(m->cursor_mapped);
	if (v->cursor && !cursor)
		dev_warn_ratelimited(&src->vdev.dev, "%s: cannot map cursor framebuffer %u\n",
				     node, v->cursor->base.id);
	/* a line, and the cursor's part of it */
	need = 2 * (size_t)v->shown.width * sizeof(u32);
	if (need > m->line_size) {
		kfree(m->line);
		m->line = kmalloc(need, GFP_KERNEL);
		m->line_size = m->line ? need : 0;
		if (!m->line)
			return;
	}
	ret = drm_gem_fb_begin_cpu_access(fb, DMA_FROM_DEVICE);
	if (ret) {
		dev_warn_ratelimited(&src->vdev.dev, "%s: no CPU access to framebuffer %u: %d\n",
				     node, fb->base.id, ret);
		return;
	}
	if (cursor && drm_gem_fb_begin_cpu_access(v->cursor, DMA_FROM_DEVICE)) {
		dev_warn_ratelimited(&src->vdev.dev, "%s: no CPU access to cursor framebuffer %u\n",
				     node, v->cursor->base.id);
		cursor = false;
	}

	ret = kms2v4l_frame_begin_shown(src, &v->shown, &frame);
	if (ret)
		goto end_access;
	moved = false;
	if (!kms2v4l_mirror_can(fb, frame.format, &direct)) {
		dev_warn_ratelimited(&src->vdev.dev, "%s: no conversion from %p4cc to %p4cc\n",
				     node, &fb->format->format, &frame.format->format);
		ret = -EINVAL;
	} else if (kms2v4l_mirror_begin_read(m, v)) {
		kms2v4l_mirror_copy(m, v, &frame, direct, cursor);
		moved = !kms2v4l_mirror_end_read(m);
	} else {
		moved = true;
	}
	frame.vblank = v->commit;
	frame.timestamp = v->time;
	kms2v4l_frame_finish(src, &frame, ret, moved);
	if (!ret && !moved)
		m->done = v->commit;

end_access:
	if (cursor)
		drm_gem_fb_end_cpu_access(v->cursor, DMA_FROM_DEVICE);
	drm_gem_fb_end_cpu_access(fb, DMA_FROM_DEVICE);
}

static void kms2v4l_mirror_work(struct work_struct *work)
{
	struct kms2v4l_mirror *m = container_of(work, struct kms2v4l_mirror, work);
	struct kms2v4l_mirror_view v;

	kms2v4l_mirror_snapshot(m, &v);
	/* A later commit queues this work again. */
	if (v.fb && v.shown.active && v.commit != m->done)
		kms2v4l_mirror_frame(m, &v);
	if (v.fb)
		drm_framebuffer_put(v.fb);
	if (v.cursor)
		drm_framebuffer_put(v.cursor);
}

static int kms2v4l_mirror_start(struct kms2v4l_source *src)
{
	struct kms2v4l_mirror *m = kms2v4l_source_priv(src);

	/* the stream's first frame shows the last commit */
	m->done = 0;
	return 0;
}

static void kms2v4l_mirror_stop(struct kms2v4l_source *src)
{
	struct kms2v4l_mirror *m = kms2v4l_source_priv(src);

	cancel_work_sync(&m->work);
	kms2v4l_mirror_unmap(m);
}

static void kms2v4l_mirror_due(struct kms2v4l_source *src)
{
	struct kms2v4l_mirror *m = kms2v4l_source_priv(src);

	if (kms2v4l_frame_wanted(src))
		queue_work(system_unbound_wq, &m->work);
}

static const struct kms2v4l_funcs kms2v4l_mirror_funcs = {
	.start = kms2v4l_mirror_start,
	.stop = kms2v4l_mirror_stop,
	.frame_due = kms2v4l_mirror_due,
};

/*
 * The DRM device is released: the node goes first (a stream stops, and
 * with it the worker), then the mirror's references.
 */
static void kms2v4l_mirror_release(struct drm_device *drm, void *data)
{
	struct kms2v4l_mirror *m = data;

	kms2v4l_detach(m->src);
	cancel_work_sync(&m->work);
	kms2v4l_mirror_unmap(m);
	debugfs_remove_recursive(m->debugfs);
	if (m->view.fb)
		drm_framebuffer_put(m->view.fb);
	if (m->view.cursor)
		drm_framebuffer_put(m->view.cursor);
	m->src->mirror = NULL;
	kfree(m->line);
	kfree(m);
}

/**
 * kms2v4l_mirror_init() - offer what a CRTC scans out as a V4L2 capture
 *	node, read back by the core
 * @crtc: the CRTC, initialised, with its primary plane; its device not
 *	yet registered
 *
 * For a driver that composes nothing. The driver calls
 * kms2v4l_crtc_update() from the hooks where its commit reaches the
 * screen (see the DOC section "mirroring a CRTC") and nothing else: the
 * core copies the frames from the primary plane's framebuffers, which
 * must be GEM framebuffers (drm_gem_fb_vmap() maps them), and from the
 * cursor plane's (&drm_crtc.cursor), blended over them. Its formats
 * are XRGB8888 (the default), ARGB8888, RGB565, RGB888, YUYV, YUV420 and
 * NV12, made from XRGB8888, ARGB8888, RGB565 or RGB888 framebuffers; a
 * framebuffer of another format can only be captured in that format,
 * where the node offers it (without the cursor). The node and the
 * mirror go when the DRM device is released.
 *
 * Return: the source, or an ERR_PTR() on failure.
 */
struct kms2v4l_source *kms2v4l_mirror_init(struct drm_crtc *crtc)
{
	struct kms2v4l_source *src;
	struct kms2v4l_mirror *m;
	int ret;

	if (!crtc->primary)
		return ERR_PTR(-EINVAL);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->crtc = crtc;
	spin_lock_init(&m->lock);
	init_waitqueue_head(&m->read_done);
	INIT_WORK(&m->work, kms2v4l_mirror_work);

	src = kms2v4l_crtc_init(crtc, kms2v4l_mirror_formats,
				ARRAY_SIZE(kms2v4l_mirror_formats),
				&kms2v4l_mirror_funcs, m);
	if (IS_ERR(src)) {
		kfree(m);
		return src;
	}
	m->src = src;
	/* sequence numbers count commits */
	src->has_vblank = true;
	src->mirror = m;
	/* what the copies cost, for tests and benchmarks (worker's counts) */
	m->debugfs = debugfs_create_dir(src->v4l2_dev.name, NULL);
	debugfs_create_u64("mirror_read_bytes", 0444, m->debugfs, &m->read_bytes);
	debugfs_create_u64("mirror_copies", 0444, m->debugfs, &m->copies);
	debugfs_create_u64("mirror_copy_ns", 0444, m->debugfs, &m->copy_ns);
	ret = drmm_add_action_or_reset(crtc->dev, kms2v4l_mirror_release, m);
	if (ret)
		return ERR_PTR(ret);
	return src;
}
EXPORT_SYMBOL_GPL(kms2v4l_mirror_init);
