// SPDX-License-Identifier: GPL-2.0
/*
 * dma.c - guest memory: pinned and mapped queue rings, and the bounce
 * buffers that carry command data between the guest and the block layer.
 *
 * The guest is reached only through vfio_pin_pages() and vfio_dma_rw(), so
 * an address outside what the VFIO user mapped fails cleanly and becomes an
 * NVMe Data Transfer Error instead of touching anyone else's memory.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/highmem.h>
#include <linux/iommu.h>

#include "vnvme.h"

/* Enough list entries to describe the largest transfer (MDTS 10 = 4 MiB). */
#define VNVME_MAX_LIST_READS	1024
/* Admin data buffers in flight, in largest transfers (MDTS 7: 2 MiB). */
#define VNVME_ADMIN_BOUNCE_XFERS	4

/* Pins the ring's pages and maps them; ring->lock held or ring not shared yet. */
static int vnvme_ring_pin_pages(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	unsigned int nr = ring->nr_pages;
	int ret;

	if (atomic_add_return(nr, &ctrl->pinned_pages) > vnvme_max_pinned_pages) {
		ret = -ENOSPC;
		goto err_account;
	}
	ret = vfio_pin_pages(&ctrl->vdev, ring->iova, nr,
			     IOMMU_READ | IOMMU_WRITE, ring->pages);
	if (ret != nr) {
		if (ret > 0)
			vfio_unpin_pages(&ctrl->vdev, ring->iova, ret);
		ret = ret < 0 ? ret : -EFAULT;
		goto err_account;
	}
	ring->vaddr = vmap(ring->pages, nr, VM_MAP, PAGE_KERNEL);
	if (!ring->vaddr) {
		vfio_unpin_pages(&ctrl->vdev, ring->iova, nr);
		ret = -ENOMEM;
		goto err_account;
	}
	return 0;

err_account:
	atomic_sub(nr, &ctrl->pinned_pages);
	return ret;
}

static void vnvme_ring_unpin_pages(struct vnvme_ctrl *ctrl,
				   struct vnvme_ring *ring)
{
	if (!ring->vaddr)
		return;
	vunmap(ring->vaddr);
	ring->vaddr = NULL;
	vfio_unpin_pages(&ctrl->vdev, ring->iova, ring->nr_pages);
	atomic_sub(ring->nr_pages, &ctrl->pinned_pages);
}

int vnvme_ring_pin(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring, u64 iova,
		   size_t len)
{
	unsigned int nr = DIV_ROUND_UP(len, PAGE_SIZE);
	int ret;

	if (!PAGE_ALIGNED(iova) || nr == 0 || nr > VFIO_PIN_PAGES_MAX_ENTRIES)
		return -EINVAL;
	ring->pages = kcalloc(nr, sizeof(*ring->pages), GFP_KERNEL);
	if (!ring->pages)
		return -ENOMEM;
	ring->nr_pages = nr;
	ring->iova = iova;
	mutex_init(&ring->lock);
	ret = vnvme_ring_pin_pages(ctrl, ring);
	if (ret) {
		kfree(ring->pages);
		memset(ring, 0, sizeof(*ring));
	}
	return ret;
}

void vnvme_ring_unpin(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	if (!ring->nr_pages)
		return;
	vnvme_ring_unpin_pages(ctrl, ring);
	mutex_destroy(&ring->lock);
	kfree(ring->pages);
	memset(ring, 0, sizeof(*ring));
}

/*
 * The ring's kernel mapping, re-pinning it if dma_unmap took it away.  If
 * the guest memory is still gone the controller cannot continue: report
 * Controller Fatal Status (from a work item, as our caller is a worker the
 * fatal path waits for) and return NULL.  __vnvme_ring_map() is for rings
 * whose owner serialises access with its own lock (dbbuf.c).
 */
void *__vnvme_ring_map(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	if (!ring->vaddr && vnvme_ring_pin_pages(ctrl, ring)) {
		/* Reset stops this worker before it clears the flag. */
		WRITE_ONCE(ctrl->fatal_pending, true);
		queue_work(vnvme_wq, &ctrl->fatal_work);
		return NULL;
	}
	return ring->vaddr;
}

void *vnvme_ring_map(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	lockdep_assert_held(&ring->lock);
	return __vnvme_ring_map(ctrl, ring);
}

/*
 * dma_unmap: drop the pins of a ring that overlaps [iova, iova + len).  The
 * caller serialises against users of the ring.
 */
void __vnvme_ring_unmap_range(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
			      u64 iova, u64 len)
{
	u64 end = ring->iova + ((u64)ring->nr_pages << PAGE_SHIFT);

	if (!ring->nr_pages || ring->iova >= iova + len || iova >= end)
		return;
	vnvme_ring_unpin_pages(ctrl, ring);
}

void vnvme_ring_unmap_range(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
			    u64 iova, u64 len)
{
	mutex_lock(&ring->lock);
	__vnvme_ring_unmap_range(ctrl, ring, iova, len);
	mutex_unlock(&ring->lock);
}

static int vnvme_guest_read(void *opaque, u64 addr, void *buf, u32 len)
{
	struct vnvme_ctrl *ctrl = opaque;

	return vfio_dma_rw(&ctrl->vdev, addr, buf, len, false);
}

/*
 * Room for one more command of the largest transfer.  I/O commands share
 * max_bounce_pages.  Admin commands have an allowance of their own, a few of
 * the largest transfer (Get Log Page may ask for that much): I/O using up
 * the budget never stalls the admin queue, and an admin SQ full of the
 * largest Get Log Page whose completions the host does not take holds only
 * that much.  Admin buffers are counted in bounce_pages too.
 */
bool vnvme_bounce_available(struct vnvme_ctrl *ctrl, bool admin)
{
	unsigned int largest = 1U << ctrl->mdts;

	if (admin)
		return atomic_read(&ctrl->admin_bounce_pages) + largest <=
		       VNVME_ADMIN_BOUNCE_XFERS * largest;
	return atomic_read(&ctrl->bounce_pages) + largest <= vnvme_max_bounce_pages;
}

/*
 * Resolves the command's data pointer (PRP or SGL) for a transfer of len
 * bytes and allocates a bounce buffer for it.  Returns an NVMe status.
 */
u16 vnvme_req_map_data(struct vnvme_req *req, u32 len, bool to_guest)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u8 psdt = VNVME_SQE_PSDT(req->cmd.flags);
	struct vnvme_dptr_walk walk = {
		.read = vnvme_guest_read,
		.opaque = ctrl,
		.max_list_reads = VNVME_MAX_LIST_READS,
	};
	unsigned int i;
	u16 status;

	if (len == 0)
		return VNVME_SC_SUCCESS;
	/* SGLs are for I/O commands only on a PCIe controller. */
	if (psdt == 3 || (psdt && req->sq->qid == 0))
		return VNVME_SC_INVALID_FIELD | VNVME_SC_DNR;

	/* PRPs are page shaped; SGLs may use small blocks (non-Linux guests). */
	walk.max_segs = len / (psdt ? 512 : VNVME_PAGE_SIZE) + 2;
	walk.segs = kcalloc(walk.max_segs, sizeof(*walk.segs), GFP_KERNEL);
	if (!walk.segs)
		return VNVME_SC_INTERNAL;
	req->segs = walk.segs;

	if (psdt)
		status = vnvme_sgl_walk(&walk, req->cmd.dptr.sgl, len,
					!to_guest);
	else
		status = vnvme_prp_walk(&walk, le64_to_cpu(req->cmd.dptr.prp1),
					le64_to_cpu(req->cmd.dptr.prp2), len);
	if (status)
		return status | VNVME_SC_DNR;
	req->nr_segs = walk.nr_segs;

	req->nr_pages = DIV_ROUND_UP(len, PAGE_SIZE);
	req->pages = kcalloc(req->nr_pages, sizeof(*req->pages), GFP_KERNEL);
	if (!req->pages) {
		req->nr_pages = 0;
		return VNVME_SC_INTERNAL;
	}
	atomic_add(req->nr_pages, &ctrl->bounce_pages);
	if (!req->sq->qid)
		atomic_add(req->nr_pages, &ctrl->admin_bounce_pages);
	for (i = 0; i < req->nr_pages; i++) {
		/* Zeroed: a short device read must never leak host memory. */
		req->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!req->pages[i])
			return VNVME_SC_INTERNAL;
	}
	req->len = len;
	req->to_guest = to_guest;
	return VNVME_SC_SUCCESS;
}

void vnvme_req_free_data(struct vnvme_req *req)
{
	unsigned int i;

	if (req->pages) {
		for (i = 0; i < req->nr_pages; i++)
			if (req->pages[i])
				__free_page(req->pages[i]);
		atomic_sub(req->nr_pages, &req->sq->ctrl->bounce_pages);
		if (!req->sq->qid)
			atomic_sub(req->nr_pages,
				   &req->sq->ctrl->admin_bounce_pages);
		kfree(req->pages);
		req->pages = NULL;
	}
	kfree(req->segs);
	req->segs = NULL;
}

/* Moves the bounce buffer to (or from) the guest extents, page by page. */
u16 vnvme_req_copy_data(struct vnvme_req *req, bool to_guest)
{
	struct vfio_device *vdev = &req->sq->ctrl->vdev;
	u32 off = 0;
	unsigned int s;

	for (s = 0; s < req->nr_segs; s++) {
		const struct vnvme_dma_seg *seg = &req->segs[s];
		u64 addr = seg->addr;
		u32 left = seg->len;

		while (left && off < req->len) {
			u32 poff = off & ~PAGE_MASK;
			u32 n = min3(left, (u32)PAGE_SIZE - poff, req->len - off);
			int ret = 0;

			if (!seg->bit_bucket) {
				void *p = kmap_local_page(req->pages[off >> PAGE_SHIFT]);

				ret = vfio_dma_rw(vdev, addr, p + poff, n, to_guest);
				kunmap_local(p);
			}
			if (ret)
				return VNVME_SC_DATA_XFER_ERROR;
			addr += n;
			off += n;
			left -= n;
		}
	}
	return VNVME_SC_SUCCESS;
}

/* Copies a kernel buffer into the start of the bounce buffer (admin output). */
void vnvme_req_fill(struct vnvme_req *req, const void *src, size_t len)
{
	size_t off = 0;

	len = min_t(size_t, len, req->len);
	while (off < len) {
		size_t n = min_t(size_t, PAGE_SIZE, len - off);

		memcpy_to_page(req->pages[off >> PAGE_SHIFT], 0, src + off, n);
		off += n;
	}
}

/* Copies the start of the bounce buffer out (admin input such as DSM ranges). */
void vnvme_req_extract(struct vnvme_req *req, void *dst, size_t len)
{
	size_t off = 0;

	len = min_t(size_t, len, req->len);
	while (off < len) {
		size_t n = min_t(size_t, PAGE_SIZE, len - off);

		memcpy_from_page(dst + off, req->pages[off >> PAGE_SHIFT], 0, n);
		off += n;
	}
}
