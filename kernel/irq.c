// SPDX-License-Identifier: GPL-2.0
/*
 * irq.c - MSI-X and REQ eventfds (VFIO_DEVICE_SET_IRQS) and interrupt
 * coalescing.
 *
 * QEMU emulates the MSI-X table, masking and the PBA itself; the device only
 * signals the eventfd of a vector.  Signalling is safe from any context.
 */
#include <linux/eventfd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vnvme.h"

void vnvme_irq_disable_all(struct vnvme_ctrl *ctrl)
{
	struct eventfd_ctx *old[VNVME_MAX_VECTORS + 1] = {};
	unsigned int i;

	spin_lock_irq(&ctrl->irq_lock);
	for (i = 0; i < VNVME_MAX_VECTORS; i++) {
		old[i] = ctrl->msix_trig[i];
		ctrl->msix_trig[i] = NULL;
	}
	old[VNVME_MAX_VECTORS] = ctrl->req_trig;
	ctrl->req_trig = NULL;
	spin_unlock_irq(&ctrl->irq_lock);

	for (i = 0; i <= VNVME_MAX_VECTORS; i++)
		if (old[i])
			eventfd_ctx_put(old[i]);
}

void vnvme_irq_signal(struct vnvme_ctrl *ctrl, u16 vector)
{
	unsigned long flags;

	if (vector >= ctrl->nr_vectors)
		return;
	spin_lock_irqsave(&ctrl->irq_lock, flags);
	if (ctrl->msix_trig[vector])
		vnvme_eventfd_signal(ctrl->msix_trig[vector]);
	spin_unlock_irqrestore(&ctrl->irq_lock, flags);
}

void vnvme_irq_request(struct vnvme_ctrl *ctrl)
{
	unsigned long flags;

	spin_lock_irqsave(&ctrl->irq_lock, flags);
	if (ctrl->req_trig)
		vnvme_eventfd_signal(ctrl->req_trig);
	spin_unlock_irqrestore(&ctrl->irq_lock, flags);
}

/* Installs eventfds for vectors [start, start + count); fd -1 clears one. */
static int vnvme_irq_set_eventfds(struct vnvme_ctrl *ctrl,
				  struct eventfd_ctx **slots, unsigned int start,
				  unsigned int count, const s32 *fds)
{
	struct eventfd_ctx **ctx;
	unsigned int i;
	int ret = 0;

	ctx = kcalloc(count, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		if (fds[i] < 0)
			continue;
		ctx[i] = eventfd_ctx_fdget(fds[i]);
		if (IS_ERR(ctx[i])) {
			ret = PTR_ERR(ctx[i]);
			ctx[i] = NULL;
			break;
		}
	}
	if (ret) {
		/* All or nothing: drop what was taken. */
		for (i = 0; i < count; i++)
			if (ctx[i])
				eventfd_ctx_put(ctx[i]);
		kfree(ctx);
		return ret;
	}

	spin_lock_irq(&ctrl->irq_lock);
	for (i = 0; i < count; i++)
		swap(slots[start + i], ctx[i]);
	spin_unlock_irq(&ctrl->irq_lock);
	for (i = 0; i < count; i++)
		if (ctx[i])
			eventfd_ctx_put(ctx[i]);
	kfree(ctx);
	return 0;
}

static void vnvme_irq_clear(struct vnvme_ctrl *ctrl, struct eventfd_ctx **slots,
			    unsigned int nr)
{
	unsigned int i;

	spin_lock_irq(&ctrl->irq_lock);
	for (i = 0; i < nr; i++) {
		struct eventfd_ctx *old = slots[i];

		slots[i] = NULL;
		if (old) {
			spin_unlock_irq(&ctrl->irq_lock);
			eventfd_ctx_put(old);
			spin_lock_irq(&ctrl->irq_lock);
		}
	}
	spin_unlock_irq(&ctrl->irq_lock);
}

/* Signals vectors whose DATA_BOOL flag is set (or all, for DATA_NONE). */
static void vnvme_irq_trigger(struct vnvme_ctrl *ctrl,
			      struct eventfd_ctx **slots, unsigned int start,
			      unsigned int count, const u8 *bools)
{
	unsigned int i;

	spin_lock_irq(&ctrl->irq_lock);
	for (i = 0; i < count; i++)
		if ((!bools || bools[i]) && slots[start + i])
			vnvme_eventfd_signal(slots[start + i]);
	spin_unlock_irq(&ctrl->irq_lock);
}

int vnvme_irq_set(struct vnvme_ctrl *ctrl, struct vfio_irq_set *hdr,
		  void __user *data)
{
	unsigned int nr, data_type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	struct eventfd_ctx **slots;
	size_t data_size = 0;
	void *buf = NULL;
	int ret;

	switch (hdr->index) {
	case VFIO_PCI_MSIX_IRQ_INDEX:
		nr = ctrl->nr_vectors;
		slots = ctrl->msix_trig;
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		nr = 1;
		slots = &ctrl->req_trig;
		break;
	default:
		return -EINVAL;
	}
	ret = vfio_set_irqs_validate_and_prepare(hdr, nr, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		return ret;
	/* Masking is emulated by QEMU; only triggers are meaningful here. */
	if (!(hdr->flags & VFIO_IRQ_SET_ACTION_TRIGGER))
		return -EINVAL;

	if (data_size) {
		buf = memdup_user(data, data_size);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
	}

	if (data_type == VFIO_IRQ_SET_DATA_NONE && hdr->count == 0)
		vnvme_irq_clear(ctrl, slots, nr);
	else if (data_type == VFIO_IRQ_SET_DATA_EVENTFD)
		ret = vnvme_irq_set_eventfds(ctrl, slots, hdr->start,
					     hdr->count, buf);
	else
		vnvme_irq_trigger(ctrl, slots, hdr->start, hdr->count,
				  data_type == VFIO_IRQ_SET_DATA_BOOL ? buf : NULL);
	kfree(buf);
	return ret;
}

/* ---- Interrupt coalescing (Feature 08h, per-vector opt-out Feature 09h) -- */

static void vnvme_cq_signal(struct vnvme_cq *cq)
{
	vnvme_stats_irq(cq->ctrl, cq->qid);
	vnvme_irq_signal(cq->ctrl, cq->vector);
}

static enum hrtimer_restart vnvme_cq_coalesce_expired(struct hrtimer *timer)
{
	struct vnvme_cq *cq = container_of(timer, struct vnvme_cq,
					   coalesce_timer);

	/* Completions posted since an interrupt that took them are due now. */
	if (atomic_xchg(&cq->coalesced, 0))
		vnvme_cq_signal(cq);
	return HRTIMER_NORESTART;
}

void vnvme_cq_irq_init(struct vnvme_cq *cq)
{
	vnvme_hrtimer_setup(&cq->coalesce_timer, vnvme_cq_coalesce_expired,
			    CLOCK_MONOTONIC, HRTIMER_MODE_REL);
}

void vnvme_cq_irq_stop(struct vnvme_cq *cq)
{
	hrtimer_cancel(&cq->coalesce_timer);
}

/*
 * Raises the CQ's vector after 'posted' new entries, unless coalescing asks
 * to wait for more entries (threshold) or a little longer (time).  The admin
 * queue and vectors with Coalescing Disable set always interrupt at once.
 */
void vnvme_cq_irq(struct vnvme_cq *cq, unsigned int posted)
{
	struct vnvme_ctrl *ctrl = cq->ctrl;
	u32 coalesce = READ_ONCE(ctrl->feat.irq_coalesce);
	unsigned int threshold = (coalesce & 0xff) + 1;
	unsigned int time_100us = (coalesce >> 8) & 0xff;
	bool disabled;

	if (!cq->irq_enabled)
		return;
	/* Create CQ checked the vector (< nr_vectors) since IEN is set. */
	disabled = cq->qid == 0 || cq->vector >= VNVME_MAX_VECTORS ||
		   test_bit(cq->vector, ctrl->feat.irq_config_cd);
	if (disabled || !coalesce) {
		vnvme_cq_signal(cq);
		return;
	}
	/*
	 * The count is taken with an exchange, by this poster or by the timer,
	 * so that entries counted are signalled exactly once: neither side can
	 * reset a count the other has just added to.
	 */
	if (atomic_add_return(posted, &cq->coalesced) >= threshold ||
	    !time_100us) {
		hrtimer_try_to_cancel(&cq->coalesce_timer);
		if (atomic_xchg(&cq->coalesced, 0))
			vnvme_cq_signal(cq);
		return;
	}
	/* Not hrtimer_active(): a callback running now signalled too early. */
	if (!hrtimer_is_queued(&cq->coalesce_timer))
		hrtimer_start(&cq->coalesce_timer,
			      ns_to_ktime((u64)time_100us * 100 * NSEC_PER_USEC),
			      HRTIMER_MODE_REL);
}
