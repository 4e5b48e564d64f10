// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - implicit synchronisation of imported dma-bufs
 *
 * A buffer queued as DMABUF may still be read (or written) by another
 * device: its reservation object carries that device's fences. The core
 * never blocks on them: a buffer whose fences have not all signalled is
 * skipped at a vblank and picked up at a later one, so a stuck fence
 * costs frames, not a stalled composer. While a frame is being written
 * into an imported buffer, kms2v4l's own write fence sits on the
 * reservation object, so an importer that syncs implicitly (a GPU, an
 * encoder) waits for the whole frame; it signals when the frame ends.
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/slab.h>

#include "kms2v4l-priv.h"

struct kms2v4l_fence {
	struct dma_fence base;
	char timeline[32];
};

static const char *kms2v4l_fence_driver_name(struct dma_fence *fence)
{
	return KMS2V4L_NAME;
}

static const char *kms2v4l_fence_timeline_name(struct dma_fence *fence)
{
	return container_of(fence, struct kms2v4l_fence, base)->timeline;
}

static const struct dma_fence_ops kms2v4l_fence_ops = {
	.get_driver_name = kms2v4l_fence_driver_name,
	.get_timeline_name = kms2v4l_fence_timeline_name,
};

static struct dma_resv *kms2v4l_buffer_resv(struct kms2v4l_buffer *buf)
{
	struct vb2_buffer *vb = &buf->vb.vb2_buf;

	if (vb->memory != VB2_MEMORY_DMABUF || !vb->planes[0].dbuf)
		return NULL;
	return vb->planes[0].dbuf->resv;
}

/**
 * kms2v4l_fence_buffer_ready() - may a frame be written into a buffer now?
 * @buf: a queued buffer
 *
 * Return: true unless the buffer is an imported dma-buf that some fence
 * (a reader or a writer of another device) still holds.
 */
bool kms2v4l_fence_buffer_ready(struct kms2v4l_buffer *buf)
{
	struct dma_resv *resv = kms2v4l_buffer_resv(buf);

	return !resv || dma_resv_test_signaled(resv, dma_resv_usage_rw(true));
}

/**
 * kms2v4l_fence_begin() - publish the write fence of a frame
 * @src: the source
 * @buf: the buffer the frame is about to be written into
 *
 * For an imported dma-buf, adds an unsignalled fence to its reservation
 * object with DMA_RESV_USAGE_WRITE; kms2v4l_fence_end() signals it.
 * Process context. On failure to allocate, the frame is written
 * without a fence (the buffer's readers were idle when it was taken).
 */
void kms2v4l_fence_begin(struct kms2v4l_source *src, struct kms2v4l_buffer *buf)
{
	struct dma_resv *resv = kms2v4l_buffer_resv(buf);
	struct kms2v4l_fence *f;

	buf->fence = NULL;
	if (!resv)
		return;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return;
	strscpy(f->timeline, src->v4l2_dev.name, sizeof(f->timeline));
	dma_fence_init(&f->base, &kms2v4l_fence_ops, &src->fence_lock,
		       src->fence_context, atomic64_inc_return(&src->fence_seqno));

	dma_resv_lock(resv, NULL);
	if (dma_resv_reserve_fences(resv, 1)) {
		dma_resv_unlock(resv);
		dma_fence_put(&f->base);
		return;
	}
	dma_resv_add_fence(resv, &f->base, DMA_RESV_USAGE_WRITE);
	dma_resv_unlock(resv);
	buf->fence = &f->base;
}

/**
 * kms2v4l_fence_end() - the frame is written: signal its fence
 * @buf: the buffer
 */
void kms2v4l_fence_end(struct kms2v4l_buffer *buf)
{
	if (!buf->fence)
		return;
	dma_fence_signal(buf->fence);
	dma_fence_put(buf->fence);
	buf->fence = NULL;
}
