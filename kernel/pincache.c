// SPDX-License-Identifier: GPL-2.0
/*
 * pincache.c - zero-copy data: the guest pages of Read and Write commands,
 * pinned on first use and kept in a per-controller cache, so that the bios
 * run on guest memory and a hot page is not pinned again for every command.
 *
 * One entry per guest page, keyed by IOVA pfn in pins->data.  Entries are
 * pinned for read and write (a Read's data goes straight into the guest)
 * and counted in ctrl->pinned_pages with the queue rings, all within
 * max_pinned_pages.  A command holds its pages as users of their entries;
 * an unused entry waits on pins->lru and is unpinned, oldest first, when a
 * pin needs room.  A page that cannot be taken (budget full of used pins,
 * unmapped, revoked, being pinned or unpinned by someone else) makes the
 * command use the bounce path instead.
 *
 * dma_unmap (dma.c) must return with no pin left in its range.  Under
 * pins->lock it revokes the range (nothing is pinned there again until the
 * next open, for the reason dma.c gives for rings) and claims the unused
 * entries there, which it unpins; an entry in use is marked revoked and
 * unpinned by its last user, whose command then fails with a Data Transfer
 * Error; an entry being pinned is undone by its pinner, who looks at the
 * revoked ranges again once vfio_pin_pages() returns.  An entry leaves
 * pins->data only once it is unpinned, so dma_unmap waits until its range
 * holds no entry at all.  pins->lock is a spinlock and is never held across
 * vfio_pin_pages() or vfio_unpin_pages() (dma.c says why).
 */
#include <linux/bio.h>
#include <linux/slab.h>
#include <linux/iommu.h>
#include <linux/mm.h>

#include "vnvme.h"

/* Unused entries unpinned at once when a pin finds the budget full. */
#define VNVME_PINCACHE_EVICT_BATCH	32

enum vnvme_pin_state {
	VNVME_PIN_PINNING,
	VNVME_PIN_PINNED,
	VNVME_PIN_UNPINNING,
};

struct vnvme_pin {
	struct list_head	node;	/* pins->lru while unused and pinned */
	struct page		*page;
	unsigned long		pfn;	/* IOVA >> PAGE_SHIFT */
	unsigned int		users;
	enum vnvme_pin_state	state;
	bool			revoked; /* dma_unmap covered it while in use */
};

void vnvme_pincache_init(struct vnvme_pins *pins)
{
	xa_init(&pins->data);
	INIT_LIST_HEAD(&pins->lru);
	atomic_set(&pins->data_pages, 0);
}

static u64 vnvme_pin_iova(const struct vnvme_pin *pin)
{
	return (u64)pin->pfn << PAGE_SHIFT;
}

/* The entry holds no pin (any more): it leaves the cache. */
static void vnvme_pin_erase(struct vnvme_ctrl *ctrl, struct vnvme_pin *pin)
{
	spin_lock(&ctrl->pins.lock);
	xa_erase(&ctrl->pins.data, pin->pfn);
	spin_unlock(&ctrl->pins.lock);
	kfree(pin);
	/* dma_unmap may wait for its range to empty. */
	wake_up_all(&ctrl->pins.wait);
}

/* Unpins the claimed (UNPINNING) entries on gone; no lock held. */
void vnvme_pincache_unpin_list(struct vnvme_ctrl *ctrl, struct list_head *gone)
{
	struct vnvme_pin *pin, *tmp;

	list_for_each_entry_safe(pin, tmp, gone, node) {
		list_del(&pin->node);
		vfio_unpin_pages(&ctrl->vdev, vnvme_pin_iova(pin), 1);
		atomic_dec(&ctrl->pins.data_pages);
		atomic_dec(&ctrl->pinned_pages);
		vnvme_pin_erase(ctrl, pin);
	}
}

/* Unpins up to nr unused entries, oldest first; returns how many. */
static unsigned int vnvme_pincache_drop_unused(struct vnvme_ctrl *ctrl,
					       unsigned int nr)
{
	struct vnvme_pins *pins = &ctrl->pins;
	struct vnvme_pin *pin, *tmp;
	unsigned int n = 0;
	LIST_HEAD(gone);

	spin_lock(&pins->lock);
	list_for_each_entry_safe(pin, tmp, &pins->lru, node) {
		if (n == nr)
			break;
		pin->state = VNVME_PIN_UNPINNING;
		list_move_tail(&pin->node, &gone);
		n++;
	}
	spin_unlock(&pins->lock);
	vnvme_pincache_unpin_list(ctrl, &gone);
	return n;
}

/* The controller is being disabled: no command holds a page any more. */
void vnvme_pincache_drop_all(struct vnvme_ctrl *ctrl)
{
	while (vnvme_pincache_drop_unused(ctrl, VNVME_PINCACHE_EVICT_BATCH))
		;
}

/*
 * Counts nr more pinned pages (rings or data) within max_pinned_pages,
 * unpinning unused data pages to make room.  Never called from dma_unmap.
 */
/*
 * Adds nr to pinned_pages unless that passes the budget.  A compare and
 * exchange, not an add and a take-back: the count, which sysfs shows, never
 * exceeds max_pinned_pages, even for a moment.
 */
static bool vnvme_pins_try_charge(struct vnvme_ctrl *ctrl, unsigned int nr)
{
	int old = atomic_read(&ctrl->pinned_pages);

	do {
		if ((unsigned int)old + nr > vnvme_max_pinned_pages)
			return false;
	} while (!atomic_try_cmpxchg(&ctrl->pinned_pages, &old, old + nr));
	return true;
}

bool vnvme_pins_charge(struct vnvme_ctrl *ctrl, unsigned int nr)
{
	unsigned int evicted;

	if (vnvme_pins_try_charge(ctrl, nr))
		return true;
	evicted = vnvme_pincache_drop_unused(ctrl,
					     max_t(unsigned int, nr,
						   VNVME_PINCACHE_EVICT_BATCH));
	if (!evicted)
		return false;
	atomic64_add(evicted, &ctrl->pins.evictions);
	return vnvme_pins_try_charge(ctrl, nr);
}

/*
 * dma_unmap, under pins->lock, after it revoked [start, end): claims the
 * unused entries there onto gone and leaves the others to their users.
 */
void vnvme_pincache_revoke_locked(struct vnvme_ctrl *ctrl, u64 start, u64 end,
				  struct list_head *gone)
{
	struct vnvme_pins *pins = &ctrl->pins;
	struct vnvme_pin *pin;
	unsigned long index;

	lockdep_assert_held(&pins->lock);
	if (start >= end)
		return;
	xa_for_each_range(&pins->data, index, pin, start >> PAGE_SHIFT,
			  (end - 1) >> PAGE_SHIFT) {
		/* One being pinned: its pinner sees the range revoked. */
		if (pin->state != VNVME_PIN_PINNED)
			continue;
		if (pin->users) {
			pin->revoked = true;
			continue;
		}
		pin->state = VNVME_PIN_UNPINNING;
		list_move_tail(&pin->node, gone);
	}
}

/* Does [start, end) still hold a data pin, or one being taken or dropped? */
bool vnvme_pincache_busy_locked(struct vnvme_pins *pins, u64 start, u64 end)
{
	unsigned long index = start >> PAGE_SHIFT;

	lockdep_assert_held(&pins->lock);
	return start < end &&
	       xa_find(&pins->data, &index, (end - 1) >> PAGE_SHIFT, XA_PRESENT);
}

/*
 * Can a bio carry the page?  A VFIO user may map device memory (another
 * device's BAR, VM_PFNMAP) as guest memory: vfio_pin_pages() accepts it,
 * but its "page" has no struct page behind it.  That data bounces.
 */
static bool vnvme_page_bio_safe(struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	return pfn_valid(pfn) && !PageReserved(page) &&
	       !is_zone_device_page(page);
}

/* Pins the page at pfn for a new entry with one user; NULL: bounce. */
static struct vnvme_pin *vnvme_pincache_pin(struct vnvme_ctrl *ctrl,
					    unsigned long pfn)
{
	struct vnvme_pins *pins = &ctrl->pins;
	u64 iova = (u64)pfn << PAGE_SHIFT;
	struct vnvme_pin *pin;
	int ret;

	if (!vnvme_pins_charge(ctrl, 1))
		return NULL;
	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		goto uncharge;
	INIT_LIST_HEAD(&pin->node);
	pin->pfn = pfn;
	pin->users = 1;
	pin->state = VNVME_PIN_PINNING;

	spin_lock(&pins->lock);
	ret = vnvme_pins_revoked(pins, iova, iova + PAGE_SIZE) ? -EFAULT :
	      xa_insert(&pins->data, pfn, pin, GFP_ATOMIC);
	spin_unlock(&pins->lock);
	if (ret) {
		/* Revoked, or another command is pinning the same page. */
		kfree(pin);
		goto uncharge;
	}

	ret = vfio_pin_pages(&ctrl->vdev, iova, 1, IOMMU_READ | IOMMU_WRITE,
			     &pin->page);

	spin_lock(&pins->lock);
	if (ret == 1 && vnvme_page_bio_safe(pin->page) &&
	    !vnvme_pins_revoked(pins, iova, iova + PAGE_SIZE)) {
		pin->state = VNVME_PIN_PINNED;
		spin_unlock(&pins->lock);
		atomic_inc(&pins->data_pages);
		return pin;
	}
	/* dma_unmap waits for this entry to go before it returns. */
	pin->state = VNVME_PIN_UNPINNING;
	spin_unlock(&pins->lock);
	if (ret == 1)
		vfio_unpin_pages(&ctrl->vdev, iova, 1);
	vnvme_pin_erase(ctrl, pin);
uncharge:
	atomic_dec(&ctrl->pinned_pages);
	return NULL;
}

/*
 * Takes a user of the cached page at pfn, under pins->lock: its entry, NULL
 * on a miss (the caller pins it), or ERR_PTR(-EBUSY) if the entry is being
 * pinned or unpinned by someone else, or revoked (the caller bounces).
 */
static struct vnvme_pin *vnvme_pincache_hold_locked(struct vnvme_pins *pins,
						    unsigned long pfn)
{
	struct vnvme_pin *pin = xa_load(&pins->data, pfn);

	lockdep_assert_held(&pins->lock);
	if (!pin)
		return NULL;
	if (pin->state != VNVME_PIN_PINNED || pin->revoked)
		return ERR_PTR(-EBUSY);
	if (!pin->users++)
		list_del_init(&pin->node);
	return pin;
}

/*
 * Drops the request's users of its pages (once; the array stays).  Returns
 * true if dma_unmap revoked one of them while the command used it.
 */
bool vnvme_pincache_put(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	struct vnvme_pins *pins = &ctrl->pins;
	bool revoked = false;
	unsigned int i;
	LIST_HEAD(gone);

	spin_lock(&pins->lock);
	for (i = 0; i < req->nr_pages; i++) {
		struct vnvme_pin *pin = req->pins[i];

		if (!pin)
			continue;
		req->pins[i] = NULL;
		revoked |= pin->revoked;
		if (--pin->users)
			continue;
		if (pin->revoked) {
			pin->state = VNVME_PIN_UNPINNING;
			list_add_tail(&pin->node, &gone);
		} else {
			list_add_tail(&pin->node, &pins->lru);
		}
	}
	spin_unlock(&pins->lock);
	vnvme_pincache_unpin_list(ctrl, &gone);
	return revoked;
}

static unsigned int vnvme_seg_pages(const struct vnvme_dma_seg *seg)
{
	return ((seg->addr + seg->len - 1) >> PAGE_SHIFT) -
	       (seg->addr >> PAGE_SHIFT) + 1;
}

/*
 * Holds every guest page of the request's extents (none a bit bucket):
 * req->pins[i] and req->pages[i] for the i-th page-sized piece, extent by
 * extent.  false (nothing held) if any page cannot be had: bounce instead.
 */
bool vnvme_pincache_get(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	struct vnvme_pins *pins = &ctrl->pins;
	unsigned int nr = 0, i = 0, s;
	struct vnvme_pin *pin;
	long hits = 0;

	for (s = 0; s < req->nr_segs; s++) {
		nr += vnvme_seg_pages(&req->segs[s]);
		if (nr > BIO_MAX_VECS)
			return false;
	}
	/* One allocation: the entries, then their pages. */
	req->pins = kcalloc(nr, sizeof(*req->pins) + sizeof(*req->pages),
			    GFP_KERNEL);
	if (!req->pins)
		return false;
	req->pages = (struct page **)(req->pins + nr);
	req->nr_pages = nr;
	/*
	 * One lock round for the whole command: hits are the common case, and
	 * a 128 KiB transfer has 32 pages.  A miss pins outside the lock
	 * (vfio_pin_pages() sleeps).
	 */
	spin_lock(&pins->lock);
	for (s = 0; s < req->nr_segs; s++) {
		const struct vnvme_dma_seg *seg = &req->segs[s];
		unsigned long pfn = seg->addr >> PAGE_SHIFT;
		unsigned int n = vnvme_seg_pages(seg);

		for (; n; n--, pfn++, i++) {
			pin = vnvme_pincache_hold_locked(pins, pfn);
			if (pin) {
				hits += !IS_ERR(pin);
			} else {
				spin_unlock(&pins->lock);
				atomic64_inc(&pins->misses);
				pin = vnvme_pincache_pin(ctrl, pfn) ?: ERR_PTR(-ENOMEM);
				spin_lock(&pins->lock);
			}
			if (IS_ERR(pin))
				goto fail;
			req->pins[i] = pin;
			req->pages[i] = pin->page;
		}
	}
	spin_unlock(&pins->lock);
	atomic64_add(hits, &pins->hits);
	return true;

fail:
	spin_unlock(&pins->lock);
	atomic64_add(hits, &pins->hits);
	vnvme_pincache_free(req);
	return false;
}

/* Gives back what vnvme_pincache_get() allocated; the users are dropped. */
void vnvme_pincache_free(struct vnvme_req *req)
{
	vnvme_pincache_put(req);
	kfree(req->pins);
	req->pins = NULL;
	req->pages = NULL;
	req->nr_pages = 0;
}
