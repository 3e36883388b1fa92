// SPDX-License-Identifier: GPL-2.0
/*
 * hostile: what a hostile guest can throw at a vnvme controller — register
 * and config-space abuse, data pointers outside its memory, malformed PRP
 * lists and SGLs, queues on unmapped or overlapping memory, memory unmapped
 * under the device, absurd command fields, queue deletion under load, event
 * floods.  Each case checks the controller's answers where the specification
 * defines them and otherwise only that it answers at all; run with --health
 * so that every case is followed by the postcondition (clean kernel log and
 * a fresh controller serving verified I/O).  KTAP output.
 *
 * usage: hostile [tcase options] UUID      (namespace --nsid, default 1)
 *   --set ns_toggle=N   a second namespace slot (enabled) to detach/attach
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tcase.h"

#define WAIT_MS		15000

static uint32_t reg32(struct tctx *c, uint32_t off)
{
	uint32_t v = 0xdeadbeef;

	vnvme_reg_read32(&c->ctrl, off, &v);
	return v;
}

static void wreg32(struct tctx *c, uint32_t off, uint32_t v)
{
	vnvme_reg_write32(&c->ctrl, off, v);
}

static bool regs_only(struct tctx *c)
{
	if (c->ctrl_inited)
		return true;
	if (!EXPECT_OK(vnvme_ctrl_init(&c->ctrl, c->dev)))
		return false;
	c->ctrl_inited = true;
	return true;
}

static uint64_t rnd(uint64_t *s)
{
	return tc_rand(s);
}

static int admin_cmd(struct tctx *c, uint8_t opcode, uint32_t nsid, uint32_t cdw10,
		     uint32_t cdw11, uint64_t prp1)
{
	struct nvme_sqe sqe = {
		.opcode = opcode, .nsid = nsid, .cdw10 = cdw10, .cdw11 = cdw11, .prp1 = prp1,
	};

	return vnvme_exec(&c->ctrl.admin, &sqe, NULL);
}

/* ------------------------------------------------------------------------ */
/* Registers                                                                 */
/* ------------------------------------------------------------------------ */

/* CC with invalid IOSQES/IOCQES/MPS/CSS/AMS: refused or harmless, never fatal to the host. */
static void t_cc_bad_fields(struct tctx *c)
{
	static const uint32_t bad[] = {
		1u << 7, 0xfu << 7, 1u << 4, 6u << 4, 1u << 11, 7u << 11,
		NVME_CC_IOSQES(0) | NVME_CC_IOCQES(0), NVME_CC_IOSQES(15) | NVME_CC_IOCQES(15),
		0xffffffff, 0x00fffff1, 0x80000001,
	};
	struct vnvme_dma_buf q;
	unsigned int i;
	uint32_t csts;

	if (!regs_only(c) || !EXPECT_OK(vnvme_dma_alloc(c->dev, 2 * NVME_PAGE_SIZE, &q)))
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_OK(vnvme_ctrl_disable(&c->ctrl));
		wreg32(c, NVME_REG_AQA, 0x000f000f);
		vnvme_reg_write64(&c->ctrl, NVME_REG_ASQ, q.iova);
		vnvme_reg_write64(&c->ctrl, NVME_REG_ACQ, q.iova + 4096);
		wreg32(c, NVME_REG_CC, bad[i] | NVME_CC_EN);
		csts = reg32(c, NVME_REG_CSTS);
		EXPECT(csts != 0xffffffff, "CC 0x%x: CSTS readable", bad[i]);
		/* Up with bad entry sizes: I/O queue creation must refuse them. */
		if ((csts & 3) == NVME_CSTS_RDY && ((bad[i] >> 16) & 0xff) != 0x46) {
			struct nvme_sqe *sq = q.vaddr;
			struct nvme_cqe *cq = (void *)((uint8_t *)q.vaddr + 4096);
			unsigned int w;

			memset(q.vaddr, 0, 2 * NVME_PAGE_SIZE);
			sq[0].opcode = NVME_ADMIN_CREATE_CQ;
			sq[0].prp1 = c->buf2.iova;
			sq[0].cdw10 = 15u << 16 | 1;
			sq[0].cdw11 = 1;
			__atomic_thread_fence(__ATOMIC_RELEASE);
			wreg32(c, NVME_REG_DOORBELLS, 1);
			for (w = 0; w < 5000 && !(cq[0].status & 1); w++)
				usleep(1000);
			if (((bad[i] >> 20) & 0xf) != 4)
				tc_check(c, (cq[0].status & 1) && (cq[0].status >> 1) != 0, __LINE__,
					 "CC 0x%x: Create I/O CQ status 0x%x, expected an error",
					 bad[i], cq[0].status >> 1);
		}
		wreg32(c, NVME_REG_CC, 0);
		tc_check(c, reg32(c, NVME_REG_CSTS) == 0, __LINE__, "CC 0x%x: CSTS 0x%x after EN=0",
			 bad[i], reg32(c, NVME_REG_CSTS));
		c->ops++;
	}
	vnvme_dma_free(c->dev, &q);
}

/* Enable with the admin queue registers empty, tiny, huge or pointing nowhere. */
static void t_enable_without_admin_queues(struct tctx *c)
{
	static const struct { uint32_t aqa; uint64_t asq, acq; } v[] = {
		{ 0, 0, 0 }, { 0x000f000f, 0, 0 }, { 0x0fff0fff, 0x1000, 0x2000 },
		{ 0x000f000f, 0xfffffffffffff000ull, 0xfffffffffffff000ull },
		{ 0x00010001, 0x7000000000ull, 0x7000001000ull }, { 0xffffffff, ~0ull, ~0ull },
	};
	unsigned int i;

	if (!regs_only(c))
		return;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		EXPECT_OK(vnvme_ctrl_disable(&c->ctrl));
		wreg32(c, NVME_REG_AQA, v[i].aqa);
		vnvme_reg_write64(&c->ctrl, NVME_REG_ASQ, v[i].asq);
		vnvme_reg_write64(&c->ctrl, NVME_REG_ACQ, v[i].acq);
		wreg32(c, NVME_REG_CC, NVME_CC_EN | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
		tc_check(c, (reg32(c, NVME_REG_CSTS) & 3) == NVME_CSTS_CFS, __LINE__,
			 "case %u: CSTS 0x%x, expected CFS", i, reg32(c, NVME_REG_CSTS));
		/* Doorbells of a controller that is not ready go nowhere. */
		wreg32(c, NVME_REG_DOORBELLS, 1);
		wreg32(c, NVME_REG_DOORBELLS + 4, 1);
		wreg32(c, NVME_REG_CC, 0);
		EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
		c->ops += 6;
	}
}

/* EN and SHN toggled in every combination, fast, with commands in the rings. */
static void t_toggle_en_shn(struct tctx *c)
{
	uint64_t s = 7;
	struct nvme_sqe sqe;
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < 400; i++) {
		uint32_t cc = NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4) |
			      (uint32_t)(rnd(&s) & 1) | (uint32_t)(rnd(&s) % 4) << 14;

		/* Leave work in flight now and then: admin and I/O. */
		if (i % 8 == 0 && (reg32(c, NVME_REG_CSTS) & 1)) {
			memset(&sqe, 0, sizeof(sqe));
			sqe.opcode = NVME_ADMIN_IDENTIFY;
			sqe.cdw10 = 1;
			sqe.prp1 = c->buf2.iova;
			vnvme_sq_push(&c->ctrl.admin, &sqe);
			vnvme_sq_ring(&c->ctrl.admin);
		}
		wreg32(c, NVME_REG_CC, cc);
		c->ops++;
	}
	wreg32(c, NVME_REG_CC, 0);
	EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
	/* Shutdown with I/O queues busy, then enable again. */
	if (!tc_up(c, 0))
		return;
	for (i = 0; i < 32; i++) {
		vnvme_cmd_rw(&sqe, NVME_IO_WRITE, c->nsid, i * 8, 8);
		vnvme_set_prps(&sqe, c->buf.iova, 8 * c->ns.lba_size, &c->list);
		vnvme_sq_push(c->q, &sqe);
	}
	vnvme_sq_ring(c->q);
	wreg32(c, NVME_REG_CC, reg32(c, NVME_REG_CC) | NVME_CC_SHN_NORMAL);
	EXPECT_OK(vnvme_ctrl_wait_csts(&c->ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT, WAIT_MS));
	wreg32(c, NVME_REG_CC, reg32(c, NVME_REG_CC) | 2u << 14);	/* abrupt on top */
	wreg32(c, NVME_REG_CC, 0);
	EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
}

/* Every doorbell dword of queues that do not exist, with events outstanding. */
static void t_doorbells_absent_queues(struct tctx *c)
{
	uint64_t s = 11;
	struct nvme_sqe sqe;
	uint32_t off;

	if (!tc_up(c, 0))
		return;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADMIN_ASYNC_EVENT;
	vnvme_submit(&c->ctrl.admin, &sqe);
	vnvme_submit(&c->ctrl.admin, &sqe);
	for (off = NVME_REG_DOORBELLS + 16; off < 0x2000; off += 4) {
		wreg32(c, off, (uint32_t)rnd(&s));
		c->ops++;
	}
	/* Partial writes into them as well */
	for (off = NVME_REG_DOORBELLS + 16; off < 0x1100; off++) {
		uint8_t b = (uint8_t)rnd(&s);

		vnvme_bar_write(c->dev, off, &b, 1);
		c->ops++;
	}
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 1));
}

/* Doorbell values at or beyond the queue size are ignored: the queues keep working. */
static void t_doorbell_values_beyond_size(struct tctx *c)
{
	static const uint32_t vals[] = { 64, 65, 1023, 1024, 0xffff, 0x10000, 0x80000000, 0xffffffff };
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		wreg32(c, NVME_REG_DOORBELLS + 8, vals[i]);		/* SQ 1 tail, 64 entries */
		wreg32(c, NVME_REG_DOORBELLS + 12, vals[i]);		/* CQ 1 head */
		wreg32(c, NVME_REG_DOORBELLS, c->ctrl.admin.depth + vals[i] % 7);	/* admin SQ */
		wreg32(c, NVME_REG_DOORBELLS + 4, c->ctrl.admin.depth + vals[i] % 5);
		c->ops += 4;
		/* No re-initialisation: the same queues must still work. */
		tc_check(c, tc_verified_io(c, c->q, i * 16, 8, i) == 0, __LINE__,
			 "I/O after doorbell value 0x%x", vals[i]);
		{
			struct nvme_id_ctrl id;

			tc_check(c, vnvme_identify(&c->ctrl, NVME_ID_CNS_CTRL, 0, &id) == 0, __LINE__,
				 "admin after doorbell value 0x%x", vals[i]);
		}
	}
}

/* 1, 2, 4 and 8-byte reads and writes at every BAR0 offset, and past the end. */
static void t_bar0_every_offset(struct tctx *c)
{
	static const size_t sizes[] = { 1, 2, 4, 8 };
	uint64_t s = 13, off, v;
	unsigned int k, bad_read = 0, bad_past = 0;
	int ret;

	if (!tc_up(c, 0))
		return;
	for (k = 0; k < 4; k++) {
		size_t len = sizes[k];

		for (off = 0; off < 0x4000 + 16; off++) {
			v = 0;
			ret = vnvme_bar_read(c->dev, off, &v, len);
			if (off + len <= 0x4000 && ret)
				bad_read++;
			if (off + len > 0x4000 && !ret)
				bad_past++;
			/* Writes with random values everywhere (the controller is recreated below). */
			v = rnd(&s);
			vnvme_bar_write(c->dev, off, &v, len);
			c->ops += 2;
		}
	}
	EXPECT(bad_read == 0, "%u in-range reads failed", bad_read);
	EXPECT(bad_past == 0, "%u accesses past the end succeeded", bad_past);
	/* Far offsets are refused. */
	EXPECT(vnvme_bar_read(c->dev, 1ull << 32, &v, 4) != 0, "offset 4 GiB");
	EXPECT(vnvme_bar_write(c->dev, (1ull << 40) - 4, &v, 4) != 0, "offset 1 TiB - 4");
}

/* Writes to every config-space offset with all ones, zeroes and random values. */
static void t_config_every_offset(struct tctx *c)
{
	static const size_t sizes[] = { 1, 2, 4 };
	uint64_t s = 17;
	uint16_t vid0 = 0, did0 = 0, vid = 0, did = 0;
	uint8_t cls[3], cls0[3];
	uint32_t off, v;
	unsigned int k, pass;

	if (!regs_only(c))
		return;
	vnvme_cfg_read16(c->dev, 0, &vid0);
	vnvme_cfg_read16(c->dev, 2, &did0);
	vnvme_cfg_read(c->dev, 9, cls0, 3);
	for (pass = 0; pass < 3; pass++) {
		for (k = 0; k < 3; k++) {
			for (off = 0; off < 4096 + 8; off += (uint32_t)sizes[k]) {
				v = pass == 0 ? 0xffffffff : pass == 1 ? 0 : (uint32_t)rnd(&s);
				vnvme_cfg_write(c->dev, off, &v, sizes[k]);
				vnvme_cfg_read(c->dev, off, &v, sizes[k]);
				c->ops += 2;
			}
		}
	}
	/* Identity and class are read-only. */
	vnvme_cfg_read16(c->dev, 0, &vid);
	vnvme_cfg_read16(c->dev, 2, &did);
	vnvme_cfg_read(c->dev, 9, cls, 3);
	EXPECT_EQ(vid, vid0);
	EXPECT_EQ(did, did0);
	EXPECT(!memcmp(cls, cls0, 3), "class code unchanged");
	/* The controller still comes up (the health check does I/O too). */
	if (tc_up(c, 0))
		EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 2));
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */
/* ------------------------------------------------------------------------ */

static const uint64_t nowhere[] = {
	0, 0x1000, 0x7000000000ull, 0xfffffffffffff000ull, 0x8000000000000000ull,
	0xffffffff00000000ull,
};

/* PRP1, PRP2, list entries and list pointers outside mapped memory. */
static void t_prp_outside_memory(struct tctx *c)
{
	uint32_t per_page;
	uint64_t *l;
	struct nvme_sqe sqe;
	unsigned int i, op;

	if (!tc_up(c, 0))
		return;
	per_page = NVME_PAGE_SIZE / c->ns.lba_size;
	l = c->list.vaddr;
	for (i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++) {
		for (op = 0; op < 2; op++) {
			uint8_t opc = op ? NVME_IO_WRITE : NVME_IO_READ;

			vnvme_cmd_rw(&sqe, opc, c->nsid, 100, 1);
			sqe.prp1 = nowhere[i];
			EXPECT_NVME_ERROR(vnvme_exec(c->q, &sqe, NULL));
			vnvme_cmd_rw(&sqe, opc, c->nsid, 100, 2 * per_page);
			sqe.prp1 = c->buf.iova;
			sqe.prp2 = nowhere[i];
			EXPECT_NVME_ERROR(vnvme_exec(c->q, &sqe, NULL));
			vnvme_cmd_rw(&sqe, opc, c->nsid, 100, 4 * per_page);
			sqe.prp1 = c->buf.iova;
			sqe.prp2 = nowhere[i];	/* the list itself */
			EXPECT_NVME_ERROR(vnvme_exec(c->q, &sqe, NULL));
			l[0] = c->buf.iova + 4096;
			l[1] = nowhere[i];
			l[2] = c->buf.iova + 8192;
			sqe.prp2 = c->list.iova;
			EXPECT_NVME_ERROR(vnvme_exec(c->q, &sqe, NULL));
			c->ops += 4;
		}
	}
	/* A transfer that starts mapped and runs off the end of the arena */
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 100, 2 * per_page);
	sqe.prp1 = c->dev->arena.iova + c->dev->arena.size - NVME_PAGE_SIZE;
	sqe.prp2 = c->dev->arena.iova + c->dev->arena.size;
	EXPECT_NVME_ERROR(vnvme_exec(c->q, &sqe, NULL));
}

/* Lists full of misaligned entries, chains to themselves, lists at every offset. */
static void t_prp_lists_hostile(struct tctx *c)
{
	uint64_t s = 19, *l;
	struct nvme_sqe sqe;
	uint32_t per_page, max_nlb;
	unsigned int i, j;

	if (!tc_up(c, 0))
		return;
	per_page = NVME_PAGE_SIZE / c->ns.lba_size;
	max_nlb = 128 * per_page;
	l = c->list.vaddr;
	for (i = 0; i < 200; i++) {
		uint32_t nlb = 1 + (uint32_t)(rnd(&s) % max_nlb);
		uint64_t list_off = (rnd(&s) % 512) * 8;

		for (j = 0; j < c->list.size / 8; j++) {
			switch (rnd(&s) % 6) {
			case 0:		/* misaligned */
				l[j] = c->buf.iova + (rnd(&s) % 512) * 4096 + 8 * (1 + rnd(&s) % 500);
				break;
			case 1:		/* back to the list itself */
				l[j] = c->list.iova + (rnd(&s) % 16) * 4096;
				break;
			case 2:
				l[j] = rnd(&s) & ~0xfffull;
				break;
			default:
				l[j] = c->buf.iova + (rnd(&s) % 512) * 4096;
				break;
			}
		}
		vnvme_cmd_rw(&sqe, rnd(&s) & 1 ? NVME_IO_READ : NVME_IO_WRITE, c->nsid,
			     200 + rnd(&s) % 1000, nlb);
		sqe.prp1 = c->buf.iova + (rnd(&s) % 1024) * 4;
		sqe.prp2 = c->list.iova + list_off;
		vnvme_exec(c->q, &sqe, NULL);	/* any status */
		c->ops++;
	}
	/* A list page whose last slot chains to itself, for the largest transfer */
	for (j = 0; j < 511; j++)
		l[j] = c->buf.iova + j % 256 * 4096;
	l[511] = c->list.iova;
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, max_nlb);
	sqe.prp1 = c->buf.iova;
	sqe.prp2 = c->list.iova + 4088;	/* one slot: the chain pointer */
	EXPECT(vnvme_exec(c->q, &sqe, NULL) >= 0, "chained-to-itself list answered");
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 3));
}

/* SGL descriptors of every malformed kind, in SGL1 and inside segments. */
static void t_sgl_malformed(struct tctx *c)
{
	static const uint32_t lens[] = { 0, 1, 15, 16, 17, 512, 4095, 4096, 0x7fffffff,
					 0xfffffff0, 0xffffffff };
	struct nvme_sgl_desc *seg = c->list.vaddr, d;
	struct nvme_sqe sqe;
	uint64_t s = 23;
	unsigned int t, st, li, i, n;

	if (!tc_up(c, 0))
		return;
	for (t = 0; t < 16; t++) {
		for (st = 0; st < 16; st += 5) {
			for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
				uint64_t addrs[] = { c->buf2.iova, c->list.iova, c->list.iova + 3,
						     0x7000000000ull, ~0ull - 15 };

				for (i = 0; i < 5; i++) {
					/* segment contents: random descriptors */
					for (n = 0; n < 64; n++) {
						seg[n].addr = rnd(&s) & 1 ? c->list.iova + (rnd(&s) % 256) * 16 :
							      c->buf2.iova + rnd(&s) % 65536;
						seg[n].len = lens[rnd(&s) % (sizeof(lens) / sizeof(lens[0]))];
						memset(seg[n].rsvd, 0, 3);
						seg[n].id = NVME_SGL_ID(rnd(&s) % 5, rnd(&s) % 8 ? 0 : rnd(&s));
					}
					d.addr = addrs[i];
					d.len = lens[li];
					memset(d.rsvd, 0, 3);
					d.id = NVME_SGL_ID(t, st);
					vnvme_cmd_rw(&sqe, rnd(&s) & 1 ? NVME_IO_READ : NVME_IO_WRITE,
						     c->nsid, 300 + rnd(&s) % 100, 1 + (uint32_t)(rnd(&s) % 16));
					vnvme_set_sgl(&sqe, &d);
					if (rnd(&s) % 4 == 0)
						sqe.flags = (uint8_t)((sqe.flags & ~NVME_SQE_PSDT_MASK) |
								      NVME_SQE_PSDT_SGL_MPTR);
					tc_check(c, vnvme_exec(c->q, &sqe, NULL) >= 0, __LINE__,
						 "SGL type %u sub %u len 0x%x addr %u: no answer", t, st,
						 lens[li], i);
					c->ops++;
				}
			}
		}
	}
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 4));
}

/* Segment chains that loop (to themselves, in twos and threes) or go on and on. */
static void t_sgl_loops(struct tctx *c)
{
	struct nvme_sgl_desc d;
	struct nvme_sqe sqe;
	uint8_t *base = c->list.vaddr;
	unsigned int n, i;
	int ret;

	if (!tc_up(c, 0))
		return;
	for (n = 1; n <= 4; n++) {
		for (i = 0; i < n; i++)
			vnvme_sgl_desc((void *)(base + i * 256), NVME_SGL_SEGMENT,
				       c->list.iova + ((i + 1) % n) * 256, 16);
		vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, c->list.iova, 16);
		vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 64);
		vnvme_set_sgl(&sqe, &d);
		ret = vnvme_exec(c->q, &sqe, NULL);
		tc_check(c, ret > 0, __LINE__, "loop of %u segments: %d, expected an error status", n, ret);
		c->ops++;
	}
	/* A chain through all 4096 descriptor slots of the list area, each a segment */
	for (i = 0; i < c->list.size / 16; i++)
		vnvme_sgl_desc((void *)(base + i * 16), NVME_SGL_SEGMENT,
			       c->list.iova + ((i + 1) % (c->list.size / 16)) * 16, 16);
	vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, c->list.iova, 16);
	vnvme_cmd_rw(&sqe, NVME_IO_WRITE, c->nsid, 0, 64);
	vnvme_set_sgl(&sqe, &d);
	EXPECT_NVME_ERROR(vnvme_exec(c->q, &sqe, NULL));
	/* A segment of 4096 zero-length data blocks (NULL descriptors) and nothing else */
	for (i = 0; i < c->list.size / 16; i++)
		vnvme_sgl_desc((void *)(base + i * 16), NVME_SGL_DATA_BLOCK, c->buf2.iova, 0);
	vnvme_sgl_desc(&d, NVME_SGL_LAST_SEGMENT, c->list.iova, (uint32_t)c->list.size);
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 1);
	vnvme_set_sgl(&sqe, &d);
	EXPECT_NVME_ERROR(vnvme_exec(c->q, &sqe, NULL));
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 5));
}

/* I/O queues on memory that is not mapped, half mapped or not page aligned. */
static void t_queues_on_unmapped_memory(struct tctx *c)
{
	uint64_t end = c->dev->arena.iova + c->dev->arena.size;
	unsigned int i;
	int ret;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++) {
		EXPECT_NVME_ERROR(admin_cmd(c, NVME_ADMIN_CREATE_CQ, 0, 15u << 16 | 2, 1, nowhere[i]));
		c->ops++;
	}
	/* The last arena page and one beyond: a 2-page CQ and a 2-page SQ */
	EXPECT_NVME_ERROR(admin_cmd(c, NVME_ADMIN_CREATE_CQ, 0, 511u << 16 | 2, 1, end - 4096));
	ret = admin_cmd(c, NVME_ADMIN_CREATE_CQ, 0, 15u << 16 | 2, 1, c->buf2.iova);
	EXPECT_OK(ret);
	EXPECT_NVME_ERROR(admin_cmd(c, NVME_ADMIN_CREATE_SQ, 0, 127u << 16 | 2, 2u << 16 | 1,
				    end - 4096));
	EXPECT_NVME_ERROR(admin_cmd(c, NVME_ADMIN_CREATE_SQ, 0, 127u << 16 | 2, 2u << 16 | 1,
				    0x7000000000ull));
	/* The largest queues: 1024 entries, SQ 64 KiB */
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_CREATE_SQ, 0, 1023u << 16 | 2, 2u << 16 | 1,
			    c->buf2.iova + 65536));
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_SQ, 0, 2, 0, 0));
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_CQ, 0, 2, 0, 0));
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 6));
}

/*
 * Queues overlapping each other and our own queues: several CQs on one
 * page, an SQ on a CQ, a CQ on the admin SQ.  Whatever the controller does
 * with them, it must not take the host down; the health check resets.
 */
static void t_queues_overlapping(struct tctx *c)
{
	struct nvme_sqe sqe;
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_CREATE_CQ, 0, 15u << 16 | 2, 1, c->buf2.iova));
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_CREATE_CQ, 0, 15u << 16 | 3, 1, c->buf2.iova));
	/* SQ 2 on the memory of CQ 2 and 3, completing into CQ 3 */
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_CREATE_SQ, 0, 15u << 16 | 2, 3u << 16 | 1, c->buf2.iova));
	/* SQ 3 on our own SQ 1 (re-executes our commands), completing into CQ 2 */
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_CREATE_SQ, 0, 15u << 16 | 3, 2u << 16 | 1,
			    c->q->sq_mem.iova));
	/* CQ 4 on the admin SQ */
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_CREATE_CQ, 0, 15u << 16 | 4, 1, c->ctrl.admin.sq_mem.iova));
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_CREATE_SQ, 0, 15u << 16 | 4, 4u << 16 | 1,
			    c->q->cq_mem.iova));
	/* Work for everyone */
	for (i = 0; i < 8; i++) {
		vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, i, 1);
		sqe.prp1 = c->buf.iova;
		sqe.cid = (uint16_t)(0x500 + i);
		vnvme_sq_push(c->q, &sqe);
	}
	vnvme_sq_ring(c->q);
	for (i = 0; i < 16; i++) {
		wreg32(c, NVME_REG_DOORBELLS + 8 * 2, i % 16);
		wreg32(c, NVME_REG_DOORBELLS + 8 * 3, (i * 3) % 16);
		wreg32(c, NVME_REG_DOORBELLS + 8 * 4, (i * 5) % 16);
		c->ops += 3;
		usleep(1000);
	}
	usleep(200000);
	/* Tear down in the right order; any answer will do, but answers must come. */
	wreg32(c, NVME_REG_CC, 0);
	EXPECT_OK(vnvme_ctrl_wait_csts(&c->ctrl, NVME_CSTS_RDY, 0, WAIT_MS));
}

/* Guest memory under live queues unmapped and mapped again, with the queues in use. */
static void t_queue_memory_unmapped(struct tctx *c)
{
	struct nvme_id_ctrl id;
	uint64_t off;
	uint32_t csts;
	unsigned int round;

	for (round = 0; round < 3; round++) {
		if (!tc_up(c, 0))
			return;
		/* The admin queue's piece of memory, then queue 1's, then everything */
		off = round == 0 ? c->ctrl.admin.sq_mem.iova - c->dev->arena.iova :
		      round == 1 ? c->q->cq_mem.iova - c->dev->arena.iova : 0;
		EXPECT(vnvme_arena_unmap(c->dev, off, round == 2 ? c->dev->arena.size : 1) > 0,
		       "unmap");
		c->faults++;
		/* Use the queues while their memory is gone: doorbells, commands */
		wreg32(c, NVME_REG_DOORBELLS, c->ctrl.admin.sq_tail);
		wreg32(c, NVME_REG_DOORBELLS + 8, 0);
		wreg32(c, NVME_REG_DOORBELLS + 12, 0);
		c->ctrl.cmd_timeout_ms = 2000;
		vnvme_identify(&c->ctrl, NVME_ID_CNS_CTRL, 0, &id);
		tc_verified_io(c, c->q, 0, 1, 6);
		EXPECT(vnvme_arena_remap_all(c->dev) >= 0, "remap");
		csts = reg32(c, NVME_REG_CSTS);
		tc_diag("round %u: CSTS 0x%x after unmap+remap", round, csts);
		c->ctrl.cmd_timeout_ms = 15000;
		if (!(csts & NVME_CSTS_CFS) && (csts & NVME_CSTS_RDY))
			tc_check(c, tc_verified_io(c, c->q, 8, 8, 7) == 0, __LINE__,
				 "round %u: not fatal, so I/O must work after the remap", round);
	}
}

/*
 * Unmap memory under an I/O queue while another thread rings its doorbells
 * as fast as it can: every unmap must drop the device's pins for good
 * before it completes (VFIO type1 BUG()s after ten tries otherwise).
 */
struct storm {
	struct tctx *c;
	uint32_t db;
	uint32_t value;
	volatile bool stop;
	uint64_t writes;
};

static void *storm_main(void *arg)
{
	struct storm *st = arg;

	while (!st->stop) {
		vnvme_bar_write(st->c->dev, st->db, &st->value, 4);
		st->writes++;
	}
	return NULL;
}

static void t_unmap_under_doorbell_storm(struct tctx *c)
{
	unsigned int round, i, fatal = 0, unmaps = 0;
	uint64_t writes = 0;

	for (round = 0; round < 20; round++) {
		struct storm sq_storm, cq_storm;
		uint64_t soff, coff;
		pthread_t t1, t2;
		uint32_t csts;

		if (!tc_up(c, 0))
			return;
		soff = c->q->sq_mem.iova - c->dev->arena.iova;
		coff = c->q->cq_mem.iova - c->dev->arena.iova;
		/* Same tail/head as now: every write wakes a worker, which maps its ring. */
		sq_storm = (struct storm){ .c = c, .db = NVME_REG_DOORBELLS + 8, .value = c->q->sq_tail };
		cq_storm = (struct storm){ .c = c, .db = NVME_REG_DOORBELLS + 12, .value = c->q->cq_head };
		if (pthread_create(&t1, NULL, storm_main, &sq_storm))
			return;
		if (pthread_create(&t2, NULL, storm_main, &cq_storm)) {
			sq_storm.stop = true;
			pthread_join(t1, NULL);
			return;
		}
		for (i = 0; i < 20; i++) {
			if (vnvme_arena_unmap(c->dev, i % 2 ? soff : coff, 1) > 0)
				unmaps++;
			c->faults++;
			usleep(300);
			vnvme_arena_remap_all(c->dev);
			usleep(300);
		}
		sq_storm.stop = cq_storm.stop = true;
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		writes += sq_storm.writes + cq_storm.writes;
		csts = reg32(c, NVME_REG_CSTS);
		fatal += !!(csts & NVME_CSTS_CFS);
	}
	c->ops += writes + unmaps;
	EXPECT_EQ(unmaps, 400);
	tc_diag("%u unmaps under %llu doorbell writes; %u of 20 rounds ended with CFS", unmaps,
		(unsigned long long)writes, fatal);
}

/*
 * Issue 10's reproducer of type1's BUG_ON(++retries > 10): the VFIO user
 * unmaps and remaps the memory that holds the admin rings in a loop while a
 * second thread keeps submitting Identify, ringing the admin doorbell and
 * re-enabling the controller whenever it turns fatal, so that rings are
 * pinned again (new ones at every enable) while type1 is still unmapping.
 */
struct admin_storm {
	struct tctx *c;
	volatile bool stop;
	uint64_t submits, reenables;
};

static void *admin_storm_main(void *arg)
{
	struct admin_storm *st = arg;
	struct vnvme_queue *aq = &st->c->ctrl.admin;
	struct nvme_cqe cqes[16];
	uint32_t csts, tail;
	struct nvme_sqe sqe;
	unsigned int i;

	while (!st->stop) {
		if (vnvme_reg_read32(&st->c->ctrl, NVME_REG_CSTS, &csts) == 0 &&
		    (csts & NVME_CSTS_CFS)) {
			vnvme_ctrl_disable(&st->c->ctrl);
			vnvme_ctrl_enable(&st->c->ctrl, 0, -1);
			st->reenables++;
			continue;
		}
		if (vnvme_sq_space(aq)) {
			memset(&sqe, 0, sizeof(sqe));
			sqe.opcode = NVME_ADMIN_IDENTIFY;
			sqe.cdw10 = 1;	/* Identify Controller */
			sqe.prp1 = st->c->buf.iova;
			if (vnvme_submit(aq, &sqe) == 0)
				st->submits++;
		}
		/* The same tail again, and again: each wakes a worker that maps the rings. */
		for (i = 0; i < 16; i++) {
			tail = aq->sq_tail;
			vnvme_bar_write(st->c->dev, NVME_REG_DOORBELLS, &tail, 4);
		}
		vnvme_cq_poll(aq, cqes, 16);
	}
	return NULL;
}

/* Another user of type1's lock: MAP_DMA/UNMAP_DMA of memory no queue uses. */
struct map_churn {
	struct tctx *c;
	volatile bool stop;
};

static void *map_churn_main(void *arg)
{
	struct map_churn *mc = arg;
	const size_t size = 1 << 20;
	const uint64_t iova = 1ull << 40;	/* far from the arena */
	void *mem;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	while (!mc->stop) {
		if (vnvme_dma_map(mc->c->dev, mem, iova, size) == 0)
			vnvme_dma_unmap(mc->c->dev, iova, size);
	}
	munmap(mem, size);
	return NULL;
}

static void t_unmap_admin_rings_reenable(struct tctx *c)
{
	struct vnvme_queue *aq = &c->ctrl.admin;
	struct admin_storm st = { .c = c };
	struct map_churn churn = { .c = c };
	pthread_t t, storm_threads[3], churn_thread;
	bool churning = false;
	unsigned int i, n, unmaps = 0;
	struct storm storms[3];
	uint64_t sq_off, cq_off;

	if (!tc_up(c, 0))
		return;
	sq_off = aq->sq_mem.iova - c->dev->arena.iova;
	cq_off = aq->cq_mem.iova - c->dev->arena.iova;
	/* More runnable threads than vCPUs: type1's thread gets preempted mid-retry. */
	storms[0] = (struct storm){ .c = c, .db = NVME_REG_DOORBELLS, .value = aq->sq_tail };
	storms[1] = (struct storm){ .c = c, .db = NVME_REG_DOORBELLS + 8, .value = c->q->sq_tail };
	storms[2] = (struct storm){ .c = c, .db = NVME_REG_DOORBELLS + 12, .value = c->q->cq_head };
	for (n = 0; n < 3; n++)
		if (pthread_create(&storm_threads[n], NULL, storm_main, &storms[n]))
			break;
	if (n == 3 && !pthread_create(&t, NULL, admin_storm_main, &st)) {
		/* type1's unmap retakes its lock behind this one and the pinners. */
		churning = !pthread_create(&churn_thread, NULL, map_churn_main, &churn);
		/* As fast as it goes: type1 gives up after ten lost races in a row. */
		for (i = 0; i < 4000; i++) {
			if (vnvme_arena_unmap(c->dev, i % 2 ? sq_off : cq_off, 1) > 0)
				unmaps++;
			c->faults++;
			vnvme_arena_remap_all(c->dev);
		}
		st.stop = true;
		pthread_join(t, NULL);
		churn.stop = true;
		if (churning)
			pthread_join(churn_thread, NULL);
	}
	while (n--) {
		storms[n].stop = true;
		pthread_join(storm_threads[n], NULL);
	}
	c->ops += st.submits + unmaps;
	EXPECT_EQ(unmaps, 4000);
	EXPECT(st.submits > 0, "no Identify was submitted");
	tc_diag("%u unmaps of the admin rings under %llu Identify submissions and %llu re-enables",
		unmaps, (unsigned long long)st.submits, (unsigned long long)st.reenables);
}

/* Waits for the completion of admin command cid; 0 or -ETIMEDOUT. */
static int admin_wait(struct tctx *c, uint16_t cid, struct nvme_cqe *out)
{
	uint64_t deadline = vnvme_now_ns() + WAIT_MS * 1000000ull;

	while (vnvme_now_ns() < deadline) {
		if (vnvme_cq_poll(&c->ctrl.admin, out, 1) == 1) {
			if (out->cid == cid)
				return 0;
			continue;
		}
		usleep(500);
	}
	return -ETIMEDOUT;
}

/* An out-of-range shadow value: an Invalid Doorbell Write Value event. */
static void expect_invalid_db_value_event(struct tctx *c, uint16_t cid, const char *which)
{
	struct nvme_error_log_entry log[4];
	struct nvme_cqe cqe;

	if (!tc_check(c, admin_wait(c, cid, &cqe) == 0, __LINE__, "%s: no Error event", which))
		return;
	tc_check(c, NVME_AER_TYPE(cqe.result) == NVME_AER_TYPE_ERROR &&
		 NVME_AER_INFO(cqe.result) == NVME_AER_ERR_INVALID_DB_VALUE, __LINE__,
		 "%s: event 0x%x", which, cqe.result);
	/* Reading the log without RAE unmasks Error events for the next round. */
	EXPECT_OK(vnvme_get_log_page(&c->ctrl, NVME_LOG_ERROR, 0, log, sizeof(log)));
}

/*
 * Shadow doorbells (OACS bit 8).  The shadow page is the guest's to write:
 * out-of-range SQ tails and CQ heads are reported and ignored, and the
 * queues work again once the values are sane.  The pages unmapped under the
 * device end in Controller Fatal Status, never in a stale access.
 */
static void t_shadow_doorbells(struct tctx *c)
{
	static const uint32_t bad[] = { 64, 0xffff, 0x80000000 };
	struct vnvme_dma_buf pages, shadow, eventidx;
	struct vnvme_queue *q;
	struct nvme_id_ctrl id;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint64_t chunk, first, deadline;
	unsigned int sq, cq, i;
	uint32_t *db, csts = 0;

	if (!tc_up(c, 0) || !EXPECT_OK(vnvme_identify(&c->ctrl, NVME_ID_CNS_CTRL, 0, &id)))
		return;
	if (!EXPECT(id.oacs & (1u << 8), "OACS 0x%x", id.oacs))
		return;
	/* The pages in a mapping of their own, so they can be unmapped alone. */
	if (!EXPECT_OK(vnvme_dma_alloc(c->dev, 3u << 20, &pages)))
		return;
	chunk = c->dev->map_chunk;
	first = (pages.iova - c->dev->arena.iova + chunk - 1) / chunk * chunk;
	shadow = (struct vnvme_dma_buf){ (uint8_t *)c->dev->arena.vaddr + first,
					 c->dev->arena.iova + first, NVME_PAGE_SIZE };
	eventidx = (struct vnvme_dma_buf){ (uint8_t *)shadow.vaddr + NVME_PAGE_SIZE,
					   shadow.iova + NVME_PAGE_SIZE, NVME_PAGE_SIZE };
	if (!EXPECT_OK(vnvme_shadow_doorbells_config(&c->ctrl, &shadow, &eventidx)))
		goto out;
	q = c->q;
	db = shadow.vaddr;
	sq = vnvme_doorbell_slot(vnvme_sq_doorbell_reg(q));
	cq = vnvme_doorbell_slot(vnvme_cq_doorbell_reg(q));
	EXPECT_OK(tc_verified_io(c, q, 0, 8, 0x5b0));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* SQ tail beyond the queue; a register write (valid) wakes the controller. */
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_ASYNC_EVENT;
		if (!EXPECT_OK(vnvme_submit(&c->ctrl.admin, &sqe)))
			break;
		__atomic_store_n(&db[sq], bad[i], __ATOMIC_SEQ_CST);
		wreg32(c, vnvme_sq_doorbell_reg(q), q->sq_tail);
		expect_invalid_db_value_event(c, sqe.cid, "SQ tail");
		db[sq] = q->sq_tail;

		/* CQ head beyond the queue: read when a completion needs a slot. */
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_ASYNC_EVENT;
		if (!EXPECT_OK(vnvme_submit(&c->ctrl.admin, &sqe)))
			break;
		__atomic_store_n(&db[cq], bad[i], __ATOMIC_SEQ_CST);
		memset(&cqe, 0, sizeof(cqe));
		{
			struct nvme_sqe flush = { .opcode = NVME_IO_FLUSH, .nsid = c->nsid };

			EXPECT_OK(vnvme_submit(q, &flush));
			wreg32(c, vnvme_sq_doorbell_reg(q), q->sq_tail);
		}
		expect_invalid_db_value_event(c, sqe.cid, "CQ head");
		/* Sane again: the held completion arrives. */
		__atomic_store_n(&db[cq], q->cq_head, __ATOMIC_SEQ_CST);
		wreg32(c, vnvme_cq_doorbell_reg(q), q->cq_head);
		EXPECT_OK(vnvme_cq_wait(q, &cqe, WAIT_MS));
		c->ops += 2;
	}
	EXPECT_OK(tc_verified_io(c, q, 16, 8, 0x5b1));

	/* Unmapped under the device, then rung: the controller fails (CFS). */
	EXPECT(vnvme_arena_unmap(c->dev, first, 1) > 0, "unmap the shadow pages");
	c->faults++;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_IO_FLUSH;
	sqe.nsid = c->nsid;
	EXPECT_OK(vnvme_submit(q, &sqe));
	wreg32(c, vnvme_sq_doorbell_reg(q), q->sq_tail);
	deadline = vnvme_now_ns() + WAIT_MS * 1000000ull;
	while (!(csts & NVME_CSTS_CFS) && vnvme_now_ns() < deadline) {
		usleep(1000);
		csts = reg32(c, NVME_REG_CSTS);
	}
	EXPECT(csts & NVME_CSTS_CFS, "CSTS 0x%x after ringing with the shadow pages unmapped", csts);
	vnvme_arena_remap_all(c->dev);
out:
	vnvme_dma_free(c->dev, &pages);
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */
/* ------------------------------------------------------------------------ */

static int rw_nop(struct tctx *c, uint8_t op, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
	struct nvme_sqe sqe;

	vnvme_cmd_rw(&sqe, op, nsid, slba, nlb);
	sqe.prp1 = c->buf.iova;
	sqe.prp2 = c->list.iova;
	memset(c->list.vaddr, 0, 4096);
	c->ops++;
	return vnvme_exec(c->q, &sqe, NULL);
}

/* The largest NLB on every command, at the start, middle and end. */
static void t_huge_nlb(struct tctx *c)
{
	static const uint8_t ops[] = { NVME_IO_READ, NVME_IO_WRITE, NVME_IO_COMPARE, NVME_IO_VERIFY,
				       NVME_IO_WRITE_ZEROES };
	uint64_t starts[3];
	unsigned int i, j;

	if (!tc_up(c, 0))
		return;
	starts[0] = 0;
	starts[1] = c->ns.nsze / 2;
	starts[2] = c->ns.nsze - 1;
	for (i = 0; i < sizeof(ops); i++) {
		for (j = 0; j < 3; j++) {
			int r = rw_nop(c, ops[i], c->nsid, starts[j], 65536);

			if (starts[j] + 65536 > c->ns.nsze)
				tc_check(c, r > 0 && NVME_STATUS_CODE(r) == NVME_SC_LBA_RANGE, __LINE__,
					 "opcode 0x%02x NLB 65536 at %llu: 0x%x", ops[i],
					 (unsigned long long)starts[j], r);
			else	/* MDTS, or Identify CNS 06h's VSL and WZSL */
				tc_check(c, r > 0 && NVME_STATUS_CODE(r) == NVME_SC_INVALID_FIELD,
					 __LINE__, "opcode 0x%02x NLB 65536: 0x%x, expected size-limit refusal",
					 ops[i], r);
		}
	}
}

/* SLBA + NLB that overflow 64 bits or wrap to small LBAs. */
static void t_lba_overflow(struct tctx *c)
{
	static const uint64_t slbas[] = { ~0ull, ~0ull - 1, ~0ull - 65534, 1ull << 63,
					  (1ull << 63) - 1, 1ull << 32, 0xffffffffull };
	static const uint8_t ops[] = { NVME_IO_READ, NVME_IO_WRITE, NVME_IO_COMPARE, NVME_IO_VERIFY,
				       NVME_IO_WRITE_ZEROES };
	struct nvme_dsm_range *r;
	unsigned int i, j;
	int st;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < sizeof(slbas) / sizeof(slbas[0]); i++)
		for (j = 0; j < sizeof(ops); j++) {
			st = rw_nop(c, ops[j], c->nsid, slbas[i], j % 2 ? 65536 : 2);
			tc_check(c, st > 0 && NVME_STATUS_CODE(st) == NVME_SC_LBA_RANGE, __LINE__,
				 "opcode 0x%02x SLBA 0x%llx: 0x%x, expected LBA Out of Range", ops[j],
				 (unsigned long long)slbas[i], st);
		}
	/* DSM ranges that wrap */
	r = c->buf2.vaddr;
	for (i = 0; i < sizeof(slbas) / sizeof(slbas[0]); i++) {
		memset(r, 0, 4096);
		r[0].slba = slbas[i];
		r[0].nlb = 0xffffffff;
		r[1].slba = 0;
		r[1].nlb = 0xffffffff;
		{
			struct nvme_sqe sqe = { .opcode = NVME_IO_DSM, .nsid = c->nsid, .cdw10 = 1,
						.cdw11 = NVME_DSM_ATTR_DEALLOCATE, .prp1 = c->buf2.iova };

			st = vnvme_exec(c->q, &sqe, NULL);
			tc_check(c, st > 0 && NVME_STATUS_CODE(st) == NVME_SC_LBA_RANGE, __LINE__,
				 "DSM SLBA 0x%llx: 0x%x", (unsigned long long)slbas[i], st);
			c->ops++;
		}
	}
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 9));
}

/* NSID 0, broadcast, absent and huge on every opcode. */
static void t_nsid_edges(struct tctx *c)
{
	static const uint32_t nsids[] = { 0, 0xffffffff, 0xfffffffe, 17, 255, 0x80000000, 16 };
	unsigned int i, op;
	int st;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < sizeof(nsids) / sizeof(nsids[0]); i++) {
		for (op = 0; op < 16; op++) {
			st = rw_nop(c, (uint8_t)op, nsids[i], 0, 1);
			EXPECT(st > 0 || (op == NVME_IO_FLUSH && nsids[i] == 0xffffffff),
			       "opcode 0x%02x NSID 0x%x: %d", op, nsids[i], st);
		}
	}
	/* Admin commands with odd NSIDs */
	for (i = 0; i < sizeof(nsids) / sizeof(nsids[0]); i++) {
		EXPECT(admin_cmd(c, NVME_ADMIN_GET_LOG_PAGE, nsids[i], NVME_LOG_SMART | 127u << 16, 0,
				 c->buf2.iova) >= 0, "log page NSID 0x%x", nsids[i]);
		EXPECT(admin_cmd(c, NVME_ADMIN_GET_FEATURES, nsids[i], NVME_FEAT_ARBITRATION, 0, 0) >= 0,
		       "features NSID 0x%x", nsids[i]);
		c->ops += 2;
	}
}

/* Delete SQ and CQ with the SQ full of I/O in flight, many times. */
static void t_delete_queues_inflight(struct tctx *c)
{
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	unsigned int round, i;
	uint32_t max_nlb;

	if (!tc_up(c, 0))
		return;
	max_nlb = (128u * 4096) / c->ns.lba_size;
	for (round = 0; round < 20; round++) {
		if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, 64, -1, &q)))
			return;
		for (i = 0; i < 63; i++) {
			vnvme_cmd_rw(&sqe, i % 3 ? NVME_IO_READ : NVME_IO_WRITE, c->nsid,
				     (i * max_nlb) % (c->ns.nsze - max_nlb), i % 2 ? max_nlb : 1);
			if (i % 5 == 0)
				sqe.opcode = i % 10 ? NVME_IO_VERIFY : NVME_IO_FLUSH;
			vnvme_set_prps(&sqe, c->buf.iova, (size_t)(i % 2 ? max_nlb : 1) * c->ns.lba_size,
				       &c->list);
			sqe.cid = (uint16_t)i;
			vnvme_sq_push(q, &sqe);
		}
		vnvme_sq_ring(q);
		if (round % 2)
			usleep(1000 * (round % 7));
		/* The deletions must complete; what happens to the commands is the controller's. */
		EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_SQ, 0, 2, 0, 0));
		EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_CQ, 0, 2, 0, 0));
		vnvme_queue_release(&c->ctrl, 2);
		c->ops += 65;
	}
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 10));
}

/*
 * Delete SQ while the controller is still fetching from it: many small
 * commands, the deletion right behind them, over and over.  Commands the
 * controller fetched must be finished (or dropped) before the queue goes.
 */
static void t_delete_sq_while_fetching(struct tctx *c)
{
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	unsigned int round, i;

	if (!tc_up(c, 0))
		return;
	for (round = 0; round < 150; round++) {
		if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, 256, -1, &q)))
			return;
		for (i = 0; i < 255; i++) {
			memset(&sqe, 0, sizeof(sqe));
			switch (i % 4) {
			case 0:
				sqe.opcode = NVME_IO_FLUSH;
				sqe.nsid = c->nsid;
				break;
			case 1:
				sqe.opcode = 0x7f;	/* invalid: completes at once */
				break;
			default:
				vnvme_cmd_rw(&sqe, i % 4 == 2 ? NVME_IO_READ : NVME_IO_WRITE, c->nsid,
					     i, 1);
				sqe.prp1 = c->buf.iova;
				break;
			}
			sqe.cid = (uint16_t)i;
			vnvme_sq_push(q, &sqe);
		}
		vnvme_sq_ring(q);
		if (round % 3 == 1)
			usleep(round * 10);
		if (!EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_SQ, 0, 2, 0, 0)) ||
		    !EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_CQ, 0, 2, 0, 0)))
			return;
		vnvme_queue_release(&c->ctrl, 2);
		c->ops += 257;
	}
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 11));
}

/*
 * Delete SQ racing the fetch of a single command: the SQ's ring was just
 * unmapped and mapped again, so the fetch re-pins it (slow) while the
 * deletion runs.  A command fetched after the deletion looked must not
 * outlive its queue (with slub_debug poisoning that is an oops).
 */
static void t_delete_sq_fetch_race(struct tctx *c)
{
	struct vnvme_queue *q;
	struct nvme_sqe sqe, del;
	unsigned int round, fatal = 0;
	uint64_t off;

	if (!tc_up(c, 0))
		return;
	for (round = 0; round < 300; round++) {
		if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, 16, -1, &q)))
			return;
		off = q->sq_mem.iova - c->dev->arena.iova;
		/* The SQ ring's pages are unpinned: its next fetch pins them again. */
		if (round % 2 == 0) {
			vnvme_arena_unmap(c->dev, off, 1);
			vnvme_arena_remap_all(c->dev);
			c->faults++;
		}
		vnvme_cmd_rw(&sqe, round % 3 ? NVME_IO_READ : 0x7f, c->nsid, round, 1);
		sqe.prp1 = c->buf.iova;
		sqe.cid = (uint16_t)round;
		vnvme_sq_push(q, &sqe);
		memset(&del, 0, sizeof(del));
		del.opcode = NVME_ADMIN_DELETE_SQ;
		del.cdw10 = 2;
		del.cid = c->ctrl.admin.next_cid++;
		vnvme_sq_push(&c->ctrl.admin, &del);
		/* Both doorbells back to back */
		vnvme_sq_ring(q);
		vnvme_sq_ring(&c->ctrl.admin);
		{
			struct nvme_cqe cqe;
			uint64_t deadline = vnvme_now_ns() + 15000000000ull;
			bool done = false;

			while (!done && vnvme_now_ns() < deadline) {
				if (vnvme_cq_poll(&c->ctrl.admin, &cqe, 1) == 1)
					done = cqe.cid == del.cid;
				else if (reg32(c, NVME_REG_CSTS) & NVME_CSTS_CFS)
					break;	/* a re-pin met the hole: fatal is allowed */
				else
					usleep(100);
			}
			if (!done && (reg32(c, NVME_REG_CSTS) & NVME_CSTS_CFS)) {
				fatal++;
				if (!tc_up(c, 0))
					return;
				continue;
			}
			if (!EXPECT(done, "round %u: Delete SQ did not complete (CSTS 0x%x)", round,
				    reg32(c, NVME_REG_CSTS)))
				return;
		}
		if (reg32(c, NVME_REG_CSTS) != NVME_CSTS_RDY) {
			/* the unmap may make the controller fatal: start again */
			if (!tc_up(c, 0))
				return;
			continue;
		}
		if (!EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_CQ, 0, 2, 0, 0)))
			return;
		vnvme_queue_release(&c->ctrl, 2);
		c->ops += 3;
	}
	tc_diag("%u of 300 rounds ended in CFS (a ring re-pin met the unmapped window)", fatal);
}

/*
 * Two SQs on one CQ that is full: deleting one SQ must complete even though
 * completions of the other SQ wait ahead of its own; and a controller
 * reset must never wait behind it.
 */
struct resetter {
	struct tctx *c;
	volatile bool done;
};

static void *reset_main(void *arg)
{
	struct resetter *r = arg;

	vnvme_reg_write32(&r->c->ctrl, NVME_REG_CC, 0);
	r->done = true;
	return NULL;
}

static void t_delete_sq_shared_full_cq(struct tctx *c)
{
	struct vnvme_queue *q1, *q2;
	struct nvme_sqe sqe;
	unsigned int i;
	int ret;

	if (!tc_up(c, 0))
		return;
	/* CQ 2 of two entries (one usable); SQ 2 and SQ 3 complete into it. */
	if (!EXPECT_OK(vnvme_queue_alloc(&c->ctrl, 2, 8, 2, -1, &q1)) ||
	    !EXPECT_OK(vnvme_queue_alloc(&c->ctrl, 3, 8, 2, -1, &q2)))
		return;
	vnvme_cmd_create_cq(&sqe, q1);
	EXPECT_OK(vnvme_exec(&c->ctrl.admin, &sqe, NULL));
	vnvme_cmd_create_sq(&sqe, q1, 2);
	EXPECT_OK(vnvme_exec(&c->ctrl.admin, &sqe, NULL));
	vnvme_cmd_create_sq(&sqe, q2, 2);
	EXPECT_OK(vnvme_exec(&c->ctrl.admin, &sqe, NULL));
	/* SQ 3 first: its completions fill the CQ and queue up ahead of SQ 2's. */
	for (i = 0; i < 4; i++) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_IO_FLUSH;
		sqe.nsid = c->nsid;
		sqe.cid = (uint16_t)(0x300 + i);
		vnvme_sq_push(q2, &sqe);
	}
	vnvme_sq_ring(q2);
	usleep(300000);
	for (i = 0; i < 4; i++) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_IO_FLUSH;
		sqe.nsid = c->nsid;
		sqe.cid = (uint16_t)(0x200 + i);
		vnvme_sq_push(q1, &sqe);
	}
	vnvme_sq_ring(q1);
	usleep(300000);
	/* Delete SQ 2 while the CQ is full */
	c->ctrl.cmd_timeout_ms = 10000;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADMIN_DELETE_SQ;
	sqe.cdw10 = 2;
	ret = vnvme_exec(&c->ctrl.admin, &sqe, NULL);
	if (!tc_check(c, ret == 0, __LINE__,
		      "Delete SQ 2 with completions of SQ 3 ahead in a full CQ: %d (%s)", ret,
		      ret < 0 ? vnvme_last_error() : vnvme_status_name(ret))) {
		/* Is a controller reset stuck behind it too? Try from a thread. */
		struct resetter r = { .c = c };
		pthread_t t;

		if (!pthread_create(&t, NULL, reset_main, &r)) {
			for (i = 0; i < 100 && !r.done; i++)
				usleep(100000);
			tc_check(c, r.done, __LINE__, "a controller reset (CC.EN = 0) hangs behind it");
			/* What the guest can still do: make room in the CQ, which unblocks all. */
			vnvme_cq_poll(q1, (struct nvme_cqe[4]){ { 0 } }, 4);
			pthread_join(t, NULL);
		}
		c->ctrl.cmd_timeout_ms = 15000;
		return;
	}
	c->ops += 12;
	/* SQ 3's completions are still there for the taking. */
	{
		struct nvme_cqe cqes[8];
		unsigned int got = 0;

		for (i = 0; i < 5000 && got < 4; i++) {
			int k = vnvme_cq_poll(q1, cqes + got, 8 - got);

			got += k > 0 ? (unsigned int)k : 0;
			if (k <= 0)
				usleep(1000);
		}
		EXPECT(got >= 4, "%u completions of SQ 3 (and SQ 2) seen", got);
	}
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_SQ, 0, 3, 0, 0));
	EXPECT_OK(admin_cmd(c, NVME_ADMIN_DELETE_CQ, 0, 2, 0, 0));
	c->ctrl.cmd_timeout_ms = 15000;
}

/* Takes one admin completion, counting AER Limit Exceeded; false if none. */
static bool take_aer_completion(struct tctx *c, unsigned int *limit)
{
	struct nvme_cqe cqe;

	if (vnvme_cq_poll(&c->ctrl.admin, &cqe, 1) != 1)
		return false;
	*limit += NVME_STATUS_CODE(NVME_CQE_STATUS_FIELD(cqe.status)) == NVME_SC_ASYNC_LIMIT;
	return true;
}

/* Many more AERs than AERL allows, events, a reset with them held. */
static void t_aer_flood(struct tctx *c)
{
	struct nvme_sqe sqe;
	unsigned int i, limit = 0;
	uint64_t deadline;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < 60; i++) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_ASYNC_EVENT;
		deadline = vnvme_now_ns() + 15000000000ull;
		while (vnvme_submit(&c->ctrl.admin, &sqe) == -EAGAIN && vnvme_now_ns() < deadline) {
			/* the SQ is full: take completions to make room */
			if (!take_aer_completion(c, &limit))
				usleep(500);
		}
		c->ops++;
		if (i % 10 == 9)
			wreg32(c, NVME_REG_DOORBELLS + 8 * (20 + i % 9), 1);	/* Error events */
	}
	deadline = vnvme_now_ns() + 5000000000ull;
	while (vnvme_now_ns() < deadline && limit < 50) {
		if (!take_aer_completion(c, &limit))
			usleep(1000);
	}
	EXPECT(limit >= 50, "%u of 60 AERs answered AER Limit Exceeded", limit);
	/* Reset with AERs held */
	wreg32(c, NVME_REG_CC, 0);
	EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
}

/* Every admin and I/O opcode with random fields and data pointers. */
static void t_random_commands(struct tctx *c)
{
	uint64_t s = 29, words[8];
	struct nvme_sqe sqe;
	unsigned int op, k, q;

	for (q = 0; q < 2; q++) {
		if (!tc_up(c, 0))
			return;
		c->ctrl.cmd_timeout_ms = 3000;
		for (op = 0; op < 256; op++) {
			/* Commands that would take our own queues away get a fresh controller. */
			for (k = 0; k < 4; k++) {
				unsigned int w;

				for (w = 0; w < 8; w++)
					words[w] = rnd(&s);
				memcpy(&sqe, words, sizeof(sqe));
				sqe.opcode = (uint8_t)op;
				if (k < 2)
					sqe.flags &= ~NVME_SQE_FUSE_MASK;
				if (k == 0)
					sqe.nsid = c->nsid;
				if (k < 3) {	/* data pointers into our buffer */
					sqe.prp1 = c->buf2.iova + (rnd(&s) % 4096) * 4;
					sqe.prp2 = c->buf2.iova + (rnd(&s) % 256) * 4096;
				}
				if (q == 0 && op == NVME_ADMIN_ASYNC_EVENT)
					continue;	/* held: tested elsewhere */
				if (q == 0 && (op == NVME_ADMIN_DELETE_SQ || op == NVME_ADMIN_DELETE_CQ ||
					       op == NVME_ADMIN_CREATE_SQ || op == NVME_ADMIN_CREATE_CQ)) {
					sqe.cdw10 = (sqe.cdw10 & 0xffff0000u) | (5 + (uint32_t)(rnd(&s) % 100));
				}
				if (q == 0 && op == NVME_ADMIN_SET_FEATURES &&
				    (sqe.cdw10 & 0xff) == NVME_FEAT_NUM_QUEUES)
					sqe.cdw10 ^= 1;
				vnvme_exec(q ? c->q : &c->ctrl.admin, &sqe, NULL);
				c->ops++;
			}
			if (reg32(c, NVME_REG_CSTS) != NVME_CSTS_RDY && !tc_up(c, 0))
				return;
		}
	}
	c->ctrl.cmd_timeout_ms = 15000;
}

/* Aborts for everything: every queue, random CIDs, commands in flight. */
static void t_abort_flood(struct tctx *c)
{
	struct nvme_sqe sqe;
	uint64_t s = 31;
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < 63; i++) {
		vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, i, 1);
		sqe.prp1 = c->buf.iova;
		sqe.cid = (uint16_t)i;
		vnvme_sq_push(c->q, &sqe);
	}
	vnvme_sq_ring(c->q);
	for (i = 0; i < 300; i++) {
		uint32_t sqid = (uint32_t)(rnd(&s) % 4), cid = (uint32_t)(rnd(&s) % 80);

		EXPECT(admin_cmd(c, NVME_ADMIN_ABORT, 0, sqid | cid << 16, 0, 0) == 0,
		       "Abort %u/%u", sqid, cid);
		c->ops++;
	}
	/* Everything in flight completes, aborted or not. */
	{
		struct nvme_cqe cqe;
		unsigned int got = 0, spins = 0;

		while (got < 63 && spins < 100000) {
			int k = vnvme_cq_poll(c->q, &cqe, 1);

			got += k > 0;
			if (k <= 0) {
				spins++;
				usleep(100);
			}
		}
		EXPECT_EQ(got, 63);
	}
}

/* Admin commands whose data pointer is not mapped, or SGLs (not allowed on admin). */
static void t_admin_data_unmapped(struct tctx *c)
{
	static const struct { uint8_t op; uint32_t cdw10; } cmds[] = {
		{ NVME_ADMIN_IDENTIFY, 1 }, { NVME_ADMIN_IDENTIFY, 0 }, { NVME_ADMIN_IDENTIFY, 2 },
		{ NVME_ADMIN_GET_LOG_PAGE, NVME_LOG_SMART | 127u << 16 },
		{ NVME_ADMIN_GET_LOG_PAGE, NVME_LOG_ERROR | 1023u << 16 },
		{ NVME_ADMIN_GET_LOG_PAGE, NVME_LOG_CMD_EFFECTS | 1023u << 16 },
		{ NVME_ADMIN_SET_FEATURES, NVME_FEAT_TIMESTAMP },
		{ NVME_ADMIN_GET_FEATURES, NVME_FEAT_TIMESTAMP },
	};
	unsigned int i, j;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		for (j = 0; j < sizeof(nowhere) / sizeof(nowhere[0]); j++) {
			EXPECT(admin_cmd(c, cmds[i].op, 1, cmds[i].cdw10, 0, nowhere[j]) > 0,
			       "admin 0x%02x into 0x%llx: expected an error", cmds[i].op,
			       (unsigned long long)nowhere[j]);
			c->ops++;
		}
}

/*
 * An admin SQ of 1024 entries full of Get Log Page at the largest transfer,
 * over an admin CQ of 2 entries whose head the host does not move: the
 * controller must not buffer the data of all of them (admin commands have a
 * bounce budget too).  How far it fetched shows in the SQ head of the CQE it
 * posts once the host makes room.  Every command then completes as the host
 * takes the completions, and a reset with the admin queue throttled works.
 */
static void t_admin_bounce_budget(struct tctx *c)
{
	const unsigned int depth = 1024, n = 256, ahead_max = 16;
	struct vnvme_queue *aq = &c->ctrl.admin;
	uint32_t cc = 0, xfer, numd0, db_cq;
	unsigned int round, k, errors = 0, head_max = 0, first_head = 0;
	struct nvme_id_ctrl *id;
	struct nvme_sqe sqe;

	if (!tc_enable(c, 0) || !EXPECT_OK(vnvme_ctrl_enable(&c->ctrl, depth, -1)))
		return;
	id = tc_vpage(&c->buf2, 0);
	if (!EXPECT_OK(vnvme_identify(&c->ctrl, 1, 0, id)))
		return;
	if (!id->mdts) {
		tc_skip(c, "MDTS 0 (no limit)");
		return;
	}
	xfer = NVME_PAGE_SIZE << id->mdts;
	if (xfer > c->buf.size)
		xfer = (uint32_t)c->buf.size;
	numd0 = xfer / 4 - 1;
	/* The same admin queue memory, with 2 CQ entries instead of 1024. */
	db_cq = NVME_REG_DOORBELLS + c->ctrl.doorbell_stride;
	for (round = 0; round < 2; round++) {
		volatile struct nvme_cqe *cq = aq->cq_mem.vaddr;
		uint64_t deadline;

		vnvme_reg_read32(&c->ctrl, NVME_REG_CC, &cc);
		wreg32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
		if (!EXPECT_OK(vnvme_ctrl_wait_csts(&c->ctrl, NVME_CSTS_RDY, 0, WAIT_MS)))
			return;
		memset(aq->cq_mem.vaddr, 0, aq->cq_mem.size);
		wreg32(c, NVME_REG_AQA, 1u << 16 | (depth - 1));
		wreg32(c, NVME_REG_CC, cc | NVME_CC_EN);
		if (!EXPECT_OK(vnvme_ctrl_wait_csts(&c->ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, WAIT_MS)))
			return;
		for (k = 0; k < n; k++) {
			memset(&sqe, 0, sizeof(sqe));
			sqe.opcode = NVME_ADMIN_GET_LOG_PAGE;
			sqe.nsid = 0xffffffffu;
			sqe.cid = (uint16_t)k;
			sqe.cdw10 = NVME_LOG_ERROR | (numd0 & 0xffff) << 16;
			sqe.cdw11 = numd0 >> 16;
			if (!EXPECT_OK(vnvme_set_prps(&sqe, c->buf.iova, xfer, &c->list)))
				return;
			((struct nvme_sqe *)aq->sq_mem.vaddr)[k] = sqe;
		}
		wreg32(c, NVME_REG_DOORBELLS, n);
		c->ops += n;
		/* Time to fetch everything, for a controller that would. */
		sleep(3);
		if (round == 1) {
			/* Reset with the admin queue throttled: must not wait for the host. */
			wreg32(c, NVME_REG_CC, 0);
			EXPECT_OK(vnvme_ctrl_wait_csts(&c->ctrl, NVME_CSTS_RDY, 0, WAIT_MS));
			break;
		}
		/* Completion k lands in slot k % 2 with phase 1 on even passes. */
		for (k = 0; k < n; k++) {
			volatile struct nvme_cqe *e = &cq[k % 2];
			uint16_t phase = 1 ^ ((k / 2) & 1);

			deadline = vnvme_now_ns() + WAIT_MS * 1000000ull;
			while ((e->status & 1) != phase && vnvme_now_ns() < deadline)
				usleep(200);
			if (!EXPECT((e->status & 1) == phase, "completion %u of %u never came", k, n))
				return;
			errors += (e->status >> 1) != 0;
			if (e->sq_head > head_max)
				head_max = e->sq_head;
			if (k == 1)
				first_head = e->sq_head;
			wreg32(c, db_cq, (k + 1) % 2);
		}
		tc_diag("SQ head %u in the first completion posted after the host made room (%u "
			"commands of %u KiB submitted), %u at the end", first_head, n, xfer >> 10,
			head_max);
		EXPECT(first_head <= ahead_max,
		       "the controller fetched %u commands of %u KiB ahead of a full CQ", first_head,
		       xfer >> 10);
		EXPECT_EQ(errors, 0);
		EXPECT_EQ(head_max, n);
	}
	/* The usual admin queue again, and a small command works. */
	if (tc_enable(c, 0))
		EXPECT_OK(vnvme_identify(&c->ctrl, 1, 0, id));
}

/* CQ head doorbells that claim entries not yet posted; SQ tails that jump. */
static void t_doorbell_jumps(struct tctx *c)
{
	struct nvme_sqe sqe;
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	/* Fill SQ 1 with garbage-free zeroes and jump the tail over it. */
	memset(c->q->sq_mem.vaddr, 0, c->q->sq_mem.size);
	for (i = 0; i < 64; i++) {
		wreg32(c, NVME_REG_DOORBELLS + 8, (i * 37) % 64);
		wreg32(c, NVME_REG_DOORBELLS + 12, (i * 11) % 64);
		c->ops += 2;
	}
	usleep(200000);
	/* The same with the SQ full of real writes to our scratch LBAs */
	for (i = 0; i < 64; i++) {
		struct nvme_sqe *slot = (struct nvme_sqe *)c->q->sq_mem.vaddr + i;

		vnvme_cmd_rw(&sqe, NVME_IO_WRITE, c->nsid, 1000 + i, 1);
		sqe.prp1 = c->buf.iova;
		sqe.cid = (uint16_t)i;
		*slot = sqe;
	}
	for (i = 0; i < 200; i++) {
		wreg32(c, NVME_REG_DOORBELLS + 8, (i * 13) % 64);
		c->ops++;
	}
	usleep(200000);
	wreg32(c, NVME_REG_CC, 0);
	EXPECT_OK(vnvme_ctrl_wait_csts(&c->ctrl, NVME_CSTS_RDY, 0, WAIT_MS));
}

/* Create and delete queues of every size and id, over and over: pins must balance. */
static void t_queue_churn(struct tctx *c)
{
	long max = tc_sysfs_long(c, "vnvme/max_queues", 4), pinned;
	uint64_t s = 37;
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < 300; i++) {
		uint16_t qid = (uint16_t)(2 + rnd(&s) % (uint64_t)(max - 1));
		uint16_t size0 = (uint16_t)(1 + rnd(&s) % 1023);
		uint64_t base = c->buf2.iova + (rnd(&s) % 256) * 4096;

		admin_cmd(c, NVME_ADMIN_CREATE_CQ, 0, (uint32_t)size0 << 16 | qid, 1 | (rnd(&s) % 3) << 1,
			  base);
		admin_cmd(c, NVME_ADMIN_CREATE_SQ, 0, (uint32_t)size0 << 16 | qid, (uint32_t)qid << 16 | 1,
			  base + 4096 * (rnd(&s) % 8));
		if (rnd(&s) % 3) {
			admin_cmd(c, NVME_ADMIN_DELETE_SQ, 0, qid, 0, 0);
			admin_cmd(c, NVME_ADMIN_DELETE_CQ, 0, qid, 0, 0);
		}
		c->ops += 4;
	}
	pinned = tc_sysfs_long(c, "vnvme/pinned_pages", -1);
	EXPECT(pinned >= 0 && pinned < 4096, "pinned pages %ld", pinned);
	EXPECT_OK(vnvme_ctrl_disable(&c->ctrl));
	pinned = tc_sysfs_long(c, "vnvme/pinned_pages", -1);
	EXPECT_EQ(pinned, 0);
}

/* With a small pin budget (module parameter), queue creation beyond it fails cleanly. */
static void t_pinned_page_limit(struct tctx *c)
{
	long limit = tc_get_long(c, "max_pinned_pages", 0), pinned;
	unsigned int qid, created = 0;

	if (!tc_up(c, 0))
		return;
	if (!limit) {
		tc_skip(c, "run with the module loaded with max_pinned_pages and --set max_pinned_pages=N");
		return;
	}
	for (qid = 2; qid <= (unsigned int)tc_sysfs_long(c, "vnvme/max_queues", 4); qid++) {
		int a = admin_cmd(c, NVME_ADMIN_CREATE_CQ, 0, 1023u << 16 | qid, 1,
				  c->buf2.iova + (qid - 2) * 16384);
		int b = a ? a : admin_cmd(c, NVME_ADMIN_CREATE_SQ, 0, 1023u << 16 | qid,
					  qid << 16 | 1, c->buf.iova + (qid - 2) * 65536ull);

		created += !a && !b;
		pinned = tc_sysfs_long(c, "vnvme/pinned_pages", -1);
		EXPECT(pinned <= limit, "pinned %ld above the limit %ld", pinned, limit);
		c->ops += 2;
	}
	tc_diag("%u of the largest queue pairs fit under %ld pinned pages", created, limit);
	/* 4 pages are the admin queue and queue 1; a largest pair needs 16 + 4. */
	EXPECT(created <= (unsigned int)((limit - 4) / 20), "%u pairs created under %ld pages",
	       created, limit);
}

/* The instance runs Read and Write on the guest's pages (vnvme/zero_copy); else a skip. */
static bool zero_copy_on(struct tctx *c)
{
	if (tc_sysfs_long(c, "vnvme/zero_copy", -1) == 1 && tc_pin_cache(c, "pages") >= 0)
		return true;
	tc_skip(c, "zero_copy is off on this instance (or no vnvme/pin_cache)");
	return false;
}

/*
 * Zero-copy: PRPs into IOVA nobody mapped, alone or after a mapped page.  The pin fails,
 * the command bounces and gets Data Transfer Error; the mapped page it held is released;
 * nothing is pinned beyond what the cache can hold, and a disabled controller pins nothing.
 */
static void t_zero_copy_unmapped_prp(struct tctx *c)
{
	uint64_t hole = c->dev->arena.iova + c->dev->arena.size;
	long misses0, fallbacks0, pages0, pinned;
	struct nvme_sqe sqe;
	uint32_t per_page;
	unsigned int op, i;

	if (!tc_up(c, 0) || !zero_copy_on(c))
		return;
	per_page = NVME_PAGE_SIZE / c->ns.lba_size;
	EXPECT_OK(tc_verified_io(c, c->q, 0, 2 * per_page, 0x2c));
	misses0 = tc_pin_cache(c, "misses");
	fallbacks0 = tc_pin_cache(c, "bounce_fallbacks");
	pages0 = tc_pin_cache(c, "pages");
	for (i = 0; i < 4; i++) {
		for (op = 0; op < 2; op++) {
			uint8_t opc = op ? NVME_IO_WRITE : NVME_IO_READ;

			vnvme_cmd_rw(&sqe, opc, c->nsid, 100, per_page);
			sqe.prp1 = hole + i * NVME_PAGE_SIZE;
			EXPECT_STATUS(vnvme_exec(c->q, &sqe, NULL), NVME_SC_DATA_XFER_ERROR);
			vnvme_cmd_rw(&sqe, opc, c->nsid, 100, 2 * per_page);
			sqe.prp1 = c->buf.iova + 64 * NVME_PAGE_SIZE;
			sqe.prp2 = hole + i * NVME_PAGE_SIZE;
			EXPECT_STATUS(vnvme_exec(c->q, &sqe, NULL), NVME_SC_DATA_XFER_ERROR);
			c->ops += 2;
		}
	}
	/* Every one went through the pin path, and bounced. */
	EXPECT(tc_pin_cache(c, "misses") >= misses0 + 8, "misses %ld, were %ld",
	       tc_pin_cache(c, "misses"), misses0);
	EXPECT(tc_pin_cache(c, "bounce_fallbacks") >= fallbacks0 + 16, "fallbacks %ld, were %ld",
	       tc_pin_cache(c, "bounce_fallbacks"), fallbacks0);
	/* At most the one mapped page joined the cache. */
	EXPECT(tc_pin_cache(c, "pages") <= pages0 + 1, "cached pages %ld, were %ld",
	       tc_pin_cache(c, "pages"), pages0);
	EXPECT_OK(tc_verified_io(c, c->q, 0, 2 * per_page, 0x2d));
	EXPECT_OK(vnvme_ctrl_disable(&c->ctrl));
	pinned = tc_sysfs_long(c, "vnvme/pinned_pages", -1);
	EXPECT_EQ(pinned, 0);
	EXPECT_EQ(tc_pin_cache(c, "pages"), 0);
}

/* Submits nr commands of pages pages each from buf, each with a PRP list of its own. */
static unsigned int pin_budget_submit(struct tctx *c, uint8_t opc, const struct vnvme_dma_buf *buf,
				      uint64_t slba0, unsigned int nr, unsigned int pages)
{
	size_t len = (size_t)pages * NVME_PAGE_SIZE;
	unsigned int i, sent = 0;
	struct nvme_sqe sqe;

	for (i = 0; i < nr; i++) {
		struct vnvme_dma_buf list = {
			.vaddr = (char *)c->list.vaddr + i * NVME_PAGE_SIZE,
			.iova = c->list.iova + i * NVME_PAGE_SIZE,
			.size = NVME_PAGE_SIZE,
		};

		vnvme_cmd_rw(&sqe, opc, c->nsid, slba0 + i * (len / c->ns.lba_size),
			     (uint32_t)(len / c->ns.lba_size));
		vnvme_set_prps(&sqe, buf->iova + i * len, len, &list);
		sqe.cid = (uint16_t)(0x200 + i);
		if (vnvme_sq_push(c->q, &sqe))
			break;
		sent++;
	}
	vnvme_sq_ring(c->q);
	return sent;
}

/* Reaps n completions; counts those that failed. */
static unsigned int pin_budget_reap(struct tctx *c, unsigned int n, long limit, long *max_pinned)
{
	uint64_t deadline = vnvme_now_ns() + 30ull * 1000000000;
	unsigned int got = 0, failed = 0;
	struct nvme_cqe cqe;

	while (got < n && vnvme_now_ns() < deadline) {
		long pinned = tc_sysfs_long(c, "vnvme/pinned_pages", -1);

		if (pinned > *max_pinned)
			*max_pinned = pinned;
		if (vnvme_cq_poll(c->q, &cqe, 1) == 1) {
			got++;
			failed += NVME_CQE_STATUS_FIELD(cqe.status) != 0;
		}
	}
	EXPECT(got == n, "%u of %u completions", got, n);
	EXPECT(*max_pinned <= limit, "pinned %ld above the budget %ld", *max_pinned, limit);
	return failed;
}

/*
 * A guest that spreads its I/O over many distinct pages, 16 commands of 128 KiB in flight
 * (512 pages) against a small pin budget (module max_pinned_pages): pins never exceed the
 * budget, the cache evicts unused pages, and every byte arrives.  Whether two of those
 * commands want their pages at the same moment depends on scheduling, so the bounce
 * fallback is shown by one command larger than the whole budget, which can never be pinned.
 */
static void t_pin_budget_many_pages(struct tctx *c)
{
	long limit = tc_get_long(c, "max_pinned_pages", 0), max_pinned = 0;
	long evictions0, fallbacks0, misses0;
	size_t len = 32 * NVME_PAGE_SIZE;
	unsigned int round, n, failed, big;
	uint64_t s = 77;

	if (!tc_up(c, 0) || !zero_copy_on(c))
		return;
	if (!limit) {
		tc_skip(c, "run with the module loaded with max_pinned_pages and --set max_pinned_pages=N");
		return;
	}
	if (c->ns.nsze * c->ns.lba_size < 16 * len || c->q->depth < 17) {
		tc_skip(c, "namespace or queue too small for 16 commands of 128 KiB");
		return;
	}
	/* Past the budget, within MDTS 7 (128 pages) and within the 512 pages of buf. */
	big = (unsigned int)limit + 1;
	if (big > 128) {
		tc_skip(c, "max_pinned_pages above 127: no command can exceed the budget");
		return;
	}
	evictions0 = tc_pin_cache(c, "evictions");
	fallbacks0 = tc_pin_cache(c, "bounce_fallbacks");
	misses0 = tc_pin_cache(c, "misses");
	for (round = 0; round < 3; round++) {
		size_t i;

		for (i = 0; i < 16 * len / 8; i++)
			((uint64_t *)c->buf.vaddr)[i] = rnd(&s);
		memset(c->buf2.vaddr, 0, 16 * len);
		/* Several rounds: pages cached by one are evicted by the next. */
		n = pin_budget_submit(c, NVME_IO_WRITE, &c->buf, 0, 16, 32);
		failed = pin_budget_reap(c, n, limit, &max_pinned);
		EXPECT(failed == 0, "%u of %u writes failed", failed, n);
		n = pin_budget_submit(c, NVME_IO_READ, &c->buf2, 0, 16, 32);
		failed = pin_budget_reap(c, n, limit, &max_pinned);
		EXPECT(failed == 0, "%u of %u reads failed", failed, n);
		EXPECT(!memcmp(c->buf.vaddr, c->buf2.vaddr, 16 * len), "round %u: data read back differs",
		       round);
		c->ops += 32;
	}
	/* One command of more pages than the budget: it must bounce, and still be right. */
	memset(c->buf2.vaddr, 0, big * NVME_PAGE_SIZE);
	n = pin_budget_submit(c, NVME_IO_WRITE, &c->buf, 0, 1, big);
	EXPECT(pin_budget_reap(c, n, limit, &max_pinned) == 0, "the write larger than the budget failed");
	n = pin_budget_submit(c, NVME_IO_READ, &c->buf2, 0, 1, big);
	EXPECT(pin_budget_reap(c, n, limit, &max_pinned) == 0, "the read larger than the budget failed");
	EXPECT(!memcmp(c->buf.vaddr, c->buf2.vaddr, big * NVME_PAGE_SIZE),
	       "data read back by the command larger than the budget differs");
	c->ops += 2;
	tc_diag("pin budget %ld: at most %ld pinned; misses %ld, evictions %ld, bounce fallbacks %ld",
		limit, max_pinned, tc_pin_cache(c, "misses") - misses0,
		tc_pin_cache(c, "evictions") - evictions0,
		tc_pin_cache(c, "bounce_fallbacks") - fallbacks0);
	EXPECT(tc_pin_cache(c, "misses") > misses0, "no page was pinned for zero-copy");
	EXPECT(tc_pin_cache(c, "evictions") > evictions0, "the cache never evicted");
	EXPECT(tc_pin_cache(c, "bounce_fallbacks") > fallbacks0,
	       "the command of %u pages under a budget of %ld did not bounce", big, limit);
}

/* ------------------------------------------------------------------------ */

/* ---- mapped doorbells (the instance in mapped mode, --doorbells mapped) ---- */

static bool need_mapped(struct tctx *c)
{
	if (c->dev && c->dev->doorbells)
		return true;
	tc_skip(c, "trapped doorbells: the case needs the doorbell page mapped (--doorbells mapped)");
	return false;
}

/* n reads of one page each on q (n <= 32), behind one SQ doorbell. */
static bool submit_page_reads(struct tctx *c, struct vnvme_queue *q, unsigned int n)
{
	uint32_t nlb = NVME_PAGE_SIZE / c->ns.lba_size;
	struct nvme_sqe sqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(&sqe, 0, sizeof(sqe));
		vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, (uint64_t)i * nlb, nlb);
		sqe.prp1 = tc_page(&c->buf, i);
		sqe.cid = (uint16_t)(q->next_cid++ & 0xfff);
		if (!EXPECT_OK(vnvme_sq_push(q, &sqe)))
			return false;
	}
	return EXPECT_OK(vnvme_sq_ring(q));
}

/* n successful completions on q. */
static bool reap_ok(struct tctx *c, struct vnvme_queue *q, unsigned int n)
{
	struct nvme_cqe cqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!tc_check(c, vnvme_cq_wait(q, &cqe, 10000) == 0, __LINE__,
			      "completion %u of %u: %s", i + 1, n, vnvme_last_error()))
			return false;
		if (!tc_check(c, NVME_CQE_STATUS_FIELD(cqe.status) == 0, __LINE__,
			      "completion %u: status 0x%x", i + 1, NVME_CQE_STATUS_FIELD(cqe.status)))
			return false;
	}
	return true;
}

/*
 * Garbage written straight into the mapped page: first one value for an absent
 * queue, which the poller must report as an Invalid Doorbell Register event (so
 * the page is read and validated like a trapped write), then random values in
 * every dword of the page, live queues and qids beyond the controller's alike,
 * round after round.  A reset must then bring a working controller back.
 */
static void t_doorbell_page_garbage(struct tctx *c)
{
	volatile uint32_t *db;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint64_t s = 29;
	unsigned int round, i;
	char why[512];

	if (!need_mapped(c) || !tc_up(c, 0))
		return;
	db = c->dev->doorbells;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADMIN_ASYNC_EVENT;
	if (!EXPECT_OK(vnvme_submit(&c->ctrl.admin, &sqe)))
		return;
	db[2 * 20] = 7;		/* SQ 20: no such queue on this instance */
	if (tc_check(c, vnvme_cq_wait(&c->ctrl.admin, &cqe, 10000) == 0, __LINE__,
		     "no asynchronous event for a doorbell of an absent queue written to the page: %s",
		     vnvme_last_error()))
		tc_check(c, NVME_AER_TYPE(cqe.result) == NVME_AER_TYPE_ERROR &&
			 NVME_AER_INFO(cqe.result) == NVME_AER_ERR_INVALID_DB, __LINE__,
			 "event 0x%x, expected Error / Invalid Doorbell Register", cqe.result);
	for (round = 0; round < 64; round++) {
		for (i = 0; i < NVME_PAGE_SIZE / 4; i++)
			db[i] = (uint32_t)rnd(&s) >> (rnd(&s) % 32);
		c->ops += NVME_PAGE_SIZE / 4;
		usleep(round % 8 ? 100 : 5000);	/* now and then long enough to park */
	}
	tc_down(c);
	if (!tc_up(c, 0))
		return;
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 3));
	tc_check(c, tc_health(c, why, sizeof(why)) == 0, __LINE__, "health: %s", why);
}

/* Extra mappings of the doorbell page made and dropped while the case does I/O. */
static volatile bool map_churn_stop;

static void *doorbell_map_churn_main(void *arg)
{
	struct tctx *c = arg;
	uint64_t off = c->dev->bar0.offset + NVME_REG_DOORBELLS;
	uint64_t n = 0;

	while (!map_churn_stop) {
		void *p = mmap(NULL, NVME_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			       c->dev->device_fd, (off_t)off);

		if (p == MAP_FAILED)
			return (void *)1;
		(void)*(volatile uint32_t *)p;	/* fault it in */
		munmap(p, NVME_PAGE_SIZE);
		n++;
	}
	return (void *)0;
}

/*
 * The doorbell mapping unmapped and mapped again with commands in flight: the
 * submissions rung through the old mapping complete, the CQ head and the next
 * submissions go through the new one; meanwhile a thread maps and unmaps the
 * page over and over (vma tracking under faults and zaps).
 */
static void t_doorbell_page_remap_io(struct tctx *c)
{
	pthread_t churn;
	unsigned int round;
	void *thread_ret = NULL;

	if (!need_mapped(c) || !tc_up(c, 0))
		return;
	map_churn_stop = false;
	if (!EXPECT_OK(-pthread_create(&churn, NULL, doorbell_map_churn_main, c)))
		return;
	for (round = 0; round < 100 && !c->failed; round++) {
		if (!submit_page_reads(c, c->q, 1 + round % 32))
			break;
		vnvme_doorbells_unmap(c->dev);
		if (round % 3 == 0)
			usleep(2000);	/* the poller may park with nothing mapped */
		if (!EXPECT_OK(vnvme_doorbells_map(c->dev)))
			break;
		if (!reap_ok(c, c->q, 1 + round % 32))
			break;
		if (round % 10 == 0)
			EXPECT_OK(tc_verified_io(c, c->q, 1024 + round, 8, round));
		c->ops++;
	}
	map_churn_stop = true;
	pthread_join(churn, &thread_ret);
	tc_check(c, thread_ret == NULL, __LINE__, "the mapping thread could not map the page");
}

/*
 * The VFIO user forks with I/O in flight.  Fork copies the mapping; each child
 * writes into it (a doorbell of an absent queue, which is harmless to the
 * parent's queues) and exits, one right away, one after sleeping through
 * parks of the poller.  A child's write must land (no SIGBUS: the child's
 * mapping is tracked and faulted like the parent's) and the parent's I/O
 * must keep completing.
 */
static void t_doorbell_page_fork(struct tctx *c)
{
	unsigned int round;
	int status;
	pid_t pid;

	if (!need_mapped(c) || !tc_up(c, 0))
		return;
	for (round = 0; round < 20 && !c->failed; round++) {
		if (!submit_page_reads(c, c->q, 16))
			break;
		pid = fork();
		if (pid < 0) {
			tc_check(c, false, __LINE__, "fork: %s", strerror(errno));
			break;
		}
		if (!pid) {
			if (round % 2)
				usleep(20000);
			c->dev->doorbells[2 * 30] = round;	/* SQ 30: absent */
			_exit(0);
		}
		if (!reap_ok(c, c->q, 16))
			break;
		EXPECT_OK(tc_verified_io(c, c->q, 2048 + round * 8, 8, round));
		if (waitpid(pid, &status, 0) != pid) {
			tc_check(c, false, __LINE__, "waitpid: %s", strerror(errno));
			break;
		}
		tc_check(c, WIFEXITED(status) && WEXITSTATUS(status) == 0, __LINE__,
			 "child %u: status 0x%x (a signal: its doorbell write faulted)", round, status);
		c->ops++;
	}
}

static const struct tcase cases[] = {
	{ "cc_bad_fields", t_cc_bad_fields },
	{ "enable_without_admin_queues", t_enable_without_admin_queues },
	{ "toggle_en_shn", t_toggle_en_shn },
	{ "doorbells_absent_queues", t_doorbells_absent_queues },
	{ "doorbell_values_beyond_size", t_doorbell_values_beyond_size },
	{ "bar0_every_offset", t_bar0_every_offset },
	{ "config_every_offset", t_config_every_offset },
	{ "prp_outside_memory", t_prp_outside_memory },
	{ "prp_lists_hostile", t_prp_lists_hostile },
	{ "sgl_malformed", t_sgl_malformed },
	{ "sgl_loops", t_sgl_loops },
	{ "queues_on_unmapped_memory", t_queues_on_unmapped_memory },
	{ "queues_overlapping", t_queues_overlapping },
	{ "queue_memory_unmapped", t_queue_memory_unmapped },
	{ "unmap_under_doorbell_storm", t_unmap_under_doorbell_storm },
	{ "unmap_admin_rings_reenable", t_unmap_admin_rings_reenable },
	{ "shadow_doorbells", t_shadow_doorbells },
	{ "huge_nlb", t_huge_nlb },
	{ "lba_overflow", t_lba_overflow },
	{ "nsid_edges", t_nsid_edges },
	{ "delete_queues_inflight", t_delete_queues_inflight },
	{ "delete_sq_while_fetching", t_delete_sq_while_fetching },
	{ "delete_sq_fetch_race", t_delete_sq_fetch_race },
	{ "delete_sq_shared_full_cq", t_delete_sq_shared_full_cq },
	{ "aer_flood", t_aer_flood },
	{ "random_commands", t_random_commands },
	{ "abort_flood", t_abort_flood },
	{ "admin_data_unmapped", t_admin_data_unmapped },
	{ "admin_bounce_budget", t_admin_bounce_budget },
	{ "doorbell_jumps", t_doorbell_jumps },
	{ "queue_churn", t_queue_churn },
	{ "pinned_page_limit", t_pinned_page_limit },
	{ "doorbell_page_garbage", t_doorbell_page_garbage },
	{ "doorbell_page_remap_io", t_doorbell_page_remap_io },
	{ "doorbell_page_fork", t_doorbell_page_fork },
	{ "zero_copy_unmapped_prp", t_zero_copy_unmapped_prp },
	{ "pin_budget_many_pages", t_pin_budget_many_pages },
};

int main(int argc, char **argv)
{
	return tcase_main(argc, argv, "hostile",
			  "  --set max_pinned_pages=N  the module's max_pinned_pages (pinned_page_limit,\n"
			  "                           pin_budget_many_pages)\n",
			  cases, sizeof(cases) / sizeof(cases[0]));
}
