// SPDX-License-Identifier: GPL-2.0
/*
 * libvnvme NVMe layer: controller bring-up, admin and I/O queues, command
 * submission and completion, PRPs, admin and I/O command helpers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define PRP_ENTRIES_PER_PAGE	(NVME_PAGE_SIZE / sizeof(uint64_t))
#define SCRATCH_PRP_LIST_PAGES	DIV_ROUND_UP(VNVME_SCRATCH_SIZE / NVME_PAGE_SIZE, PRP_ENTRIES_PER_PAGE)

uint64_t vnvme_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * Waiting without an interrupt: spin briefly (the answer usually comes in
 * microseconds), then yield, then sleep, so a slow or dead device does not
 * starve the CPU its own worker needs (the VMs have two).
 */
static void poll_backoff(uint64_t waited_ns)
{
	if (waited_ns < 50000)
		cpu_relax();
	else if (waited_ns < 2000000)
		sched_yield();
	else
		usleep(200);
}

static const struct {
	int code;
	const char *name;
} status_names[] = {
	{ NVME_SC_SUCCESS, "SUCCESS" },
	{ NVME_SC_INVALID_OPCODE, "INVALID_OPCODE" },
	{ NVME_SC_INVALID_FIELD, "INVALID_FIELD" },
	{ NVME_SC_CMDID_CONFLICT, "CMDID_CONFLICT" },
	{ NVME_SC_DATA_XFER_ERROR, "DATA_XFER_ERROR" },
	{ NVME_SC_POWER_LOSS, "POWER_LOSS" },
	{ NVME_SC_INTERNAL, "INTERNAL" },
	{ NVME_SC_ABORT_REQ, "ABORT_REQ" },
	{ NVME_SC_ABORT_SQ_DELETED, "ABORT_SQ_DELETED" },
	{ NVME_SC_INVALID_NS, "INVALID_NS" },
	{ NVME_SC_PRP_OFFSET_INVALID, "PRP_OFFSET_INVALID" },
	{ NVME_SC_LBA_RANGE, "LBA_RANGE" },
	{ NVME_SC_CAP_EXCEEDED, "CAP_EXCEEDED" },
	{ NVME_SC_NS_NOT_READY, "NS_NOT_READY" },
	{ NVME_SC_CQ_INVALID, "CQ_INVALID" },
	{ NVME_SC_QID_INVALID, "QID_INVALID" },
	{ NVME_SC_QUEUE_SIZE, "QUEUE_SIZE" },
	{ NVME_SC_ABORT_LIMIT, "ABORT_LIMIT" },
	{ NVME_SC_ASYNC_LIMIT, "ASYNC_LIMIT" },
	{ NVME_SC_INVALID_VECTOR, "INVALID_VECTOR" },
	{ NVME_SC_INVALID_LOG_PAGE, "INVALID_LOG_PAGE" },
	{ NVME_SC_INVALID_QUEUE_DELETE, "INVALID_QUEUE_DELETE" },
	{ NVME_SC_FEATURE_NOT_SAVEABLE, "FEATURE_NOT_SAVEABLE" },
	{ NVME_SC_FEATURE_NOT_CHANGEABLE, "FEATURE_NOT_CHANGEABLE" },
	{ NVME_SC_ATTR_CONFLICT, "ATTR_CONFLICT" },
	{ NVME_SC_READ_ONLY, "READ_ONLY" },
	{ NVME_SC_WRITE_FAULT, "WRITE_FAULT" },
	{ NVME_SC_READ_ERROR, "READ_ERROR" },
	{ NVME_SC_COMPARE_FAILED, "COMPARE_FAILED" },
	{ NVME_SC_ACCESS_DENIED, "ACCESS_DENIED" },
};

const char *vnvme_status_name(int status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(status_names); i++)
		if (status_names[i].code == NVME_STATUS_CODE(status))
			return status_names[i].name;
	return "UNKNOWN";
}

/* ------------------------------------------------------------------------ */
/* Registers                                                                 */
/* ------------------------------------------------------------------------ */

int vnvme_reg_read32(struct vnvme_ctrl *ctrl, uint32_t reg, uint32_t *val)
{
	return vnvme_bar_read(ctrl->dev, reg, val, sizeof(*val));
}

int vnvme_reg_write32(struct vnvme_ctrl *ctrl, uint32_t reg, uint32_t val)
{
	return vnvme_bar_write(ctrl->dev, reg, &val, sizeof(val));
}

/* Two 32-bit accesses, low dword first, as Linux (lo_hi_readq) and SeaBIOS do. */
int vnvme_reg_read64(struct vnvme_ctrl *ctrl, uint32_t reg, uint64_t *val)
{
	uint32_t lo, hi;
	int ret;

	ret = vnvme_reg_read32(ctrl, reg, &lo);
	if (!ret)
		ret = vnvme_reg_read32(ctrl, reg + 4, &hi);
	if (!ret)
		*val = (uint64_t)hi << 32 | lo;
	return ret;
}

int vnvme_reg_write64(struct vnvme_ctrl *ctrl, uint32_t reg, uint64_t val)
{
	int ret = vnvme_reg_write32(ctrl, reg, (uint32_t)val);

	return ret ? ret : vnvme_reg_write32(ctrl, reg + 4, (uint32_t)(val >> 32));
}

uint32_t vnvme_sq_doorbell_reg(const struct vnvme_queue *q)
{
	return NVME_REG_DOORBELLS + 2u * q->qid * q->ctrl->doorbell_stride;
}

uint32_t vnvme_cq_doorbell_reg(const struct vnvme_queue *q)
{
	return NVME_REG_DOORBELLS + (2u * q->qid + 1) * q->ctrl->doorbell_stride;
}

/* The EventIdx rule: ring if the controller asked for a value in [old, new). */
static bool doorbell_needs_event(uint16_t event_idx, uint16_t new_val, uint16_t old)
{
	return (uint16_t)(new_val - event_idx - 1) < (uint16_t)(new_val - old);
}

/*
 * Publishes a doorbell value: in the shadow page for an I/O queue when the
 * controller has one, then the register only if EventIdx asks for it.
 */
static int doorbell_write(struct vnvme_queue *q, uint32_t reg, uint16_t val)
{
	struct vnvme_ctrl *ctrl = q->ctrl;
	unsigned int slot = vnvme_doorbell_slot(reg);

	if (ctrl->shadow_db && q->qid) {
		uint16_t old = (uint16_t)ctrl->shadow_db[slot];

		__atomic_store_n(&ctrl->shadow_db[slot], val, __ATOMIC_RELEASE);
		/* The shadow value is visible before EventIdx is read (the controller
		 * writes EventIdx before reading the shadow again).
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!doorbell_needs_event((uint16_t)ctrl->eventidx[slot], val, old)) {
			q->doorbells_skipped++;
			return 0;
		}
	}
	q->doorbell_writes++;
	if (ctrl->dev->doorbells && reg >= NVME_REG_DOORBELLS &&
	    reg - NVME_REG_DOORBELLS < NVME_PAGE_SIZE) {
		/* The queue entries are visible before the doorbell (x86: a store). */
		__atomic_store_n(&ctrl->dev->doorbells[vnvme_doorbell_slot(reg)], val,
				 __ATOMIC_RELEASE);
		return 0;
	}
	return vnvme_reg_write32(ctrl, reg, val);
}

/* ------------------------------------------------------------------------ */
/* Controller state                                                          */
/* ------------------------------------------------------------------------ */

static int wait_csts(struct vnvme_ctrl *ctrl, uint32_t mask, uint32_t value,
		     unsigned int timeout_ms, bool fail_on_cfs)
{
	uint64_t start = vnvme_now_ns();
	uint64_t timeout_ns = (uint64_t)timeout_ms * 1000000;
	uint32_t csts;
	int ret;

	for (;;) {
		ret = vnvme_reg_read32(ctrl, NVME_REG_CSTS, &csts);
		if (ret)
			return vnvme_fail(ret, "read CSTS");
		if (csts == 0xffffffff)
			return vnvme_fail(-ENODEV, "CSTS reads all ones: device gone");
		if ((csts & mask) == value)
			return 0;
		if (fail_on_cfs && (csts & NVME_CSTS_CFS))
			return vnvme_fail(-EIO, "controller fatal status (CSTS 0x%x)", csts);
		if (vnvme_now_ns() - start > timeout_ns)
			return vnvme_fail(-ETIMEDOUT,
					  "CSTS 0x%x: waited %u ms for (CSTS & 0x%x) == 0x%x",
					  csts, timeout_ms, mask, value);
		usleep(1000);
	}
}

int vnvme_ctrl_wait_csts(struct vnvme_ctrl *ctrl, uint32_t mask, uint32_t value,
			 unsigned int timeout_ms)
{
	return wait_csts(ctrl, mask, value, timeout_ms, false);
}

int vnvme_ctrl_init(struct vnvme_ctrl *ctrl, struct vnvme_dev *dev)
{
	int ret;

	memset(ctrl, 0, sizeof(*ctrl));
	ctrl->dev = dev;
	ctrl->cmd_timeout_ms = VNVME_DEFAULT_CMD_TIMEOUT_MS;
	ret = vnvme_reg_read64(ctrl, NVME_REG_CAP, &ctrl->cap);
	if (!ret)
		ret = vnvme_reg_read32(ctrl, NVME_REG_VS, &ctrl->vs);
	if (ret)
		return vnvme_fail(ret, "read CAP/VS");
	ctrl->doorbell_stride = 4u << NVME_CAP_DSTRD(ctrl->cap);
	/* CAP.TO is in 500 ms units; 0 is a device bug, still allow 500 ms. */
	ctrl->ready_timeout_ms = (NVME_CAP_TO(ctrl->cap) ? NVME_CAP_TO(ctrl->cap) : 1) * 500;

	ret = vnvme_dma_alloc(dev, VNVME_SCRATCH_SIZE, &ctrl->scratch);
	if (!ret)
		ret = vnvme_dma_alloc(dev, SCRATCH_PRP_LIST_PAGES * NVME_PAGE_SIZE,
				      &ctrl->scratch_prp_list);
	if (ret)
		vnvme_ctrl_fini(ctrl);
	return ret;
}

static void queue_free(struct vnvme_ctrl *ctrl, struct vnvme_queue *q)
{
	vnvme_dma_free(ctrl->dev, &q->sq_mem);
	vnvme_dma_free(ctrl->dev, &q->cq_mem);
}

struct vnvme_queue *vnvme_io_queue(struct vnvme_ctrl *ctrl, uint16_t qid)
{
	return qid < ctrl->io_queue_slots ? ctrl->io_queues[qid] : NULL;
}

/* Make room for qid in the queue table. */
static int reserve_queue_slot(struct vnvme_ctrl *ctrl, uint16_t qid)
{
	unsigned int slots = ctrl->io_queue_slots;
	struct vnvme_queue **table;

	if (qid < slots)
		return 0;
	while (slots <= qid)
		slots = slots ? slots * 2 : 64;
	table = realloc(ctrl->io_queues, slots * sizeof(*table));
	if (!table)
		return -ENOMEM;
	memset(table + ctrl->io_queue_slots, 0,
	       (slots - ctrl->io_queue_slots) * sizeof(*table));
	ctrl->io_queues = table;
	ctrl->io_queue_slots = slots;
	return 0;
}

/* The controller forgot every queue (reset): release their memory. */
static void forget_queues(struct vnvme_ctrl *ctrl)
{
	unsigned int qid;

	for (qid = 1; qid < ctrl->io_queue_slots; qid++) {
		if (!ctrl->io_queues[qid])
			continue;
		queue_free(ctrl, ctrl->io_queues[qid]);
		free(ctrl->io_queues[qid]);
		ctrl->io_queues[qid] = NULL;
	}
	queue_free(ctrl, &ctrl->admin);
	ctrl->enabled = false;
	/* A disabled controller forgets its doorbell buffers too. */
	ctrl->shadow_db = NULL;
	ctrl->eventidx = NULL;
}

void vnvme_ctrl_fini(struct vnvme_ctrl *ctrl)
{
	if (!ctrl->dev)
		return;
	forget_queues(ctrl);
	free(ctrl->io_queues);
	ctrl->io_queues = NULL;
	ctrl->io_queue_slots = 0;
	vnvme_dma_free(ctrl->dev, &ctrl->scratch);
	vnvme_dma_free(ctrl->dev, &ctrl->scratch_prp_list);
}

int vnvme_ctrl_disable(struct vnvme_ctrl *ctrl)
{
	uint32_t cc;
	int ret;

	ret = vnvme_reg_read32(ctrl, NVME_REG_CC, &cc);
	if (!ret && (cc & NVME_CC_EN))
		ret = vnvme_reg_write32(ctrl, NVME_REG_CC, cc & ~(NVME_CC_EN | NVME_CC_SHN_MASK));
	if (ret)
		return vnvme_fail(ret, "CC.EN = 0");
	ret = wait_csts(ctrl, NVME_CSTS_RDY, 0, ctrl->ready_timeout_ms, false);
	/* Queue memory is reused only once the controller let go of it. */
	if (!ret)
		forget_queues(ctrl);
	return ret;
}

static int queue_init(struct vnvme_ctrl *ctrl, struct vnvme_queue *q, uint16_t qid,
		      uint16_t depth, uint16_t cq_depth, int irq_vector, int irq_fd)
{
	int ret;

	memset(q, 0, sizeof(*q));
	q->ctrl = ctrl;
	q->qid = qid;
	q->depth = depth;
	q->cq_depth = cq_depth;
	q->cq_phase = 1;
	q->irq_vector = irq_vector;
	q->irq_fd = irq_fd;
	ret = vnvme_dma_alloc(ctrl->dev, (size_t)depth * sizeof(struct nvme_sqe), &q->sq_mem);
	if (!ret)
		ret = vnvme_dma_alloc(ctrl->dev, (size_t)cq_depth * sizeof(struct nvme_cqe),
				      &q->cq_mem);
	if (ret)
		queue_free(ctrl, q);
	return ret;
}

int vnvme_ctrl_enable(struct vnvme_ctrl *ctrl, unsigned int admin_depth,
		      int admin_irq_fd)
{
	uint32_t cc;
	int ret;

	if (!admin_depth)
		admin_depth = VNVME_ADMIN_QUEUE_DEPTH;
	if (admin_depth < 2 || admin_depth > 4096 ||
	    admin_depth > NVME_CAP_MQES(ctrl->cap) + 1)
		return vnvme_fail(-EINVAL, "admin queue depth %u out of range (MQES %u)",
				  admin_depth, NVME_CAP_MQES(ctrl->cap));
	ret = vnvme_ctrl_disable(ctrl);
	if (ret)
		return ret;
	ret = queue_init(ctrl, &ctrl->admin, 0, admin_depth, admin_depth, 0, admin_irq_fd);
	if (ret)
		return ret;

	ret = vnvme_reg_write32(ctrl, NVME_REG_AQA, (admin_depth - 1) << 16 | (admin_depth - 1));
	if (!ret)
		ret = vnvme_reg_write64(ctrl, NVME_REG_ASQ, ctrl->admin.sq_mem.iova);
	if (!ret)
		ret = vnvme_reg_write64(ctrl, NVME_REG_ACQ, ctrl->admin.cq_mem.iova);
	cc = NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_MPS_4K | NVME_CC_AMS_RR |
	     NVME_CC_IOSQES(NVME_SQE_SIZE_LOG2) | NVME_CC_IOCQES(NVME_CQE_SIZE_LOG2);
	if (!ret)
		ret = vnvme_reg_write32(ctrl, NVME_REG_CC, cc);
	if (ret)
		return vnvme_fail(ret, "program AQA/ASQ/ACQ/CC");
	ret = wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, ctrl->ready_timeout_ms, true);
	if (ret)
		return ret;
	ctrl->enabled = true;
	return 0;
}

int vnvme_ctrl_shutdown(struct vnvme_ctrl *ctrl)
{
	uint32_t cc;
	int ret;

	ret = vnvme_reg_read32(ctrl, NVME_REG_CC, &cc);
	if (!ret)
		ret = vnvme_reg_write32(ctrl, NVME_REG_CC,
					(cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
	if (ret)
		return vnvme_fail(ret, "CC.SHN = normal");
	return wait_csts(ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT,
			 MIN(ctrl->ready_timeout_ms, 10000u) + 5000, false);
}

/* ------------------------------------------------------------------------ */
/* Submission and completion                                                 */
/* ------------------------------------------------------------------------ */

unsigned int vnvme_sq_space(const struct vnvme_queue *q)
{
	return (q->sq_head + q->depth - q->sq_tail - 1) % q->depth;
}

int vnvme_sq_push(struct vnvme_queue *q, const struct nvme_sqe *sqe)
{
	struct nvme_sqe *slot;

	if (!vnvme_sq_space(q))
		return -EAGAIN;
	slot = (struct nvme_sqe *)q->sq_mem.vaddr + q->sq_tail;
	*slot = *sqe;
	q->sq_tail = (q->sq_tail + 1) % q->depth;
	return 0;
}

int vnvme_sq_ring(struct vnvme_queue *q)
{
	int ret;

	if (q->sq_tail == q->sq_tail_rung)
		return 0;
	/* The SQEs must be visible before the device learns the new tail. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ret = doorbell_write(q, vnvme_sq_doorbell_reg(q), q->sq_tail);
	if (ret)
		return vnvme_fail(ret, "SQ %u tail doorbell", q->qid);
	q->sq_tail_rung = q->sq_tail;
	return 0;
}

int vnvme_submit(struct vnvme_queue *q, struct nvme_sqe *sqe)
{
	int ret;

	sqe->cid = q->next_cid++;
	ret = vnvme_sq_push(q, sqe);
	return ret ? ret : vnvme_sq_ring(q);
}

/* Take the CQE at the head if the device has posted it (phase tag matches). */
static bool cq_reap_one(struct vnvme_queue *q, struct nvme_cqe *out)
{
	struct nvme_cqe *entry = (struct nvme_cqe *)q->cq_mem.vaddr + q->cq_head;
	uint16_t status = __atomic_load_n(&entry->status, __ATOMIC_ACQUIRE);

	if ((status & 1) != q->cq_phase)
		return false;
	*out = *entry;
	out->status = status;
	q->sq_head = out->sq_head % q->depth;
	if (++q->cq_head == q->cq_depth) {
		q->cq_head = 0;
		q->cq_phase ^= 1;
	}
	return true;
}

int vnvme_cq_reap(struct vnvme_queue *q, struct nvme_cqe *cqes, unsigned int max)
{
	unsigned int n = 0;

	while (n < max && cq_reap_one(q, &cqes[n]))
		n++;
	return (int)n;
}

int vnvme_cq_ring_head(struct vnvme_queue *q)
{
	int ret = doorbell_write(q, vnvme_cq_doorbell_reg(q), q->cq_head);

	return ret ? vnvme_fail(ret, "CQ %u head doorbell", q->qid) : 0;
}

int vnvme_cq_poll(struct vnvme_queue *q, struct nvme_cqe *cqes, unsigned int max)
{
	int n = vnvme_cq_reap(q, cqes, max);
	int ret;

	if (!n)
		return 0;
	ret = vnvme_cq_ring_head(q);
	return ret ? ret : n;
}

int vnvme_cq_wait(struct vnvme_queue *q, struct nvme_cqe *cqe, unsigned int timeout_ms)
{
	uint64_t start = vnvme_now_ns();
	uint64_t timeout_ns = (uint64_t)timeout_ms * 1000000;
	int ret;

	for (;;) {
		uint64_t waited;

		ret = vnvme_cq_poll(q, cqe, 1);
		if (ret)
			return ret < 0 ? ret : 0;
		waited = vnvme_now_ns() - start;
		if (waited >= timeout_ns)
			return vnvme_fail(-ETIMEDOUT, "no completion on CQ %u within %u ms",
					  q->qid, timeout_ms);
		if (q->irq_fd >= 0) {
			/* Wake now and then to look anyway: an interrupt may be coalesced or lost. */
			int64_t got = vnvme_eventfd_wait(q->irq_fd,
					(int)MIN(DIV_ROUND_UP(timeout_ns - waited, 1000000), 100));

			if (got < 0 && got != -ETIMEDOUT)
				return vnvme_fail((int)got, "wait for CQ %u interrupt", q->qid);
		} else {
			poll_backoff(waited);
		}
	}
}

static int exec_cid(struct vnvme_queue *q, const struct nvme_sqe *sqe,
		    struct nvme_cqe *cqe_out)
{
	uint64_t deadline = vnvme_now_ns() + (uint64_t)q->ctrl->cmd_timeout_ms * 1000000;
	struct nvme_cqe cqe;
	int ret;

	ret = vnvme_sq_push(q, sqe);
	if (ret)
		return vnvme_fail(ret, "SQ %u full", q->qid);
	ret = vnvme_sq_ring(q);
	if (ret)
		return ret;
	for (;;) {
		uint64_t now = vnvme_now_ns();

		if (now >= deadline)
			return vnvme_fail(-ETIMEDOUT, "command 0x%02x cid %u on queue %u timed out",
					  sqe->opcode, sqe->cid, q->qid);
		ret = vnvme_cq_wait(q, &cqe, (unsigned int)DIV_ROUND_UP(deadline - now, 1000000));
		if (ret == -ETIMEDOUT)
			continue;	/* reported with the command's words above */
		if (ret)
			return ret;
		if (cqe.cid == sqe->cid && cqe.sq_id == q->qid)
			break;
		q->stray_cqes++;
	}
	if (cqe_out)
		*cqe_out = cqe;
	return NVME_CQE_STATUS_FIELD(cqe.status);
}

int vnvme_exec(struct vnvme_queue *q, struct nvme_sqe *sqe, struct nvme_cqe *cqe)
{
	sqe->cid = q->next_cid++;
	return exec_cid(q, sqe, cqe);
}

int vnvme_exec_raw(struct vnvme_queue *q, const struct nvme_sqe *sqe,
		   struct nvme_cqe *cqe)
{
	return exec_cid(q, sqe, cqe);
}

/* ------------------------------------------------------------------------ */
/* PRPs                                                                      */
/* ------------------------------------------------------------------------ */

/* PRP entries after PRP1 for [iova, iova + len). */
static size_t prp_entries_after_first(uint64_t iova, size_t len)
{
	size_t first = NVME_PAGE_SIZE - iova % NVME_PAGE_SIZE;

	return len <= first ? 0 : DIV_ROUND_UP(len - first, NVME_PAGE_SIZE);
}

size_t vnvme_prp_list_size(uint64_t iova, size_t len)
{
	size_t entries = prp_entries_after_first(iova, len);
	size_t pages;

	if (entries <= 1)
		return 0;	/* PRP2 points at the data itself */
	/* Every list page but the last gives its final slot to the chain pointer. */
	pages = entries <= PRP_ENTRIES_PER_PAGE ? 1 :
		1 + DIV_ROUND_UP(entries - PRP_ENTRIES_PER_PAGE, PRP_ENTRIES_PER_PAGE - 1);
	return pages * NVME_PAGE_SIZE;
}

int vnvme_set_prps(struct nvme_sqe *sqe, uint64_t iova, size_t len,
		   const struct vnvme_dma_buf *prp_list)
{
	size_t entries = prp_entries_after_first(iova, len);
	uint64_t next_page = (iova | (NVME_PAGE_SIZE - 1)) + 1;
	uint64_t *list;
	size_t i, slot = 0, page = 0;

	sqe->flags &= ~0xc0;	/* PSDT = PRPs */
	sqe->prp1 = iova;
	sqe->prp2 = entries == 1 ? next_page : 0;
	if (entries <= 1)
		return 0;
	if (!prp_list || prp_list->size < vnvme_prp_list_size(iova, len) ||
	    prp_list->iova % NVME_PAGE_SIZE)
		return vnvme_fail(-E2BIG, "PRP list buffer too small for %zu bytes", len);

	list = prp_list->vaddr;
	sqe->prp2 = prp_list->iova;
	for (i = 0; i < entries; i++) {
		if (slot == PRP_ENTRIES_PER_PAGE - 1 && entries - i > 1) {
			list[page * PRP_ENTRIES_PER_PAGE + slot] =
				prp_list->iova + (page + 1) * NVME_PAGE_SIZE;
			page++;
			slot = 0;
		}
		list[page * PRP_ENTRIES_PER_PAGE + slot++] = next_page + i * NVME_PAGE_SIZE;
	}
	return 0;
}

int vnvme_build_prps(struct nvme_sqe *sqe, const uint64_t *pages, size_t npages,
		     uint32_t offset, size_t len, const struct vnvme_dma_buf *list,
		     size_t list_off)
{
	size_t first = len < NVME_PAGE_SIZE - offset % NVME_PAGE_SIZE ?
		       len : NVME_PAGE_SIZE - offset % NVME_PAGE_SIZE;
	size_t entries = DIV_ROUND_UP(len - first, NVME_PAGE_SIZE);
	size_t i, pos = list_off;
	uint64_t *slot;

	if (!npages || npages < entries + 1)
		return vnvme_fail(-EINVAL, "%zu pages for %zu bytes at offset %u",
				  npages, len, offset);
	sqe->flags &= ~NVME_SQE_PSDT_MASK;
	sqe->prp1 = pages[0] + offset;
	sqe->prp2 = entries == 1 ? pages[1] : 0;
	if (entries <= 1)
		return 0;
	if (!list || list_off % 8 || list_off >= list->size)
		return vnvme_fail(-EINVAL, "PRP list offset %zu", list_off);
	sqe->prp2 = list->iova + list_off;
	for (i = 0; i < entries; i++) {
		/* The last slot of a page chains on if more than one entry is left. */
		if (pos % NVME_PAGE_SIZE == NVME_PAGE_SIZE - 8 && entries - i > 1) {
			if (pos + 8 + 8 > list->size)
				return vnvme_fail(-E2BIG, "PRP list buffer too small");
			slot = (uint64_t *)((uint8_t *)list->vaddr + pos);
			*slot = list->iova + pos + 8;
			pos += 8;
		}
		if (pos + 8 > list->size)
			return vnvme_fail(-E2BIG, "PRP list buffer too small");
		slot = (uint64_t *)((uint8_t *)list->vaddr + pos);
		*slot = pages[i + 1];
		pos += 8;
	}
	return 0;
}

void vnvme_set_sgl(struct nvme_sqe *sqe, const struct nvme_sgl_desc *desc)
{
	sqe->flags = (uint8_t)((sqe->flags & ~NVME_SQE_PSDT_MASK) | NVME_SQE_PSDT_SGL);
	memcpy(&sqe->prp1, desc, sizeof(*desc));
}

/* ------------------------------------------------------------------------ */
/* Admin commands                                                            */
/* ------------------------------------------------------------------------ */

int vnvme_admin_exec(struct vnvme_ctrl *ctrl, struct nvme_sqe *sqe, void *data,
		     size_t len, bool to_device, struct nvme_cqe *cqe)
{
	int ret;

	if (len > ctrl->scratch.size)
		return vnvme_fail(-E2BIG, "admin data of %zu bytes exceeds the %zu byte scratch buffer",
				  len, ctrl->scratch.size);
	if (len) {
		if (to_device)
			memcpy(ctrl->scratch.vaddr, data, len);
		else
			memset(ctrl->scratch.vaddr, 0, len);
		ret = vnvme_set_prps(sqe, ctrl->scratch.iova, len, &ctrl->scratch_prp_list);
		if (ret)
			return ret;
	}
	ret = vnvme_exec(&ctrl->admin, sqe, cqe);
	if (ret >= 0 && len && !to_device)
		memcpy(data, ctrl->scratch.vaddr, len);
	return ret;
}

int vnvme_identify(struct vnvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf)
{
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_IDENTIFY,
		.nsid = nsid,
		.cdw10 = cns,
	};

	return vnvme_admin_exec(ctrl, &sqe, buf, 4096, false, NULL);
}

int vnvme_shadow_doorbells_config(struct vnvme_ctrl *ctrl, const struct vnvme_dma_buf *shadow,
				  const struct vnvme_dma_buf *eventidx)
{
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_DBBUF_CONFIG,
		.prp1 = shadow->iova,
		.prp2 = eventidx->iova,
	};
	int ret = vnvme_exec(&ctrl->admin, &sqe, NULL);

	if (ret == 0) {
		ctrl->shadow_db = shadow->vaddr;
		ctrl->eventidx = eventidx->vaddr;
	}
	return ret;
}

static int features(struct vnvme_ctrl *ctrl, uint8_t opcode, uint8_t fid,
		    uint32_t nsid, uint32_t cdw11, uint32_t *result)
{
	struct nvme_sqe sqe = {
		.opcode = opcode,
		.nsid = nsid,
		.cdw10 = fid,
		.cdw11 = cdw11,
	};
	struct nvme_cqe cqe;
	int ret;

	ret = vnvme_admin_exec(ctrl, &sqe, NULL, 0, false, &cqe);
	if (ret >= 0 && result)
		*result = cqe.result;
	return ret;
}

int vnvme_get_features(struct vnvme_ctrl *ctrl, uint8_t fid, uint32_t nsid,
		       uint32_t cdw11, uint32_t *result)
{
	return features(ctrl, NVME_ADMIN_GET_FEATURES, fid, nsid, cdw11, result);
}

int vnvme_set_features(struct vnvme_ctrl *ctrl, uint8_t fid, uint32_t nsid,
		       uint32_t cdw11, uint32_t *result)
{
	return features(ctrl, NVME_ADMIN_SET_FEATURES, fid, nsid, cdw11, result);
}

int vnvme_get_log_page(struct vnvme_ctrl *ctrl, uint8_t lid, uint32_t nsid,
		       void *buf, size_t len)
{
	uint32_t numd = (uint32_t)(len / 4) - 1;	/* 0-based dword count */
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_GET_LOG_PAGE,
		.nsid = nsid,
		.cdw10 = lid | (numd & 0xffff) << 16,
		.cdw11 = numd >> 16,
	};

	if (!len || len % 4)
		return vnvme_fail(-EINVAL, "log page length %zu is not a multiple of 4", len);
	return vnvme_admin_exec(ctrl, &sqe, buf, len, false, NULL);
}

int vnvme_queue_alloc(struct vnvme_ctrl *ctrl, uint16_t qid, uint16_t sq_depth,
		      uint16_t cq_depth, int irq_vector, struct vnvme_queue **qp)
{
	struct vnvme_queue *q;
	int irq_fd, ret;

	if (!qid || qid > NVME_MAX_QID || vnvme_io_queue(ctrl, qid))
		return vnvme_fail(-EINVAL, "I/O queue id %u invalid or in use", qid);
	if (reserve_queue_slot(ctrl, qid))
		return vnvme_fail(-ENOMEM, "out of memory");
	if (sq_depth < 2 || cq_depth < 2)
		return vnvme_fail(-EINVAL, "queue depth %u/%u below 2", sq_depth, cq_depth);
	q = malloc(sizeof(*q));
	if (!q)
		return vnvme_fail(-ENOMEM, "out of memory");
	irq_fd = irq_vector >= 0 ? vnvme_msix_fd(ctrl->dev, (unsigned int)irq_vector) : -1;
	ret = queue_init(ctrl, q, qid, sq_depth, cq_depth, irq_vector, irq_fd);
	if (ret) {
		free(q);
		return ret;
	}
	ctrl->io_queues[qid] = q;
	*qp = q;
	return 0;
}

void vnvme_queue_release(struct vnvme_ctrl *ctrl, uint16_t qid)
{
	struct vnvme_queue *q = qid ? vnvme_io_queue(ctrl, qid) : NULL;

	if (!q)
		return;
	queue_free(ctrl, q);
	free(q);
	ctrl->io_queues[qid] = NULL;
}

void vnvme_cmd_create_cq(struct nvme_sqe *sqe, const struct vnvme_queue *q)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = NVME_ADMIN_CREATE_CQ;
	sqe->prp1 = q->cq_mem.iova;
	sqe->cdw10 = (uint32_t)(q->cq_depth - 1) << 16 | q->qid;
	sqe->cdw11 = NVME_QUEUE_PHYS_CONTIG;
	if (q->irq_vector >= 0)
		sqe->cdw11 |= NVME_CQ_IRQ_ENABLED | (uint32_t)q->irq_vector << 16;
}

void vnvme_cmd_create_sq(struct nvme_sqe *sqe, const struct vnvme_queue *q, uint16_t cqid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = NVME_ADMIN_CREATE_SQ;
	sqe->prp1 = q->sq_mem.iova;
	sqe->cdw10 = (uint32_t)(q->depth - 1) << 16 | q->qid;
	sqe->cdw11 = (uint32_t)cqid << 16 | NVME_QUEUE_PHYS_CONTIG;
}

int vnvme_create_io_queue_pair(struct vnvme_ctrl *ctrl, uint16_t qid,
			       uint16_t depth, int irq_vector,
			       struct vnvme_queue **qp)
{
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	int ret;

	if (depth < 2 || depth > NVME_CAP_MQES(ctrl->cap) + 1)
		return vnvme_fail(-EINVAL, "queue depth %u out of range (MQES %u)",
				  depth, NVME_CAP_MQES(ctrl->cap));
	ret = vnvme_queue_alloc(ctrl, qid, depth, depth, irq_vector, &q);
	if (ret)
		return ret;

	vnvme_cmd_create_cq(&sqe, q);
	ret = vnvme_exec(&ctrl->admin, &sqe, NULL);
	if (ret)
		goto err;

	vnvme_cmd_create_sq(&sqe, q, qid);
	ret = vnvme_exec(&ctrl->admin, &sqe, NULL);
	if (ret) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_DELETE_CQ;
		sqe.cdw10 = qid;
		vnvme_exec(&ctrl->admin, &sqe, NULL);
		goto err;
	}
	if (qp)
		*qp = q;
	return 0;

err:
	/* After a timeout the device may still own the memory: keep it then. */
	if (ret != -ETIMEDOUT)
		vnvme_queue_release(ctrl, qid);
	else
		ctrl->io_queues[qid] = NULL;
	if (ret > 0)
		vnvme_fail(-EIO, "creating I/O queue %u: NVMe status 0x%x (%s)",
			   qid, ret, vnvme_status_name(ret));
	return ret;
}

int vnvme_delete_io_queue_pair(struct vnvme_ctrl *ctrl, uint16_t qid)
{
	struct vnvme_queue *q = qid ? vnvme_io_queue(ctrl, qid) : NULL;
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_DELETE_SQ, .cdw10 = qid };
	int ret;

	if (!q)
		return vnvme_fail(-EINVAL, "no I/O queue %u", qid);
	ret = vnvme_exec(&ctrl->admin, &sqe, NULL);
	if (!ret) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_DELETE_CQ;
		sqe.cdw10 = qid;
		ret = vnvme_exec(&ctrl->admin, &sqe, NULL);
	}
	/* Memory the device may still own is kept until the controller is reset. */
	if (ret)
		return ret;
	vnvme_queue_release(ctrl, qid);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Namespaces and I/O commands                                               */
/* ------------------------------------------------------------------------ */

int vnvme_ns_init(struct vnvme_ns *ns, struct vnvme_ctrl *ctrl, uint32_t nsid)
{
	unsigned int lbads;
	int ret;

	memset(ns, 0, sizeof(*ns));
	ns->ctrl = ctrl;
	ns->nsid = nsid;
	ret = vnvme_identify(ctrl, NVME_ID_CNS_NS, nsid, &ns->id);
	if (ret)
		return ret;
	if (!ns->id.nsze)
		return vnvme_fail(-ENODEV, "namespace %u is not active (NSZE 0)", nsid);
	lbads = ns->id.lbaf[ns->id.flbas & 0xf].lbads;
	if (lbads < 9 || lbads > 16)
		return vnvme_fail(-EPROTO, "namespace %u: LBA data size 2^%u", nsid, lbads);
	ns->nsze = ns->id.nsze;
	ns->lba_size = 1u << lbads;
	return 0;
}

void vnvme_cmd_rw(struct nvme_sqe *sqe, uint8_t opcode, uint32_t nsid,
		  uint64_t slba, uint32_t nlb)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->nsid = nsid;
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = (nlb - 1) & 0xffff;
}

static int io_data_cmd(struct vnvme_ns *ns, struct vnvme_queue *q, uint8_t opcode,
		       uint64_t slba, uint32_t nlb, const struct vnvme_dma_buf *buf)
{
	size_t len = (size_t)nlb * ns->lba_size;
	size_t list_size = vnvme_prp_list_size(buf->iova, len);
	struct vnvme_dma_buf prp_list = { 0 };
	struct nvme_sqe sqe;
	int ret;

	if (!nlb || nlb > 0x10000 || buf->size < len)
		return vnvme_fail(-EINVAL, "%u blocks do not fit the command or a %zu byte buffer",
				  nlb, buf->size);
	vnvme_cmd_rw(&sqe, opcode, ns->nsid, slba, nlb);
	ret = list_size ? vnvme_dma_alloc(ns->ctrl->dev, list_size, &prp_list) : 0;
	if (!ret)
		ret = vnvme_set_prps(&sqe, buf->iova, len, &prp_list);
	if (!ret)
		ret = vnvme_exec(q, &sqe, NULL);
	/* A timed-out command may still read its PRP list: keep it then. */
	if (ret != -ETIMEDOUT)
		vnvme_dma_free(ns->ctrl->dev, &prp_list);
	return ret;
}

int vnvme_io_read(struct vnvme_ns *ns, struct vnvme_queue *q, uint64_t slba,
		  uint32_t nlb, const struct vnvme_dma_buf *buf)
{
	return io_data_cmd(ns, q, NVME_IO_READ, slba, nlb, buf);
}

int vnvme_io_write(struct vnvme_ns *ns, struct vnvme_queue *q, uint64_t slba,
		   uint32_t nlb, const struct vnvme_dma_buf *buf)
{
	return io_data_cmd(ns, q, NVME_IO_WRITE, slba, nlb, buf);
}

int vnvme_io_compare(struct vnvme_ns *ns, struct vnvme_queue *q, uint64_t slba,
		     uint32_t nlb, const struct vnvme_dma_buf *buf)
{
	return io_data_cmd(ns, q, NVME_IO_COMPARE, slba, nlb, buf);
}

int vnvme_io_verify(struct vnvme_ns *ns, struct vnvme_queue *q, uint64_t slba,
		    uint32_t nlb)
{
	struct nvme_sqe sqe;

	vnvme_cmd_rw(&sqe, NVME_IO_VERIFY, ns->nsid, slba, nlb);
	return vnvme_exec(q, &sqe, NULL);
}

int vnvme_io_write_zeroes(struct vnvme_ns *ns, struct vnvme_queue *q,
			  uint64_t slba, uint32_t nlb, uint32_t cdw12_flags)
{
	struct nvme_sqe sqe;

	vnvme_cmd_rw(&sqe, NVME_IO_WRITE_ZEROES, ns->nsid, slba, nlb);
	sqe.cdw12 |= cdw12_flags;
	return vnvme_exec(q, &sqe, NULL);
}

int vnvme_io_flush(struct vnvme_ns *ns, struct vnvme_queue *q)
{
	struct nvme_sqe sqe = { .opcode = NVME_IO_FLUSH, .nsid = ns->nsid };

	return vnvme_exec(q, &sqe, NULL);
}

int vnvme_io_dsm(struct vnvme_ns *ns, struct vnvme_queue *q,
		 const struct vnvme_dma_buf *ranges, unsigned int nr,
		 uint32_t attributes)
{
	size_t len = (size_t)nr * sizeof(struct nvme_dsm_range);
	struct nvme_sqe sqe = {
		.opcode = NVME_IO_DSM,
		.nsid = ns->nsid,
		.cdw10 = nr - 1,
		.cdw11 = attributes,
	};
	int ret;

	if (!nr || nr > 256 || ranges->size < len)
		return vnvme_fail(-EINVAL, "DSM: %u ranges", nr);
	ret = vnvme_set_prps(&sqe, ranges->iova, len, NULL);
	return ret ? ret : vnvme_exec(q, &sqe, NULL);
}
