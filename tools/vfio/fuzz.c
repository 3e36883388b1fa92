// SPDX-License-Identifier: GPL-2.0
/*
 * libvnvme hostile-guest fuzzer: a seeded random mix of register, config
 * space, doorbell, command, DMA-mapping and VFIO operations, interleaved
 * with checks that the controller still serves verified I/O.
 *
 * Everything goes through the library's own queue logic; hostile commands
 * are ordinary SQEs with random fields submitted on the library's queues.
 * Operations that may leave the controller in a state the library cannot
 * follow (CC toggles, resets, writes to our own doorbells, deleting our own
 * queues, DMA aimed at our own queue memory) mark the session dirty and the
 * controller is brought up again from scratch before the next command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

#define FUZZ_ADMIN_DEPTH	64
#define FUZZ_IO_DEPTH		64
#define FUZZ_NR_IOQ		3		/* qid 1, 2 polled; 3 on MSI-X vector 1 */
#define FUZZ_DATA_SIZE		(1u << 20)	/* targets of hostile data pointers */
#define FUZZ_LIST_SIZE		(64u << 10)	/* hostile PRP lists and SGL segments */
#define FUZZ_VBUF_SIZE		(512u << 10)	/* verified I/O */
#define FUZZ_BATCH_MAX		8
#define FUZZ_VERIFY_LBAS_MAX	8192		/* LBAs reserved for verified I/O */
#define FUZZ_SPARE_QID		20		/* hostile queues use qids from here */

static const char *const kind_names[VNVME_FUZZ_NR_KINDS] = {
	[VNVME_FUZZ_REG_READ] = "reg_read",
	[VNVME_FUZZ_REG_WRITE] = "reg_write",
	[VNVME_FUZZ_CC] = "cc",
	[VNVME_FUZZ_DOORBELL] = "doorbell",
	[VNVME_FUZZ_CONFIG] = "config",
	[VNVME_FUZZ_ADMIN] = "admin_cmd",
	[VNVME_FUZZ_IO] = "io_cmd",
	[VNVME_FUZZ_QUEUE] = "queue_mgmt",
	[VNVME_FUZZ_DELETE_BUSY] = "delete_busy_queue",
	[VNVME_FUZZ_AER] = "aer_flood",
	[VNVME_FUZZ_DMA_UNMAP] = "dma_unmap",
	[VNVME_FUZZ_IOCTL] = "vfio_ioctl",
	[VNVME_FUZZ_RESET] = "reset",
	[VNVME_FUZZ_NS_TOGGLE] = "ns_toggle",
	[VNVME_FUZZ_VERIFIED_IO] = "verified_io",
};

/* Relative weights per 1000 operations. */
static const unsigned int kind_weight[VNVME_FUZZ_NR_KINDS] = {
	[VNVME_FUZZ_REG_READ] = 90,
	[VNVME_FUZZ_REG_WRITE] = 100,
	[VNVME_FUZZ_CC] = 3,
	[VNVME_FUZZ_DOORBELL] = 100,
	[VNVME_FUZZ_CONFIG] = 90,
	[VNVME_FUZZ_ADMIN] = 180,
	[VNVME_FUZZ_IO] = 330,
	[VNVME_FUZZ_QUEUE] = 30,
	[VNVME_FUZZ_DELETE_BUSY] = 4,
	[VNVME_FUZZ_AER] = 8,
	[VNVME_FUZZ_DMA_UNMAP] = 6,
	[VNVME_FUZZ_IOCTL] = 20,
	[VNVME_FUZZ_RESET] = 1,
	[VNVME_FUZZ_NS_TOGGLE] = 3,
	[VNVME_FUZZ_VERIFIED_IO] = 34,
};

const char *vnvme_fuzz_kind_name(unsigned int kind)
{
	return kind < VNVME_FUZZ_NR_KINDS ? kind_names[kind] : "?";
}

struct fuzz {
	struct vnvme_dev *dev;
	struct vnvme_ctrl ctrl;
	const struct vnvme_fuzz_opts *opts;
	struct vnvme_fuzz_result *res;
	uint64_t rng;
	unsigned int timeout_ms;

	struct vnvme_ns ns;
	uint32_t mdts_bytes;		/* 0: no limit reported */
	unsigned int max_ioq;		/* I/O queue budget of the controller */
	struct vnvme_queue *ioq[FUZZ_NR_IOQ + 1];
	bool have_irq;

	struct vnvme_dma_buf data;	/* hostile data targets */
	struct vnvme_dma_buf lists;	/* hostile PRP lists / SGL segments */
	struct vnvme_dma_buf vbuf;	/* verified I/O data */
	struct vnvme_dma_buf qmem_raw;	/* holds one whole map chunk: */
	uint64_t qmem_off;		/* arena offset of the chunk for hostile queues */
	uint64_t qmem_iova;
	uint8_t *qmem_vaddr;
	size_t qmem_size;

	uint64_t verify_nlb;		/* LBAs [0, verify_nlb) are ours only */
	bool dirty;			/* re-initialise before the next command */
	bool allow_anywhere;		/* this command may aim DMA at any arena page */
	bool ns_enabled;

	pthread_t chaos;
	bool chaos_running;
	volatile bool chaos_stop;
	uint64_t chaos_rng;
	uint64_t unexpected;		/* verified I/O failures cured by a re-init */
};

/* ------------------------------------------------------------------------ */
/* Randomness                                                                */
/* ------------------------------------------------------------------------ */

static uint64_t rnd(struct fuzz *f)
{
	uint64_t x = f->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	f->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct fuzz *f, uint64_t n)
{
	return n ? rnd(f) % n : 0;
}

/* true with probability permille / 1000 */
static bool chance(struct fuzz *f, unsigned int permille)
{
	return below(f, 1000) < permille;
}

/* A value biased towards the edges: 0, 1, all ones, powers of two, random. */
static uint64_t edgy(struct fuzz *f, unsigned int bits)
{
	uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;

	switch (below(f, 8)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return mask;
	case 3:
		return (1ull << below(f, bits)) & mask;
	case 4:
		return ((1ull << below(f, bits)) - 1) & mask;
	case 5:
		return below(f, 16);
	default:
		return rnd(f) & mask;
	}
}

/* ------------------------------------------------------------------------ */
/* Bring-up                                                                  */
/* ------------------------------------------------------------------------ */

static int fuzz_fail(struct fuzz *f, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fuzz_fail(struct fuzz *f, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(f->res->failure, sizeof(f->res->failure), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(f->res->failure) && *vnvme_last_error())
		snprintf(f->res->failure + n, sizeof(f->res->failure) - n, " (%s)",
			 vnvme_last_error());
	f->res->failed_op = f->res->ops;
	return err;
}

static int restore_irqs(struct fuzz *f)
{
	if (!f->have_irq)
		return 0;
	return vnvme_msix_enable(f->dev, 2);
}

/* Controller from scratch: enable, I/O queues, namespace. */
static int reinit_once(struct fuzz *f)
{
	uint32_t nq;
	unsigned int i;
	int ret;

	for (i = 0; i <= FUZZ_NR_IOQ; i++)
		f->ioq[i] = NULL;
	ret = restore_irqs(f);
	if (ret)
		return ret;
	ret = vnvme_ctrl_enable(&f->ctrl, FUZZ_ADMIN_DEPTH, -1);
	if (ret)
		return ret;
	/* The answer tells the budget; asking for it also sets it. */
	ret = vnvme_set_features(&f->ctrl, NVME_FEAT_NUM_QUEUES, 0, 0xfffe00fe, &nq);
	if (ret)
		return ret > 0 ? -EIO : ret;
	f->max_ioq = MIN(nq & 0xffff, nq >> 16) + 1;
	for (i = 1; i <= FUZZ_NR_IOQ && i <= f->max_ioq; i++) {
		int vec = i == FUZZ_NR_IOQ && f->have_irq ? 1 : -1;

		ret = vnvme_create_io_queue_pair(&f->ctrl, (uint16_t)i, FUZZ_IO_DEPTH, vec,
						 &f->ioq[i]);
		if (ret)
			return ret > 0 ? -EIO : ret;
	}
	return 0;
}

/* Map again what a DMA operation left unmapped (the chaos thread owns qmem). */
static void remap_all(struct fuzz *f)
{
	if (!f->chaos_running) {
		vnvme_arena_remap_all(f->dev);
		return;
	}
	if (f->qmem_off)
		vnvme_arena_remap(f->dev, 0, f->qmem_off);
	if (f->qmem_off + f->qmem_size < f->dev->arena.size)
		vnvme_arena_remap(f->dev, f->qmem_off + f->qmem_size,
				  f->dev->arena.size - f->qmem_off - f->qmem_size);
}

static int reinit(struct fuzz *f, const char *why)
{
	uint64_t t0 = vnvme_now_ns();
	int ret, attempt;

	f->res->reinits++;
	if (f->opts->verbose)
		fprintf(stderr, "fuzz: op %llu: re-initialising (%s)\n",
			(unsigned long long)f->res->ops, why);
	for (attempt = 0; attempt < 3; attempt++) {
		remap_all(f);
		ret = reinit_once(f);
		if (!ret) {
			f->dirty = false;
			f->res->reinit_ns += vnvme_now_ns() - t0;
			return 0;
		}
		/* A function reset gets it out of any register state. */
		vnvme_device_reset(f->dev);
	}
	return fuzz_fail(f, ret < 0 ? ret : -EIO,
			 "the controller did not come up again after %s", why);
}

static struct vnvme_queue *pick_ioq(struct fuzz *f)
{
	unsigned int n = MIN((unsigned int)FUZZ_NR_IOQ, f->max_ioq);

	return f->ioq[1 + below(f, n)];
}

/* ------------------------------------------------------------------------ */
/* Submission                                                                */
/* ------------------------------------------------------------------------ */

static bool csts_bad(struct fuzz *f)
{
	uint32_t csts = 0;

	if (vnvme_reg_read32(&f->ctrl, NVME_REG_CSTS, &csts))
		return true;
	if (csts & NVME_CSTS_CFS)
		f->res->fatal_seen++;
	return (csts & (NVME_CSTS_CFS | NVME_CSTS_RDY)) != NVME_CSTS_RDY;
}

/*
 * Submit n hostile commands on q in one doorbell write and wait for those
 * that complete; AERs (which the device holds) are not waited for.
 * Statuses go to status[] (-1 if not seen).
 */
static int submit_batch(struct fuzz *f, struct vnvme_queue *q, struct nvme_sqe *sqes,
			unsigned int n, int *status)
{
	uint64_t deadline, last_check;
	unsigned int i, pending = 0;
	struct nvme_cqe cqes[16];
	int ret, k;

	for (i = 0; i < n; i++) {
		status[i] = -1;
		if (vnvme_sq_space(q) == 0) {
			n = i;
			break;
		}
		sqes[i].cid = q->next_cid++;
		ret = vnvme_sq_push(q, &sqes[i]);
		if (ret)
			return ret;
		f->res->commands++;
		if (!(q->qid == 0 && sqes[i].opcode == NVME_ADMIN_ASYNC_EVENT))
			pending++;
	}
	ret = vnvme_sq_ring(q);
	if (ret)
		return ret;
	last_check = vnvme_now_ns();
	deadline = last_check + (uint64_t)f->timeout_ms * 1000000;
	while (pending) {
		k = vnvme_cq_poll(q, cqes, ARRAY_SIZE(cqes));
		if (k < 0)
			return k;
		for (int j = 0; j < k; j++) {
			for (i = 0; i < n; i++) {
				if (status[i] >= 0 || cqes[j].cid != sqes[i].cid)
					continue;
				status[i] = NVME_CQE_STATUS_FIELD(cqes[j].status);
				f->res->completions++;
				if (status[i])
					f->res->error_statuses++;
				if (!(q->qid == 0 && sqes[i].opcode == NVME_ADMIN_ASYNC_EVENT))
					pending--;
				break;
			}
		}
		if (!k) {
			uint64_t now = vnvme_now_ns();

			if (now > deadline) {
				f->res->timeouts++;
				f->dirty = true;
				return 0;
			}
			/* A fatal or disabled controller completes nothing more. */
			if (now > last_check + 50000000) {
				last_check = now;
				if (csts_bad(f)) {
					f->dirty = true;
					return 0;
				}
			}
			usleep(50);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Hostile data pointers                                                     */
/* ------------------------------------------------------------------------ */

/* An address for hostile DMA; *anywhere is set when it may hit our memory. */
static uint64_t pick_addr(struct fuzz *f, bool *anywhere)
{
	uint64_t arena_end = f->dev->arena.iova + f->dev->arena.size;

	switch (below(f, 20)) {
	case 0:		/* below the arena: never mapped */
		return below(f, f->dev->arena.iova) & ~3ull;
	case 1:		/* beyond the arena */
		return arena_end + (below(f, 1u << 30) & ~3ull);
	case 2:		/* top of the address space */
		return ~0ull - below(f, 1u << 16);
	case 3:
		return rnd(f);
	case 4:
		if (f->allow_anywhere) {
			*anywhere = true;
			return f->dev->arena.iova + below(f, f->dev->arena.size);
		}
		/* fall through */
	default:
		return f->data.iova + below(f, f->data.size);
	}
}

static uint64_t pick_page(struct fuzz *f, bool *anywhere)
{
	uint64_t a = pick_addr(f, anywhere);

	/* Mostly page aligned, sometimes not. */
	return chance(f, 900) ? a & ~(uint64_t)(NVME_PAGE_SIZE - 1) : a;
}

/* A hostile PRP list of n entries at list offset off; returns its IOVA. */
static uint64_t hostile_prp_list(struct fuzz *f, unsigned int n, bool *anywhere)
{
	size_t off = below(f, f->lists.size / 8) * 8;
	uint64_t *ent = f->lists.vaddr;
	size_t slots = f->lists.size / 8;
	unsigned int i, mode = (unsigned int)below(f, 10);

	for (i = 0; i < n && i < slots; i++) {
		size_t at = (off / 8 + i) % slots;
		uint64_t v;

		switch (mode) {
		case 0:		/* loops back onto itself */
			v = f->lists.iova + (off & ~(uint64_t)(NVME_PAGE_SIZE - 1));
			break;
		case 1:		/* chains to the same page forever */
			v = f->lists.iova + ((at * 8) & ~(uint64_t)(NVME_PAGE_SIZE - 1));
			break;
		case 2:		/* misaligned entries */
			v = pick_page(f, anywhere) | (1 + below(f, NVME_PAGE_SIZE - 1));
			break;
		default:
			v = pick_page(f, anywhere);
			break;
		}
		ent[at] = v;
	}
	/* The list pointer itself: mostly qword aligned. */
	return f->lists.iova + (chance(f, 900) ? off : off + 1 + below(f, 7));
}

static void hostile_sgl_desc(struct fuzz *f, struct nvme_sgl_desc *d, uint32_t len,
			     bool *anywhere)
{
	unsigned int type;

	switch (below(f, 12)) {
	case 0:
	case 1:
	case 2:
		type = NVME_SGL_DATA_BLOCK;
		break;
	case 3:
		type = NVME_SGL_BIT_BUCKET;
		break;
	case 4:
	case 5:
		type = NVME_SGL_SEGMENT;
		break;
	case 6:
	case 7:
		type = NVME_SGL_LAST_SEGMENT;
		break;
	default:
		type = (unsigned int)below(f, 16);	/* keyed, transport, reserved */
		break;
	}
	memset(d, 0, sizeof(*d));
	d->id = NVME_SGL_ID(type, chance(f, 900) ? 0 : below(f, 16));
	if (type == NVME_SGL_SEGMENT || type == NVME_SGL_LAST_SEGMENT) {
		uint32_t ndesc = (uint32_t)(1 + below(f, 8));
		size_t off = below(f, f->lists.size / 16) * 16;

		d->addr = f->lists.iova + off;
		d->len = ndesc * 16;
		switch (below(f, 8)) {
		case 0:
			d->len = (uint32_t)edgy(f, 32);	/* 0, not a multiple of 16, huge */
			break;
		case 1:
			d->addr += 1 + below(f, 7);	/* misaligned segment */
			break;
		case 2:
			d->addr = pick_addr(f, anywhere);
			break;
		}
	} else {
		d->addr = pick_addr(f, anywhere);
		switch (below(f, 6)) {
		case 0:
			d->len = (uint32_t)edgy(f, 32);
			break;
		case 1:
			d->len = len / 2;
			break;
		default:
			d->len = len;
			break;
		}
	}
}

/* Fill every descriptor slot of the hostile list area with something. */
static void hostile_sgl_segments(struct fuzz *f, uint32_t len, bool *anywhere)
{
	struct nvme_sgl_desc *d = f->lists.vaddr;
	size_t n = f->lists.size / sizeof(*d), i, count = 1 + below(f, 64);

	for (i = 0; i < count; i++)
		hostile_sgl_desc(f, &d[below(f, n)], len, anywhere);
}

/* A data pointer for a transfer of len bytes: PRPs or SGLs of any shape. */
static void hostile_dptr(struct fuzz *f, struct nvme_sqe *sqe, uint32_t len, bool *anywhere)
{
	unsigned int psdt;

	switch (below(f, 20)) {
	case 0:
	case 1:
		psdt = 1;
		break;
	case 2:
		psdt = 2;
		break;
	case 3:
		psdt = 3;
		break;
	default:
		psdt = 0;
		break;
	}
	sqe->flags = (uint8_t)((sqe->flags & ~NVME_SQE_PSDT_MASK) | psdt << 6);
	if (psdt) {
		struct nvme_sgl_desc d;

		hostile_sgl_desc(f, &d, len, anywhere);
		memcpy(&sqe->prp1, &d, sizeof(d));
		hostile_sgl_segments(f, len, anywhere);
		return;
	}
	if (chance(f, 700)) {
		/* A well-formed PRP set into the data area, with a random offset. */
		uint64_t pages[130];
		uint32_t offset = (uint32_t)below(f, NVME_PAGE_SIZE / 4) * 4;
		size_t need = DIV_ROUND_UP((size_t)len + offset, NVME_PAGE_SIZE), i;
		size_t data_pages = f->data.size / NVME_PAGE_SIZE;

		if (len && need <= ARRAY_SIZE(pages)) {
			for (i = 0; i < need; i++)
				pages[i] = f->data.iova + below(f, data_pages) * NVME_PAGE_SIZE;
			if (!vnvme_build_prps(sqe, pages, need, offset, len, &f->lists,
					      below(f, 512) * 8))
				return;
		}
	}
	sqe->prp1 = chance(f, 800) ? pick_addr(f, anywhere) & ~3ull : pick_addr(f, anywhere);
	sqe->prp2 = chance(f, 500) ? hostile_prp_list(f, 1 + (unsigned int)below(f, 200), anywhere)
				   : pick_page(f, anywhere);
}

/* ------------------------------------------------------------------------ */
/* Hostile commands                                                          */
/* ------------------------------------------------------------------------ */

static uint32_t pick_nsid(struct fuzz *f)
{
	switch (below(f, 20)) {
	case 0:
		return 0;
	case 1:
		return 0xffffffff;
	case 2:
	case 3:
		return (uint32_t)(1 + below(f, 20));
	case 4:
		return (uint32_t)rnd(f);
	default:
		return f->ns.nsid;
	}
}

/* An LBA outside our verified region unless it is far out of range anyway. */
static uint64_t pick_slba(struct fuzz *f)
{
	uint64_t nsze = f->ns.nsze, lba;

	switch (below(f, 10)) {
	case 0:
		lba = nsze - below(f, 70000);		/* around the end */
		break;
	case 1:
		lba = ~0ull - below(f, 70000);		/* wraps */
		break;
	case 2:
		lba = rnd(f);
		break;
	default:
		lba = f->verify_nlb + below(f, nsze - f->verify_nlb);
		break;
	}
	if (lba < f->verify_nlb)
		lba += f->verify_nlb;
	return lba;
}

static uint32_t pick_nlb0(struct fuzz *f)
{
	switch (below(f, 10)) {
	case 0:
	case 1:
		return (uint32_t)edgy(f, 16);
	case 2:
	case 3:
		return (uint32_t)below(f, 256);
	default:
		return (uint32_t)below(f, 16);
	}
}

static void hostile_io_cmd(struct fuzz *f, struct nvme_sqe *sqe, bool *anywhere)
{
	static const uint8_t known[] = {
		NVME_IO_FLUSH, NVME_IO_WRITE, NVME_IO_READ, NVME_IO_WRITE_UNCOR,
		NVME_IO_COMPARE, NVME_IO_WRITE_ZEROES, NVME_IO_DSM, NVME_IO_VERIFY,
		NVME_IO_READ, NVME_IO_WRITE, NVME_IO_READ,
	};
	uint64_t slba = pick_slba(f);
	uint32_t nlb0 = pick_nlb0(f), len;

	/* Rarely: DMA aimed at our own queues and buffers (then we re-init). */
	f->allow_anywhere = chance(f, 3);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = chance(f, 800) ? known[below(f, ARRAY_SIZE(known))] : (uint8_t)rnd(f);
	sqe->nsid = pick_nsid(f);
	if (chance(f, 30))
		sqe->flags = (uint8_t)below(f, 4);	/* FUSE */
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = nlb0;
	if (chance(f, 150))
		sqe->cdw12 |= (uint32_t)rnd(f) & 0xffff0000u;	/* FUA, LR, DEAC, PRINFO... */
	if (chance(f, 100)) {
		sqe->cdw13 = (uint32_t)rnd(f);
		sqe->cdw14 = (uint32_t)rnd(f);
		sqe->cdw15 = (uint32_t)rnd(f);
		sqe->cdw2 = (uint32_t)rnd(f);
		sqe->mptr = rnd(f);
	}
	if (sqe->opcode == NVME_IO_DSM) {
		struct nvme_dsm_range *r = f->data.vaddr;
		unsigned int nr = (unsigned int)below(f, 256) + 1, i;

		sqe->cdw10 = chance(f, 900) ? nr - 1 : (uint32_t)rnd(f);
		sqe->cdw11 = chance(f, 700) ? NVME_DSM_ATTR_DEALLOCATE : (uint32_t)rnd(f);
		for (i = 0; i < nr; i++) {
			r[i].cattr = (uint32_t)rnd(f);
			r[i].slba = pick_slba(f);
			r[i].nlb = chance(f, 800) ? (uint32_t)below(f, 2048) : (uint32_t)rnd(f);
		}
		len = nr * (uint32_t)sizeof(*r);
		if (chance(f, 800)) {
			vnvme_set_prps(sqe, f->data.iova, len, NULL);
			return;
		}
	} else {
		len = (nlb0 + 1) * f->ns.lba_size;
	}
	if (len > (2u << 20))
		len = 2u << 20;
	hostile_dptr(f, sqe, len, anywhere);
}

static void hostile_admin_cmd(struct fuzz *f, struct nvme_sqe *sqe, bool *anywhere)
{
	static const uint8_t known[] = {
		NVME_ADMIN_GET_LOG_PAGE, NVME_ADMIN_IDENTIFY, NVME_ADMIN_ABORT,
		NVME_ADMIN_SET_FEATURES, NVME_ADMIN_GET_FEATURES, NVME_ADMIN_KEEP_ALIVE,
		NVME_ADMIN_DBBUF_CONFIG, NVME_ADMIN_GET_LOG_PAGE, NVME_ADMIN_IDENTIFY,
		NVME_ADMIN_SET_FEATURES, NVME_ADMIN_GET_FEATURES, 0x10, 0x11, 0x80, 0x81,
		0x84, 0x7f, 0xc0,
	};
	uint32_t len = NVME_PAGE_SIZE;

	f->allow_anywhere = chance(f, 3);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = chance(f, 850) ? known[below(f, ARRAY_SIZE(known))] : (uint8_t)rnd(f);
	/* Queue management has its own operation; keep it rare here. */
	if ((sqe->opcode == NVME_ADMIN_CREATE_CQ || sqe->opcode == NVME_ADMIN_CREATE_SQ ||
	     sqe->opcode == NVME_ADMIN_DELETE_SQ || sqe->opcode == NVME_ADMIN_DELETE_CQ) &&
	    chance(f, 800))
		sqe->opcode = NVME_ADMIN_IDENTIFY;
	sqe->nsid = pick_nsid(f);
	if (chance(f, 20))
		sqe->flags = (uint8_t)below(f, 4);
	switch (sqe->opcode) {
	case NVME_ADMIN_IDENTIFY:
		sqe->cdw10 = chance(f, 800) ? (uint32_t)below(f, 8) : (uint32_t)rnd(f);
		break;
	case NVME_ADMIN_GET_LOG_PAGE: {
		uint32_t numd = chance(f, 800) ? (uint32_t)below(f, 1024) : (uint32_t)rnd(f);

		sqe->cdw10 = (chance(f, 800) ? (uint32_t)below(f, 8) : (uint32_t)below(f, 256)) |
			     (chance(f, 500) ? 1u << 15 : 0) | (numd & 0xffff) << 16;
		sqe->cdw11 = numd >> 16;
		if (chance(f, 200)) {
			sqe->cdw12 = (uint32_t)edgy(f, 32);
			sqe->cdw13 = (uint32_t)edgy(f, 32);
		}
		len = MIN((numd + 1) * 4, 2u << 20);
		break;
	}
	case NVME_ADMIN_SET_FEATURES:
	case NVME_ADMIN_GET_FEATURES:
		sqe->cdw10 = (chance(f, 850) ? (uint32_t)below(f, 16) : (uint32_t)below(f, 256)) |
			     (chance(f, 300) ? (uint32_t)below(f, 8) << 8 : 0) |
			     (chance(f, 50) ? 1u << 31 : 0);
		sqe->cdw11 = (uint32_t)edgy(f, 32);
		/* Number of Queues with a tiny answer would starve our own queues. */
		if ((sqe->cdw10 & 0xff) == NVME_FEAT_NUM_QUEUES && chance(f, 900))
			sqe->cdw10 = NVME_FEAT_ARBITRATION;
		len = 8;
		break;
	case NVME_ADMIN_ABORT:
		sqe->cdw10 = (uint32_t)below(f, FUZZ_NR_IOQ + 2) | (uint32_t)rnd(f) << 16;
		len = 0;
		break;
	default:
		sqe->cdw10 = (uint32_t)edgy(f, 32);
		sqe->cdw11 = (uint32_t)edgy(f, 32);
		sqe->cdw12 = (uint32_t)edgy(f, 32);
		break;
	}
	if (len)
		hostile_dptr(f, sqe, len, anywhere);
	else
		sqe->prp1 = pick_addr(f, anywhere);
}

static bool own_qid(uint32_t qid)
{
	return qid <= FUZZ_NR_IOQ;
}

static int op_admin(struct fuzz *f)
{
	struct nvme_sqe sqes[FUZZ_BATCH_MAX];
	int status[FUZZ_BATCH_MAX];
	unsigned int n = 1 + (unsigned int)below(f, 4), i;
	bool anywhere = false;
	int ret;

	for (i = 0; i < n; i++)
		hostile_admin_cmd(f, &sqes[i], &anywhere);
	ret = submit_batch(f, &f->ctrl.admin, sqes, n, status);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		uint8_t op = sqes[i].opcode;

		/*
		 * Anything that changed our own queues, or where their doorbells
		 * live (shadow pages at random addresses): start over.
		 */
		if (status[i] == 0 && (op == NVME_ADMIN_DELETE_SQ || op == NVME_ADMIN_DELETE_CQ ||
				       op == NVME_ADMIN_CREATE_SQ || op == NVME_ADMIN_CREATE_CQ ||
				       op == NVME_ADMIN_DBBUF_CONFIG))
			f->dirty = true;
	}
	if (anywhere)
		f->dirty = true;
	f->res->ops += n - 1;
	return 0;
}

static int op_io(struct fuzz *f)
{
	struct nvme_sqe sqes[FUZZ_BATCH_MAX];
	int status[FUZZ_BATCH_MAX];
	unsigned int n = 1 + (unsigned int)below(f, FUZZ_BATCH_MAX), i;
	struct vnvme_queue *q = pick_ioq(f);
	bool anywhere = false;
	int ret;

	for (i = 0; i < n; i++)
		hostile_io_cmd(f, &sqes[i], &anywhere);
	ret = submit_batch(f, q, sqes, n, status);
	if (anywhere)
		f->dirty = true;
	f->res->ops += n - 1;
	return ret;
}

/* Random SQEs in the hostile queue memory, for hostile SQs to fetch. */
static void scribble_qmem(struct fuzz *f)
{
	uint64_t *p = (uint64_t *)f->qmem_vaddr;
	size_t i, n = f->qmem_size / 8;

	for (i = 0; i < n; i++)
		p[i] = rnd(f);
}

static uint64_t qmem_page(struct fuzz *f)
{
	return f->qmem_iova + below(f, f->qmem_size / NVME_PAGE_SIZE) * NVME_PAGE_SIZE;
}

/*
 * Create I/O CQ/SQ with hostile fields: queues on unmapped, unaligned or
 * overlapping memory (our own queues and buffers), bad sizes, ids, vectors
 * and flags.  A queue that gets created may have its doorbell rung (an SQ
 * then fetches whatever lies in its memory), and is deleted again.
 */
static int op_queue(struct fuzz *f)
{
	struct nvme_sqe sqes[3];
	int status[3];
	uint16_t qid, qsize0;
	bool anywhere = false, is_cq = chance(f, 500);
	uint64_t base;
	int ret;

	qid = chance(f, 700) ? (uint16_t)(FUZZ_SPARE_QID + below(f, 8)) : (uint16_t)edgy(f, 16);
	switch (below(f, 8)) {
	case 0:
	case 1:
	case 2:
		base = qmem_page(f);
		break;
	case 3:		/* overlapping our own queues and buffers */
		base = f->dev->arena.iova +
		       below(f, f->dev->arena.size / NVME_PAGE_SIZE) * NVME_PAGE_SIZE;
		anywhere = true;
		break;
	case 5:		/* not mapped */
		base = f->dev->arena.iova + f->dev->arena.size +
		       below(f, 1u << 20) * NVME_PAGE_SIZE;
		break;
	case 4:		/* not page aligned */
		base = qmem_page(f) + 4 * (1 + below(f, 1023));
		break;
	default:
		f->allow_anywhere = false;
		base = pick_addr(f, &anywhere);
		break;
	}
	if (chance(f, 200))
		scribble_qmem(f);
	qsize0 = chance(f, 800) ? (uint16_t)(1 + below(f, 63)) : (uint16_t)edgy(f, 16);

	memset(sqes, 0, sizeof(sqes));
	sqes[0].opcode = is_cq ? NVME_ADMIN_CREATE_CQ : NVME_ADMIN_CREATE_SQ;
	sqes[0].prp1 = base;
	sqes[0].cdw10 = (uint32_t)qsize0 << 16 | qid;
	if (is_cq) {
		sqes[0].cdw11 = (chance(f, 900) ? NVME_QUEUE_PHYS_CONTIG : 0) |
				(chance(f, 500) ? NVME_CQ_IRQ_ENABLED : 0) |
				(uint32_t)(chance(f, 800) ? below(f, 4) : edgy(f, 16)) << 16;
	} else {
		uint16_t cqid = chance(f, 500) ? (uint16_t)(1 + below(f, FUZZ_NR_IOQ)) :
				chance(f, 500) ? (uint16_t)(FUZZ_SPARE_QID + below(f, 8)) :
				(uint16_t)edgy(f, 16);

		sqes[0].cdw11 = (chance(f, 900) ? NVME_QUEUE_PHYS_CONTIG : 0) |
				(uint32_t)below(f, 4) << 1 | (uint32_t)cqid << 16;
	}
	if (chance(f, 50))
		sqes[0].cdw12 = (uint32_t)rnd(f);
	ret = submit_batch(f, &f->ctrl.admin, sqes, 1, status);
	if (ret || status[0] != 0)
		return ret;
	if (own_qid(qid)) {
		f->dirty = true;	/* cannot happen: ours exist; be safe */
		return 0;
	}
	/* Give it something to do: an SQ fetches what lies in its memory. */
	if (chance(f, 500)) {
		/* Its entries or completions may land on our memory. */
		if (anywhere)
			f->dirty = true;
		uint32_t db = NVME_REG_DOORBELLS + (2u * qid + (is_cq ? 1 : 0)) *
			      f->ctrl.doorbell_stride;

		vnvme_reg_write32(&f->ctrl, db, (uint32_t)below(f, (uint64_t)qsize0 + 2));
		f->res->ops++;
	}
	memset(&sqes[1], 0, sizeof(sqes[1]));
	sqes[1].opcode = is_cq ? NVME_ADMIN_DELETE_CQ : NVME_ADMIN_DELETE_SQ;
	sqes[1].cdw10 = qid;
	return submit_batch(f, &f->ctrl.admin, &sqes[1], 1, status);
}

/* Commands in flight on one of our queues, then delete it under them. */
static int op_delete_busy(struct fuzz *f)
{
	unsigned int qidx = 1 + (unsigned int)below(f, MIN((unsigned int)FUZZ_NR_IOQ, f->max_ioq));
	struct vnvme_queue *q = f->ioq[qidx];
	unsigned int n = 2 + (unsigned int)below(f, 14), i;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	int vec = q->irq_vector, ret;

	for (i = 0; i < n && vnvme_sq_space(q); i++) {
		uint32_t nlb = 1 + (uint32_t)below(f, 32);

		vnvme_cmd_rw(&sqe, chance(f, 500) ? NVME_IO_READ : NVME_IO_WRITE, f->ns.nsid,
			     f->verify_nlb + below(f, f->ns.nsze - f->verify_nlb - 64), nlb);
		if (chance(f, 200))
			sqe.opcode = chance(f, 500) ? NVME_IO_VERIFY : NVME_IO_FLUSH;
		vnvme_set_prps(&sqe, f->data.iova, (size_t)nlb * f->ns.lba_size, NULL);
		if ((size_t)nlb * f->ns.lba_size > 2 * NVME_PAGE_SIZE)
			vnvme_build_prps(&sqe, (uint64_t[]){ f->data.iova, f->data.iova + 4096,
				f->data.iova + 8192, f->data.iova + 12288, f->data.iova + 16384 },
				5, 0, (size_t)MIN(nlb * f->ns.lba_size, 5 * NVME_PAGE_SIZE - 1),
				&f->lists, 0);
		sqe.cid = q->next_cid++;
		if (vnvme_sq_push(q, &sqe))
			break;
		f->res->commands++;
	}
	ret = vnvme_sq_ring(q);
	if (ret)
		return ret;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADMIN_DELETE_SQ;
	sqe.cdw10 = q->qid;
	ret = vnvme_exec(&f->ctrl.admin, &sqe, &cqe);
	if (ret == 0) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_DELETE_CQ;
		sqe.cdw10 = q->qid;
		ret = vnvme_exec(&f->ctrl.admin, &sqe, &cqe);
	}
	if (ret) {
		f->dirty = true;
		return ret < 0 && ret != -ETIMEDOUT ? ret : 0;
	}
	vnvme_queue_release(&f->ctrl, q->qid);
	f->ioq[qidx] = NULL;
	ret = vnvme_create_io_queue_pair(&f->ctrl, (uint16_t)qidx, FUZZ_IO_DEPTH, vec, &f->ioq[qidx]);
	if (ret)
		f->dirty = true;
	return ret < 0 && ret != -ETIMEDOUT ? ret : 0;
}

/* More AERs than AERL allows, then an event for one of them. */
static int op_aer(struct fuzz *f)
{
	struct nvme_sqe sqes[FUZZ_BATCH_MAX];
	int status[FUZZ_BATCH_MAX];
	unsigned int n = 1 + (unsigned int)below(f, 7), i;
	uint8_t log[64];
	int ret;

	memset(sqes, 0, sizeof(sqes));
	for (i = 0; i < n; i++)
		sqes[i].opcode = NVME_ADMIN_ASYNC_EVENT;
	ret = submit_batch(f, &f->ctrl.admin, sqes, n, status);
	if (ret)
		return ret;
	/* A doorbell write for a queue that does not exist: an Error event. */
	vnvme_reg_write32(&f->ctrl, NVME_REG_DOORBELLS + 8u * (FUZZ_SPARE_QID + 10), 1);
	if (chance(f, 500)) {
		/* Reading the Error log re-arms Error events (RAE clear). */
		ret = vnvme_get_log_page(&f->ctrl, NVME_LOG_ERROR, 0, log, sizeof(log));
		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
		if (ret == -ETIMEDOUT)
			f->dirty = true;
	}
	f->res->ops += n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Registers, config space, VFIO                                             */
/* ------------------------------------------------------------------------ */

static const uint32_t reg_offsets[] = {
	NVME_REG_CAP, NVME_REG_CAP + 4, NVME_REG_VS, NVME_REG_INTMS, NVME_REG_INTMC,
	NVME_REG_CSTS, NVME_REG_NSSR, NVME_REG_AQA, NVME_REG_ASQ, NVME_REG_ASQ + 4,
	NVME_REG_ACQ, NVME_REG_ACQ + 4, NVME_REG_CMBLOC, NVME_REG_CMBSZ, 0x40, 0x50,
	0xe00, 0xffc,
};

static size_t pick_size(struct fuzz *f)
{
	static const size_t sizes[] = { 1, 2, 4, 4, 4, 8, 8 };
	static const size_t odd[] = { 0, 3, 5, 6, 7, 12, 16, 64 };

	return chance(f, 950) ? sizes[below(f, ARRAY_SIZE(sizes))] : odd[below(f, ARRAY_SIZE(odd))];
}

static uint64_t pick_bar_offset(struct fuzz *f, size_t len)
{
	switch (below(f, 10)) {
	case 0:
	case 1:
	case 2:
		return reg_offsets[below(f, ARRAY_SIZE(reg_offsets))] + (chance(f, 100) ? below(f, 4) : 0);
	case 3:
	case 4:
		return below(f, 0x1000);
	case 5:
	case 6:
		return 0x2000 + below(f, 0x2000);	/* MSI-X table and PBA */
	case 7:
		return 0x4000 - below(f, 16) + below(f, 16);	/* the end */
	case 8:
		return edgy(f, 48);
	default:
		return 0x1000 + below(f, 0x1000) - (len > 1 ? below(f, len) : 0);
	}
}

/* Overlaps CC or the doorbells of our own queues? Those have their own ops. */
static bool touches_own_state(struct fuzz *f, uint64_t off, size_t len)
{
	uint64_t own_db_end = NVME_REG_DOORBELLS + 2ull * (FUZZ_NR_IOQ + 1) * f->ctrl.doorbell_stride;

	if (off < NVME_REG_CC + 4 && off + len > NVME_REG_CC)
		return true;
	return off < own_db_end && off + len > NVME_REG_DOORBELLS;
}

static int op_reg_read(struct fuzz *f)
{
	uint8_t buf[64];
	size_t len = pick_size(f);

	vnvme_bar_read(f->dev, pick_bar_offset(f, len), buf, len);
	return 0;
}

static int op_reg_write(struct fuzz *f)
{
	uint64_t val = edgy(f, 64), off;
	uint8_t buf[64];
	size_t len;
	int tries = 0;

	do {
		len = pick_size(f);
		off = pick_bar_offset(f, len);
	} while (touches_own_state(f, off, len) && ++tries < 16);
	if (tries >= 16)
		return 0;
	if (off == NVME_REG_NSSR && chance(f, 500))
		val = 0x4e564d65;	/* "NVMe": subsystem reset, if it were supported */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &val, sizeof(val));
	if (len > sizeof(val))
		memset(buf + sizeof(val), (int)rnd(f), len - sizeof(val));
	vnvme_bar_write(f->dev, off, buf, len);
	return 0;
}

static uint32_t random_cc(struct fuzz *f, bool en)
{
	uint32_t cc;

	if (chance(f, 200))
		cc = (uint32_t)rnd(f);
	else
		cc = NVME_CC_IOSQES(chance(f, 700) ? NVME_SQE_SIZE_LOG2 : below(f, 16)) |
		     NVME_CC_IOCQES(chance(f, 700) ? NVME_CQE_SIZE_LOG2 : below(f, 16)) |
		     (chance(f, 800) ? 0 : (uint32_t)below(f, 16) << 7) |	/* MPS */
		     (chance(f, 800) ? 0 : (uint32_t)below(f, 8) << 4) |	/* CSS */
		     (chance(f, 900) ? 0 : (uint32_t)below(f, 8) << 11) |	/* AMS */
		     (chance(f, 800) ? 0 : (uint32_t)below(f, 4) << 14);	/* SHN */
	return en ? cc | NVME_CC_EN : cc & ~NVME_CC_EN;
}

/* CC: EN/SHN toggled rapidly, bad IOSQES/IOCQES/MPS/CSS, enable without queues. */
static int op_cc(struct fuzz *f)
{
	uint32_t cc = 0;
	unsigned int n, i;

	vnvme_reg_read32(&f->ctrl, NVME_REG_CC, &cc);
	switch (below(f, 5)) {
	case 0:		/* EN stays 1: MPS/CSS/AMS changes must be ignored */
		vnvme_reg_write32(&f->ctrl, NVME_REG_CC, random_cc(f, true) & ~NVME_CC_SHN_MASK);
		break;
	case 1:		/* shutdown, then back */
		vnvme_reg_write32(&f->ctrl, NVME_REG_CC,
				  (cc & ~NVME_CC_SHN_MASK) | (uint32_t)(1 + below(f, 2)) << 14);
		if (chance(f, 500))
			vnvme_ctrl_wait_csts(&f->ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT, 2000);
		f->dirty = true;
		break;
	case 2:		/* enable with the admin queue registers scribbled */
		vnvme_reg_write32(&f->ctrl, NVME_REG_CC, cc & ~NVME_CC_EN);
		vnvme_ctrl_wait_csts(&f->ctrl, NVME_CSTS_RDY, 0, 2000);
		vnvme_reg_write32(&f->ctrl, NVME_REG_AQA, (uint32_t)edgy(f, 32));
		vnvme_reg_write64(&f->ctrl, NVME_REG_ASQ, chance(f, 300) ? 0 : pick_page(f, &(bool){0}));
		vnvme_reg_write64(&f->ctrl, NVME_REG_ACQ, chance(f, 300) ? 0 : pick_page(f, &(bool){0}));
		vnvme_reg_write32(&f->ctrl, NVME_REG_CC, random_cc(f, true));
		f->res->ops += 5;
		f->dirty = true;
		break;
	default:	/* a burst of toggles */
		n = 2 + (unsigned int)below(f, 8);
		for (i = 0; i < n; i++)
			vnvme_reg_write32(&f->ctrl, NVME_REG_CC, random_cc(f, i % 2 == 0));
		f->res->ops += n - 1;
		f->dirty = true;
		break;
	}
	if (!f->dirty && csts_bad(f))
		f->dirty = true;
	return 0;
}

static int op_doorbell(struct fuzz *f)
{
	uint32_t stride = f->ctrl.doorbell_stride, idx, val;
	size_t len = 4;
	uint64_t off;
	uint8_t buf[8];

	switch (below(f, 50)) {
	case 0:		/* one of our own queues, any value: we lose track */
		idx = (uint32_t)below(f, 2 * (FUZZ_NR_IOQ + 1));
		val = (uint32_t)edgy(f, 32);
		f->dirty = true;
		break;
	case 1:
	case 2:
	case 3:
	case 4:		/* our own queues, beyond their size: must be ignored */
		idx = (uint32_t)below(f, 2 * (FUZZ_NR_IOQ + 1));
		val = (idx < 2 ? FUZZ_ADMIN_DEPTH : FUZZ_IO_DEPTH) + (uint32_t)edgy(f, 16);
		break;
	case 5:
	case 6:
	case 7:
	case 8:
	case 9:		/* hostile queues that may exist for a moment */
		idx = 2 * FUZZ_SPARE_QID + (uint32_t)below(f, 16);
		val = (uint32_t)edgy(f, 16);
		break;
	default:	/* absent queues, up to the end of the doorbell page */
		idx = 2 * (FUZZ_NR_IOQ + 1) + (uint32_t)below(f, 0x1000 / stride - 2 * (FUZZ_NR_IOQ + 1));
		val = (uint32_t)edgy(f, 32);
		if (chance(f, 200)) {
			static const size_t sizes[] = { 1, 2, 8 };

			len = sizes[below(f, 3)];
		}
		break;
	}
	off = NVME_REG_DOORBELLS + (uint64_t)idx * stride;
	memcpy(buf, &val, 4);
	memcpy(buf + 4, &val, 4);
	if (len < 4 && !chance(f, 500))
		off += below(f, 4 - len + 1);
	vnvme_bar_write(f->dev, off, buf, len);
	return 0;
}

static int op_config(struct fuzz *f)
{
	static const uint32_t hot[] = { 0x04, 0x06, 0x0c, 0x10, 0x14, 0x30, 0x3c, 0x40, 0x44,
					0x50, 0x52, 0x60, 0x68, 0x100, 0xffc };
	uint64_t off = chance(f, 300) ? hot[below(f, ARRAY_SIZE(hot))] : below(f, 4096 + 16);
	size_t len = chance(f, 950) ? (size_t[]){ 1, 2, 4 }[below(f, 3)] : pick_size(f);
	uint64_t val = edgy(f, 64);
	uint8_t buf[64];

	if (len > 1 && chance(f, 900))
		off &= ~(uint64_t)(len - 1);
	memset(buf, (int)rnd(f), sizeof(buf));
	memcpy(buf, &val, sizeof(val));
	if (chance(f, 500))
		vnvme_cfg_read(f->dev, off, buf, len);
	else
		vnvme_cfg_write(f->dev, off, buf, len);
	return 0;
}

/* Info and SET_IRQS ioctls with random arguments. */
static int op_ioctl(struct fuzz *f)
{
	struct vfio_region_info rinfo;
	struct vfio_irq_info iinfo;
	struct vfio_device_info dinfo;
	int32_t fds[8];
	unsigned int i, index, start, count;
	uint32_t flags;

	switch (below(f, 4)) {
	case 0:
		vnvme_region_info(f->dev, (unsigned int)edgy(f, 32), &rinfo);
		break;
	case 1:
		vnvme_irq_info(f->dev, (unsigned int)edgy(f, 32), &iinfo);
		break;
	case 2:
		vnvme_device_info(f->dev, &dinfo);
		break;
	default:
		index = (unsigned int)below(f, 8);
		flags = (uint32_t)(1u << below(f, 3)) | (uint32_t)(1u << (3 + below(f, 3)));
		if (chance(f, 100))
			flags = (uint32_t)rnd(f);
		start = (unsigned int)(chance(f, 800) ? below(f, 40) : edgy(f, 32));
		count = (unsigned int)(chance(f, 800) ? below(f, 8) : edgy(f, 32));
		for (i = 0; i < ARRAY_SIZE(fds); i++)
			fds[i] = chance(f, 500) ? -1 : (int32_t)below(f, 64);
		if ((flags & VFIO_IRQ_SET_DATA_TYPE_MASK) != VFIO_IRQ_SET_DATA_NONE &&
		    count > ARRAY_SIZE(fds))
			count = ARRAY_SIZE(fds);
		vnvme_set_irqs(f->dev, index, flags, start, count, fds);
		/* Put our own interrupts back. */
		restore_irqs(f);
		break;
	}
	return 0;
}

/* Unmap a piece of guest memory under the device, poke it, map it again. */
static int op_dma_unmap(struct fuzz *f)
{
	size_t chunks = f->dev->arena.size / f->dev->map_chunk;
	size_t c = below(f, chunks);
	uint64_t off = c * f->dev->map_chunk;
	int ret;

	if (f->chaos_running && off == f->qmem_off)
		return 0;
	ret = vnvme_arena_unmap(f->dev, off, f->dev->map_chunk);
	if (ret < 0)
		return ret;
	if (chance(f, 500)) {
		/* The device now meets the hole: hostile I/O and admin commands. */
		ret = chance(f, 500) ? op_io(f) : op_admin(f);
		if (ret)
			return ret;
	}
	ret = vnvme_arena_remap(f->dev, off, f->dev->map_chunk);
	if (ret < 0)
		return ret;
	if (csts_bad(f))
		f->dirty = true;
	return 0;
}

static int op_ns_toggle(struct fuzz *f)
{
	int fd;

	if (!f->opts->ns_toggle)
		return 0;
	fd = open(f->opts->ns_toggle, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	f->ns_enabled = !f->ns_enabled;
	if (write(fd, f->ns_enabled ? "1" : "0", 1) != 1)
		f->ns_enabled = !f->ns_enabled;
	close(fd);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Verified I/O                                                              */
/* ------------------------------------------------------------------------ */

/* Write a stamped pattern, read it back, compare; PRPs (any offset) or an SGL. */
static int verified_io(struct fuzz *f, struct vnvme_queue *q, uint64_t seed, bool *mismatch)
{
	uint32_t lba = f->ns.lba_size;
	uint32_t max_nlb = (uint32_t)MIN((uint64_t)(f->vbuf.size - NVME_PAGE_SIZE) / lba,
					 f->mdts_bytes ? f->mdts_bytes / lba : 64u);
	uint32_t nlb = 1 + (uint32_t)below(f, MIN(max_nlb, 128u));
	uint64_t slba = below(f, f->verify_nlb - nlb), bad;
	uint32_t offset = chance(f, 500) ? (uint32_t)below(f, 1024) * 4 : 0;
	struct vnvme_dma_buf buf = {
		.vaddr = (uint8_t *)f->vbuf.vaddr + offset,
		.iova = f->vbuf.iova + offset,
		.size = f->vbuf.size - offset,
	};
	size_t len = (size_t)nlb * lba;
	bool sgl = chance(f, 300);
	struct nvme_sqe sqe;
	int ret;

	*mismatch = false;
	vnvme_pattern_fill(buf.vaddr, lba, slba, nlb, seed);
	if (sgl) {
		struct nvme_sgl_desc d;

		vnvme_cmd_rw(&sqe, NVME_IO_WRITE, f->ns.nsid, slba, nlb);
		vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, buf.iova, (uint32_t)len);
		vnvme_set_sgl(&sqe, &d);
		ret = vnvme_exec(q, &sqe, NULL);
	} else {
		ret = vnvme_io_write(&f->ns, q, slba, nlb, &buf);
	}
	if (ret)
		return ret;
	memset(buf.vaddr, 0xa5, len);
	if (sgl) {
		struct nvme_sgl_desc d;

		vnvme_cmd_rw(&sqe, NVME_IO_READ, f->ns.nsid, slba, nlb);
		vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, buf.iova, (uint32_t)len);
		vnvme_set_sgl(&sqe, &d);
		ret = vnvme_exec(q, &sqe, NULL);
	} else {
		ret = vnvme_io_read(&f->ns, q, slba, nlb, &buf);
	}
	if (ret)
		return ret;
	f->res->verified_ios++;
	if (vnvme_pattern_check(buf.vaddr, lba, slba, nlb, seed, &bad)) {
		*mismatch = true;
		return fuzz_fail(f, -EIO, "data mismatch at LBA %llu: write/read of %u blocks at %llu via %s%s",
				 (unsigned long long)bad, nlb, (unsigned long long)slba,
				 sgl ? "SGL" : "PRP", offset ? " with an offset" : "");
	}
	return 0;
}

/*
 * The controller must serve verified I/O: first as it is (if we believe it
 * is usable), else, and if that fails, after bringing it up from scratch.
 */
static int health(struct fuzz *f, unsigned int rounds, const char *why)
{
	bool mismatch, fresh = false;
	unsigned int i;
	int ret;

	f->res->health_checks++;
	for (;;) {
		if (f->dirty) {
			ret = reinit(f, why);
			if (ret)
				return ret;
			fresh = true;
		}
		ret = 0;
		for (i = 0; i < rounds && !ret; i++) {
			struct vnvme_queue *q = f->ioq[1 + i % MIN((unsigned int)FUZZ_NR_IOQ, f->max_ioq)];

			ret = verified_io(f, q, f->res->ops * 16 + i, &mismatch);
		}
		if (!ret)
			return 0;
		if (mismatch)
			return ret;
		if (fresh)
			return fuzz_fail(f, -EIO, "verified I/O failed on a freshly initialised controller: %s",
					 ret > 0 ? vnvme_status_name(ret) : strerror(-ret));
		f->unexpected++;
		if (f->opts->verbose)
			fprintf(stderr, "fuzz: op %llu: verified I/O failed before re-init: %d %s\n",
				(unsigned long long)f->res->ops, ret, vnvme_last_error());
		f->dirty = true;
	}
}

/* ------------------------------------------------------------------------ */
/* The chaos thread                                                          */
/* ------------------------------------------------------------------------ */

static uint64_t chaos_rnd(struct fuzz *f)
{
	uint64_t x = f->chaos_rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	f->chaos_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/*
 * Runs beside the main loop: unmaps and maps again the memory hostile
 * queues are created in (so pins race with unmaps), reads registers and
 * config space, rings doorbells of absent queues, asks for region info.
 */
static void *chaos_main(void *arg)
{
	struct fuzz *f = arg;
	struct vfio_region_info rinfo;
	uint8_t buf[8];
	uint32_t v;

	while (!f->chaos_stop) {
		switch (chaos_rnd(f) % 10) {
		case 0:
		case 1:
		case 2:
		case 3:
			if (vnvme_arena_unmap(f->dev, f->qmem_off, f->qmem_size) > 0) {
				sched_yield();
				vnvme_arena_remap(f->dev, f->qmem_off, f->qmem_size);
			}
			break;
		case 4:
		case 5:
			vnvme_cfg_read(f->dev, chaos_rnd(f) % 4096 & ~3ull, buf, 4);
			break;
		case 6:
		case 7:
			vnvme_bar_read(f->dev, chaos_rnd(f) % 0x4000 & ~3ull, buf, 4);
			break;
		case 8:
			v = (uint32_t)chaos_rnd(f);
			vnvme_bar_write(f->dev, NVME_REG_DOORBELLS + 4 * (200 + chaos_rnd(f) % 800),
					&v, 4);
			break;
		default:
			vnvme_region_info(f->dev, (unsigned int)(chaos_rnd(f) % 12), &rinfo);
			break;
		}
		__atomic_add_fetch(&f->res->chaos_ops, 1, __ATOMIC_RELAXED);
		usleep(50 + (unsigned int)(chaos_rnd(f) % 400));
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Main loop                                                                 */
/* ------------------------------------------------------------------------ */

static unsigned int pick_kind(struct fuzz *f)
{
	unsigned int total = 0, k, r;

	for (k = 0; k < VNVME_FUZZ_NR_KINDS; k++)
		total += kind_weight[k];
	r = (unsigned int)below(f, total);
	for (k = 0; k < VNVME_FUZZ_NR_KINDS; k++) {
		if (r < kind_weight[k])
			return k;
		r -= kind_weight[k];
	}
	return VNVME_FUZZ_REG_READ;
}

static int run_op(struct fuzz *f, unsigned int kind)
{
	bool mismatch;
	int ret;

	switch (kind) {
	case VNVME_FUZZ_REG_READ:
		return op_reg_read(f);
	case VNVME_FUZZ_REG_WRITE:
		return op_reg_write(f);
	case VNVME_FUZZ_CC:
		return op_cc(f);
	case VNVME_FUZZ_DOORBELL:
		return op_doorbell(f);
	case VNVME_FUZZ_CONFIG:
		return op_config(f);
	case VNVME_FUZZ_ADMIN:
		return op_admin(f);
	case VNVME_FUZZ_IO:
		return op_io(f);
	case VNVME_FUZZ_QUEUE:
		return op_queue(f);
	case VNVME_FUZZ_DELETE_BUSY:
		return op_delete_busy(f);
	case VNVME_FUZZ_AER:
		return op_aer(f);
	case VNVME_FUZZ_DMA_UNMAP:
		return op_dma_unmap(f);
	case VNVME_FUZZ_IOCTL:
		return op_ioctl(f);
	case VNVME_FUZZ_RESET:
		/* Fails only if the device is gone; the next re-init tells. */
		vnvme_device_reset(f->dev);
		f->dirty = true;
		return 0;
	case VNVME_FUZZ_NS_TOGGLE:
		return op_ns_toggle(f);
	case VNVME_FUZZ_VERIFIED_IO:
		ret = verified_io(f, pick_ioq(f), f->res->ops, &mismatch);
		if (mismatch)
			return ret;
		if (ret) {
			/* Either our state is stale or the device broke: the check tells. */
			f->unexpected++;
			f->dirty = true;
			return health(f, 1, "verified I/O failed");
		}
		return 0;
	}
	return 0;
}

static int setup(struct fuzz *f)
{
	struct vnvme_dev *dev = f->dev;
	struct nvme_id_ctrl *id;
	size_t chunk = dev->map_chunk;
	uint64_t first;
	int ret;

	f->have_irq = dev->msix_count >= 2;
	ret = vnvme_ctrl_init(&f->ctrl, dev);
	if (ret)
		return fuzz_fail(f, ret, "controller init");
	f->ctrl.cmd_timeout_ms = 10000;
	ret = vnvme_dma_alloc(dev, FUZZ_DATA_SIZE, &f->data);
	if (!ret)
		ret = vnvme_dma_alloc(dev, FUZZ_LIST_SIZE, &f->lists);
	if (!ret)
		ret = vnvme_dma_alloc(dev, FUZZ_VBUF_SIZE, &f->vbuf);
	/* Two chunks' worth holds one whole, aligned chunk for hostile queues. */
	if (!ret && chunk < dev->arena.size / 4)
		ret = vnvme_dma_alloc(dev, 2 * chunk, &f->qmem_raw);
	if (ret)
		return fuzz_fail(f, ret, "DMA buffers (arena %zu bytes, map chunk %zu)",
				 dev->arena.size, chunk);
	if (f->qmem_raw.size) {
		first = ALIGN_UP(f->qmem_raw.iova - dev->arena.iova, (uint64_t)chunk);
		f->qmem_off = first;
		f->qmem_size = chunk;
	} else {
		/* One mapping: hostile queues share the data area, no chaos unmaps. */
		f->qmem_off = f->data.iova - dev->arena.iova;
		f->qmem_size = f->data.size;
	}
	f->qmem_iova = dev->arena.iova + f->qmem_off;
	f->qmem_vaddr = (uint8_t *)dev->arena.vaddr + f->qmem_off;
	scribble_qmem(f);

	f->dirty = true;
	ret = reinit(f, "start");
	if (ret)
		return ret;
	id = malloc(sizeof(*id));
	if (!id)
		return fuzz_fail(f, -ENOMEM, "out of memory");
	ret = vnvme_identify(&f->ctrl, NVME_ID_CNS_CTRL, 0, id);
	if (!ret && id->mdts)
		f->mdts_bytes = NVME_PAGE_SIZE << MIN(id->mdts, 12);
	free(id);
	if (ret)
		return fuzz_fail(f, ret < 0 ? ret : -EIO, "Identify Controller");
	ret = vnvme_ns_init(&f->ns, &f->ctrl, f->opts->nsid);
	if (ret)
		return fuzz_fail(f, ret < 0 ? ret : -EIO, "namespace %u", f->opts->nsid);
	f->verify_nlb = MIN((uint64_t)FUZZ_VERIFY_LBAS_MAX, f->ns.nsze / 4);
	if (f->verify_nlb < 256 || f->ns.nsze < 1024)
		return fuzz_fail(f, -EINVAL, "namespace %u is too small (%llu blocks)",
				 f->opts->nsid, (unsigned long long)f->ns.nsze);
	f->ns_enabled = true;
	return 0;
}

int vnvme_fuzz(struct vnvme_dev *dev, const struct vnvme_fuzz_opts *opts,
	       struct vnvme_fuzz_result *res)
{
	struct fuzz *f;
	uint64_t start = vnvme_now_ns(), stop_ns = 0;
	unsigned int check_every = opts->check_every ? opts->check_every : 2000;
	uint64_t next_check, t0;
	int ret;

	memset(res, 0, sizeof(*res));
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->dev = dev;
	f->opts = opts;
	f->res = res;
	f->rng = opts->seed * 0x9e3779b97f4a7c15ull + 0x1234567;
	if (!f->rng)
		f->rng = 1;
	f->chaos_rng = f->rng ^ 0xdeadbeefcafef00dull;
	f->timeout_ms = opts->cmd_timeout_ms ? opts->cmd_timeout_ms : 5000;
	if (opts->seconds > 0)
		stop_ns = start + (uint64_t)(opts->seconds * 1e9);

	ret = setup(f);
	if (ret)
		goto out;
	if (opts->chaos_thread && f->qmem_raw.size) {
		if (pthread_create(&f->chaos, NULL, chaos_main, f) == 0)
			f->chaos_running = true;
	}

	next_check = check_every;
	while ((!opts->ops || res->ops < opts->ops) &&
	       (!stop_ns || vnvme_now_ns() < stop_ns)) {
		unsigned int kind;

		if (res->ops >= next_check) {
			next_check = res->ops + check_every;
			ret = health(f, 2, "periodic check");
			if (ret)
				break;
		}
		if (f->dirty) {
			ret = reinit(f, "state lost");
			if (ret)
				break;
		}
		kind = pick_kind(f);
		if (kind == VNVME_FUZZ_NS_TOGGLE && !opts->ns_toggle)
			kind = VNVME_FUZZ_REG_READ;
		res->by_kind[kind]++;
		res->ops++;
		t0 = vnvme_now_ns();
		ret = run_op(f, kind);
		res->ns_by_kind[kind] += vnvme_now_ns() - t0;
		if (ret) {
			if (!res->failure[0])
				fuzz_fail(f, ret, "%s operation failed", kind_names[kind]);
			break;
		}
	}
	if (f->chaos_running) {
		f->chaos_stop = true;
		pthread_join(f->chaos, NULL);
		f->chaos_running = false;
	}
	if (!ret) {
		/* The last word: a fresh controller serves verified I/O on every queue. */
		f->dirty = true;
		ret = health(f, 8, "final check");
	}
	if (f->ns_enabled == false && opts->ns_toggle) {
		int fd = open(opts->ns_toggle, O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				ret = ret ? ret : -errno;
			close(fd);
		}
	}
out:
	if (f->chaos_running) {
		f->chaos_stop = true;
		pthread_join(f->chaos, NULL);
	}
	vnvme_arena_remap_all(dev);
	res->recovered = f->unexpected;
	res->seconds = (double)(vnvme_now_ns() - start) / 1e9;
	vnvme_ctrl_disable(&f->ctrl);
	vnvme_dma_free(dev, &f->data);
	vnvme_dma_free(dev, &f->lists);
	vnvme_dma_free(dev, &f->vbuf);
	vnvme_dma_free(dev, &f->qmem_raw);
	vnvme_ctrl_fini(&f->ctrl);
	free(f);
	return ret;
}
