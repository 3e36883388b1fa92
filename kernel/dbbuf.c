// SPDX-License-Identifier: GPL-2.0
/*
 * dbbuf.c - shadow doorbells (Doorbell Buffer Config, NVMe 1.3 and later).
 *
 * Every doorbell write to a virtual controller costs a trap to the VMM and
 * a write() into this driver.  With a shadow doorbell buffer the host keeps
 * its doorbell values in its own memory and writes the real doorbell only
 * when a value passes the EventIdx we published for that doorbell.  We
 * publish one only when we are about to stop looking: an SQ that ran dry or
 * a CQ that is full.  While a queue is busy the host rings nothing at all.
 *
 * Both buffers are single guest pages set up like the queue rings: pinned
 * and mapped until dma_unmap covers them, then reached through vfio_dma_rw()
 * (Controller Fatal Status if the memory stays gone).  A value read
 * from the shadow buffer is the guest's to choose: callers check it against
 * the queue size before using it.
 *
 * Every SQ fetch and CQ post reads a shadow value, so reads take no lock:
 * while both pages are mapped the value is read (and the EventIdx written)
 * through the mappings under RCU, as vnvme_ring_read() does; dma_unmap
 * already unpublishes a mapping and waits a grace period before it unpins.
 * Turning the buffer off (Doorbell Buffer Config again, reset) clears
 * enabled and waits a grace period before it tears the pages down, so a
 * reader that saw enabled set is done with them by then.  Only a page that
 * dma_unmap has covered, reached through vfio_dma_rw() (which sleeps), is
 * read under lock, which keeps teardown away as before; that is the
 * degraded mode of a guest whose memory moved, not the hot path.
 *
 * Linux and SPDK never write the admin queue's shadow slots and always
 * ring its doorbells, so a doorbell write to queue 0 is copied into the
 * shadow slot (as QEMU's emulated controller does): the shadow buffer stays
 * the one place the current values live, whichever way the host works.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "vnvme.h"

/* Shadow slots are dwords at doorbell stride 0: SQ 2 * qid, CQ 2 * qid + 1. */
#define VNVME_DBBUF_SLOTS	(2 * VNVME_MAX_QUEUES)

void vnvme_dbbuf_init(struct vnvme_ctrl *ctrl)
{
	mutex_init(&ctrl->dbbuf.lock);
}

/* Drops both pages; the caller holds dbbuf.lock. */
static void vnvme_dbbuf_unpin(struct vnvme_ctrl *ctrl)
{
	struct vnvme_dbbuf *db = &ctrl->dbbuf;

	lockdep_assert_held(&db->lock);
	if (db->enabled) {
		WRITE_ONCE(db->enabled, false);
		/* Lock-free readers that saw it enabled are done with the pages. */
		synchronize_rcu();
	}
	vnvme_ring_teardown(ctrl, &db->shadow);
	vnvme_ring_teardown(ctrl, &db->eventidx);
}

/*
 * Doorbell Buffer Config: PRP1 is the shadow doorbell page, PRP2 the
 * EventIdx page.  Returns an NVMe status.
 */
u16 vnvme_dbbuf_config(struct vnvme_ctrl *ctrl, u64 shadow_iova,
		       u64 eventidx_iova)
{
	struct vnvme_dbbuf *db = &ctrl->dbbuf;
	__le32 *values;
	unsigned int i;
	bool ok;

	if ((shadow_iova | eventidx_iova) & (VNVME_PAGE_SIZE - 1))
		return VNVME_SC_INVALID_FIELD | VNVME_SC_DNR;
	/* Our EventIdx writes would overwrite the host's doorbell values. */
	if (shadow_iova == eventidx_iova)
		return VNVME_SC_INVALID_FIELD | VNVME_SC_DNR;
	values = kcalloc(VNVME_DBBUF_SLOTS, sizeof(*values), GFP_KERNEL);
	if (!values)
		return VNVME_SC_INTERNAL;

	mutex_lock(&db->lock);
	vnvme_dbbuf_unpin(ctrl);
	/*
	 * Start from the values the registers hold, so a host that set the
	 * buffer up after creating its queues loses nothing.
	 */
	for (i = 0; i < VNVME_DBBUF_SLOTS; i++)
		values[i] = cpu_to_le32(READ_ONCE(ctrl->db[i]));
	ok = !vnvme_ring_setup(ctrl, &db->shadow, shadow_iova,
			       VNVME_PAGE_SIZE) &&
	     !vnvme_ring_setup(ctrl, &db->eventidx, eventidx_iova,
			       VNVME_PAGE_SIZE) &&
	     !vnvme_ring_write(ctrl, &db->shadow, 0, values,
			       VNVME_DBBUF_SLOTS * sizeof(*values)) &&
	     !vnvme_ring_write(ctrl, &db->eventidx, 0, values,
			       VNVME_DBBUF_SLOTS * sizeof(*values));
	kfree(values);
	if (!ok) {
		vnvme_dbbuf_unpin(ctrl);
		mutex_unlock(&db->lock);
		return VNVME_SC_DATA_XFER_ERROR | VNVME_SC_DNR;
	}
	/* Values and mappings in place before any reader switches to them. */
	smp_store_release(&db->enabled, true);
	mutex_unlock(&db->lock);

	vnvme_queues_kick_all(ctrl);
	return VNVME_SC_SUCCESS;
}

/*
 * Migration destination: the source's two pages, set up without writing
 * them; the guest's doorbell values and our EventIdx values came with the
 * guest's memory.  Returns 0 or the pin errno.
 */
int vnvme_dbbuf_restore(struct vnvme_ctrl *ctrl, u64 shadow_iova,
			u64 eventidx_iova)
{
	struct vnvme_dbbuf *db = &ctrl->dbbuf;
	int ret;

	mutex_lock(&db->lock);
	vnvme_dbbuf_unpin(ctrl);
	ret = vnvme_ring_setup(ctrl, &db->shadow, shadow_iova, VNVME_PAGE_SIZE);
	if (!ret)
		ret = vnvme_ring_setup(ctrl, &db->eventidx, eventidx_iova,
				       VNVME_PAGE_SIZE);
	if (ret) {
		vnvme_dbbuf_unpin(ctrl);
	} else {
		/* Mappings in place before any reader switches to them. */
		smp_store_release(&db->enabled, true);
	}
	mutex_unlock(&db->lock);
	return ret;
}

/* Controller reset: back to register doorbells. */
void vnvme_dbbuf_release(struct vnvme_ctrl *ctrl)
{
	mutex_lock(&ctrl->dbbuf.lock);
	vnvme_dbbuf_unpin(ctrl);
	mutex_unlock(&ctrl->dbbuf.lock);
}

/*
 * vnvme_db_read() for pages reached through vfio_dma_rw() (dma_unmap covered
 * one of them): under dbbuf.lock, which keeps teardown away while it sleeps.
 */
static u32 vnvme_db_read_unmapped(struct vnvme_ctrl *ctrl, unsigned int idx,
				  u32 idle)
{
	struct vnvme_dbbuf *db = &ctrl->dbbuf;
	size_t off = idx * sizeof(__le32);
	__le32 val, armed = cpu_to_le32(idle);
	u32 ret = idle;

	mutex_lock(&db->lock);
	if (!db->enabled) {
		ret = READ_ONCE(ctrl->db[idx]);
		goto out;
	}
	if (vnvme_ring_read(ctrl, &db->shadow, off, &val, sizeof(val)))
		goto out;
	if (le32_to_cpu(val) == idle) {
		if (vnvme_ring_write(ctrl, &db->eventidx, off, &armed,
				     sizeof(armed)))
			goto out;
		/* EventIdx visible before the shadow is read again (as the host). */
		smp_mb();
		if (vnvme_ring_read(ctrl, &db->shadow, off, &val, sizeof(val)))
			goto out;
	}
	ret = le32_to_cpu(val);
	/* Queue entries are read only after the doorbell value. */
	smp_rmb();
out:
	mutex_unlock(&db->lock);
	return ret;
}

/*
 * The current value of doorbell idx.  When it equals idle (the value that
 * makes the caller stop: an SQ tail that brings nothing new, a CQ head that
 * leaves no room) the EventIdx is set to it first and the shadow read again,
 * so a host update racing with us either is seen now or rings the doorbell.
 * If the buffer pages are gone for good this returns idle; the controller
 * is failing (CFS) by then.  Lock-free while both pages are mapped.
 */
u32 vnvme_db_read(struct vnvme_ctrl *ctrl, unsigned int idx, u32 idle)
{
	struct vnvme_dbbuf *db = &ctrl->dbbuf;
	__le32 *shadow, *eventidx;
	u32 val;

	rcu_read_lock();
	/* Pairs with the release in vnvme_dbbuf_config(). */
	if (!smp_load_acquire(&db->enabled)) {
		rcu_read_unlock();
		return READ_ONCE(ctrl->db[idx]);
	}
	shadow = rcu_dereference(db->shadow.vaddr);
	eventidx = rcu_dereference(db->eventidx.vaddr);
	if (!shadow || !eventidx) {
		rcu_read_unlock();
		return vnvme_db_read_unmapped(ctrl, idx, idle);
	}
	/* Each slot is one aligned dword: never torn. */
	val = le32_to_cpu(READ_ONCE(shadow[idx]));
	if (val == idle) {
		WRITE_ONCE(eventidx[idx], cpu_to_le32(idle));
		/* EventIdx visible before the shadow is read again (as the host). */
		smp_mb();
		val = le32_to_cpu(READ_ONCE(shadow[idx]));
	}
	rcu_read_unlock();
	/* Queue entries are read only after the doorbell value. */
	smp_rmb();
	return val;
}

/* A register doorbell write to the admin queue, copied into its shadow slot. */
void vnvme_dbbuf_mirror(struct vnvme_ctrl *ctrl, unsigned int idx, u32 val)
{
	struct vnvme_dbbuf *db = &ctrl->dbbuf;
	__le32 shadow = cpu_to_le32(val);

	if (!READ_ONCE(db->enabled))
		return;
	mutex_lock(&db->lock);
	if (db->enabled)
		vnvme_ring_write(ctrl, &db->shadow, idx * sizeof(shadow),
				 &shadow, sizeof(shadow));
	mutex_unlock(&db->lock);
}
