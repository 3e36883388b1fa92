// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - per-queue, per-namespace and per-status counters of an instance,
 * updated once per command when it retires, read by netlink.c.
 */
#include <linux/kernel.h>
#include <linux/log2.h>

#include "vnvme.h"

/* Slot 0 counts every status not listed; the rest are the usual suspects. */
static const u16 vnvme_status_slots[VNVME_STATUS_SLOTS] = {
	0,
	VNVME_SC_INVALID_OPCODE,
	VNVME_SC_INVALID_FIELD,
	VNVME_SC_DATA_XFER_ERROR,
	VNVME_SC_INTERNAL,
	VNVME_SC_ABORT_REQ,
	VNVME_SC_INVALID_NS,
	VNVME_SC_NS_WRITE_PROTECTED,
	VNVME_SC_LBA_RANGE,
	VNVME_SC_CAP_EXCEEDED,
	VNVME_SC_QID_INVALID,
	VNVME_SC_INVALID_PRP_OFFSET,
	VNVME_SC_SGL_INVALID_TYPE,
	VNVME_SC_WRITE_FAULT,
	VNVME_SC_READ_ERROR,
	VNVME_SC_COMPARE_FAILED,
};

u16 vnvme_stats_slot_status(unsigned int slot)
{
	return slot < VNVME_STATUS_SLOTS ? vnvme_status_slots[slot] : 0;
}

static unsigned int vnvme_status_slot(u16 status)
{
	unsigned int i;

	status &= ~VNVME_SC_DNR;
	for (i = 1; i < VNVME_STATUS_SLOTS; i++)
		if (vnvme_status_slots[i] == status)
			return i;
	return 0;
}

static void vnvme_io_stats_add(struct vnvme_io_stats *st, struct vnvme_req *req,
			       unsigned int bucket)
{
	atomic64_inc(&st->cmds);
	if (req->status) {
		atomic64_inc(&st->errors);
	} else if (req->len) {
		if (req->cmd.opcode == VNVME_IO_WRITE && req->sq->qid)
			atomic64_add(req->len, &st->bytes_written);
		else if (req->to_guest)
			atomic64_add(req->len, &st->bytes_read);
	}
	atomic64_inc(&st->lat_us_log2[bucket]);
}

void vnvme_stats_account(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u64 us = div_u64(ktime_get_ns() - req->start_ns, NSEC_PER_USEC);
	unsigned int bucket = us ? min_t(unsigned int, ilog2(us) + 1,
					 VNVME_LAT_BUCKETS - 1) : 0;
	u32 nsid = le32_to_cpu(req->cmd.nsid);

	/* A held AER's latency is how long nothing happened; skip it. */
	if (req->sq->qid == 0 && req->cmd.opcode == VNVME_ADM_ASYNC_EVENT)
		return;
	vnvme_io_stats_add(&ctrl->queue_stats[req->sq->qid], req, bucket);
	if (req->sq->qid && nsid >= 1 && nsid <= VNVME_MAX_NS)
		vnvme_io_stats_add(&ctrl->ns_stats[nsid - 1], req, bucket);
	if (req->status)
		atomic64_inc(&ctrl->status_counts[vnvme_status_slot(req->status)]);
}

void vnvme_stats_irq(struct vnvme_ctrl *ctrl, u16 qid)
{
	if (qid < VNVME_MAX_QUEUES)
		atomic64_inc(&ctrl->queue_stats[qid].irqs);
}
