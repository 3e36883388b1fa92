// SPDX-License-Identifier: GPL-2.0
/*
 * dma.c - guest memory: pinned and mapped queue rings, the data pointer of
 * a command, and the bounce buffers that carry command data between the
 * guest and the block layer where the guest's own pages cannot
 * (pincache.c holds those for zero-copy Read and Write).
 *
 * The guest is reached only through vfio_pin_pages() and vfio_dma_rw(), so
 * an address outside what the VFIO user mapped fails cleanly and becomes an
 * NVMe Data Transfer Error instead of touching anyone else's memory.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/wait.h>

#include "vnvme.h"

/* Enough list entries to describe the largest transfer (MDTS 10 = 4 MiB). */
#define VNVME_MAX_LIST_READS	1024
/* Admin data buffers in flight, in largest transfers (MDTS 7: 2 MiB). */
#define VNVME_ADMIN_BOUNCE_XFERS	4

/*
 * Ring pins and dma_unmap.  type1 calls dma_unmap with its own lock dropped,
 * then retakes it and calls again while the range still holds pins, and the
 * eleventh call is BUG_ON(++retries > 10).  A ring pinned again on its next
 * use after dma_unmap can win that race every time (a doorbell storm while
 * the VFIO user unmaps in a loop).  So once dma_unmap has covered a range,
 * nothing of this controller pins in it again until the device is next
 * opened: a ring there, whether it lost its pages or is created while type1
 * is still unmapping, is reached through vfio_dma_rw(), which pins nothing.
 * QEMU unmaps guest RAM only where the firmware remaps it (PAM, SMRAM below
 * 1 MiB), where no guest keeps its queues.  Data pages (pincache.c) follow
 * the same rule: a transfer in a revoked range bounces.
 *
 * Every ring being pinned, pinned or being unpinned is on pins.rings, so
 * dma_unmap also finds one that is not in a queue table yet; before it
 * returns it waits for every pin or unpin under way in its range, and a
 * pin that completes in a range revoked meanwhile is undone.  pins.lock is
 * a spinlock, so it is never held across vfio_pin_pages(),
 * vfio_unpin_pages() or vfio_dma_rw(): type1 calls dma_unmap holding its
 * device_list_lock, and takes that lock while holding iommu->lock, which
 * those calls take.  Readers of a mapping
 * take no lock: dma_unmap unpublishes it and waits for an RCU grace period
 * before it unpins.
 */
void vnvme_pins_init(struct vnvme_ctrl *ctrl)
{
	spin_lock_init(&ctrl->pins.lock);
	INIT_LIST_HEAD(&ctrl->pins.rings);
	init_waitqueue_head(&ctrl->pins.wait);
	vnvme_pincache_init(&ctrl->pins);
}

/* A new VFIO user brings a new IOVA space: the old one's unmaps are moot. */
void vnvme_pins_forget_revoked(struct vnvme_ctrl *ctrl)
{
	spin_lock(&ctrl->pins.lock);
	ctrl->pins.nr_revoked = 0;
	spin_unlock(&ctrl->pins.lock);
}

static u64 vnvme_ring_end(const struct vnvme_ring *ring)
{
	return ring->iova + ((u64)ring->nr_pages << PAGE_SHIFT);
}

bool vnvme_pins_revoked(struct vnvme_pins *pins, u64 start, u64 end)
{
	unsigned int i;

	lockdep_assert_held(&pins->lock);
	for (i = 0; i < pins->nr_revoked; i++)
		if (start < pins->revoked[i].end && pins->revoked[i].start < end)
			return true;
	return false;
}

/*
 * Remembers [start, end).  With the table full the last entry grows to
 * cover the new range and whatever lies between: rings there go unpinned
 * without need, but no range is ever forgotten.
 */
static void vnvme_pins_revoke(struct vnvme_pins *pins, u64 start, u64 end)
{
	struct vnvme_iova_range *r;
	unsigned int i;

	for (i = 0; i < pins->nr_revoked; i++) {
		r = &pins->revoked[i];
		if (start >= r->start && end <= r->end)
			return;
	}
	if (pins->nr_revoked < VNVME_REVOKED_RANGES) {
		r = &pins->revoked[pins->nr_revoked++];
		r->start = start;
		r->end = end;
		return;
	}
	r = &pins->revoked[VNVME_REVOKED_RANGES - 1];
	r->start = min(r->start, start);
	r->end = max(r->end, end);
}

/*
 * Is a ring in [start, end) being pinned or unpinned, or a data page there
 * still pinned (in use) or being pinned or unpinned?
 */
static bool vnvme_pins_moving(struct vnvme_pins *pins, u64 start, u64 end)
{
	struct vnvme_ring *ring;
	bool moving;

	spin_lock(&pins->lock);
	moving = vnvme_pincache_busy_locked(pins, start, end);
	list_for_each_entry(ring, &pins->rings, node)
		if (ring->pin_state != VNVME_RING_PINNED &&
		    ring->iova < end && start < vnvme_ring_end(ring))
			moving = true;
	spin_unlock(&pins->lock);
	return moving;
}

/* Takes a ring off pins.rings once its pins are gone, and says so. */
static void vnvme_ring_unlisted(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	spin_lock(&ctrl->pins.lock);
	list_del_init(&ring->node);
	ring->pin_state = VNVME_RING_UNPINNED;
	spin_unlock(&ctrl->pins.lock);
	wake_up_all(&ctrl->pins.wait);
}

/* Pins the ring's pages and maps them (not published); no lock held. */
static int vnvme_ring_pin_pages(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	unsigned int nr = ring->nr_pages;
	int ret;

	if (!vnvme_pins_charge(ctrl, nr))
		return -ENOSPC;
	ret = vfio_pin_pages(&ctrl->vdev, ring->iova, nr,
			     IOMMU_READ | IOMMU_WRITE, ring->pages);
	if (ret != nr) {
		if (ret > 0)
			vfio_unpin_pages(&ctrl->vdev, ring->iova, ret);
		ret = ret < 0 ? ret : -EFAULT;
		goto err_account;
	}
	ring->mapping = vmap(ring->pages, nr, VM_MAP, PAGE_KERNEL);
	if (!ring->mapping) {
		vfio_unpin_pages(&ctrl->vdev, ring->iova, nr);
		ret = -ENOMEM;
		goto err_account;
	}
	return 0;

err_account:
	atomic_sub(nr, &ctrl->pinned_pages);
	return ret;
}

/* Drops the pins of a ring no reader can see mapped any more; no lock held. */
static void vnvme_ring_unpin_pages(struct vnvme_ctrl *ctrl,
				   struct vnvme_ring *ring)
{
	vunmap(ring->mapping);
	ring->mapping = NULL;
	vfio_unpin_pages(&ctrl->vdev, ring->iova, ring->nr_pages);
	atomic_sub(ring->nr_pages, &ctrl->pinned_pages);
}

/* A ring in revoked memory: every page must at least be reachable now. */
static int vnvme_ring_probe(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	unsigned int i;
	u8 byte;
	int ret;

	for (i = 0; i < ring->nr_pages; i++) {
		ret = vfio_dma_rw(&ctrl->vdev, ring->iova + ((u64)i << PAGE_SHIFT),
				  &byte, sizeof(byte), false);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Pins and maps the ring unless its range is revoked, or gets revoked while
 * the pin is under way.  0 if pinned, 1 if it is to be reached through
 * vfio_dma_rw(), or an error.
 */
static int vnvme_ring_try_pin(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	struct vnvme_pins *pins = &ctrl->pins;
	u64 end = vnvme_ring_end(ring);
	bool revoked;
	int ret;

	spin_lock(&pins->lock);
	revoked = vnvme_pins_revoked(pins, ring->iova, end);
	if (!revoked) {
		ring->pin_state = VNVME_RING_PINNING;
		list_add(&ring->node, &pins->rings);
	}
	spin_unlock(&pins->lock);
	if (revoked)
		return 1;

	ret = vnvme_ring_pin_pages(ctrl, ring);

	spin_lock(&pins->lock);
	revoked = !ret && vnvme_pins_revoked(pins, ring->iova, end);
	if (!ret && !revoked) {
		rcu_assign_pointer(ring->vaddr, ring->mapping);
		ring->pin_state = VNVME_RING_PINNED;
	} else if (revoked) {
		/* dma_unmap waits for this unpin before it returns. */
		ring->pin_state = VNVME_RING_UNPINNING;
	}
	spin_unlock(&pins->lock);
	if (revoked)
		vnvme_ring_unpin_pages(ctrl, ring);
	if (ret || revoked)
		vnvme_ring_unlisted(ctrl, ring);
	else
		wake_up_all(&pins->wait);
	return ret ? ret : revoked;
}

/*
 * Sets up a ring of len bytes at iova: pinned and mapped, or, in memory
 * dma_unmap has covered, reached through vfio_dma_rw().
 */
int vnvme_ring_setup(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
		     u64 iova, size_t len)
{
	unsigned int nr = DIV_ROUND_UP(len, PAGE_SIZE);
	u64 end;
	int ret;

	if (!PAGE_ALIGNED(iova) || nr == 0 || nr > VFIO_PIN_PAGES_MAX_ENTRIES ||
	    check_add_overflow(iova, (u64)nr << PAGE_SHIFT, &end))
		return -EINVAL;
	ring->pages = kcalloc(nr, sizeof(*ring->pages), GFP_KERNEL);
	if (!ring->pages)
		return -ENOMEM;
	ring->nr_pages = nr;
	ring->iova = iova;
	ring->pin_state = VNVME_RING_UNPINNED;
	mutex_init(&ring->lock);
	INIT_LIST_HEAD(&ring->node);

	ret = vnvme_ring_try_pin(ctrl, ring);
	if (ret == 1)
		ret = vnvme_ring_probe(ctrl, ring);
	if (ret) {
		mutex_destroy(&ring->lock);
		kfree(ring->pages);
		memset(ring, 0, sizeof(*ring));
	}
	return ret;
}

/* The ring's users are gone: no reader can hold its mapping. */
void vnvme_ring_teardown(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring)
{
	struct vnvme_pins *pins = &ctrl->pins;
	bool unpin;

	if (!ring->nr_pages)
		return;
	for (;;) {
		/* A dma_unmap unpinning it right now finishes that first. */
		wait_event(pins->wait,
			   READ_ONCE(ring->pin_state) != VNVME_RING_UNPINNING);
		spin_lock(&pins->lock);
		if (ring->pin_state != VNVME_RING_UNPINNING)
			break;
		spin_unlock(&pins->lock);
	}
	unpin = ring->pin_state == VNVME_RING_PINNED;
	if (unpin) {
		RCU_INIT_POINTER(ring->vaddr, NULL);
		ring->pin_state = VNVME_RING_UNPINNING;
	}
	spin_unlock(&pins->lock);
	if (unpin) {
		vnvme_ring_unpin_pages(ctrl, ring);
		vnvme_ring_unlisted(ctrl, ring);
	}
	mutex_destroy(&ring->lock);
	kfree(ring->pages);
	memset(ring, 0, sizeof(*ring));
}

/*
 * dma_unmap: every pin in [iova, iova + len) is dropped before this returns,
 * and the range is remembered so that none is taken there again.  Data
 * pages in use wait for their commands (pincache.c).
 */
void vnvme_pins_dma_unmap(struct vnvme_ctrl *ctrl, u64 iova, u64 len)
{
	struct vnvme_pins *pins = &ctrl->pins;
	struct vnvme_ring *ring, *tmp;
	LIST_HEAD(gone_data);
	LIST_HEAD(gone);
	u64 end;

	if (check_add_overflow(iova, len, &end))
		end = U64_MAX;
	spin_lock(&pins->lock);
	vnvme_pins_revoke(pins, iova, end);
	vnvme_pincache_revoke_locked(ctrl, iova, end, &gone_data);
	list_for_each_entry(ring, &pins->rings, node) {
		if (ring->pin_state != VNVME_RING_PINNED ||
		    ring->iova >= end || iova >= vnvme_ring_end(ring))
			continue;
		RCU_INIT_POINTER(ring->vaddr, NULL);
		ring->pin_state = VNVME_RING_UNPINNING;
		/* On gone too, not moved: teardown waits while it unpins. */
		list_add_tail(&ring->gone_node, &gone);
	}
	spin_unlock(&pins->lock);
	vnvme_pincache_unpin_list(ctrl, &gone_data);

	if (!list_empty(&gone)) {
		/* Readers copy to or from a mapping only under RCU. */
		synchronize_rcu();
		list_for_each_entry_safe(ring, tmp, &gone, gone_node) {
			list_del(&ring->gone_node);
			vnvme_ring_unpin_pages(ctrl, ring);
			vnvme_ring_unlisted(ctrl, ring);
		}
		dev_info_ratelimited(vnvme_dev(ctrl),
				     "guest memory at %#llx-%#llx unmapped under live queues: they run unpinned from now on\n",
				     iova, end - 1);
	}
	/*
	 * A pin or unpin under way in the range (another thread's) ends
	 * first, and so do the commands using data pages there.
	 */
	wait_event(pins->wait, !vnvme_pins_moving(pins, iova, end));
}

/* Guest memory behind a ring is gone for good: Controller Fatal Status. */
static int vnvme_ring_lost(struct vnvme_ctrl *ctrl, int ret)
{
	if (ret) {
		/* Reset stops the ring's user before it clears the flag. */
		WRITE_ONCE(ctrl->fatal_pending, true);
		queue_work(ctrl->wq, &ctrl->fatal_work);
	}
	return ret;
}

/* Copies one ring field; doorbell values and CQE status are never torn. */
static void vnvme_ring_copy(void *dst, const void *src, size_t len)
{
	switch (len) {
	case sizeof(u16):
		WRITE_ONCE(*(u16 *)dst, READ_ONCE(*(const u16 *)src));
		break;
	case sizeof(u32):
		WRITE_ONCE(*(u32 *)dst, READ_ONCE(*(const u32 *)src));
		break;
	default:
		memcpy(dst, src, len);
	}
}

static int vnvme_ring_access(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
			     size_t off, void *buf, size_t len, bool write)
{
	size_t size = (size_t)ring->nr_pages << PAGE_SHIFT;
	void *vaddr;

	if (len > size || off > size - len)
		return -EINVAL;
	rcu_read_lock();
	vaddr = rcu_dereference(ring->vaddr);
	if (vaddr) {
		if (write)
			vnvme_ring_copy(vaddr + off, buf, len);
		else
			vnvme_ring_copy(buf, vaddr + off, len);
	}
	rcu_read_unlock();
	if (vaddr)
		return 0;
	return vnvme_ring_lost(ctrl, vfio_dma_rw(&ctrl->vdev, ring->iova + off,
						 buf, len, write));
}

/*
 * Reads len bytes at off of the ring.  A ring whose memory is gone makes
 * the controller fail (CFS) and returns an error.
 */
int vnvme_ring_read(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
		    size_t off, void *buf, size_t len)
{
	return vnvme_ring_access(ctrl, ring, off, buf, len, false);
}

int vnvme_ring_write(struct vnvme_ctrl *ctrl, struct vnvme_ring *ring,
		     size_t off, const void *buf, size_t len)
{
	return vnvme_ring_access(ctrl, ring, off, (void *)buf, len, true);
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
 * bytes (> 0) into req->segs.  Returns an NVMe status.
 */
static u16 vnvme_req_walk(struct vnvme_req *req, u32 len, bool to_guest)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u8 psdt = VNVME_SQE_PSDT(req->cmd.flags);
	struct vnvme_dptr_walk walk = {
		.read = vnvme_guest_read,
		.opaque = ctrl,
		.max_list_reads = VNVME_MAX_LIST_READS,
	};
	u16 status;

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
	return VNVME_SC_SUCCESS;
}

/* A bounce buffer for the request's len bytes.  Returns an NVMe status. */
static u16 vnvme_req_alloc_bounce(struct vnvme_req *req, u32 len,
				  bool to_guest)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	unsigned int i;

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

/*
 * Resolves the command's data pointer for a transfer of len bytes and
 * allocates a bounce buffer for it.  Returns an NVMe status.
 */
u16 vnvme_req_map_data(struct vnvme_req *req, u32 len, bool to_guest)
{
	u16 status;

	if (len == 0)
		return VNVME_SC_SUCCESS;
	status = vnvme_req_walk(req, len, to_guest);
	return status ? status : vnvme_req_alloc_bounce(req, len, to_guest);
}

/*
 * Can the extents go to bdev as they are?  The rules of direct I/O: every
 * extent starts at the queue's DMA alignment and is whole logical blocks
 * (so any split the block layer makes falls on a block), no bit bucket.
 */
static bool vnvme_req_bio_shaped(const struct vnvme_req *req,
				 struct block_device *bdev)
{
	unsigned int addr_mask = bdev_dma_alignment(bdev);
	unsigned int len_mask = bdev_logical_block_size(bdev) - 1;
	unsigned int s;

	for (s = 0; s < req->nr_segs; s++) {
		const struct vnvme_dma_seg *seg = &req->segs[s];

		if (seg->bit_bucket || (seg->addr & addr_mask) ||
		    (seg->len & len_mask))
			return false;
	}
	return true;
}

/*
 * Read and Write: as vnvme_req_map_data(), but with zero-copy on and
 * extents a bio can carry, the request holds the guest's own pages
 * (req->pins) instead of a bounce buffer.
 */
u16 vnvme_req_map_bio_data(struct vnvme_req *req, u32 len, bool to_guest,
			   struct block_device *bdev)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u16 status;

	if (len == 0)
		return VNVME_SC_SUCCESS;
	status = vnvme_req_walk(req, len, to_guest);
	if (status)
		return status;
	if (READ_ONCE(ctrl->zero_copy)) {
		if (vnvme_req_bio_shaped(req, bdev) && vnvme_pincache_get(req)) {
			req->len = len;
			req->to_guest = to_guest;
			return VNVME_SC_SUCCESS;
		}
		atomic64_inc(&ctrl->pins.fallbacks);
	}
	return vnvme_req_alloc_bounce(req, len, to_guest);
}

/*
 * The command's backing I/O is over; its completion is about to be posted
 * (or dropped, discard).  Bounced read data and admin output go to the
 * guest; zero-copy pages go back to the cache, and a command whose pages
 * dma_unmap revoked meanwhile fails: the data may not be where the guest
 * looks for it.
 */
void vnvme_req_data_done(struct vnvme_req *req, bool discard)
{
	if (req->pins) {
		if (vnvme_pincache_put(req) && req->status == VNVME_SC_SUCCESS)
			req->status = VNVME_SC_DATA_XFER_ERROR;
		return;
	}
	if (!discard && req->to_guest && req->status == VNVME_SC_SUCCESS)
		req->status = vnvme_req_copy_data(req, true);
}

void vnvme_req_free_data(struct vnvme_req *req)
{
	unsigned int i;

	if (req->pins) {
		vnvme_pincache_free(req);
	} else if (req->pages) {
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
