// SPDX-License-Identifier: GPL-2.0
/*
 * regs.c - BAR0 controller registers, the CC/CSTS state machine, controller
 * reset, shutdown and Controller Fatal Status.
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "vnvme.h"

#define VNVME_VS_1_4		0x00010400
#define VNVME_AQA_MASK		(GENMASK(27, 16) | GENMASK(11, 0))
#define VNVME_DB_END		(VNVME_DB_OFFSET + 8 * VNVME_MAX_QUEUES)

void vnvme_regs_init(struct vnvme_ctrl *ctrl)
{
	ctrl->cap = VNVME_MQES |			/* MQES */
		    BIT_ULL(16) |			/* CQR: contiguous queues */
		    (u64)VNVME_CAP_TO << 24 |		/* TO */
		    BIT_ULL(37);			/* CSS: NVM command set */
	ctrl->cc = 0;
	ctrl->csts = 0;
	ctrl->aqa = 0;
	ctrl->asq = 0;
	ctrl->acq = 0;
	ctrl->intms = 0;
	memset(ctrl->db, 0, sizeof(ctrl->db));
}

const char *vnvme_ctrl_state_name(struct vnvme_ctrl *ctrl)
{
	u32 csts = READ_ONCE(ctrl->csts);

	if (csts & VNVME_CSTS_CFS)
		return "failed";
	if ((csts & VNVME_CSTS_SHST_MASK) == VNVME_CSTS_SHST_CMPLT)
		return "shutdown";
	if (csts & VNVME_CSTS_RDY)
		return "ready";
	if (READ_ONCE(ctrl->cc) & VNVME_CC_EN)
		return "enabled";
	return "off";
}

/* Drops every queue and command; the caller holds ctrl->lock. */
static void vnvme_ctrl_disable(struct vnvme_ctrl *ctrl)
{
	lockdep_assert_held(&ctrl->lock);

	vnvme_dbpage_stop(ctrl);
	if ((ctrl->csts & VNVME_CSTS_RDY) &&
	    (ctrl->csts & VNVME_CSTS_SHST_MASK) != VNVME_CSTS_SHST_CMPLT)
		ctrl->smart.unsafe_shutdowns++;
	vnvme_queues_delete_all(ctrl);
	/* No command holds a data page now: a disabled controller pins none. */
	vnvme_pincache_drop_all(ctrl);
	vnvme_admin_reset(ctrl);
	memset(ctrl->db, 0, sizeof(ctrl->db));
	ctrl->fatal_pending = false;
}

/* A fresh controller: CC.EN 1->0, VFIO_DEVICE_RESET and last close. */
void vnvme_ctrl_reset(struct vnvme_ctrl *ctrl)
{
	mutex_lock(&ctrl->lock);
	vnvme_ctrl_disable(ctrl);
	vnvme_regs_init(ctrl);
	mutex_unlock(&ctrl->lock);
}

/*
 * Something the controller cannot recover from by itself: report CFS, stop
 * using guest memory and wait for the host to reset us.  A report queued
 * by a worker (only_if_pending) is void once the controller was reset.
 */
void vnvme_ctrl_fatal(struct vnvme_ctrl *ctrl, const char *why,
		      bool only_if_pending)
{
	mutex_lock(&ctrl->lock);
	if (only_if_pending && !ctrl->fatal_pending) {
		mutex_unlock(&ctrl->lock);
		return;
	}
	if (!(ctrl->csts & VNVME_CSTS_CFS))
		dev_warn_ratelimited(vnvme_dev(ctrl), "controller fatal: %s\n", why);
	vnvme_ctrl_disable(ctrl);
	WRITE_ONCE(ctrl->csts, ctrl->csts | VNVME_CSTS_CFS);
	mutex_unlock(&ctrl->lock);
	vnvme_notify(ctrl, VNVME_EVENT_CTRL_FATAL, 0, 0);
}

/* Checks CC and the admin queue registers as the 0->1 transition of EN needs. */
static bool vnvme_ctrl_enable_valid(struct vnvme_ctrl *ctrl, u32 cc)
{
	u16 asqs = (ctrl->aqa & 0xfff) + 1;
	u16 acqs = ((ctrl->aqa >> 16) & 0xfff) + 1;
	u32 css = VNVME_CC_CSS(cc);

	if (VNVME_CC_MPS(cc) != 0 || VNVME_CC_AMS(cc) != 0)
		return false;
	if (css != VNVME_CC_CSS_NVM && css != VNVME_CC_CSS_ADMIN)
		return false;
	if (asqs < 2 || acqs < 2 || asqs > VNVME_MQES + 1 ||
	    acqs > VNVME_MQES + 1)
		return false;
	return ctrl->asq && ctrl->acq;
}

static void vnvme_ctrl_enable(struct vnvme_ctrl *ctrl, u32 cc)
{
	u16 asqs = (ctrl->aqa & 0xfff) + 1;
	u16 acqs = ((ctrl->aqa >> 16) & 0xfff) + 1;

	lockdep_assert_held(&ctrl->lock);

	if (!vnvme_ctrl_enable_valid(ctrl, cc)) {
		dev_warn_ratelimited(vnvme_dev(ctrl),
				     "enable refused: CC %#x AQA %#x ASQ %#llx ACQ %#llx\n",
				     cc, ctrl->aqa, ctrl->asq, ctrl->acq);
		WRITE_ONCE(ctrl->csts, VNVME_CSTS_CFS);
		vnvme_notify(ctrl, VNVME_EVENT_CTRL_FATAL, 0, 0);
		return;
	}
	vnvme_admin_reset(ctrl);
	if (vnvme_cq_create(ctrl, 0, ctrl->acq, acqs, 0, true) ||
	    vnvme_sq_create(ctrl, 0, ctrl->asq, asqs, 0)) {
		vnvme_queues_delete_all(ctrl);
		dev_warn_ratelimited(vnvme_dev(ctrl),
				     "enable failed: admin queues not in mapped guest memory\n");
		WRITE_ONCE(ctrl->csts, VNVME_CSTS_CFS);
		vnvme_notify(ctrl, VNVME_EVENT_CTRL_FATAL, 0, 0);
		return;
	}
	vnvme_dbpage_start(ctrl);
	WRITE_ONCE(ctrl->csts, VNVME_CSTS_RDY);
	vnvme_notify(ctrl, VNVME_EVENT_CTRL_ENABLED, 0, 0);
}

/*
 * Normal shutdown: SHST complete promises that every write the host saw
 * complete is on stable media.  If commands were still in flight when the
 * bounded wait gave up, or a flush failed, that promise cannot be made.
 * NVMe has no shutdown status for failure and there is no command to fail,
 * so the controller reports Controller Fatal Status (an error it cannot
 * report in a completion queue) and leaves SHST at "occurring": the host
 * sees the shutdown did not complete, resets the controller, and that reset
 * counts an unsafe shutdown in SMART.
 */
static void vnvme_ctrl_shutdown(struct vnvme_ctrl *ctrl)
{
	bool drained;
	int ret;

	lockdep_assert_held(&ctrl->lock);

	WRITE_ONCE(ctrl->csts, (ctrl->csts & ~VNVME_CSTS_SHST_MASK) |
		   VNVME_CSTS_SHST_OCCUR);
	drained = vnvme_queues_stop_io(ctrl);
	ret = vnvme_ns_flush_all(ctrl);
	if (!drained || ret) {
		dev_warn_ratelimited(vnvme_dev(ctrl), "shutdown failed: %s\n",
				     drained ? "a backing device failed to flush" :
				     "commands still in flight");
		WRITE_ONCE(ctrl->csts, ctrl->csts | VNVME_CSTS_CFS);
		vnvme_notify(ctrl, VNVME_EVENT_CTRL_FATAL, 0, 0);
		return;
	}
	WRITE_ONCE(ctrl->csts, (ctrl->csts & ~VNVME_CSTS_SHST_MASK) |
		   VNVME_CSTS_SHST_CMPLT);
	vnvme_notify(ctrl, VNVME_EVENT_CTRL_SHUTDOWN, 0, 0);
}

static void vnvme_cc_write(struct vnvme_ctrl *ctrl, u32 val)
{
	u32 old = ctrl->cc;
	u32 cc = val & VNVME_CC_WRITABLE;

	lockdep_assert_held(&ctrl->lock);

	/* MPS, AMS and CSS only change while disabled. */
	if ((old & VNVME_CC_EN) && (cc & VNVME_CC_EN))
		cc = (cc & ~VNVME_CC_EN0_ONLY) | (old & VNVME_CC_EN0_ONLY);
	WRITE_ONCE(ctrl->cc, cc);

	if ((old & VNVME_CC_EN) && !(cc & VNVME_CC_EN)) {
		vnvme_ctrl_disable(ctrl);
		WRITE_ONCE(ctrl->csts, 0);
		vnvme_notify(ctrl, VNVME_EVENT_CTRL_DISABLED, 0, 0);
		return;
	}
	if (!(old & VNVME_CC_EN) && (cc & VNVME_CC_EN)) {
		if (ctrl->csts & VNVME_CSTS_CFS)
			return;
		vnvme_ctrl_enable(ctrl, cc);
	}
	if ((cc & VNVME_CC_EN) && VNVME_CC_SHN(cc) && !VNVME_CC_SHN(old) &&
	    (ctrl->csts & VNVME_CSTS_RDY))
		vnvme_ctrl_shutdown(ctrl);
	if (!VNVME_CC_SHN(cc) && VNVME_CC_SHN(old))
		WRITE_ONCE(ctrl->csts, ctrl->csts & ~VNVME_CSTS_SHST_MASK);
}

static u32 vnvme_reg_read32(struct vnvme_ctrl *ctrl, unsigned int off)
{
	switch (off) {
	case NVME_REG_CAP:
		return lower_32_bits(ctrl->cap);
	case NVME_REG_CAP + 4:
		return upper_32_bits(ctrl->cap);
	case NVME_REG_VS:
		return VNVME_VS_1_4;
	case NVME_REG_INTMS:
	case NVME_REG_INTMC:
		return ctrl->intms;
	case NVME_REG_CC:
		return ctrl->cc;
	case NVME_REG_CSTS:
		return READ_ONCE(ctrl->csts);
	case NVME_REG_AQA:
		return ctrl->aqa;
	case NVME_REG_ASQ:
		return lower_32_bits(ctrl->asq);
	case NVME_REG_ASQ + 4:
		return upper_32_bits(ctrl->asq);
	case NVME_REG_ACQ:
		return lower_32_bits(ctrl->acq);
	case NVME_REG_ACQ + 4:
		return upper_32_bits(ctrl->acq);
	}
	/* Doorbells read back their last value; everything else is 0. */
	if (off >= VNVME_DB_OFFSET && off < VNVME_DB_END)
		return READ_ONCE(ctrl->db[(off - VNVME_DB_OFFSET) / 4]);
	return 0;
}

static void vnvme_set_lo(u64 *reg, u32 val)
{
	*reg = (*reg & GENMASK_ULL(63, 32)) | val;
}

static void vnvme_set_hi(u64 *reg, u32 val)
{
	*reg = (*reg & GENMASK_ULL(31, 0)) | (u64)val << 32;
}

static void vnvme_reg_write32(struct vnvme_ctrl *ctrl, unsigned int off,
			      u32 val)
{
	bool enabled = ctrl->cc & VNVME_CC_EN;

	lockdep_assert_held(&ctrl->lock);

	switch (off) {
	case NVME_REG_INTMS:
		ctrl->intms |= val;
		return;
	case NVME_REG_INTMC:
		ctrl->intms &= ~val;
		return;
	case NVME_REG_CC:
		vnvme_cc_write(ctrl, val);
		return;
	}
	/* The admin queue attributes are fixed while the controller runs. */
	if (enabled)
		return;
	switch (off) {
	case NVME_REG_AQA:
		ctrl->aqa = val & VNVME_AQA_MASK;
		break;
	case NVME_REG_ASQ:
		vnvme_set_lo(&ctrl->asq, val & PAGE_MASK);
		break;
	case NVME_REG_ASQ + 4:
		vnvme_set_hi(&ctrl->asq, val);
		break;
	case NVME_REG_ACQ:
		vnvme_set_lo(&ctrl->acq, val & PAGE_MASK);
		break;
	case NVME_REG_ACQ + 4:
		vnvme_set_hi(&ctrl->acq, val);
		break;
	}
}

/* Merges a partial access into the dword it touches. */
static u32 vnvme_merge(u32 old, unsigned int shift, const u8 *src,
		       unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		old &= ~(0xffU << ((shift + i) * 8));
		old |= (u32)src[i] << ((shift + i) * 8);
	}
	return old;
}

static void vnvme_extract(u32 val, unsigned int shift, u8 *dst,
			  unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		dst[i] = val >> ((shift + i) * 8);
}

/* One register dword; a partial write is merged with the current value. */
static void vnvme_reg_access(struct vnvme_ctrl *ctrl, unsigned int off,
			     unsigned int shift, u8 *bytes, unsigned int len,
			     bool is_write)
{
	u32 val;

	mutex_lock(&ctrl->lock);
	val = vnvme_reg_read32(ctrl, off);
	if (!is_write) {
		vnvme_extract(val, shift, bytes, len);
	} else {
		/* Mask set/clear registers act on the written bits only. */
		if (off == NVME_REG_INTMS || off == NVME_REG_INTMC)
			val = 0;
		vnvme_reg_write32(ctrl, off, vnvme_merge(val, shift, bytes, len));
	}
	mutex_unlock(&ctrl->lock);
}

/*
 * BAR0 access of 1, 2, 4 or 8 bytes at any offset.  Each dword touched is
 * read (and for writes merged and written back), so 64-bit registers work
 * as one 8-byte access or as two 4-byte halves.
 */
int vnvme_bar0_rw(struct vnvme_ctrl *ctrl, u64 pos, void *buf, size_t count,
		  bool is_write)
{
	u8 *bytes = buf;
	size_t done = 0;

	if (count != 1 && count != 2 && count != 4 && count != 8)
		return -EINVAL;
	if (pos >= VNVME_BAR0_SIZE || count > VNVME_BAR0_SIZE - pos)
		return -EINVAL;

	while (done < count) {
		unsigned int off = (pos + done) & ~3U;
		unsigned int shift = (pos + done) & 3;
		unsigned int len = min_t(size_t, 4 - shift, count - done);

		if (off >= VNVME_DB_OFFSET) {
			unsigned int idx = (off - VNVME_DB_OFFSET) / 4;
			u32 old = 0, val;

			if (off < VNVME_DB_END)
				old = READ_ONCE(ctrl->db[idx]);
			if (is_write && off < VNVME_MSIX_TABLE_OFFSET) {
				/* In mapped mode the poller serves it. */
				val = vnvme_merge(old, shift, bytes + done, len);
				if (!vnvme_dbpage_post(ctrl, idx, val))
					vnvme_doorbell_write(ctrl, idx, val);
			} else if (!is_write) {
				vnvme_extract(old, shift, bytes + done, len);
			}
		} else {
			vnvme_reg_access(ctrl, off, shift, bytes + done, len,
					 is_write);
		}
		done += len;
	}
	return 0;
}
