// SPDX-License-Identifier: GPL-2.0-only
/*
 * kms2v4l - implicit synchronisation of imported dma-bufs
 *
 * A buffer queued as DMABUF may still be read (or written) by another
 * device: its reservation object carries that device's fences. The core
 * never blocks on them, nor on the reservation lock: a buffer whose
 * fences have not all signalled, or whose lock is contended, is skipped
 * at a frame and picked up at a later one, so a stuck fence costs
 * frames, not a stalled composer. The test and the publication of
 * kms2v4l's own write fence happen in one locked section, so no other
 * device's fence slips in between. While a frame is written into an
 * imported buffer, that write fence sits on the reservation object, so
 * an importer that syncs implicitly (a GPU, an encoder) waits for the
 * whole frame; it signals when the frame ends, with the frame's error
 * if it failed.
 *
 * A fence may outlive the node and the module that made it (it stays in
 * the importer's reservation object, or in a sync_file): each fence has
 * its own lock and holds a reference on this module until released.
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "kms2v4l-priv.h"

/**
 * struct kms2v4l_fence - the write fence of one frame
 * @base: the fence
 * @lock: its lock (&dma_fence.lock)
 * @timeline: the node's name, for debugging and SYNC_IOC_FILE_INFO
 */
struct kms2v4l_fence {
	struct dma_fence base;
	spinlock_t lock; /* see @lock above */
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

static void kms2v4l_fence_release(struct dma_fence *fence)
{
	dma_fence_free(fence);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops kms2v4l_fence_ops = {
	.get_driver_name = kms2v4l_fence_driver_name,
	.get_timeline_name = kms2v4l_fence_timeline_name,
	.release = kms2v4l_fence_release,
};

static struct dma_resv *kms2v4l_buffer_resv(struct kms2v4l_buffer *buf)
{
	struct vb2_buffer *vb = &buf->vb.vb2_buf;

	if (vb->memory != VB2_MEMORY_DMABUF || !vb->planes[0].dbuf)
		return NULL;
	return vb->planes[0].dbuf->resv;
}

/**
 * kms2v4l_buffer_is_imported() - is a buffer another device's dma-buf?
 * @buf: a queued buffer
 *
 * Return: true for a DMABUF buffer, whose fences matter.
 */
bool kms2v4l_buffer_is_imported(struct kms2v4l_buffer *buf)
{
	return kms2v4l_buffer_resv(buf);
}

/**
 * kms2v4l_fence_create() - a new, unpublished write fence
 * @src: the source whose timeline it is on
 *
 * Process context, before any fence of the frame is published: it
 * allocates.
 *
 * Return: the fence, or NULL without memory.
 */
struct dma_fence *kms2v4l_fence_create(struct kms2v4l_source *src)
{
	struct kms2v4l_fence *f;
	unsigned long flags;
	u64 seqno;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	__module_get(THIS_MODULE);
	spin_lock_init(&f->lock);
	strscpy(f->timeline, src->v4l2_dev.name, sizeof(f->timeline));
	spin_lock_irqsave(&src->qlock, flags);
	seqno = ++src->fence_seqno;
	spin_unlock_irqrestore(&src->qlock, flags);
	dma_fence_init(&f->base, &kms2v4l_fence_ops, &f->lock,
		       src->fence_context, seqno);
	return &f->base;
}

/**
 * kms2v4l_fence_begin() - publish a frame's write fence, if the buffer
 *	is free
 * @buf: an imported buffer taken for a frame
 * @fence: from kms2v4l_fence_create(); on success, the buffer owns it
 *
 * Without waiting: fails if another device holds the reservation lock
 * or has unsignalled fences on the buffer; else adds @fence with
 * DMA_RESV_USAGE_WRITE in the same locked section.
 *
 * Return: 0, -EBUSY (contended or still fenced) or -ENOMEM.
 */
int kms2v4l_fence_begin(struct kms2v4l_buffer *buf, struct dma_fence *fence)
{
	struct dma_resv *resv = kms2v4l_buffer_resv(buf);
	int ret = 0;

	if (!dma_resv_trylock(resv))
		return -EBUSY;
	if (!dma_resv_test_signaled(resv, dma_resv_usage_rw(true)))
		ret = -EBUSY;
	else
		ret = dma_resv_reserve_fences(resv, 1);
	if (!ret) {
		dma_resv_add_fence(resv, fence, DMA_RESV_USAGE_WRITE);
		buf->fence = fence;
	}
	dma_resv_unlock(resv);
	return ret;
}

/**
 * kms2v4l_fence_end() - the frame is written: signal its fence
 * @buf: the buffer
 * @error: the frame's error, 0 if none
 *
 * Any context.
 */
void kms2v4l_fence_end(struct kms2v4l_buffer *buf, int error)
{
	struct dma_fence *fence = buf->fence;

	if (!fence)
		return;
	buf->fence = NULL;
	if (error)
		dma_fence_set_error(fence, error);
	dma_fence_signal(fence);
	dma_fence_put(fence);
}
