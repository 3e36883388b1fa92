// SPDX-License-Identifier: GPL-2.0
/*
 * conformance: every controller register and every implemented NVMe command
 * of a vnvme instance, the success path and each error status the
 * specification defines (NVMe 1.4), driven from userspace over VFIO with
 * libvnvme.  KTAP output, one case per register or command area.
 *
 * usage: conformance [tcase options] UUID
 *   --nsid N            the namespace for I/O (active, read-write, >= 16 MiB)
 *   --set attach_ns=N   namespace slot with device_path set but not enabled
 *                       (namespace attach: Notice event and Changed NS list)
 *   --set ro_nsid=N     an active read-only namespace
 *   --set nsid_4k=N     an active namespace with 4096-byte blocks
 *   --set large_uuid=U  a second instance (vnvme-large) with more than 32
 *                       MSI-X vectors (Interrupt Vector Configuration)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "tcase.h"

#define NO_EVENT_WAIT_MS	300	/* how long "nothing happens" is watched */
#define EVENT_WAIT_MS		10000

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint32_t reg32(struct tctx *c, uint32_t off)
{
	uint32_t v = 0xdeadbeef;

	tc_check(c, vnvme_reg_read32(&c->ctrl, off, &v) == 0, __LINE__, "read BAR0 0x%x", off);
	return v;
}

static uint64_t reg64(struct tctx *c, uint32_t off)
{
	uint64_t v = ~0ull;

	tc_check(c, vnvme_reg_read64(&c->ctrl, off, &v) == 0, __LINE__, "read BAR0 0x%x", off);
	return v;
}

static void wreg32(struct tctx *c, uint32_t off, uint32_t v)
{
	tc_check(c, vnvme_reg_write32(&c->ctrl, off, v) == 0, __LINE__, "write BAR0 0x%x", off);
}

/* The controller struct without touching any register. */
static bool regs_only(struct tctx *c)
{
	if (c->ctrl_inited)
		return true;
	if (!EXPECT_OK(vnvme_ctrl_init(&c->ctrl, c->dev)))
		return false;
	c->ctrl_inited = true;
	return true;
}

static int ctrl_off(struct tctx *c)
{
	return vnvme_ctrl_disable(&c->ctrl);
}

static int identify(struct tctx *c, uint8_t cns, uint32_t nsid, void *buf)
{
	return vnvme_identify(&c->ctrl, cns, nsid, buf);
}

static int get_feat(struct tctx *c, uint8_t fid, uint8_t sel, uint32_t cdw11, uint32_t *dw0)
{
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_GET_FEATURES,
		.cdw10 = fid | (uint32_t)sel << 8,
		.cdw11 = cdw11,
	};
	struct nvme_cqe cqe = { 0 };
	int ret = tc_admin(c, &sqe, &cqe);

	if (dw0)
		*dw0 = cqe.result;
	return ret;
}

static int set_feat(struct tctx *c, uint8_t fid, uint32_t cdw11, bool save, uint32_t *dw0)
{
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_SET_FEATURES,
		.cdw10 = fid | (save ? 1u << 31 : 0),
		.cdw11 = cdw11,
	};
	struct nvme_cqe cqe = { 0 };
	int ret = tc_admin(c, &sqe, &cqe);

	if (dw0)
		*dw0 = cqe.result;
	return ret;
}

static int get_log(struct tctx *c, uint8_t lid, uint32_t nsid, void *buf, size_t len,
		   uint64_t lpo, bool rae)
{
	uint32_t numd = (uint32_t)(len / 4) - 1;
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_GET_LOG_PAGE,
		.nsid = nsid,
		.cdw10 = lid | (rae ? 1u << 15 : 0) | (numd & 0xffff) << 16,
		.cdw11 = numd >> 16,
		.cdw12 = (uint32_t)lpo,
		.cdw13 = (uint32_t)(lpo >> 32),
	};

	return tc_admin_data(c, &sqe, buf, len, false, NULL);
}

static int admin_simple(struct tctx *c, uint8_t opcode, uint32_t nsid, uint32_t cdw10,
			uint32_t cdw11, struct nvme_cqe *cqe)
{
	struct nvme_sqe sqe = {
		.opcode = opcode,
		.nsid = nsid,
		.cdw10 = cdw10,
		.cdw11 = cdw11,
	};

	return tc_admin(c, &sqe, cqe);
}

static uint16_t oncs_has(struct tctx *c, uint16_t bits)
{
	struct nvme_id_ctrl *id = malloc(sizeof(*id));
	uint16_t oncs = 0;

	if (id && !identify(c, NVME_ID_CNS_CTRL, 0, id))
		oncs = id->oncs;
	free(id);
	return oncs & bits;
}

/* Namespace size in blocks from sysfs-independent Identify. */
static uint64_t nsze(struct tctx *c)
{
	return c->ns.nsze;
}

static bool signalled_within(int fd, int ms)
{
	return vnvme_eventfd_wait(fd, ms) > 0;
}

/* Submit an Asynchronous Event Request (not waited for). */
static int aer_submit(struct tctx *c, uint16_t *cid)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_ASYNC_EVENT };
	int ret = vnvme_submit(&c->ctrl.admin, &sqe);

	*cid = sqe.cid;
	return ret;
}

/* Wait for the completion of CID cid on the admin queue (others are dropped). */
static int admin_wait_cid(struct tctx *c, uint16_t cid, int timeout_ms, struct nvme_cqe *out)
{
	uint64_t deadline = vnvme_now_ns() + (uint64_t)timeout_ms * 1000000;
	struct nvme_cqe cqe;

	while (vnvme_now_ns() < deadline) {
		int n = vnvme_cq_poll(&c->ctrl.admin, &cqe, 1);

		if (n < 0)
			return n;
		if (n == 0) {
			usleep(200);
			continue;
		}
		if (cqe.cid == cid) {
			*out = cqe;
			return 0;
		}
	}
	return -ETIMEDOUT;
}

/* ------------------------------------------------------------------------ */
/* Registers                                                                 */
/* ------------------------------------------------------------------------ */

static void t_reg_cap(struct tctx *c)
{
	uint64_t cap;

	if (!regs_only(c))
		return;
	cap = reg64(c, NVME_REG_CAP);
	EXPECT_EQ(NVME_CAP_MQES(cap), 1023);
	EXPECT(((NVME_CAP_MQES(cap) + 1) & NVME_CAP_MQES(cap)) == 0, "MQES+1 a power of two");
	EXPECT_EQ(NVME_CAP_CQR(cap), 1);
	EXPECT_EQ(NVME_CAP_AMS(cap), 0);
	EXPECT(NVME_CAP_TO(cap) != 0, "CAP.TO 0x%x", NVME_CAP_TO(cap));
	EXPECT_EQ(NVME_CAP_DSTRD(cap), 0);
	EXPECT_EQ(NVME_CAP_NSSRS(cap), 0);
	EXPECT(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM, "CSS has NVM");
	EXPECT_EQ(NVME_CAP_BPS(cap), 0);
	EXPECT_EQ(NVME_CAP_MPSMIN(cap), 0);
	EXPECT(NVME_CAP_MPSMAX(cap) >= NVME_CAP_MPSMIN(cap), "MPSMAX >= MPSMIN");
	EXPECT_EQ(NVME_CAP_PMRS(cap), 0);
	EXPECT_EQ(NVME_CAP_CMBS(cap), 0);
	/* Read-only: writes change nothing; 8-byte and 4-byte reads agree. */
	wreg32(c, NVME_REG_CAP, 0xffffffff);
	wreg32(c, NVME_REG_CAP + 4, 0xffffffff);
	EXPECT_EQ(reg64(c, NVME_REG_CAP), cap);
	{
		uint64_t v = 0;

		EXPECT_OK(vnvme_bar_read(c->dev, NVME_REG_CAP, &v, 8));
		EXPECT_EQ(v, cap);
	}
}

static void t_reg_vs(struct tctx *c)
{
	if (!regs_only(c))
		return;
	EXPECT_EQ(reg32(c, NVME_REG_VS), NVME_VS(1, 4, 0));
	wreg32(c, NVME_REG_VS, 0);
	EXPECT_EQ(reg32(c, NVME_REG_VS), NVME_VS(1, 4, 0));
}

/* INTMS sets mask bits, INTMC clears them; both read the mask. */
static void t_reg_intms_intmc(struct tctx *c)
{
	if (!regs_only(c))
		return;
	wreg32(c, NVME_REG_INTMC, 0xffffffff);
	EXPECT_EQ(reg32(c, NVME_REG_INTMS), 0);
	wreg32(c, NVME_REG_INTMS, 0x5);
	EXPECT_EQ(reg32(c, NVME_REG_INTMS), 0x5);
	EXPECT_EQ(reg32(c, NVME_REG_INTMC), 0x5);
	wreg32(c, NVME_REG_INTMS, 0x2);
	EXPECT_EQ(reg32(c, NVME_REG_INTMS), 0x7);
	wreg32(c, NVME_REG_INTMC, 0x1);
	EXPECT_EQ(reg32(c, NVME_REG_INTMS), 0x6);
	wreg32(c, NVME_REG_INTMC, 0xffffffff);
	EXPECT_EQ(reg32(c, NVME_REG_INTMC), 0);
}

/* While disabled CC reads back what was written; reserved bits stay 0. */
static void t_reg_cc_disabled(struct tctx *c)
{
	uint32_t cc;

	if (!regs_only(c) || !EXPECT_OK(ctrl_off(c)))
		return;
	cc = NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4) | NVME_CC_SHN_NORMAL;
	wreg32(c, NVME_REG_CC, cc);
	EXPECT_EQ(reg32(c, NVME_REG_CC), cc);
	wreg32(c, NVME_REG_CC, 0xfffffffe);	/* everything but EN */
	EXPECT_EQ(reg32(c, NVME_REG_CC) & 0xff00000e, 0);
	EXPECT_EQ(reg32(c, NVME_REG_CSTS) & NVME_CSTS_RDY, 0);
	wreg32(c, NVME_REG_CC, 0);
	EXPECT_EQ(reg32(c, NVME_REG_CC), 0);
}

/* MPS, AMS and CSS keep their values while EN is 1. */
static void t_reg_cc_enabled_fields_frozen(struct tctx *c)
{
	uint32_t cc, after;
	struct nvme_id_ctrl id;

	if (!tc_up(c, 0))
		return;
	cc = reg32(c, NVME_REG_CC);
	wreg32(c, NVME_REG_CC, cc | 1u << 7 | 7u << 4 | 1u << 11);
	after = reg32(c, NVME_REG_CC);
	EXPECT_EQ(after & (0xfu << 7 | 7u << 4 | 7u << 11), cc & (0xfu << 7 | 7u << 4 | 7u << 11));
	EXPECT_EQ(reg32(c, NVME_REG_CSTS) & (NVME_CSTS_RDY | NVME_CSTS_CFS), NVME_CSTS_RDY);
	EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id));
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 1));
}

static void t_reg_csts(struct tctx *c)
{
	uint32_t csts;

	if (!regs_only(c) || !EXPECT_OK(ctrl_off(c)))
		return;
	EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
	if (!tc_enable(c, 0))
		return;
	csts = reg32(c, NVME_REG_CSTS);
	EXPECT_EQ(csts & NVME_CSTS_RDY, NVME_CSTS_RDY);
	EXPECT_EQ(csts & (NVME_CSTS_CFS | NVME_CSTS_SHST_MASK | NVME_CSTS_NSSRO | NVME_CSTS_PP), 0);
	/* Read-only */
	wreg32(c, NVME_REG_CSTS, 0xffffffff);
	EXPECT_EQ(reg32(c, NVME_REG_CSTS), csts);
	EXPECT_OK(ctrl_off(c));
	EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
}

/* AQA/ASQ/ACQ: read back while disabled (reserved bits masked), fixed while enabled. */
static void t_reg_admin_queue_attrs(struct tctx *c)
{
	if (!regs_only(c) || !EXPECT_OK(ctrl_off(c)))
		return;
	wreg32(c, NVME_REG_AQA, 0xffffffff);
	EXPECT_EQ(reg32(c, NVME_REG_AQA), 0x0fff0fff);
	wreg32(c, NVME_REG_AQA, 0x001f0007);
	EXPECT_EQ(reg32(c, NVME_REG_AQA), 0x001f0007);
	EXPECT_OK(vnvme_reg_write64(&c->ctrl, NVME_REG_ASQ, 0x123456789abcdfffull));
	EXPECT_EQ(reg64(c, NVME_REG_ASQ), 0x123456789abcd000ull);
	EXPECT_OK(vnvme_reg_write64(&c->ctrl, NVME_REG_ACQ, 0xfedcba9876543123ull));
	EXPECT_EQ(reg64(c, NVME_REG_ACQ), 0xfedcba9876543000ull);
	/* 8-byte access as one */
	{
		uint64_t v = 0x0000000212345000ull, r = 0;

		EXPECT_OK(vnvme_bar_write(c->dev, NVME_REG_ASQ, &v, 8));
		EXPECT_OK(vnvme_bar_read(c->dev, NVME_REG_ASQ, &r, 8));
		EXPECT_EQ(r, v);
	}
	if (!tc_enable(c, 0))
		return;
	{
		uint32_t aqa = reg32(c, NVME_REG_AQA);
		uint64_t asq = reg64(c, NVME_REG_ASQ), acq = reg64(c, NVME_REG_ACQ);

		wreg32(c, NVME_REG_AQA, 0x00010001);
		EXPECT_OK(vnvme_reg_write64(&c->ctrl, NVME_REG_ASQ, 0x1000));
		EXPECT_OK(vnvme_reg_write64(&c->ctrl, NVME_REG_ACQ, 0x2000));
		EXPECT_EQ(reg32(c, NVME_REG_AQA), aqa);
		EXPECT_EQ(reg64(c, NVME_REG_ASQ), asq);
		EXPECT_EQ(reg64(c, NVME_REG_ACQ), acq);
		EXPECT_EQ(aqa, (uint32_t)(c->ctrl.admin.depth - 1) << 16 | (c->ctrl.admin.depth - 1));
		EXPECT_EQ(asq, c->ctrl.admin.sq_mem.iova);
		EXPECT_EQ(acq, c->ctrl.admin.cq_mem.iova);
	}
	{
		struct nvme_id_ctrl id;

		EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id));
	}
}

/* NSSR: CAP.NSSRS is 0, so the register reads 0 and a reset request does nothing. */
static void t_reg_nssr(struct tctx *c)
{
	struct nvme_id_ctrl id;

	if (!tc_enable(c, 0))
		return;
	EXPECT_EQ(reg32(c, NVME_REG_NSSR), 0);
	wreg32(c, NVME_REG_NSSR, 0x4e564d65);
	EXPECT_EQ(reg32(c, NVME_REG_NSSR), 0);
	EXPECT_EQ(reg32(c, NVME_REG_CSTS) & (NVME_CSTS_RDY | NVME_CSTS_NSSRO), NVME_CSTS_RDY);
	EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id));
}

/* CMBLOC, CMBSZ and everything up to the doorbells that is not a register read 0. */
static void t_reg_reserved_zero(struct tctx *c)
{
	uint32_t off, bad = 0, first = 0;

	if (!regs_only(c))
		return;
	EXPECT_EQ(reg32(c, NVME_REG_CMBLOC), 0);
	EXPECT_EQ(reg32(c, NVME_REG_CMBSZ), 0);
	for (off = 0x38; off < 0x1000; off += 4) {
		uint32_t v = reg32(c, off);

		if (v && !bad++)
			first = off;
	}
	EXPECT(bad == 0, "%u non-zero dwords, first at 0x%x", bad, first);
}

/* Enabling with an invalid CC or admin queue never sets RDY: CFS instead. */
static void expect_enable_refused(struct tctx *c, uint32_t aqa, uint64_t asq, uint64_t acq,
				  uint32_t cc, const char *what)
{
	uint32_t csts;

	if (!EXPECT_OK(ctrl_off(c)))
		return;
	wreg32(c, NVME_REG_AQA, aqa);
	EXPECT_OK(vnvme_reg_write64(&c->ctrl, NVME_REG_ASQ, asq));
	EXPECT_OK(vnvme_reg_write64(&c->ctrl, NVME_REG_ACQ, acq));
	wreg32(c, NVME_REG_CC, cc | NVME_CC_EN);
	csts = reg32(c, NVME_REG_CSTS);
	tc_check(c, (csts & (NVME_CSTS_RDY | NVME_CSTS_CFS)) == NVME_CSTS_CFS, __LINE__,
		 "%s: CSTS 0x%x, expected CFS without RDY", what, csts);
	wreg32(c, NVME_REG_CC, 0);
	EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
}

static void t_enable_invalid(struct tctx *c)
{
	struct vnvme_dma_buf q;
	uint32_t good = NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4);
	struct nvme_id_ctrl id;

	if (!regs_only(c) || !EXPECT_OK(vnvme_dma_alloc(c->dev, 2 * NVME_PAGE_SIZE, &q)))
		return;
	expect_enable_refused(c, 0x000f000f, q.iova, q.iova + 4096, good | 1u << 7, "MPS 1");
	expect_enable_refused(c, 0x000f000f, q.iova, q.iova + 4096, good | 1u << 11, "AMS 1");
	expect_enable_refused(c, 0x000f000f, q.iova, q.iova + 4096, good | 2u << 4, "CSS 2");
	expect_enable_refused(c, 0x000f000f, 0, q.iova + 4096, good, "ASQ 0");
	expect_enable_refused(c, 0x000f000f, q.iova, 0, good, "ACQ 0");
	expect_enable_refused(c, 0x00000000, q.iova, q.iova + 4096, good, "AQA 0 (1-entry queues)");
	expect_enable_refused(c, 0x0fff0fff, q.iova, q.iova + 4096, good, "AQA beyond MQES");
	expect_enable_refused(c, 0x000f000f, 0x7000000000ull, q.iova + 4096, good,
			      "ASQ not mapped");
	vnvme_dma_free(c->dev, &q);
	/* And a valid enable still works. */
	if (tc_enable(c, 0))
		EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id));
}

static void t_shutdown(struct tctx *c)
{
	uint32_t cc;
	int shn;

	for (shn = 1; shn <= 2; shn++) {
		if (!tc_up(c, 0))
			return;
		EXPECT_OK(tc_verified_io(c, c->q, 16, 8, shn));
		cc = reg32(c, NVME_REG_CC);
		wreg32(c, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | (uint32_t)shn << 14);
		EXPECT_OK(vnvme_ctrl_wait_csts(&c->ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT,
					       EVENT_WAIT_MS));
		EXPECT_EQ(reg32(c, NVME_REG_CSTS) & NVME_CSTS_CFS, 0);
		/* Clearing SHN clears SHST; EN 1->0 resets. */
		wreg32(c, NVME_REG_CC, cc & ~NVME_CC_SHN_MASK);
		EXPECT_EQ(reg32(c, NVME_REG_CSTS) & NVME_CSTS_SHST_MASK, 0);
		EXPECT_OK(ctrl_off(c));
		EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
	}
	/* Data written before the shutdown is there after it. */
	if (tc_up(c, 0)) {
		uint64_t bad;

		EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, c->nsid, 16, 8, &c->buf));
		EXPECT_OK(vnvme_pattern_check(c->buf.vaddr, c->ns.lba_size, 16, 8, 2, &bad));
	}
}

/* CC.EN 1 -> 0 drops every I/O queue. */
static void t_disable_drops_queues(struct tctx *c)
{
	if (!tc_up(c, 0))
		return;
	EXPECT_OK(vnvme_ctrl_enable(&c->ctrl, 0, -1));
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_SQ, 0, 1, 0, NULL), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_CQ, 0, 1, 0, NULL), NVME_SC_QID_INVALID);
	/* and the qid can be created again */
	EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 1, 16, -1, &c->q));
}

/* VFIO_DEVICE_RESET is a controller reset too. */
static void t_function_reset(struct tctx *c)
{
	if (!tc_up(c, 0))
		return;
	EXPECT_OK(vnvme_device_reset(c->dev));
	EXPECT_EQ(reg32(c, NVME_REG_CC), 0);
	EXPECT_EQ(reg32(c, NVME_REG_CSTS), 0);
	EXPECT_EQ(reg32(c, NVME_REG_AQA), 0);
	EXPECT_EQ(reg64(c, NVME_REG_ASQ), 0);
	if (tc_up(c, 0))
		EXPECT_OK(tc_verified_io(c, c->q, 0, 4, 3));
}

/* ------------------------------------------------------------------------ */
/* Identify                                                                  */
/* ------------------------------------------------------------------------ */

static bool ascii_field(const char *f, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (f[i] < 0x20 || f[i] > 0x7e)
			return false;
	return f[0] != ' ';
}

static void t_identify_ctrl(struct tctx *c)
{
	struct nvme_id_ctrl *id = (void *)c->buf2.vaddr;
	uint16_t vid = 0;
	char sn[32] = "";
	long mdts;

	if (!tc_enable(c, 0))
		return;
	memset(id, 0xee, sizeof(*id));
	if (!EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, id)))
		return;
	vnvme_cfg_read16(c->dev, 0, &vid);
	EXPECT_EQ(id->vid, vid);
	EXPECT(ascii_field(id->sn, sizeof(id->sn)), "SN printable, not blank");
	EXPECT(ascii_field(id->mn, sizeof(id->mn)), "MN printable");
	EXPECT(ascii_field(id->fr, sizeof(id->fr)), "FR printable");
	if (!tc_sysfs_read(c, "vnvme/serial", sn, sizeof(sn)))
		EXPECT(!strncmp(id->sn, sn, strlen(sn)), "SN '%.20s' vs sysfs '%s'", id->sn, sn);
	mdts = tc_sysfs_long(c, "vnvme/mdts", -1);
	if (mdts >= 0)
		EXPECT_EQ(id->mdts, mdts);
	EXPECT_EQ(id->cntlid, tc_sysfs_long(c, "vnvme/cntlid", id->cntlid));
	EXPECT_EQ(id->ver, NVME_VS(1, 4, 0));
	EXPECT_EQ(id->sqes, 0x66);
	EXPECT_EQ(id->cqes, 0x44);
	EXPECT(id->nn >= 1, "NN %u", id->nn);
	EXPECT_EQ(id->aerl, 3);
	EXPECT_EQ(id->acl, 3);
	EXPECT(id->elpe >= 1, "ELPE %u", id->elpe);
	EXPECT_EQ(id->cntrltype, 1);
	EXPECT(id->lpa & 2, "LPA bit 1 (Commands Supported and Effects log)");
	EXPECT(id->vwc & 1, "VWC present");
	EXPECT(id->oncs & 1, "ONCS Compare");
	EXPECT(id->oncs & 8, "ONCS Write Zeroes");
	EXPECT(id->oncs & (1u << 7), "ONCS Verify");
	EXPECT(id->sgls & 1, "SGLS supported");
	EXPECT(id->subnqn[0], "SUBNQN set");
	EXPECT_EQ(id->cmic, 0);
	EXPECT_EQ(id->fuses, 0);
	EXPECT_EQ(id->apsta, 0);
	EXPECT_EQ(id->hmpre, 0);
	tc_diag("VID %04x SN '%.20s' MN '%.40s' MDTS %u NN %u OACS %#x ONCS %#x SGLS %#x",
		id->vid, id->sn, id->mn, id->mdts, id->nn, id->oacs, id->oncs, id->sgls);
	/* CNTID and CSI fields are ignored for CNS 1. */
	{
		struct nvme_sqe sqe = { .opcode = NVME_ADMIN_IDENTIFY, .cdw10 = 1 | 0xabcdu << 16,
					.cdw11 = 0x12345678 };

		EXPECT_OK(tc_admin_data(c, &sqe, c->buf.vaddr, 4096, false, NULL));
	}
}

static void t_identify_ns(struct tctx *c)
{
	struct nvme_id_ns *id = (void *)c->buf2.vaddr;
	uint8_t zero[4096] = { 0 };
	char nguid[64] = "", hex[40];
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	memset(id, 0xee, sizeof(*id));
	if (!EXPECT_OK(identify(c, NVME_ID_CNS_NS, c->nsid, id)))
		return;
	EXPECT(id->nsze > 0, "NSZE");
	EXPECT_EQ(id->ncap, id->nsze);
	EXPECT_EQ(id->nuse, id->nsze);
	EXPECT_EQ(id->nlbaf, 0);
	EXPECT_EQ(id->flbas, 0);
	EXPECT(id->lbaf[0].lbads >= 9 && id->lbaf[0].lbads <= 12, "LBADS %u", id->lbaf[0].lbads);
	EXPECT_EQ(id->lbaf[0].ms, 0);
	if (!tc_sysfs_read(c, "ns1/nguid", nguid, sizeof(nguid)) && c->nsid == 1) {
		for (i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", id->nguid[i]);
		EXPECT(!strcmp(hex, nguid), "NGUID %s vs sysfs %s", hex, nguid);
	}
	/* An inactive NSID in range: success, all zeroes. */
	memset(id, 0xee, sizeof(*id));
	EXPECT_OK(identify(c, NVME_ID_CNS_NS, 16, id));
	EXPECT(!memcmp(id, zero, sizeof(zero)), "inactive namespace 16 is all zeroes");
	/* Out of range, zero and broadcast */
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS, 0, id), NVME_SC_INVALID_NS);
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS, 17, id), NVME_SC_INVALID_NS);
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS, 0xffffffff, id), NVME_SC_INVALID_NS);
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS, 0x80000001, id), NVME_SC_INVALID_NS);
}

static void t_identify_active_ns_list(struct tctx *c)
{
	uint32_t *list = (void *)c->buf2.vaddr;
	unsigned int i, n = 0;
	bool seen = false;

	if (!tc_up(c, 0))
		return;
	if (!EXPECT_OK(identify(c, NVME_ID_CNS_NS_ACTIVE_LIST, 0, list)))
		return;
	for (i = 0; i < 1024 && list[i]; i++) {
		if (i)
			EXPECT(list[i] > list[i - 1], "list ascending at %u", i);
		seen |= list[i] == c->nsid;
		n++;
	}
	EXPECT(seen, "namespace %u listed", c->nsid);
	for (; i < 1024; i++)
		if (!EXPECT(list[i] == 0, "entry %u after the end is 0x%x", i, list[i]))
			break;
	/* Only NSIDs greater than the given one */
	EXPECT_OK(identify(c, NVME_ID_CNS_NS_ACTIVE_LIST, c->nsid, list));
	for (i = 0; i < 1024 && list[i]; i++)
		EXPECT(list[i] > c->nsid, "NSID %u listed after %u", list[i], c->nsid);
	EXPECT_OK(identify(c, NVME_ID_CNS_NS_ACTIVE_LIST, 16, list));
	EXPECT_EQ(list[0], 0);
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS_ACTIVE_LIST, 0xfffffffe, list), NVME_SC_INVALID_NS);
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS_ACTIVE_LIST, 0xffffffff, list), NVME_SC_INVALID_NS);
	tc_diag("%u active namespaces", n);
}

static void t_identify_ns_desc_list(struct tctx *c)
{
	uint8_t *d = c->buf2.vaddr;
	struct nvme_id_ns *id = (void *)c->buf.vaddr;
	bool eui = false, nguid = false;
	unsigned int off = 0;

	if (!tc_up(c, 0))
		return;
	if (!EXPECT_OK(identify(c, NVME_ID_CNS_NS, c->nsid, id)))
		return;
	memset(d, 0xee, 4096);
	if (!EXPECT_OK(identify(c, NVME_ID_CNS_NS_DESC_LIST, c->nsid, d)))
		return;
	while (off + 4 <= 4096 && d[off]) {
		uint8_t type = d[off], len = d[off + 1];

		if (!EXPECT(off + 4 + len <= 4096, "descriptor at %u overruns", off))
			break;
		if (type == 1) {
			eui = EXPECT_EQ(len, 8) && EXPECT(!memcmp(d + off + 4, id->eui64, 8), "EUI64 matches Identify NS");
		} else if (type == 2) {
			nguid = EXPECT_EQ(len, 16) && EXPECT(!memcmp(d + off + 4, id->nguid, 16), "NGUID matches Identify NS");
		} else if (type == 3) {
			EXPECT_EQ(len, 16);
		}
		off += 4 + len;
	}
	EXPECT(eui || nguid, "at least one identifier descriptor");
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS_DESC_LIST, 0, d), NVME_SC_INVALID_NS);
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS_DESC_LIST, 0xffffffff, d), NVME_SC_INVALID_NS);
	EXPECT_STATUS_DNR(identify(c, NVME_ID_CNS_NS_DESC_LIST, 16, d), NVME_SC_INVALID_NS);
}

static void t_identify_invalid_cns(struct tctx *c)
{
	static const uint8_t bad[] = { 0x04, 0x05, 0x07, 0x08, 0x10, 0x11, 0x12, 0x13, 0x14,
				       0x15, 0x1c, 0x1f, 0x80, 0xff };
	unsigned int i;

	if (!tc_enable(c, 0))
		return;
	for (i = 0; i < sizeof(bad); i++)
		tc_check(c, (({ int r = identify(c, bad[i], 1, c->buf.vaddr);
				r > 0 && NVME_STATUS_CODE(r) == NVME_SC_INVALID_FIELD &&
				(r & NVME_STATUS_DNR); })), __LINE__,
			 "CNS 0x%02x: expected Invalid Field with DNR", bad[i]);
	/* Identify with its data pointer on memory that is not mapped */
	{
		struct nvme_sqe sqe = { .opcode = NVME_ADMIN_IDENTIFY, .cdw10 = 1,
					.prp1 = 0x7000000000ull };

		EXPECT_STATUS(tc_admin(c, &sqe, NULL), NVME_SC_DATA_XFER_ERROR);
	}
}

/*
 * I/O Command Set specific Identify Controller (CNS 06h) for the NVM command
 * set (CSI 00h), NVM Command Set 1.0: VSL (byte 0), WZSL (1), WUSL (2), DMRL
 * (3), DMRSL (7:4), DMSL (15:8).  Verify and Write Zeroes run synchronously in
 * the controller, so they have limits (in units of the minimum page size, as
 * MDTS), no larger than what a Read or Write may move.
 */
struct cs_ctrl_nvm_limits {
	uint8_t vsl, wzsl, wusl, dmrl;
	uint32_t dmrsl;
	uint64_t dmsl;
};

static int identify_cs_ctrl_nvm(struct tctx *c, struct cs_ctrl_nvm_limits *l)
{
	uint8_t *id = c->buf2.vaddr;
	int ret;

	memset(id, 0xee, 4096);
	ret = identify(c, NVME_ID_CNS_CS_CTRL, 0, id);
	memset(l, 0, sizeof(*l));
	if (ret)
		return ret;
	l->vsl = id[0];
	l->wzsl = id[1];
	l->wusl = id[2];
	l->dmrl = id[3];
	memcpy(&l->dmrsl, id + 4, 4);
	memcpy(&l->dmsl, id + 8, 8);
	return 0;
}

static void t_identify_cs_ctrl_nvm(struct tctx *c)
{
	struct cs_ctrl_nvm_limits l;
	const uint8_t *id = c->buf2.vaddr;
	long mdts = tc_sysfs_long(c, "vnvme/mdts", -1);
	static const uint8_t csis[] = { 0x01, 0x02, 0x80, 0xff };
	unsigned int i;

	if (!tc_enable(c, 0))
		return;
	if (!EXPECT_OK(identify_cs_ctrl_nvm(c, &l)))
		return;
	tc_diag("VSL %u WZSL %u WUSL %u DMRL %u DMRSL %u DMSL %llu (MDTS %ld)", l.vsl, l.wzsl,
		l.wusl, l.dmrl, l.dmrsl, (unsigned long long)l.dmsl, mdts);
	EXPECT(l.vsl != 0, "VSL: Verify has a size limit");
	EXPECT(l.wzsl != 0, "WZSL: Write Zeroes has a size limit");
	if (mdts > 0) {
		EXPECT(l.vsl <= mdts, "VSL %u within MDTS %ld", l.vsl, mdts);
		EXPECT(l.wzsl <= mdts, "WZSL %u within MDTS %ld", l.wzsl, mdts);
	}
	EXPECT_EQ(l.wusl, 0);		/* no Write Uncorrectable */
	EXPECT(l.dmrsl != 0, "DMRSL: Dataset Management ranges have a size limit");
	EXPECT(l.dmsl >= l.dmrsl, "DMSL %llu at least DMRSL %u", (unsigned long long)l.dmsl,
	       l.dmrsl);
	for (i = 16; i < 4096; i++)
		if (!EXPECT(id[i] == 0, "reserved byte %u is 0x%02x", i, id[i]))
			break;
	/* Only the NVM command set (CSI 00h) is implemented. */
	for (i = 0; i < sizeof(csis); i++) {
		struct nvme_sqe sqe = { .opcode = NVME_ADMIN_IDENTIFY, .cdw10 = NVME_ID_CNS_CS_CTRL,
					.cdw11 = (uint32_t)csis[i] << 24 };
		int r = tc_admin_data(c, &sqe, c->buf.vaddr, 4096, false, NULL);

		tc_check(c, r > 0 && NVME_STATUS_CODE(r) == NVME_SC_INVALID_FIELD &&
			 (r & NVME_STATUS_DNR), __LINE__,
			 "CNS 06h CSI 0x%02x: 0x%x, expected Invalid Field with DNR", csis[i], r);
	}
}

/* ------------------------------------------------------------------------ */
/* Features                                                                  */
/* ------------------------------------------------------------------------ */

static const uint8_t supported_fids[] = {
	NVME_FEAT_ARBITRATION, NVME_FEAT_POWER_MGMT, NVME_FEAT_TEMP_THRESH,
	NVME_FEAT_ERR_RECOVERY, NVME_FEAT_VOLATILE_WC, NVME_FEAT_NUM_QUEUES,
	NVME_FEAT_IRQ_COALESCE, NVME_FEAT_IRQ_CONFIG, NVME_FEAT_WRITE_ATOMIC,
	NVME_FEAT_ASYNC_EVENT,
};

static void t_features_supported(struct tctx *c)
{
	static const uint8_t unsupported[] = { 0x00, 0x03, 0x0c, 0x0d, 0x0f, 0x10, 0x11, 0x16,
					       0x7f, 0x80, 0xc0, 0xff };
	unsigned int i;
	uint32_t dw0;

	if (!tc_enable(c, 0))
		return;
	for (i = 0; i < sizeof(supported_fids); i++)
		tc_check(c, get_feat(c, supported_fids[i], 0, 0, &dw0) == 0, __LINE__,
			 "Get Features 0x%02x", supported_fids[i]);
	for (i = 0; i < sizeof(unsupported); i++) {
		int g = get_feat(c, unsupported[i], 0, 0, &dw0);
		int s = set_feat(c, unsupported[i], 0, false, &dw0);

		tc_check(c, g > 0 && NVME_STATUS_CODE(g) == NVME_SC_INVALID_FIELD && (g & NVME_STATUS_DNR),
			 __LINE__, "Get Features 0x%02x: 0x%x, expected Invalid Field+DNR", unsupported[i], g);
		tc_check(c, s > 0 && NVME_STATUS_CODE(s) == NVME_SC_INVALID_FIELD && (s & NVME_STATUS_DNR),
			 __LINE__, "Set Features 0x%02x: 0x%x, expected Invalid Field+DNR", unsupported[i], s);
	}
	/* Nothing is saveable */
	for (i = 0; i < sizeof(supported_fids); i++) {
		if (supported_fids[i] == NVME_FEAT_NUM_QUEUES)
			continue;
		tc_check(c, ({ int r = set_feat(c, supported_fids[i], 0, true, &dw0);
			      r > 0 && NVME_STATUS_CODE(r) == NVME_SC_FEATURE_NOT_SAVEABLE; }),
			 __LINE__, "Set Features 0x%02x with SV: expected Feature Not Saveable",
			 supported_fids[i]);
	}
}

/* SEL: current, default, saved (= default, nothing is saveable), capabilities, reserved. */
static void t_features_select(struct tctx *c)
{
	static const struct {
		uint8_t fid;
		uint32_t value;
		uint32_t cdw11_get;
	} f[] = {
		{ NVME_FEAT_ARBITRATION, 0x01020304 & 0xffffff07, 0 },
		{ NVME_FEAT_TEMP_THRESH, 300, 0 },
		{ NVME_FEAT_ERR_RECOVERY, 0x20, 0 },
		{ NVME_FEAT_IRQ_COALESCE, 0x0a05, 0 },
		{ NVME_FEAT_WRITE_ATOMIC, 1, 0 },
		{ NVME_FEAT_ASYNC_EVENT, NVME_AEC_NS_ATTR | 0x3, 0 },
		{ NVME_FEAT_VOLATILE_WC, 0, 0 },
	};
	uint32_t def, cur, saved, caps, dw0;
	unsigned int i, sel;

	if (!tc_enable(c, 0))
		return;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!EXPECT_OK(get_feat(c, f[i].fid, 1, f[i].cdw11_get, &def)))
			continue;
		EXPECT_OK(set_feat(c, f[i].fid, f[i].value, false, NULL));
		EXPECT_OK(get_feat(c, f[i].fid, 0, f[i].cdw11_get, &cur));
		tc_check(c, cur == f[i].value, __LINE__, "FID 0x%02x current 0x%x, set 0x%x",
			 f[i].fid, cur, f[i].value);
		EXPECT_OK(get_feat(c, f[i].fid, 1, f[i].cdw11_get, &dw0));
		tc_check(c, dw0 == def, __LINE__, "FID 0x%02x default changed: 0x%x -> 0x%x",
			 f[i].fid, def, dw0);
		EXPECT_OK(get_feat(c, f[i].fid, 2, f[i].cdw11_get, &saved));
		tc_check(c, saved == def, __LINE__, "FID 0x%02x saved 0x%x, default 0x%x",
			 f[i].fid, saved, def);
		EXPECT_OK(get_feat(c, f[i].fid, 3, f[i].cdw11_get, &caps));
		tc_check(c, !(caps & 1) && (caps & 4), __LINE__,
			 "FID 0x%02x capabilities 0x%x: expected changeable, not saveable",
			 f[i].fid, caps);
		for (sel = 4; sel < 8; sel++)
			tc_check(c, ({ int r = get_feat(c, f[i].fid, (uint8_t)sel, 0, &dw0);
				      r > 0 && NVME_STATUS_CODE(r) == NVME_SC_INVALID_FIELD; }),
				 __LINE__, "FID 0x%02x SEL %u: expected Invalid Field", f[i].fid, sel);
	}
	/* Defaults come back with a controller reset. */
	if (!tc_enable(c, 0))
		return;
	EXPECT_OK(get_feat(c, NVME_FEAT_ARBITRATION, 0, 0, &cur));
	EXPECT_EQ(cur, 0);
	EXPECT_OK(get_feat(c, NVME_FEAT_VOLATILE_WC, 0, 0, &cur));
	EXPECT_EQ(cur & 1, 1);
}

static void t_features_values(struct tctx *c)
{
	uint32_t dw0, nvec;
	uint64_t ts_set = 0x123456789abull, ts;
	uint8_t *tsb = c->buf2.vaddr;

	if (!tc_enable(c, 0))
		return;
	/* Power Management: only power state 0 */
	EXPECT_OK(set_feat(c, NVME_FEAT_POWER_MGMT, 0, false, NULL));
	EXPECT_STATUS_DNR(set_feat(c, NVME_FEAT_POWER_MGMT, 1, false, NULL), NVME_SC_INVALID_FIELD);
	/* Temperature threshold: sensor 0 (composite), over and under */
	EXPECT_OK(set_feat(c, NVME_FEAT_TEMP_THRESH, 350 | 1u << 20, false, NULL));
	EXPECT_OK(get_feat(c, NVME_FEAT_TEMP_THRESH, 0, 1u << 20, &dw0));
	EXPECT_EQ(dw0 & 0xffff, 350);
	EXPECT_OK(get_feat(c, NVME_FEAT_TEMP_THRESH, 0, 0, &dw0));
	EXPECT(dw0 != 350, "over threshold kept its own value");
	EXPECT_STATUS_DNR(set_feat(c, NVME_FEAT_TEMP_THRESH, 300 | 2u << 20, false, NULL),
			  NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(set_feat(c, NVME_FEAT_TEMP_THRESH, 300 | 3u << 16, false, NULL),
			  NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(get_feat(c, NVME_FEAT_TEMP_THRESH, 0, 1u << 16, &dw0),
			  NVME_SC_INVALID_FIELD);
	/* Error recovery: DULBE is not supported */
	EXPECT_STATUS_DNR(set_feat(c, NVME_FEAT_ERR_RECOVERY, 1u << 16, false, NULL),
			  NVME_SC_INVALID_FIELD);
	/* Volatile write cache off and on */
	EXPECT_OK(set_feat(c, NVME_FEAT_VOLATILE_WC, 0, false, NULL));
	EXPECT_OK(get_feat(c, NVME_FEAT_VOLATILE_WC, 0, 0, &dw0));
	EXPECT_EQ(dw0 & 1, 0);
	EXPECT_OK(set_feat(c, NVME_FEAT_VOLATILE_WC, 1, false, NULL));
	/* Interrupt vector configuration: in range, and beyond the vectors */
	nvec = c->dev->msix_count;
	EXPECT_OK(set_feat(c, NVME_FEAT_IRQ_CONFIG, 1 | 1u << 16, false, NULL));
	EXPECT_OK(get_feat(c, NVME_FEAT_IRQ_CONFIG, 0, 1, &dw0));
	EXPECT_EQ(dw0, 1 | 1u << 16);
	EXPECT_OK(get_feat(c, NVME_FEAT_IRQ_CONFIG, 0, 0, &dw0));
	EXPECT_EQ(dw0, 0);
	EXPECT_STATUS_DNR(set_feat(c, NVME_FEAT_IRQ_CONFIG, nvec, false, NULL), NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(get_feat(c, NVME_FEAT_IRQ_CONFIG, 0, nvec, &dw0), NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(get_feat(c, NVME_FEAT_IRQ_CONFIG, 0, 0xffff, &dw0), NVME_SC_INVALID_FIELD);
	/* Timestamp: set, then read back no earlier than that, origin "set by host" */
	memcpy(tsb, &ts_set, 8);
	{
		struct nvme_sqe sqe = { .opcode = NVME_ADMIN_SET_FEATURES, .cdw10 = 0x0e };

		if (!oncs_has(c, 1u << 6)) {
			tc_diag("ONCS Timestamp not set: skipping the timestamp feature");
		} else {
			EXPECT_OK(tc_admin_data(c, &sqe, tsb, 8, true, NULL));
			sqe.opcode = NVME_ADMIN_GET_FEATURES;
			memset(tsb, 0, 8);
			EXPECT_OK(tc_admin_data(c, &sqe, tsb, 8, false, NULL));
			ts = 0;
			memcpy(&ts, tsb, 6);
			EXPECT(ts >= ts_set && ts < ts_set + 600000, "timestamp 0x%llx after setting 0x%llx",
			       (unsigned long long)ts, (unsigned long long)ts_set);
			EXPECT_EQ((tsb[6] >> 1) & 7, 1);
		}
	}
}

/* Number of Queues: allocation, its limits, and what Create accepts. */
static void t_features_num_queues(struct tctx *c)
{
	long max = tc_sysfs_long(c, "vnvme/max_queues", 4);
	uint32_t dw0;
	struct vnvme_queue *q;

	if (!tc_enable(c, 0))
		return;
	/* Before any Set: the whole budget is reported and allowed. */
	EXPECT_OK(get_feat(c, NVME_FEAT_NUM_QUEUES, 0, 0, &dw0));
	EXPECT_EQ(dw0, (uint32_t)(max - 1) << 16 | (uint32_t)(max - 1));
	EXPECT_STATUS_DNR(set_feat(c, NVME_FEAT_NUM_QUEUES, 0xffff, false, NULL), NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(set_feat(c, NVME_FEAT_NUM_QUEUES, 0xffff0000, false, NULL), NVME_SC_INVALID_FIELD);
	/* Ask for 2 SQs and 1 CQ: granted as asked (at most the budget). */
	EXPECT_OK(set_feat(c, NVME_FEAT_NUM_QUEUES, 1 | 0 << 16, false, &dw0));
	EXPECT_EQ(dw0, 0u << 16 | 1);
	EXPECT_OK(get_feat(c, NVME_FEAT_NUM_QUEUES, 0, 0, &dw0));
	EXPECT_EQ(dw0, 0u << 16 | 1);
	/* The allocation does not change until reset. */
	EXPECT_OK(set_feat(c, NVME_FEAT_NUM_QUEUES, 7 | 7 << 16, false, &dw0));
	EXPECT_EQ(dw0, 0u << 16 | 1);
	EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 1, 16, -1, &q));
	EXPECT_STATUS_DNR(vnvme_create_io_queue_pair(&c->ctrl, 2, 16, -1, &q), NVME_SC_QID_INVALID);
	/* More than the budget is granted as the budget. */
	if (!tc_enable(c, 0))
		return;
	EXPECT_OK(set_feat(c, NVME_FEAT_NUM_QUEUES, 0xfffe | 0xfffe << 16, false, &dw0));
	EXPECT_EQ(dw0, (uint32_t)(max - 1) << 16 | (uint32_t)(max - 1));
	EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, (uint16_t)max, 16, -1, &q));
	EXPECT_STATUS_DNR(vnvme_create_io_queue_pair(&c->ctrl, (uint16_t)(max + 1), 16, -1, &q),
			  NVME_SC_QID_INVALID);
}

/* ------------------------------------------------------------------------ */
/* Log pages                                                                 */
/* ------------------------------------------------------------------------ */

static void t_log_error(struct tctx *c)
{
	struct nvme_error_log_entry *e = (void *)c->buf2.vaddr;
	struct nvme_id_ctrl id;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint64_t before;
	unsigned int n;
	int st;

	if (!tc_up(c, 0) || !EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id)))
		return;
	n = id.elpe + 1u;
	if (!EXPECT(n * sizeof(*e) <= c->buf2.size, "ELPE %u", id.elpe))
		return;
	EXPECT_OK(get_log(c, NVME_LOG_ERROR, 0, e, n * sizeof(*e), 0, false));
	before = e[0].error_count;
	/* An I/O command that fails: Invalid Opcode on queue 1 */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = 0x7f;
	sqe.nsid = c->nsid;
	st = vnvme_exec(c->q, &sqe, &cqe);
	EXPECT_STATUS_DNR(st, NVME_SC_INVALID_OPCODE);
	memset(e, 0xee, n * sizeof(*e));
	EXPECT_OK(get_log(c, NVME_LOG_ERROR, 0, e, n * sizeof(*e), 0, false));
	EXPECT(e[0].error_count > before, "error count %llu after %llu",
	       (unsigned long long)e[0].error_count, (unsigned long long)before);
	EXPECT_EQ(e[0].sqid, 1);
	EXPECT_EQ(e[0].cid, sqe.cid);
	EXPECT_EQ(e[0].status >> 1, (uint16_t)st);
	EXPECT_EQ(e[0].nsid, c->nsid);
	/* Newest first: error counts descend. */
	if (e[1].error_count)
		EXPECT(e[1].error_count < e[0].error_count, "entries newest first");
	/* A shorter read gets the newest entries; an admin error lands too. */
	EXPECT_STATUS_DNR(admin_simple(c, 0xc1, 0, 0, 0, &cqe), NVME_SC_INVALID_OPCODE);
	EXPECT_OK(get_log(c, NVME_LOG_ERROR, 0, e, 64, 0, false));
	EXPECT_EQ(e[0].sqid, 0);
	EXPECT_EQ(e[0].cid, cqe.cid);
	EXPECT_EQ(NVME_STATUS_CODE(e[0].status >> 1), NVME_SC_INVALID_OPCODE);
}

static uint64_t u128lo(const uint64_t *v)
{
	return v[0];
}

static void t_log_smart(struct tctx *c)
{
	struct nvme_smart_log *s = (void *)c->buf2.vaddr, before;
	uint8_t part[16];

	if (!tc_up(c, 0))
		return;
	EXPECT_OK(get_log(c, NVME_LOG_SMART, 0xffffffff, s, sizeof(*s), 0, false));
	before = *s;
	EXPECT_OK(get_log(c, NVME_LOG_SMART, 0, s, sizeof(*s), 0, false));
	EXPECT(s->temperature[0] | s->temperature[1], "composite temperature");
	EXPECT(s->avail_spare <= 100 && s->spare_thresh <= 100, "spare %u threshold %u",
	       s->avail_spare, s->spare_thresh);
	EXPECT_EQ(s->critical_warning, 0);
	/* LPA bit 0 is clear: no per-namespace data. */
	EXPECT_STATUS_DNR(get_log(c, NVME_LOG_SMART, c->nsid, s, sizeof(*s), 0, false),
			  NVME_SC_INVALID_FIELD);
	/* I/O moves the host read/write command counters. */
	EXPECT_OK(tc_verified_io(c, c->q, 100, 16, 7));
	EXPECT_OK(get_log(c, NVME_LOG_SMART, 0xffffffff, s, sizeof(*s), 0, false));
	EXPECT(u128lo(s->host_reads) >= u128lo(before.host_reads) + 1, "host reads %llu -> %llu",
	       (unsigned long long)u128lo(before.host_reads), (unsigned long long)u128lo(s->host_reads));
	EXPECT(u128lo(s->host_writes) >= u128lo(before.host_writes) + 1, "host writes");
	EXPECT(u128lo(s->data_units_written) >= 1, "data units written");
	EXPECT(u128lo(s->power_cycles) >= 1, "power cycles");
	/* A partial read at an offset returns the same bytes. */
	EXPECT_OK(get_log(c, NVME_LOG_SMART, 0xffffffff, part, sizeof(part),
			  offsetof(struct nvme_smart_log, media_errors), false));
	EXPECT(!memcmp(part, s->media_errors, 16), "media errors at LPO 160");
}

static void t_log_fw_slot(struct tctx *c)
{
	uint8_t *fw = c->buf2.vaddr;
	struct nvme_id_ctrl id;

	if (!tc_enable(c, 0) || !EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id)))
		return;
	EXPECT_OK(get_log(c, NVME_LOG_FW_SLOT, 0xffffffff, fw, 512, 0, false));
	EXPECT_EQ(fw[0] & 7, 1);
	EXPECT(!memcmp(fw + 8, id.fr, 8), "slot 1 firmware '%.8s' vs FR '%.8s'", fw + 8, id.fr);
}

static void t_log_effects(struct tctx *c)
{
	uint32_t *e = (void *)c->buf2.vaddr;
	static const uint8_t admin[] = { 0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c };
	static const uint8_t io[] = { 0x00, 0x01, 0x02, 0x05, 0x08, 0x0c };
	unsigned int i;

	if (!tc_enable(c, 0))
		return;
	EXPECT_OK(get_log(c, NVME_LOG_CMD_EFFECTS, 0, e, 4096, 0, false));
	for (i = 0; i < sizeof(admin); i++)
		tc_check(c, e[admin[i]] & 1, __LINE__, "admin opcode 0x%02x CSUPP", admin[i]);
	for (i = 0; i < sizeof(io); i++)
		tc_check(c, e[256 + io[i]] & 1, __LINE__, "I/O opcode 0x%02x CSUPP", io[i]);
	EXPECT(e[256 + NVME_IO_WRITE] & 2, "Write LBCC");
	EXPECT(!(e[256 + NVME_IO_READ] & 2), "Read without LBCC");
	EXPECT_EQ(e[0x7f] & 1, 0);
	EXPECT_EQ(e[256 + 0x7f] & 1, 0);
}

static void t_log_invalid(struct tctx *c)
{
	static const uint8_t bad_lids[] = { 0x00, 0x06, 0x07, 0x08, 0x0c, 0x0d, 0x70, 0x80, 0x81,
					    0xbf, 0xc0, 0xff };
	uint8_t *b = c->buf2.vaddr;
	struct nvme_id_ctrl id;
	unsigned int i;

	if (!tc_enable(c, 0) || !EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id)))
		return;
	for (i = 0; i < sizeof(bad_lids); i++)
		tc_check(c, ({ int r = get_log(c, bad_lids[i], 0xffffffff, b, 512, 0, false);
			      r > 0 && NVME_STATUS_CODE(r) == NVME_SC_INVALID_LOG_PAGE && (r & NVME_STATUS_DNR); }),
			 __LINE__, "LID 0x%02x: expected Invalid Log Page+DNR", bad_lids[i]);
	/* Offset beyond the page, offset not dword aligned */
	EXPECT_STATUS_DNR(get_log(c, NVME_LOG_SMART, 0xffffffff, b, 512, 512, false),
			  NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(get_log(c, NVME_LOG_SMART, 0xffffffff, b, 16, 2, false),
			  NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(get_log(c, NVME_LOG_SMART, 0xffffffff, b, 16, 1ull << 40, false),
			  NVME_SC_INVALID_FIELD);
	/* More than MDTS allows */
	if (id.mdts) {
		uint32_t numd = (NVME_PAGE_SIZE << id.mdts) / 4;	/* one dword too many */
		struct nvme_sqe sqe = {
			.opcode = NVME_ADMIN_GET_LOG_PAGE,
			.nsid = 0xffffffff,
			.cdw10 = NVME_LOG_SMART | (numd & 0xffff) << 16,
			.cdw11 = numd >> 16,
			.prp1 = c->buf2.iova,
		};

		EXPECT_STATUS_DNR(tc_admin(c, &sqe, NULL), NVME_SC_INVALID_FIELD);
	}
	/* Longer than the page: the rest reads as zeroes */
	memset(b, 0xee, 8192);
	EXPECT_OK(get_log(c, NVME_LOG_FW_SLOT, 0xffffffff, b, 8192, 0, false));
	EXPECT(b[600] == 0 && b[8191] == 0, "bytes past the log page are zero");
}

/* Changed Namespace List: filled by attach/detach, cleared by a read without RAE. */
static void t_log_changed_ns(struct tctx *c)
{
	uint32_t *l = (void *)c->buf2.vaddr;
	long slot = tc_get_long(c, "attach_ns", 0);
	char rel[32];
	unsigned int i;
	bool found = false;

	if (!tc_enable(c, 0))
		return;
	if (!slot) {
		tc_skip(c, "no --set attach_ns=N (a namespace slot with device_path, not enabled)");
		return;
	}
	EXPECT_OK(get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, false));	/* clear */
	snprintf(rel, sizeof(rel), "ns%ld/enable", slot);
	EXPECT_OK(tc_sysfs_write(c, rel, "1"));
	EXPECT_OK(tc_sysfs_write(c, rel, "0"));
	EXPECT_OK(get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, true));	/* RAE: keep */
	for (i = 0; i < 1024 && l[i]; i++)
		found |= l[i] == (uint32_t)slot;
	EXPECT(found, "namespace %ld in the Changed Namespace List", slot);
	EXPECT_OK(get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, false));
	EXPECT_EQ(l[0], (uint32_t)slot);
	EXPECT_OK(get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, false));
	EXPECT_EQ(l[0], 0);
}

/* The device closed and opened again: what a new VFIO user (the next VM) starts with. */
static bool reopen_device(struct tctx *c)
{
	tc_close_device(c);
	if (!EXPECT_OK(vnvme_open(c->uuid, &c->open_opts, &c->dev))) {
		c->dev = NULL;
		return false;
	}
	return tc_up(c, 0);
}

/*
 * What one tenant leaves to the next (Documentation/admin-guide.md, "What a
 * new VFIO user sees"): the Error Information log (LBAs, NSIDs, CIDs of the
 * previous VM) and the Changed Namespace List start empty for a new VFIO
 * user; the SMART counters are the controller's lifetime and go on, error
 * count included, so Error Count stays unique.
 */
static void t_log_new_vfio_user(struct tctx *c)
{
	long slot = tc_get_long(c, "attach_ns", 0);
	struct nvme_smart_log before, *s;
	struct nvme_error_log_entry *e;
	struct nvme_id_ctrl id;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	unsigned int i, n, used = 0;
	char rel[32];
	uint32_t *l;

	if (!tc_up(c, 0) || !EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id)))
		return;
	if (!slot) {
		tc_skip(c, "no --set attach_ns=N (a namespace slot with device_path, not enabled)");
		return;
	}
	n = id.elpe + 1u;
	/* The first tenant: a read beyond the namespace (an LBA), a bad opcode, a change. */
	EXPECT_NVME_ERROR(tc_rw(c, c->q, NVME_IO_READ, c->nsid, nsze(c) + 7, 1, &c->buf));
	EXPECT_STATUS_DNR(admin_simple(c, 0xc1, 0, 0, 0, &cqe), NVME_SC_INVALID_OPCODE);
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 5));
	snprintf(rel, sizeof(rel), "ns%ld/enable", slot);
	EXPECT_OK(tc_sysfs_write(c, rel, "1"));
	EXPECT_OK(tc_sysfs_write(c, rel, "0"));
	e = (void *)c->buf2.vaddr;
	EXPECT_OK(get_log(c, NVME_LOG_ERROR, 0, e, 64, 0, false));
	EXPECT(e[0].error_count != 0, "the first tenant has error log entries");
	s = (void *)c->buf2.vaddr;
	EXPECT_OK(get_log(c, NVME_LOG_SMART, 0xffffffff, s, sizeof(*s), 0, false));
	before = *s;
	EXPECT(u128lo(before.num_err_log_entries) >= 2, "SMART error count %llu",
	       (unsigned long long)u128lo(before.num_err_log_entries));

	/* The next tenant */
	if (!reopen_device(c))
		return;
	if (!EXPECT(n * sizeof(*e) <= c->buf2.size, "ELPE %u", id.elpe))
		return;
	e = (void *)c->buf2.vaddr;
	memset(e, 0xee, n * sizeof(*e));
	EXPECT_OK(get_log(c, NVME_LOG_ERROR, 0, e, n * sizeof(*e), 0, true));
	for (i = 0; i < n; i++) {
		static const struct nvme_error_log_entry zero;

		used += !!memcmp(&e[i], &zero, sizeof(zero));
	}
	EXPECT(used == 0, "%u of %u Error Information entries left by the previous VFIO user "
	       "(newest: count %llu sqid %u cid 0x%x status 0x%x lba %llu nsid %u)", used, n,
	       (unsigned long long)e[0].error_count, e[0].sqid, e[0].cid, e[0].status,
	       (unsigned long long)e[0].lba, e[0].nsid);
	l = (void *)c->buf2.vaddr;
	memset(l, 0xee, 4096);
	EXPECT_OK(get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, true));
	EXPECT(l[0] == 0, "Changed Namespace List left by the previous VFIO user: %u, %u, ...",
	       l[0], l[1]);
	s = (void *)c->buf2.vaddr;
	EXPECT_OK(get_log(c, NVME_LOG_SMART, 0xffffffff, s, sizeof(*s), 0, false));
	EXPECT_EQ(u128lo(s->power_cycles), u128lo(before.power_cycles) + 1);
	EXPECT(u128lo(s->host_reads) >= u128lo(before.host_reads) &&
	       u128lo(s->host_writes) >= u128lo(before.host_writes) &&
	       u128lo(s->data_units_written) >= u128lo(before.data_units_written),
	       "SMART I/O counters are the controller's lifetime");
	EXPECT_EQ(u128lo(s->num_err_log_entries), u128lo(before.num_err_log_entries));
	/* This tenant's own error is its only entry and is numbered after the lifetime count. */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = 0x7f;
	sqe.nsid = c->nsid;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, &cqe), NVME_SC_INVALID_OPCODE);
	e = (void *)c->buf2.vaddr;
	EXPECT_OK(get_log(c, NVME_LOG_ERROR, 0, e, 2 * sizeof(*e), 0, false));
	EXPECT_EQ(e[0].error_count, u128lo(before.num_err_log_entries) + 1);
	EXPECT_EQ(e[0].sqid, 1);
	EXPECT_EQ(e[1].error_count, 0);
}

/* ------------------------------------------------------------------------ */
/* Queue management                                                          */
/* ------------------------------------------------------------------------ */

static int create_cq_at(struct tctx *c, uint16_t qid, uint16_t qsize0, uint64_t base,
			uint32_t cdw11)
{
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_CREATE_CQ,
		.prp1 = base,
		.cdw10 = (uint32_t)qsize0 << 16 | qid,
		.cdw11 = cdw11,
	};

	return tc_admin(c, &sqe, NULL);
}

static int create_sq_at(struct tctx *c, uint16_t qid, uint16_t qsize0, uint64_t base,
			uint16_t cqid, uint32_t flags)
{
	struct nvme_sqe sqe = {
		.opcode = NVME_ADMIN_CREATE_SQ,
		.prp1 = base,
		.cdw10 = (uint32_t)qsize0 << 16 | qid,
		.cdw11 = (uint32_t)cqid << 16 | flags,
	};

	return tc_admin(c, &sqe, NULL);
}

static void t_create_queue_errors(struct tctx *c)
{
	long max = tc_sysfs_long(c, "vnvme/max_queues", 4);
	struct vnvme_dma_buf m;
	uint64_t b;
	uint32_t cc;

	if (!tc_enable(c, 2) || !EXPECT_OK(vnvme_dma_alloc(c->dev, 64 * NVME_PAGE_SIZE, &m)))
		return;
	b = m.iova;
	/* qid 0, beyond the budget, 0xffff */
	EXPECT_STATUS_DNR(create_cq_at(c, 0, 15, b, 1), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(create_cq_at(c, (uint16_t)(max + 1), 15, b, 1), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(create_cq_at(c, 0xffff, 15, b, 1), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(create_sq_at(c, 0, 15, b, 1, 1), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(create_sq_at(c, (uint16_t)(max + 1), 15, b, 1, 1), NVME_SC_QID_INVALID);
	/* size 0 (a 1-entry queue) and beyond MQES */
	EXPECT_STATUS_DNR(create_cq_at(c, 1, 0, b, 1), NVME_SC_QUEUE_SIZE);
	EXPECT_STATUS_DNR(create_cq_at(c, 1, 1024, b, 1), NVME_SC_QUEUE_SIZE);
	EXPECT_STATUS_DNR(create_cq_at(c, 1, 0xffff, b, 1), NVME_SC_QUEUE_SIZE);
	/* PC = 0 (CAP.CQR is 1) */
	EXPECT_STATUS_DNR(create_cq_at(c, 1, 15, b, 0), NVME_SC_INVALID_FIELD);
	/* Interrupt vector beyond MSI-X */
	EXPECT_STATUS_DNR(create_cq_at(c, 1, 15, b, 1 | 2 | (uint32_t)c->dev->msix_count << 16),
			  NVME_SC_INVALID_VECTOR);
	EXPECT_STATUS_DNR(create_cq_at(c, 1, 15, b, 1 | 2 | 0xffffu << 16), NVME_SC_INVALID_VECTOR);
	/* ... but ignored when IEN is 0 */
	EXPECT_OK(create_cq_at(c, 1, 15, b, 1 | 0xffffu << 16));
	/* Base not page aligned, and not mapped */
	EXPECT_STATUS_DNR(create_cq_at(c, 2, 15, b + 256, 1), NVME_SC_PRP_OFFSET_INVALID);
	EXPECT_NVME_ERROR(create_cq_at(c, 2, 15, 0x7000000000ull, 1));
	/* two pages, the second past the end of mapped memory */
	EXPECT_NVME_ERROR(create_cq_at(c, 2, 511, c->dev->arena.iova + c->dev->arena.size -
				       NVME_PAGE_SIZE, 1));
	/* qid in use */
	EXPECT_STATUS_DNR(create_cq_at(c, 1, 15, b + 4096, 1), NVME_SC_QID_INVALID);
	/* SQ: CQ 0, CQ absent, PC 0, base with an offset */
	EXPECT_STATUS_DNR(create_sq_at(c, 1, 15, b + 8192, 0, 1), NVME_SC_CQ_INVALID);
	EXPECT_STATUS_DNR(create_sq_at(c, 1, 15, b + 8192, 3, 1), NVME_SC_CQ_INVALID);
	EXPECT_STATUS_DNR(create_sq_at(c, 1, 15, b + 8192, 1, 0), NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(create_sq_at(c, 1, 15, b + 8192 + 64, 1, 1), NVME_SC_PRP_OFFSET_INVALID);
	EXPECT_STATUS_DNR(create_sq_at(c, 1, 0, b + 8192, 1, 1), NVME_SC_QUEUE_SIZE);
	EXPECT_STATUS_DNR(create_sq_at(c, 1, 1024, b + 8192, 1, 1), NVME_SC_QUEUE_SIZE);
	/* A valid SQ on CQ 1, then the same qid again */
	EXPECT_OK(create_sq_at(c, 1, 15, b + 8192, 1, 1 | 3u << 1));
	EXPECT_STATUS_DNR(create_sq_at(c, 1, 15, b + 12288, 1, 1), NVME_SC_QID_INVALID);
	/* Several SQs may share one CQ. */
	EXPECT_OK(create_sq_at(c, 2, 15, b + 16384, 1, 1));
	/* Entry sizes in CC other than 64/16 bytes are refused at queue creation. */
	cc = reg32(c, NVME_REG_CC);
	wreg32(c, NVME_REG_CC, (cc & ~(0xffu << 16)) | NVME_CC_IOSQES(7) | NVME_CC_IOCQES(4));
	EXPECT_STATUS_DNR(create_sq_at(c, 3, 15, b + 20480, 1, 1), NVME_SC_INVALID_FIELD);
	wreg32(c, NVME_REG_CC, (cc & ~(0xffu << 16)) | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(5));
	EXPECT_STATUS_DNR(create_cq_at(c, 3, 15, b + 20480, 1), NVME_SC_INVALID_FIELD);
	wreg32(c, NVME_REG_CC, cc);
	EXPECT_OK(create_cq_at(c, 3, 15, b + 20480, 1));
	EXPECT_OK(vnvme_ctrl_disable(&c->ctrl));
	vnvme_dma_free(c->dev, &m);
}

static void t_delete_queue_errors(struct tctx *c)
{
	struct vnvme_queue *q;

	if (!tc_enable(c, 0))
		return;
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_SQ, 0, 0, 0, NULL), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_CQ, 0, 0, 0, NULL), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_SQ, 0, 1, 0, NULL), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_CQ, 0, 1, 0, NULL), NVME_SC_QID_INVALID);
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_SQ, 0, 0xffff, 0, NULL), NVME_SC_QID_INVALID);
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 1, 16, -1, &q)))
		return;
	/* A CQ with an SQ on it cannot go. */
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_CQ, 0, 1, 0, NULL),
			  NVME_SC_INVALID_QUEUE_DELETE);
	EXPECT_OK(admin_simple(c, NVME_ADMIN_DELETE_SQ, 0, 1, 0, NULL));
	EXPECT_STATUS_DNR(admin_simple(c, NVME_ADMIN_DELETE_SQ, 0, 1, 0, NULL), NVME_SC_QID_INVALID);
	EXPECT_OK(admin_simple(c, NVME_ADMIN_DELETE_CQ, 0, 1, 0, NULL));
	vnvme_queue_release(&c->ctrl, 1);
	/* The qid is free again. */
	EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 1, 16, -1, &q));
	EXPECT_OK(vnvme_delete_io_queue_pair(&c->ctrl, 1));
}

/* ------------------------------------------------------------------------ */
/* Queue mechanics                                                           */
/* ------------------------------------------------------------------------ */

/* Reap completions on q (head doorbell after each batch) until n arrived. */
static unsigned int reap_n(struct vnvme_queue *q, struct nvme_cqe *cqes, unsigned int n,
			   bool ring_head)
{
	unsigned int got = 0, i;

	for (i = 0; i < 50000 && got < n; i++) {
		int k = ring_head ? vnvme_cq_poll(q, cqes + got, n - got) :
				    vnvme_cq_reap(q, cqes + got, n - got);

		if (k < 0)
			break;
		got += (unsigned int)k;
		if (!k)
			usleep(200);
	}
	return got;
}

static void flush_sqe(struct tctx *c, struct nvme_sqe *sqe)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = NVME_IO_FLUSH;
	sqe->nsid = c->nsid;
}

/* The phase tag flips every pass over the CQ; entries are read by phase only. */
static void t_phase_tag_wrap(struct tctx *c)
{
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe, *ring;
	unsigned int depth = 4, i;

	if (!tc_up(c, 0) || !EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, (uint16_t)depth, -1, &q)))
		return;
	ring = q->cq_mem.vaddr;
	for (i = 0; i < 5 * depth + 1; i++) {
		unsigned int slot = i % depth, expect_phase = (i / depth) % 2 ? 0 : 1;

		flush_sqe(c, &sqe);
		if (!EXPECT_OK(vnvme_exec(q, &sqe, &cqe)))
			return;
		tc_check(c, (ring[slot].status & 1) == expect_phase, __LINE__,
			 "completion %u in slot %u has phase %u, expected %u", i, slot,
			 ring[slot].status & 1, expect_phase);
		tc_check(c, ring[slot].cid == sqe.cid, __LINE__, "slot %u CID %u, expected %u",
			 slot, ring[slot].cid, sqe.cid);
	}
	EXPECT_EQ(q->stray_cqes, 0);
}

/* Every CQE reports the SQ head: past its own entry, and the tail once all are fetched. */
static void t_sq_head_reporting(struct tctx *c)
{
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	struct nvme_cqe cqes[64];
	uint16_t slot_of[64];
	unsigned int depth = 32, round, n, got, i;

	if (!tc_up(c, 0) || !EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, (uint16_t)depth, -1, &q)))
		return;
	for (round = 0; round < 6; round++) {
		uint16_t tail;

		n = 1 + round * 6;	/* 1 .. 31 entries, wrapping the ring */
		for (i = 0; i < n; i++) {
			flush_sqe(c, &sqe);
			sqe.cid = (uint16_t)(round * 100 + i);
			slot_of[i] = q->sq_tail;
			if (!EXPECT_OK(vnvme_sq_push(q, &sqe)))
				return;
		}
		tail = q->sq_tail;
		EXPECT_OK(vnvme_sq_ring(q));
		got = reap_n(q, cqes, n, true);
		if (!EXPECT_EQ(got, n))
			return;
		for (i = 0; i < n; i++) {
			unsigned int idx = cqes[i].cid - round * 100;
			uint16_t head = cqes[i].sq_head;
			/* entries fetched: from the entry after this command up to the tail */
			unsigned int ahead = (head + depth - slot_of[idx] - 1) % depth;
			unsigned int span = (tail + depth - slot_of[idx] - 1) % depth;

			tc_check(c, idx < n && head < depth && ahead <= span, __LINE__,
				 "round %u: CQE cid %u (slot %u) reports SQ head %u, tail %u",
				 round, cqes[i].cid, idx < n ? slot_of[idx] : 0, head, tail);
			EXPECT_EQ(cqes[i].sq_id, 2);
		}
		EXPECT_EQ(cqes[n - 1].sq_head, tail);
	}
}

/* The CID comes back as given, whatever its value. */
static void t_cid_echo(struct tctx *c)
{
	static const uint16_t cids[] = { 0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x1234, 0xbeef };
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < sizeof(cids) / sizeof(cids[0]); i++) {
		flush_sqe(c, &sqe);
		sqe.cid = cids[i];
		if (EXPECT_OK(vnvme_exec_raw(c->q, &sqe, &cqe))) {
			EXPECT_EQ(cqe.cid, cids[i]);
			EXPECT_EQ(cqe.sq_id, 1);
		}
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_KEEP_ALIVE;
		sqe.cid = cids[i];
		if (EXPECT_OK(vnvme_exec_raw(&c->ctrl.admin, &sqe, &cqe))) {
			EXPECT_EQ(cqe.cid, cids[i]);
			EXPECT_EQ(cqe.sq_id, 0);
		}
	}
	/* Error completions echo the CID too. */
	flush_sqe(c, &sqe);
	sqe.opcode = 0x7e;
	sqe.cid = 0xabcd;
	EXPECT_STATUS_DNR(vnvme_exec_raw(c->q, &sqe, &cqe), NVME_SC_INVALID_OPCODE);
	EXPECT_EQ(cqe.cid, 0xabcd);
}

/* A full SQ (depth - 1 entries in one doorbell) is all fetched, several times round. */
static void t_sq_full(struct tctx *c)
{
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	struct nvme_cqe cqes[16];
	unsigned int depth = 8, round, got, i;

	if (!tc_up(c, 0) || !EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, (uint16_t)depth, -1, &q)))
		return;
	for (round = 0; round < 4; round++) {
		for (i = 0; i < depth - 1; i++) {
			flush_sqe(c, &sqe);
			sqe.cid = (uint16_t)(round * 16 + i);
			if (!EXPECT_OK(vnvme_sq_push(q, &sqe)))
				return;
		}
		EXPECT_EQ(vnvme_sq_push(q, &sqe), -EAGAIN);
		EXPECT_OK(vnvme_sq_ring(q));
		got = reap_n(q, cqes, depth - 1, true);
		if (!EXPECT_EQ(got, depth - 1))
			return;
		EXPECT_EQ(vnvme_sq_space(q), depth - 1);
	}
}

/*
 * A full CQ: the controller keeps completions until the head doorbell makes
 * room, never writes the slot that would make the CQ look empty, and loses
 * none.
 */
static void t_cq_full(struct tctx *c)
{
	struct vnvme_queue *q;
	struct nvme_sqe sqe;
	struct nvme_cqe cqes[64], *ring;
	unsigned int depth = 8, i, got, seen[64] = { 0 };

	if (!tc_up(c, 0) || !EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, (uint16_t)depth, -1, &q)))
		return;
	ring = q->cq_mem.vaddr;
	/* depth - 1 completions fill the CQ. */
	for (i = 0; i < depth - 1; i++) {
		flush_sqe(c, &sqe);
		sqe.cid = (uint16_t)i;
		EXPECT_OK(vnvme_sq_push(q, &sqe));
	}
	EXPECT_OK(vnvme_sq_ring(q));
	got = reap_n(q, cqes, depth - 1, false);
	if (!EXPECT_EQ(got, depth - 1))
		return;
	/* depth - 1 more: fetched (the SQ is empty again) but no room to complete. */
	for (i = 0; i < depth - 1; i++) {
		flush_sqe(c, &sqe);
		sqe.cid = (uint16_t)(depth + i);
		EXPECT_OK(vnvme_sq_push(q, &sqe));
	}
	EXPECT_OK(vnvme_sq_ring(q));
	usleep(NO_EVENT_WAIT_MS * 1000);
	/* The last slot (index depth - 1) must not be written: it would mean "empty". */
	EXPECT_EQ(ring[depth - 1].status & 1, 0);
	/*
	 * Nor slot 0, which the host has not released: it still holds a first-round
	 * CID (any of them: Flushes run in parallel and may complete in any order).
	 */
	EXPECT(ring[0].cid < depth - 1, "slot 0 holds CID %u", ring[0].cid);
	/* Room for all: the rest arrive, each exactly once. */
	EXPECT_OK(vnvme_cq_ring_head(q));
	got += reap_n(q, cqes + got, depth - 1, true);
	EXPECT_EQ(got, 2 * (depth - 1));
	for (i = 0; i < got; i++)
		if (cqes[i].cid < 64)
			seen[cqes[i].cid]++;
	for (i = 0; i < depth - 1; i++) {
		tc_check(c, seen[i] == 1, __LINE__, "CID %u completed %u times", i, seen[i]);
		tc_check(c, seen[depth + i] == 1, __LINE__, "CID %u completed %u times", depth + i,
			 seen[depth + i]);
	}
}

/* Waits (10 s at most) until a dword the controller writes (EventIdx, shadow) reads want. */
static bool dword_reaches(volatile uint32_t *p, uint32_t want)
{
	unsigned int i;

	for (i = 0; i < 50000; i++) {
		if (*p == want)
			return true;
		usleep(200);
	}
	return false;
}

/*
 * Shadow doorbells (Doorbell Buffer Config, OACS bit 8).  Bad buffer
 * addresses are refused.  Once configured, an I/O queue's doorbell values
 * come from the shadow page (a register write with a stale value only wakes
 * the controller), EventIdx is published when an SQ runs dry or a CQ fills,
 * admin doorbell writes are copied into the shadow page, and a reset forgets
 * the buffers.
 */
static void t_shadow_doorbells(struct tctx *c)
{
	struct nvme_id_ctrl *id = (void *)c->buf2.vaddr;
	struct vnvme_dma_buf pages, shadow, eventidx;
	struct nvme_cqe cqes[32];
	struct vnvme_queue *q, *q2;
	struct nvme_sqe sqe;
	unsigned int sq, cq, sq2, cq2, depth = 8, i, got, seen[32] = { 0 };
	volatile uint32_t *ei;
	uint64_t skipped;
	uint32_t *db;
	long pinned;

	if (!tc_up(c, 0) || !EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, id)))
		return;
	if (!EXPECT(id->oacs & (1u << 8), "OACS 0x%x", id->oacs))
		return;
	if (!EXPECT_OK(vnvme_dma_alloc(c->dev, 2 * NVME_PAGE_SIZE, &pages)))
		return;
	shadow = (struct vnvme_dma_buf){ pages.vaddr, pages.iova, NVME_PAGE_SIZE };
	eventidx = (struct vnvme_dma_buf){ tc_vpage(&pages, 1), tc_page(&pages, 1),
					   NVME_PAGE_SIZE };
	db = shadow.vaddr;
	ei = eventidx.vaddr;
	q = c->q;
	sq = vnvme_doorbell_slot(vnvme_sq_doorbell_reg(q));
	cq = vnvme_doorbell_slot(vnvme_cq_doorbell_reg(q));

	/* Not page aligned, one page for both, an SGL: Invalid Field. */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADMIN_DBBUF_CONFIG;
	sqe.prp1 = shadow.iova + 64;
	sqe.prp2 = eventidx.iova;
	EXPECT_STATUS_DNR(tc_admin(c, &sqe, NULL), NVME_SC_INVALID_FIELD);
	sqe.prp1 = shadow.iova;
	sqe.prp2 = eventidx.iova + 4;
	EXPECT_STATUS_DNR(tc_admin(c, &sqe, NULL), NVME_SC_INVALID_FIELD);
	sqe.prp2 = shadow.iova;
	EXPECT_STATUS_DNR(tc_admin(c, &sqe, NULL), NVME_SC_INVALID_FIELD);
	sqe.prp2 = eventidx.iova;
	sqe.flags = NVME_SQE_PSDT_SGL;
	EXPECT_STATUS_DNR(tc_admin(c, &sqe, NULL), NVME_SC_INVALID_FIELD);

	/* Accepted after I/O has moved the doorbells: it starts from the registers. */
	EXPECT_OK(tc_verified_io(c, q, 0, 8, 0x5d0));
	pinned = tc_sysfs_long(c, "vnvme/pinned_pages", -1);
	if (!EXPECT_OK(vnvme_shadow_doorbells_config(&c->ctrl, &shadow, &eventidx)))
		goto out;
	EXPECT_EQ(tc_sysfs_long(c, "vnvme/pinned_pages", -1), pinned + 2);
	EXPECT_EQ(tc_sysfs_long(c, "vnvme/shadow_doorbells", -1), 1);
	EXPECT_EQ(db[sq], q->sq_tail);
	EXPECT_EQ(db[cq], q->cq_head);

	/* Verified I/O through the shadow page; CQ head updates need no register write. */
	skipped = q->doorbells_skipped;
	EXPECT_OK(tc_verified_io(c, q, 64, 16, 0x5d1));
	EXPECT(q->doorbells_skipped > skipped, "%llu doorbell updates stayed in the shadow page",
	       (unsigned long long)(q->doorbells_skipped - skipped));

	/* The SQ tail comes from the shadow page; a stale register value only wakes. */
	flush_sqe(c, &sqe);
	sqe.cid = 0x5a5;
	EXPECT_OK(vnvme_sq_push(q, &sqe));
	__atomic_store_n(&db[sq], q->sq_tail, __ATOMIC_SEQ_CST);
	wreg32(c, vnvme_sq_doorbell_reg(q), q->sq_tail_rung);
	q->sq_tail_rung = q->sq_tail;
	if (EXPECT_EQ(reap_n(q, cqes, 1, true), 1))
		EXPECT_EQ(cqes[0].cid, 0x5a5);
	/* An SQ that ran dry asks for a doorbell write at its tail. */
	EXPECT(dword_reaches(&ei[sq], q->sq_tail), "SQ EventIdx %u, tail %u", ei[sq],
	       q->sq_tail);

	/* A full CQ asks for a doorbell at its head and takes the head from the shadow page. */
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, (uint16_t)depth, -1, &q2)))
		goto out;
	sq2 = vnvme_doorbell_slot(vnvme_sq_doorbell_reg(q2));
	cq2 = vnvme_doorbell_slot(vnvme_cq_doorbell_reg(q2));
	for (i = 0; i < 3; i++) {	/* CQ head 3: a value only arming can write */
		flush_sqe(c, &sqe);
		EXPECT_OK(vnvme_submit(q2, &sqe));
	}
	EXPECT_EQ(reap_n(q2, cqes, 3, true), 3);
	/* depth - 1 completions fill the CQ; reaped without telling the controller. */
	for (i = 0; i < depth - 1; i++) {
		flush_sqe(c, &sqe);
		sqe.cid = (uint16_t)i;
		EXPECT_OK(vnvme_sq_push(q2, &sqe));
	}
	EXPECT_OK(vnvme_sq_ring(q2));
	got = reap_n(q2, cqes, depth - 1, false);
	EXPECT_EQ(got, depth - 1);
	/* depth - 1 more find no room. */
	for (i = depth - 1; i < 2 * (depth - 1); i++) {
		flush_sqe(c, &sqe);
		sqe.cid = (uint16_t)i;
		EXPECT_OK(vnvme_sq_push(q2, &sqe));
	}
	EXPECT_OK(vnvme_sq_ring(q2));
	EXPECT(dword_reaches(&ei[cq2], 3), "CQ EventIdx %u, expected 3", ei[cq2]);
	EXPECT(db[sq2] == q2->sq_tail, "shadow SQ tail %u, tail %u", db[sq2], q2->sq_tail);
	__atomic_store_n(&db[cq2], q2->cq_head, __ATOMIC_SEQ_CST);
	wreg32(c, vnvme_cq_doorbell_reg(q2), 3);	/* stale: only wakes the controller */
	got += reap_n(q2, cqes + got, depth - 1, true);
	EXPECT_EQ(got, 2 * (depth - 1));
	for (i = 0; i < got; i++)
		if (cqes[i].cid < 32)
			seen[cqes[i].cid]++;
	for (i = 0; i < 2 * (depth - 1); i++)
		tc_check(c, seen[i] == 1, __LINE__, "CID %u completed %u times", i, seen[i]);

	/*
	 * Admin doorbell writes land in the shadow page too (Linux never writes
	 * it): at once when the write is trapped, once the poller has taken it
	 * when it went into the mapped doorbell page (so the same bounded wait).
	 */
	EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, id));
	EXPECT(dword_reaches(&db[0], c->ctrl.admin.sq_tail), "shadow admin SQ tail %u, tail %u",
	       db[0], c->ctrl.admin.sq_tail);
	EXPECT(dword_reaches(&db[1], c->ctrl.admin.cq_head), "shadow admin CQ head %u, head %u",
	       db[1], c->ctrl.admin.cq_head);

	/* A reset forgets the buffers: register doorbells work again, pins are gone. */
	if (tc_up(c, 0)) {
		db[sq] = 0x3ff;	/* would be an invalid tail if it were still read */
		EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 0x5d2));
		EXPECT(c->ctrl.shadow_db == NULL, "library forgot the shadow page");
		EXPECT_EQ(tc_sysfs_long(c, "vnvme/shadow_doorbells", -1), 0);
	}
out:
	vnvme_dma_free(c->dev, &pages);
}

/* ------------------------------------------------------------------------ */
/* Interrupts                                                                */
/* ------------------------------------------------------------------------ */

/* Each CQ signals its own vector; a CQ created with IEN = 0 signals none. */
static void t_irq_vectors_and_polled_cq(struct tctx *c)
{
	struct vnvme_queue *qi, *qp;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	unsigned int i;
	int fd0, fd1, fd2;

	if (!tc_up(c, 3))
		return;
	fd0 = vnvme_msix_fd(c->dev, 0);
	fd1 = vnvme_msix_fd(c->dev, 1);
	fd2 = vnvme_msix_fd(c->dev, 2);
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, 16, 2, &qi)) ||
	    !EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 3, 16, -1, &qp)))
		return;
	/* Wait by polling the CQs: the signals are ours to count. */
	qi->irq_fd = -1;
	c->ctrl.admin.irq_fd = -1;
	/* Admin commands signal vector 0. */
	vnvme_eventfd_consume(fd0);
	EXPECT_OK(admin_simple(c, NVME_ADMIN_KEEP_ALIVE, 0, 0, 0, NULL));
	EXPECT(signalled_within(fd0, EVENT_WAIT_MS), "vector 0 after an admin command");
	/* Queue 2 signals vector 2 for each command. */
	vnvme_eventfd_consume(fd1);
	vnvme_eventfd_consume(fd2);
	for (i = 0; i < 8; i++) {
		flush_sqe(c, &sqe);
		if (!EXPECT_OK(vnvme_exec(qi, &sqe, &cqe)))
			break;
		EXPECT(signalled_within(fd2, EVENT_WAIT_MS), "vector 2 after completion %u", i);
	}
	/* The polled queue 3: completions, and no vector fires. */
	vnvme_eventfd_consume(fd0);
	vnvme_eventfd_consume(fd1);
	vnvme_eventfd_consume(fd2);
	for (i = 0; i < 16; i++) {
		flush_sqe(c, &sqe);
		EXPECT_OK(vnvme_exec(qp, &sqe, &cqe));
	}
	usleep(NO_EVENT_WAIT_MS * 1000);
	EXPECT_EQ(vnvme_eventfd_consume(fd1), 0);
	EXPECT_EQ(vnvme_eventfd_consume(fd2), 0);
	EXPECT_EQ(vnvme_eventfd_consume(fd0), 0);
}

/* Signals on fd until n completions of q are in, counting the signals. */
static uint64_t count_signals(int fd)
{
	int64_t n = vnvme_eventfd_consume(fd);

	return n > 0 ? (uint64_t)n : 0;
}

/* n Flush commands on q, one at a time; false (recorded) on the first failure. */
static bool flushes_complete(struct tctx *c, struct vnvme_queue *q, unsigned int n)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		flush_sqe(c, &sqe);
		if (!EXPECT_OK(vnvme_exec(q, &sqe, &cqe)))
			return false;
	}
	return true;
}

/* Counts eventfd signals until there are n (or a second passed); the count. */
static uint64_t signals_reach(int fd, uint64_t n)
{
	uint64_t signals = 0;
	unsigned int i;

	for (i = 0; i < 100 && signals < n; i++) {
		signals += count_signals(fd);
		if (signals < n)
			usleep(10000);
	}
	return signals;
}

/*
 * Interrupt coalescing (Feature 08h): with a threshold of T the controller
 * signals at most once per T completions (plus once per aggregation time
 * window that expires with completions pending), and at least once per T;
 * vectors with Coalescing Disable (Feature 09h) and the admin queue signal
 * every completion.  Commands go one at a time, so each CQ update posts one
 * entry.
 */
static void t_irq_coalescing(struct tctx *c)
{
	const unsigned int n = 64, thr = 8, time100us = 255;
	struct vnvme_queue *q;
	uint64_t signals, start, elapsed_ms, max_timer_fires;
	unsigned int i;
	int fd;

	if (!tc_up(c, 2) || !EXPECT_OK(vnvme_create_io_queue_pair(&c->ctrl, 2, 32, 1, &q)))
		return;
	fd = vnvme_msix_fd(c->dev, 1);
	q->irq_fd = -1;		/* wait by polling the CQ: we count the signals */

	/* 1. No coalescing: one signal per completion. */
	EXPECT_OK(set_feat(c, NVME_FEAT_IRQ_COALESCE, 0, false, NULL));
	count_signals(fd);
	if (!flushes_complete(c, q, n))
		return;
	EXPECT_EQ(signals_reach(fd, n), n);

	/* 2. Threshold thr, longest aggregation time. */
	EXPECT_OK(set_feat(c, NVME_FEAT_IRQ_COALESCE, (thr - 1) | time100us << 8, false, NULL));
	count_signals(fd);
	start = vnvme_now_ns();
	if (!flushes_complete(c, q, n))
		return;
	elapsed_ms = (vnvme_now_ns() - start) / 1000000;
	/* Completions below the threshold still get their interrupt in time. */
	usleep(100000);
	signals = count_signals(fd);
	for (i = 0; i < 100 && signals < n / thr; i++) {
		usleep(10000);
		signals += count_signals(fd);
	}
	/* The time window can fire at most once per 25.5 ms, plus once at the end. */
	max_timer_fires = elapsed_ms * 10 / time100us + 2;
	EXPECT(signals >= n / thr, "%llu signals for %u completions, threshold %u",
	       (unsigned long long)signals, n, thr);
	EXPECT(signals <= n / thr + max_timer_fires,
	       "%llu signals for %u completions, threshold %u, %llu ms (at most %llu timer fires)",
	       (unsigned long long)signals, n, thr, (unsigned long long)elapsed_ms,
	       (unsigned long long)max_timer_fires);
	if (n / thr + max_timer_fires >= n)
		tc_diag("coalescing bound not conclusive: %u commands took %llu ms",
			n, (unsigned long long)elapsed_ms);
	tc_diag("threshold %u: %llu signals for %u completions in %llu ms", thr,
		(unsigned long long)signals, n, (unsigned long long)elapsed_ms);

	/* 3. Coalescing Disable on the vector: one signal per completion again. */
	EXPECT_OK(set_feat(c, NVME_FEAT_IRQ_CONFIG, 1 | 1u << 16, false, NULL));
	count_signals(fd);
	if (!flushes_complete(c, q, n))
		return;
	EXPECT_EQ(signals_reach(fd, n), n);

	/* 4. The admin queue is never coalesced. */
	EXPECT_OK(set_feat(c, NVME_FEAT_IRQ_CONFIG, 0, false, NULL));
	{
		int afd = vnvme_msix_fd(c->dev, 0);
		uint64_t a = 0;

		c->ctrl.admin.irq_fd = -1;
		count_signals(afd);
		for (i = 0; i < 16; i++)
			EXPECT_OK(admin_simple(c, NVME_ADMIN_KEEP_ALIVE, 0, 0, 0, NULL));
		for (i = 0; i < 100 && a < 16; i++) {
			a += count_signals(afd);
			if (a < 16)
				usleep(10000);
		}
		EXPECT_EQ(a, 16);
	}
	EXPECT_OK(set_feat(c, NVME_FEAT_IRQ_COALESCE, 0, false, NULL));
}

/* Get Features 09h for vector iv on ctrl: the CD bit, or -1 (recorded) on error. */
static int irq_config_cd(struct tctx *c, struct vnvme_ctrl *ctrl, uint16_t iv)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_GET_FEATURES, .cdw10 = NVME_FEAT_IRQ_CONFIG,
				.cdw11 = iv };
	struct nvme_cqe cqe = { 0 };

	if (!tc_check(c, vnvme_exec(&ctrl->admin, &sqe, &cqe) == 0, __LINE__,
		      "Get Features 09h IV %u", iv))
		return -1;
	tc_check(c, (cqe.result & 0xffff) == iv, __LINE__, "Get Features 09h IV %u returned IV %u",
		 iv, cqe.result & 0xffff);
	return (cqe.result >> 16) & 1;
}

static int irq_config_set(struct vnvme_ctrl *ctrl, uint32_t iv, bool cd)
{
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_SET_FEATURES, .cdw10 = NVME_FEAT_IRQ_CONFIG,
				.cdw11 = iv | (cd ? 1u << 16 : 0) };

	return vnvme_exec(&ctrl->admin, &sqe, NULL);
}

/*
 * Interrupt Vector Configuration (Feature 09h) on every vector of an instance
 * with more than 32 (vnvme-large: 33, vectors 0-32): Coalescing Disable is
 * kept per vector, vector 32 and the last included, its neighbours
 * unaffected; one past the last vector is Invalid Field; and a CQ on vector
 * 32 with CD set signals every completion while coalescing is on.
 */
static void t_features_irq_config_all_vectors(struct tctx *c)
{
	const char *uuid = tc_get(c, "large_uuid");
	const unsigned int n = 64, thr = 8, time100us = 255;
	struct vnvme_dev *dev = NULL;
	struct vnvme_ctrl ctrl;
	struct vnvme_queue *q;
	struct nvme_sqe sqe = { .opcode = NVME_ADMIN_SET_FEATURES };
	unsigned int nvec, v, i, last;
	int fd;

	if (!uuid) {
		tc_skip(c, "no --set large_uuid=UUID (an instance with more than 32 vectors)");
		return;
	}
	if (!tc_check(c, vnvme_open(uuid, &c->open_opts, &dev) == 0, __LINE__, "open %s: %s",
		      uuid, vnvme_last_error()))
		return;
	if (!EXPECT_OK(vnvme_ctrl_init(&ctrl, dev)))
		goto out_close;
	ctrl.cmd_timeout_ms = 15000;
	nvec = dev->msix_count;
	if (!EXPECT(nvec > 33 - 1, "%s has %u MSI-X vectors, expected more than 32", uuid, nvec))
		goto out;
	last = nvec - 1;
	if (!EXPECT_OK(vnvme_msix_enable(dev, nvec)) ||
	    !EXPECT_OK(vnvme_ctrl_enable(&ctrl, 0, vnvme_msix_fd(dev, 0))))
		goto out;

	/* Every vector on its own: set, read back, neighbour untouched, clear. */
	for (v = 0; v < nvec && !c->failed; v++) {
		EXPECT_OK(irq_config_set(&ctrl, v, true));
		tc_check(c, irq_config_cd(c, &ctrl, (uint16_t)v) == 1, __LINE__,
			 "vector %u: CD set, reads back clear", v);
		if (v)
			tc_check(c, irq_config_cd(c, &ctrl, (uint16_t)(v - 1)) == 0, __LINE__,
				 "vector %u: CD set on %u as well", v - 1, v);
		EXPECT_OK(irq_config_set(&ctrl, v, false));
		tc_check(c, irq_config_cd(c, &ctrl, (uint16_t)v) == 0, __LINE__,
			 "vector %u: CD cleared, reads back set", v);
	}
	/* Vector 32 and the last: 31 and 33 (if it exists) unaffected. */
	EXPECT_OK(irq_config_set(&ctrl, 32, true));
	EXPECT_OK(irq_config_set(&ctrl, last, true));
	EXPECT_EQ(irq_config_cd(c, &ctrl, 32), 1);
	EXPECT_EQ(irq_config_cd(c, &ctrl, (uint16_t)last), 1);
	EXPECT_EQ(irq_config_cd(c, &ctrl, 31), 0);
	EXPECT_EQ(irq_config_cd(c, &ctrl, 0), 0);
	if (last > 33)
		EXPECT_EQ(irq_config_cd(c, &ctrl, 33), 0);
	/* No vector beyond the last: Invalid Field, both directions. */
	EXPECT_STATUS_DNR(irq_config_set(&ctrl, nvec, true), NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(irq_config_set(&ctrl, 0xffff, true), NVME_SC_INVALID_FIELD);
	{
		struct nvme_sqe g = { .opcode = NVME_ADMIN_GET_FEATURES,
				      .cdw10 = NVME_FEAT_IRQ_CONFIG, .cdw11 = nvec };

		EXPECT_STATUS_DNR(vnvme_exec(&ctrl.admin, &g, NULL), NVME_SC_INVALID_FIELD);
	}

	/* Coalescing on, CD on vector 32: a CQ there signals every completion. */
	if (!EXPECT_OK(vnvme_create_io_queue_pair(&ctrl, 1, 32, 32, &q)))
		goto out;
	fd = vnvme_msix_fd(dev, 32);
	q->irq_fd = -1;		/* wait by polling the CQ: we count the signals */
	sqe.cdw10 = NVME_FEAT_IRQ_COALESCE;
	sqe.cdw11 = (thr - 1) | time100us << 8;
	EXPECT_OK(vnvme_exec(&ctrl.admin, &sqe, NULL));
	count_signals(fd);
	for (i = 0; i < n; i++) {
		struct nvme_sqe f = { .opcode = NVME_IO_FLUSH, .nsid = 0xffffffff };
		struct nvme_cqe cqe;

		if (!tc_check(c, vnvme_exec(q, &f, &cqe) >= 0, __LINE__, "flush %u completes", i))
			goto out;
	}
	EXPECT_EQ(signals_reach(fd, n), n);
out:
	vnvme_ctrl_fini(&ctrl);
out_close:
	vnvme_close(dev);
}

/* ------------------------------------------------------------------------ */
/* Asynchronous events                                                       */
/* ------------------------------------------------------------------------ */

static void t_aer_invalid_doorbell(struct tctx *c)
{
	struct nvme_error_log_entry *e = (void *)c->buf2.vaddr;
	struct nvme_cqe cqe;
	uint16_t cid;
	int ret;

	if (!tc_up(c, 0))
		return;
	/* Write to the doorbell of a queue that does not exist. */
	EXPECT_OK(aer_submit(c, &cid));
	wreg32(c, NVME_REG_DOORBELLS + 8 * 9, 1);
	ret = admin_wait_cid(c, cid, EVENT_WAIT_MS, &cqe);
	if (EXPECT_OK(ret)) {
		EXPECT_EQ(NVME_CQE_STATUS_FIELD(cqe.status), 0);
		EXPECT_EQ(NVME_AER_TYPE(cqe.result), NVME_AER_TYPE_ERROR);
		EXPECT_EQ(NVME_AER_INFO(cqe.result), NVME_AER_ERR_INVALID_DB);
		EXPECT_EQ(NVME_AER_LOG_PAGE(cqe.result), NVME_LOG_ERROR);
	}
	/* Error events stay masked until the Error log is read without RAE. */
	EXPECT_OK(aer_submit(c, &cid));
	wreg32(c, NVME_REG_DOORBELLS + 8 * 1, 64);	/* SQ 1 tail == size: invalid value */
	EXPECT_EQ(admin_wait_cid(c, cid, NO_EVENT_WAIT_MS, &cqe), -ETIMEDOUT);
	EXPECT_OK(get_log(c, NVME_LOG_ERROR, 0, e, 64, 0, true));	/* RAE: still masked */
	wreg32(c, NVME_REG_DOORBELLS + 8 * 1, 64);
	EXPECT_EQ(admin_wait_cid(c, cid, NO_EVENT_WAIT_MS, &cqe), -ETIMEDOUT);
	EXPECT_OK(get_log(c, NVME_LOG_ERROR, 0, e, 64, 0, false));
	wreg32(c, NVME_REG_DOORBELLS + 8 * 1 + 4, 0xffff);	/* CQ 1 head beyond its size */
	ret = admin_wait_cid(c, cid, EVENT_WAIT_MS, &cqe);
	if (EXPECT_OK(ret)) {
		EXPECT_EQ(NVME_AER_TYPE(cqe.result), NVME_AER_TYPE_ERROR);
		EXPECT_EQ(NVME_AER_INFO(cqe.result), NVME_AER_ERR_INVALID_DB_VALUE);
		EXPECT_EQ(NVME_AER_LOG_PAGE(cqe.result), NVME_LOG_ERROR);
	}
	/* The ignored doorbell writes left queue 1 working. */
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 11));
}

/* Namespace attach through sysfs: Notice event and the Changed Namespace List. */
static void t_aer_ns_attach(struct tctx *c)
{
	long slot = tc_get_long(c, "attach_ns", 0);
	uint32_t *l = (void *)c->buf2.vaddr;
	struct nvme_id_ns id;
	struct nvme_cqe cqe;
	char rel[32];
	uint16_t cid;

	if (!tc_up(c, 0))
		return;
	if (!slot) {
		tc_skip(c, "no --set attach_ns=N (a namespace slot with device_path, not enabled)");
		return;
	}
	snprintf(rel, sizeof(rel), "ns%ld/enable", slot);
	get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, false);
	/* Without the Namespace Attribute Notices bit in AEC: no event. */
	EXPECT_OK(set_feat(c, NVME_FEAT_ASYNC_EVENT, 0, false, NULL));
	EXPECT_OK(aer_submit(c, &cid));
	EXPECT_OK(tc_sysfs_write(c, rel, "1"));
	EXPECT_EQ(admin_wait_cid(c, cid, NO_EVENT_WAIT_MS, &cqe), -ETIMEDOUT);
	EXPECT_OK(tc_sysfs_write(c, rel, "0"));
	get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, false);
	/* With it: attach raises a Notice. */
	EXPECT_OK(set_feat(c, NVME_FEAT_ASYNC_EVENT, NVME_AEC_NS_ATTR, false, NULL));
	EXPECT_OK(tc_sysfs_write(c, rel, "1"));
	if (EXPECT_OK(admin_wait_cid(c, cid, EVENT_WAIT_MS, &cqe))) {
		EXPECT_EQ(NVME_AER_TYPE(cqe.result), NVME_AER_TYPE_NOTICE);
		EXPECT_EQ(NVME_AER_INFO(cqe.result), NVME_AER_NOTICE_NS_CHANGED);
		EXPECT_EQ(NVME_AER_LOG_PAGE(cqe.result), NVME_LOG_CHANGED_NS);
	}
	EXPECT_OK(get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, false));
	EXPECT_EQ(l[0], (uint32_t)slot);
	EXPECT_OK(identify(c, NVME_ID_CNS_NS, (uint32_t)slot, &id));
	EXPECT(id.nsze > 0, "attached namespace %ld is active", slot);
	/* Detach: another Notice (the log read above re-armed it). */
	EXPECT_OK(aer_submit(c, &cid));
	EXPECT_OK(tc_sysfs_write(c, rel, "0"));
	if (EXPECT_OK(admin_wait_cid(c, cid, EVENT_WAIT_MS, &cqe)))
		EXPECT_EQ(NVME_AER_TYPE(cqe.result), NVME_AER_TYPE_NOTICE);
	EXPECT_OK(get_log(c, NVME_LOG_CHANGED_NS, 0, l, 4096, 0, false));
	EXPECT_EQ(l[0], (uint32_t)slot);
	EXPECT_OK(identify(c, NVME_ID_CNS_NS, (uint32_t)slot, &id));
	EXPECT_EQ(id.nsze, 0);
}

/* At most AERL + 1 requests are held; the next completes with AER Limit Exceeded. */
static void t_aer_limit(struct tctx *c)
{
	struct nvme_id_ctrl id;
	struct nvme_cqe cqe;
	uint16_t cid, over;
	unsigned int i;

	if (!tc_enable(c, 0) || !EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id)))
		return;
	for (i = 0; i <= id.aerl; i++)
		EXPECT_OK(aer_submit(c, &cid));
	EXPECT_OK(aer_submit(c, &over));
	if (EXPECT_OK(admin_wait_cid(c, over, EVENT_WAIT_MS, &cqe)))
		EXPECT_EQ(NVME_STATUS_CODE(NVME_CQE_STATUS_FIELD(cqe.status)), NVME_SC_ASYNC_LIMIT);
	/* The held ones stay held: other commands go on. */
	EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id));
}

/* An event with no request outstanding waits for the next request. */
static void t_aer_queued_event(struct tctx *c)
{
	struct nvme_cqe cqe;
	uint16_t cid;

	if (!tc_up(c, 0))
		return;
	wreg32(c, NVME_REG_DOORBELLS + 8 * 10, 3);	/* absent queue: Error event */
	EXPECT_OK(aer_submit(c, &cid));
	if (EXPECT_OK(admin_wait_cid(c, cid, EVENT_WAIT_MS, &cqe))) {
		EXPECT_EQ(NVME_AER_TYPE(cqe.result), NVME_AER_TYPE_ERROR);
		EXPECT_EQ(NVME_AER_INFO(cqe.result), NVME_AER_ERR_INVALID_DB);
	}
}

/* ------------------------------------------------------------------------ */
/* Abort and other admin commands                                            */
/* ------------------------------------------------------------------------ */

/*
 * Abort a command still in the admin SQ: both go in with one doorbell, so
 * the controller executes the Abort before it fetches its target.
 */
static void t_abort(struct tctx *c)
{
	struct vnvme_queue *a;
	struct nvme_sqe sqes[2];
	struct nvme_cqe cqes[4], ab = { 0 }, tgt = { 0 };
	unsigned int got = 0, i;

	if (!tc_up(c, 0))
		return;
	a = &c->ctrl.admin;
	memset(sqes, 0, sizeof(sqes));
	sqes[0].opcode = NVME_ADMIN_ABORT;
	sqes[0].cid = 0x4001;
	sqes[0].cdw10 = 0 | 0x4002u << 16;	/* SQID 0, CID 0x4002 */
	sqes[1].opcode = NVME_ADMIN_IDENTIFY;
	sqes[1].cid = 0x4002;
	sqes[1].cdw10 = NVME_ID_CNS_CTRL;
	sqes[1].prp1 = c->buf2.iova;
	EXPECT_OK(vnvme_sq_push(a, &sqes[0]));
	EXPECT_OK(vnvme_sq_push(a, &sqes[1]));
	EXPECT_OK(vnvme_sq_ring(a));
	for (i = 0; i < 50000 && got < 2; i++) {
		int k = vnvme_cq_poll(a, cqes + got, 2 - got);

		got += k > 0 ? (unsigned int)k : 0;
		if (k <= 0)
			usleep(200);
	}
	if (!EXPECT_EQ(got, 2))
		return;
	for (i = 0; i < 2; i++) {
		if (cqes[i].cid == 0x4001)
			ab = cqes[i];
		else if (cqes[i].cid == 0x4002)
			tgt = cqes[i];
	}
	EXPECT_EQ(NVME_CQE_STATUS_FIELD(ab.status), 0);
	EXPECT_EQ(ab.result & 1, 0);	/* aborted */
	EXPECT_EQ(NVME_STATUS_CODE(NVME_CQE_STATUS_FIELD(tgt.status)), NVME_SC_ABORT_REQ);
	/* A command that is not there: success, "not aborted". */
	{
		struct nvme_cqe cqe;

		EXPECT_OK(admin_simple(c, NVME_ADMIN_ABORT, 0, 1 | 0x7777u << 16, 0, &cqe));
		EXPECT_EQ(cqe.result & 1, 1);
		EXPECT_OK(admin_simple(c, NVME_ADMIN_ABORT, 0, 99 | 0x1u << 16, 0, &cqe));
		EXPECT_EQ(cqe.result & 1, 1);
		EXPECT_OK(admin_simple(c, NVME_ADMIN_ABORT, 0, 0xffff | 0xffffu << 16, 0, &cqe));
		EXPECT_EQ(cqe.result & 1, 1);
	}
	EXPECT_OK(tc_verified_io(c, c->q, 8, 1, 12));
}

static void t_keep_alive(struct tctx *c)
{
	if (!tc_enable(c, 0))
		return;
	EXPECT_OK(admin_simple(c, NVME_ADMIN_KEEP_ALIVE, 0, 0, 0, NULL));
}

/* Unknown or unimplemented admin opcodes: Invalid Command Opcode with DNR. */
static void t_admin_invalid_opcode(struct tctx *c)
{
	struct nvme_id_ctrl id;
	unsigned int op, bad = 0;
	struct nvme_sqe sqe;
	int r;

	if (!tc_enable(c, 0) || !EXPECT_OK(identify(c, NVME_ID_CNS_CTRL, 0, &id)))
		return;
	for (op = 0; op < 256; op++) {
		switch (op) {
		case NVME_ADMIN_DELETE_SQ: case NVME_ADMIN_CREATE_SQ: case NVME_ADMIN_GET_LOG_PAGE:
		case NVME_ADMIN_DELETE_CQ: case NVME_ADMIN_CREATE_CQ: case NVME_ADMIN_IDENTIFY:
		case NVME_ADMIN_ABORT: case NVME_ADMIN_SET_FEATURES: case NVME_ADMIN_GET_FEATURES:
		case NVME_ADMIN_ASYNC_EVENT: case NVME_ADMIN_KEEP_ALIVE:
			continue;
		case NVME_ADMIN_DBBUF_CONFIG:
			if (id.oacs & (1u << 8))
				continue;
			break;
		}
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = (uint8_t)op;
		r = tc_admin(c, &sqe, NULL);
		if (!(r > 0 && NVME_STATUS_CODE(r) == NVME_SC_INVALID_OPCODE && (r & NVME_STATUS_DNR))) {
			if (!bad++)
				tc_diag("admin opcode 0x%02x: %d (0x%x)", op, r, r > 0 ? r : 0);
		}
	}
	EXPECT(bad == 0, "%u admin opcodes without Invalid Opcode+DNR", bad);
	/* Fused and SGL admin commands are refused. */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADMIN_KEEP_ALIVE;
	sqe.flags = 1;
	EXPECT_STATUS_DNR(tc_admin(c, &sqe, NULL), NVME_SC_INVALID_FIELD);
	{
		struct nvme_sgl_desc d;

		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = NVME_ADMIN_IDENTIFY;
		sqe.cdw10 = 1;
		vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, c->buf2.iova, 4096);
		vnvme_set_sgl(&sqe, &d);
		EXPECT_STATUS_DNR(tc_admin(c, &sqe, NULL), NVME_SC_INVALID_FIELD);
	}
}

/* ------------------------------------------------------------------------ */
/* I/O commands                                                              */
/* ------------------------------------------------------------------------ */

static uint32_t mdts_bytes(struct tctx *c)
{
	struct nvme_id_ctrl id;

	if (identify(c, NVME_ID_CNS_CTRL, 0, &id) || !id.mdts)
		return 1u << 20;
	return NVME_PAGE_SIZE << id.mdts;
}

static void t_io_read_write(struct tctx *c)
{
	uint32_t lba, max_nlb, sizes[6], i;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	max_nlb = mdts_bytes(c) / lba;
	sizes[0] = 1;
	sizes[1] = 7;
	sizes[2] = NVME_PAGE_SIZE / lba + 1;
	sizes[3] = 2 * NVME_PAGE_SIZE / lba + 3;
	sizes[4] = max_nlb - 1;
	sizes[5] = max_nlb;
	for (i = 0; i < 6; i++)
		tc_check(c, tc_verified_io(c, c->q, 1000 + i * 1100, sizes[i], 20 + i) == 0,
			 __LINE__, "verified write/read of %u blocks", sizes[i]);
	/* the last block of the namespace */
	EXPECT_OK(tc_verified_io(c, c->q, nsze(c) - 1, 1, 30));
	EXPECT_OK(tc_verified_io(c, c->q, nsze(c) - 8, 8, 31));
}

static void t_io_fua_and_flush(struct tctx *c)
{
	struct nvme_sqe sqe;
	uint64_t bad;

	if (!tc_up(c, 0))
		return;
	vnvme_pattern_fill(c->buf.vaddr, c->ns.lba_size, 50, 8, 40);
	vnvme_cmd_rw(&sqe, NVME_IO_WRITE, c->nsid, 50, 8);
	sqe.cdw12 |= NVME_RW_FUA;
	EXPECT_OK(vnvme_set_prps(&sqe, c->buf.iova, 8 * c->ns.lba_size, &c->list));
	EXPECT_OK(vnvme_exec(c->q, &sqe, NULL));
	memset(c->buf.vaddr, 0, 8 * c->ns.lba_size);
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 50, 8);
	sqe.cdw12 |= NVME_RW_FUA | NVME_RW_LIMITED_RETRY;
	EXPECT_OK(vnvme_set_prps(&sqe, c->buf.iova, 8 * c->ns.lba_size, &c->list));
	EXPECT_OK(vnvme_exec(c->q, &sqe, NULL));
	EXPECT_OK(vnvme_pattern_check(c->buf.vaddr, c->ns.lba_size, 50, 8, 40, &bad));
	/* Flush: the namespace, all namespaces; NSID 0 and absent ones are invalid. */
	EXPECT_OK(vnvme_io_flush(&c->ns, c->q));
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_IO_FLUSH;
	sqe.nsid = 0xffffffff;
	EXPECT_OK(vnvme_exec(c->q, &sqe, NULL));
	sqe.nsid = 0;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_INVALID_NS);
	sqe.nsid = 16;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_INVALID_NS);
	/* With the volatile write cache off writes are durable; still fine. */
	EXPECT_OK(set_feat(c, NVME_FEAT_VOLATILE_WC, 0, false, NULL));
	EXPECT_OK(tc_verified_io(c, c->q, 60, 4, 41));
	EXPECT_OK(set_feat(c, NVME_FEAT_VOLATILE_WC, 1, false, NULL));
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static void t_io_write_zeroes(struct tctx *c)
{
	uint32_t lba;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	EXPECT_OK(tc_verified_io(c, c->q, 200, 16, 50));
	EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, 204, 8, 0));
	memset(c->buf.vaddr, 0xee, 16 * lba);
	EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, c->nsid, 200, 16, &c->buf));
	EXPECT(!all_zero(c->buf.vaddr, 4 * lba), "blocks before untouched");
	EXPECT(all_zero((uint8_t *)c->buf.vaddr + 4 * lba, 8 * lba), "8 blocks zeroed");
	EXPECT(!all_zero((uint8_t *)c->buf.vaddr + 12 * lba, 4 * lba), "blocks after untouched");
	/* Deallocate hint, FUA, and a large range */
	EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, 300, 16, NVME_WZ_DEAC));
	EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, 400, 16, NVME_RW_FUA));
	EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, 0, mdts_bytes(c) / lba, 0));
	EXPECT_STATUS_DNR(vnvme_io_write_zeroes(&c->ns, c->q, nsze(c) - 4, 8, 0), NVME_SC_LBA_RANGE);
}

static void t_io_dsm(struct tctx *c)
{
	struct nvme_dsm_range *r = c->buf2.vaddr;
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	memset(r, 0, 4096);
	r[0].slba = 1000;
	r[0].nlb = 64;
	r[1].slba = 5000;
	r[1].nlb = 8;
	r[2].slba = nsze(c) - 1;
	r[2].nlb = 1;
	EXPECT_OK(vnvme_io_dsm(&c->ns, c->q, &c->buf2, 3, NVME_DSM_ATTR_DEALLOCATE));
	/* Attributes without deallocate are hints: success. */
	EXPECT_OK(vnvme_io_dsm(&c->ns, c->q, &c->buf2, 3, 0x3));
	/* 256 ranges, one of them zero-length */
	for (i = 0; i < 256; i++) {
		r[i].slba = 2000 + i * 4;
		r[i].nlb = i == 7 ? 0 : 2;
	}
	EXPECT_OK(vnvme_io_dsm(&c->ns, c->q, &c->buf2, 256, NVME_DSM_ATTR_DEALLOCATE));
	/* A range past the end fails the whole command. */
	r[9].slba = nsze(c) - 1;
	r[9].nlb = 2;
	EXPECT_STATUS_DNR(vnvme_io_dsm(&c->ns, c->q, &c->buf2, 256, NVME_DSM_ATTR_DEALLOCATE),
			  NVME_SC_LBA_RANGE);
	r[0].slba = ~0ull;
	r[0].nlb = 2;
	EXPECT_STATUS_DNR(vnvme_io_dsm(&c->ns, c->q, &c->buf2, 1, NVME_DSM_ATTR_DEALLOCATE),
			  NVME_SC_LBA_RANGE);
	/* Data around still reads back */
	EXPECT_OK(tc_verified_io(c, c->q, 100, 8, 51));
}

static void t_io_compare(struct tctx *c)
{
	uint32_t lba;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	EXPECT_OK(tc_verified_io(c, c->q, 700, 16, 60));
	vnvme_pattern_fill(c->buf.vaddr, lba, 700, 16, 60);
	EXPECT_OK(vnvme_io_compare(&c->ns, c->q, 700, 16, &c->buf));
	/* One byte differs in the last block: Compare Failure */
	((uint8_t *)c->buf.vaddr)[15 * lba + lba - 1] ^= 1;
	EXPECT_STATUS(vnvme_io_compare(&c->ns, c->q, 700, 16, &c->buf), NVME_SC_COMPARE_FAILED);
	/* Beyond the namespace and beyond MDTS */
	EXPECT_STATUS_DNR(vnvme_io_compare(&c->ns, c->q, nsze(c), 1, &c->buf), NVME_SC_LBA_RANGE);
	EXPECT_STATUS_DNR(tc_rw(c, c->q, NVME_IO_COMPARE, c->nsid, 0, mdts_bytes(c) / lba + 1,
				&c->buf), NVME_SC_INVALID_FIELD);
}

static void t_io_verify(struct tctx *c)
{
	if (!tc_up(c, 0))
		return;
	EXPECT_OK(vnvme_io_verify(&c->ns, c->q, 0, 1));
	EXPECT_OK(vnvme_io_verify(&c->ns, c->q, 0, mdts_bytes(c) / c->ns.lba_size));
	EXPECT_OK(vnvme_io_verify(&c->ns, c->q, nsze(c) - 1, 1));
	EXPECT_STATUS_DNR(vnvme_io_verify(&c->ns, c->q, nsze(c) - 1, 2), NVME_SC_LBA_RANGE);
	EXPECT_STATUS_DNR(vnvme_io_verify(&c->ns, c->q, nsze(c), 1), NVME_SC_LBA_RANGE);
}

/*
 * Verify, Write Zeroes and Dataset Management within the limits of Identify
 * CNS 06h: at the limit they succeed, one block more is Invalid Field in
 * Command.  Without CNS 06h the limits taken are MDTS (what the controller
 * does synchronously must not exceed what a Read may move).
 */
static void t_io_size_limits(struct tctx *c)
{
	struct nvme_dsm_range *r = c->buf2.vaddr;
	struct cs_ctrl_nvm_limits l;
	uint32_t lba, mdts, vsl_nlb, wzsl_nlb, i, n;
	uint64_t bad;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	mdts = mdts_bytes(c) / NVME_PAGE_SIZE;
	EXPECT_OK(identify_cs_ctrl_nvm(c, &l));
	vsl_nlb = (uint32_t)(((uint64_t)NVME_PAGE_SIZE << (l.vsl ? l.vsl : __builtin_ctz(mdts))) / lba);
	wzsl_nlb = (uint32_t)(((uint64_t)NVME_PAGE_SIZE << (l.wzsl ? l.wzsl : __builtin_ctz(mdts))) /
			      lba);
	tc_diag("Verify up to %u blocks, Write Zeroes up to %u, DSM ranges up to %u, in all %llu",
		vsl_nlb, wzsl_nlb, l.dmrsl, (unsigned long long)l.dmsl);
	if (!EXPECT(vsl_nlb < nsze(c) && wzsl_nlb < nsze(c) && vsl_nlb < 65536 && wzsl_nlb < 65536,
		    "limits below the namespace size %llu", (unsigned long long)nsze(c)))
		return;

	/* Verify */
	EXPECT_OK(vnvme_io_verify(&c->ns, c->q, 0, vsl_nlb));
	EXPECT_OK(vnvme_io_verify(&c->ns, c->q, nsze(c) - vsl_nlb, vsl_nlb));
	EXPECT_STATUS_DNR(vnvme_io_verify(&c->ns, c->q, 0, vsl_nlb + 1), NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(vnvme_io_verify(&c->ns, c->q, 0, 65536 > nsze(c) ? (uint32_t)nsze(c) : 65536),
			  NVME_SC_INVALID_FIELD);

	/* Write Zeroes: refused beyond the limit, and nothing zeroed then */
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 0x11));
	EXPECT_STATUS_DNR(vnvme_io_write_zeroes(&c->ns, c->q, 0, wzsl_nlb + 1, 0),
			  NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(vnvme_io_write_zeroes(&c->ns, c->q, 0, wzsl_nlb + 1, NVME_WZ_DEAC),
			  NVME_SC_INVALID_FIELD);
	memset(c->buf.vaddr, 0, 8 * lba);
	EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, c->nsid, 0, 8, &c->buf));
	EXPECT_OK(vnvme_pattern_check(c->buf.vaddr, lba, 0, 8, 0x11, &bad));
	EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, 0, wzsl_nlb, 0));
	EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, nsze(c) - wzsl_nlb, wzsl_nlb, NVME_WZ_DEAC));
	memset(c->buf.vaddr, 0xee, 8 * lba);
	EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, c->nsid, 0, 8, &c->buf));
	EXPECT(all_zero(c->buf.vaddr, 8 * lba), "Write Zeroes at the limit zeroed");

	/* Dataset Management: a range beyond DMRSL, ranges beyond DMSL in all */
	if (!l.dmrsl || l.dmrsl >= nsze(c)) {
		tc_diag("DMRSL %u: no range beyond it fits namespace %u", l.dmrsl, c->nsid);
		return;
	}
	memset(r, 0, 4096);
	r[0].slba = 0;
	r[0].nlb = l.dmrsl + 1;
	EXPECT_STATUS_DNR(vnvme_io_dsm(&c->ns, c->q, &c->buf2, 1, NVME_DSM_ATTR_DEALLOCATE),
			  NVME_SC_INVALID_FIELD);
	r[0].nlb = l.dmrsl;
	EXPECT_OK(vnvme_io_dsm(&c->ns, c->q, &c->buf2, 1, NVME_DSM_ATTR_DEALLOCATE));
	/* Hints only (no deallocate): nothing is done, so no limit applies. */
	r[0].nlb = l.dmrsl + 1;
	EXPECT_OK(vnvme_io_dsm(&c->ns, c->q, &c->buf2, 1, 0x3));
	if (l.dmsl / l.dmrsl >= 256) {
		tc_diag("DMSL %llu: 256 ranges of DMRSL stay within it", (unsigned long long)l.dmsl);
		return;
	}
	/* floor(DMSL / DMRSL) whole ranges fit, one more does not (they may overlap). */
	n = (uint32_t)(l.dmsl / l.dmrsl);
	for (i = 0; i <= n; i++) {
		r[i].slba = i % 2;
		r[i].nlb = l.dmrsl;
	}
	EXPECT_OK(vnvme_io_dsm(&c->ns, c->q, &c->buf2, n, NVME_DSM_ATTR_DEALLOCATE));
	EXPECT_STATUS_DNR(vnvme_io_dsm(&c->ns, c->q, &c->buf2, n + 1, NVME_DSM_ATTR_DEALLOCATE),
			  NVME_SC_INVALID_FIELD);
}

static void t_io_lba_range(struct tctx *c)
{
	static const uint8_t ops[] = { NVME_IO_READ, NVME_IO_WRITE, NVME_IO_COMPARE,
				       NVME_IO_VERIFY, NVME_IO_WRITE_ZEROES };
	uint64_t n;
	unsigned int i;

	if (!tc_up(c, 0))
		return;
	n = nsze(c);
	for (i = 0; i < sizeof(ops); i++) {
		uint8_t op = ops[i];

		tc_check(c, ({ int r = tc_rw(c, c->q, op, c->nsid, n, 1, &c->buf);
			      r > 0 && NVME_STATUS_CODE(r) == NVME_SC_LBA_RANGE && (r & NVME_STATUS_DNR); }),
			 __LINE__, "opcode 0x%02x at SLBA NSZE: expected LBA Out of Range", op);
		tc_check(c, ({ int r = tc_rw(c, c->q, op, c->nsid, n - 1, 2, &c->buf);
			      r > 0 && NVME_STATUS_CODE(r) == NVME_SC_LBA_RANGE; }),
			 __LINE__, "opcode 0x%02x across the end: expected LBA Out of Range", op);
		tc_check(c, ({ int r = tc_rw(c, c->q, op, c->nsid, ~0ull, 2, &c->buf);
			      r > 0 && NVME_STATUS_CODE(r) == NVME_SC_LBA_RANGE; }),
			 __LINE__, "opcode 0x%02x at SLBA 2^64-1 (wraps): expected LBA Out of Range", op);
		tc_check(c, ({ int r = tc_rw(c, c->q, op, c->nsid, 1ull << 63, 1, &c->buf);
			      r > 0 && NVME_STATUS_CODE(r) == NVME_SC_LBA_RANGE; }),
			 __LINE__, "opcode 0x%02x at SLBA 2^63: expected LBA Out of Range", op);
	}
}

static void t_io_mdts(struct tctx *c)
{
	uint32_t lba, max_nlb;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	max_nlb = mdts_bytes(c) / lba;
	EXPECT_OK(tc_verified_io(c, c->q, 0, max_nlb, 70));
	EXPECT_STATUS_DNR(tc_rw(c, c->q, NVME_IO_READ, c->nsid, 0, max_nlb + 1, &c->buf),
			  NVME_SC_INVALID_FIELD);
	EXPECT_STATUS_DNR(tc_rw(c, c->q, NVME_IO_WRITE, c->nsid, 0, max_nlb + 1, &c->buf),
			  NVME_SC_INVALID_FIELD);
	{
		struct nvme_sqe sqe;

		/* The largest NLB: MDTS (or the namespace end) is what stops it. */
		vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 65536);
		sqe.prp1 = c->buf.iova;
		sqe.prp2 = c->list.iova;
		if (nsze(c) >= 65536)
			EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_INVALID_FIELD);
		else
			EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_LBA_RANGE);
	}
}

static void t_io_invalid_ns(struct tctx *c)
{
	static const uint32_t bad[] = { 0, 15, 16, 17, 0x80000000, 0xfffffffe, 0xffffffff };
	static const uint8_t ops[] = { NVME_IO_READ, NVME_IO_WRITE, NVME_IO_COMPARE,
				       NVME_IO_VERIFY, NVME_IO_WRITE_ZEROES, NVME_IO_DSM };
	unsigned int i, j;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i] == c->nsid)
			continue;
		for (j = 0; j < sizeof(ops); j++) {
			uint8_t op = ops[j];
			uint32_t nsid = bad[i];

			tc_check(c, ({ int r = tc_rw(c, c->q, op, nsid, 0, 1, &c->buf);
				      r > 0 && NVME_STATUS_CODE(r) == NVME_SC_INVALID_NS && (r & NVME_STATUS_DNR); }),
				 __LINE__, "opcode 0x%02x NSID 0x%x: expected Invalid Namespace", op, nsid);
		}
	}
}

static void t_io_invalid_opcode(struct tctx *c)
{
	unsigned int op, bad = 0;
	struct nvme_sqe sqe;
	int r;

	if (!tc_up(c, 0))
		return;
	for (op = 0; op < 256; op++) {
		switch (op) {
		case NVME_IO_FLUSH: case NVME_IO_WRITE: case NVME_IO_READ: case NVME_IO_COMPARE:
		case NVME_IO_WRITE_ZEROES: case NVME_IO_DSM: case NVME_IO_VERIFY:
			continue;
		}
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = (uint8_t)op;
		sqe.nsid = c->nsid;
		r = vnvme_exec(c->q, &sqe, NULL);
		if (!(r > 0 && NVME_STATUS_CODE(r) == NVME_SC_INVALID_OPCODE && (r & NVME_STATUS_DNR))) {
			if (!bad++)
				tc_diag("I/O opcode 0x%02x: %d (0x%x)", op, r, r > 0 ? r : 0);
		}
	}
	EXPECT(bad == 0, "%u I/O opcodes without Invalid Opcode+DNR", bad);
	/* Fused commands are not supported. */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_IO_COMPARE;
	sqe.nsid = c->nsid;
	sqe.flags = 1;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_INVALID_FIELD);
}

static void t_io_read_only_ns(struct tctx *c)
{
	long ro = tc_get_long(c, "ro_nsid", 0);
	struct nvme_id_ns id;
	struct nvme_dsm_range *r = c->buf2.vaddr;
	struct nvme_sqe sqe;

	if (!tc_up(c, 0))
		return;
	if (!ro) {
		tc_skip(c, "no --set ro_nsid=N (an active read-only namespace)");
		return;
	}
	if (!EXPECT_OK(identify(c, NVME_ID_CNS_NS, (uint32_t)ro, &id)))
		return;
	EXPECT(id.nsattr & 1, "NSATTR write protected");
	EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, (uint32_t)ro, 0, 8, &c->buf));
	EXPECT_STATUS(tc_rw(c, c->q, NVME_IO_WRITE, (uint32_t)ro, 0, 8, &c->buf),
		      0x020 /* Namespace is Write Protected */);
	EXPECT_STATUS(tc_rw(c, c->q, NVME_IO_WRITE_ZEROES, (uint32_t)ro, 0, 8, &c->buf), 0x020);
	memset(r, 0, 16);
	r[0].nlb = 1;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_IO_DSM;
	sqe.nsid = (uint32_t)ro;
	sqe.cdw11 = NVME_DSM_ATTR_DEALLOCATE;
	sqe.prp1 = c->buf2.iova;
	EXPECT_STATUS(vnvme_exec(c->q, &sqe, NULL), 0x020);
	EXPECT_OK(tc_rw(c, c->q, NVME_IO_VERIFY, (uint32_t)ro, 0, 8, &c->buf));
	sqe.opcode = NVME_IO_FLUSH;
	EXPECT_OK(vnvme_exec(c->q, &sqe, NULL));
}

/* A namespace with 4096-byte blocks: the same commands in other units. */
static void t_io_4k_namespace(struct tctx *c)
{
	long n4k = tc_get_long(c, "nsid_4k", 0);
	uint32_t saved = c->nsid;

	if (!n4k) {
		tc_skip(c, "no --set nsid_4k=N (an active namespace with 4 KiB blocks)");
		return;
	}
	c->nsid = (uint32_t)n4k;
	if (tc_up(c, 0)) {
		EXPECT_EQ(c->ns.lba_size, 4096);
		EXPECT_OK(tc_verified_io(c, c->q, 0, 1, 80));
		EXPECT_OK(tc_verified_io(c, c->q, 3, mdts_bytes(c) / 4096, 81));
		EXPECT_OK(tc_verified_io(c, c->q, nsze(c) - 1, 1, 82));
		EXPECT_STATUS_DNR(tc_rw(c, c->q, NVME_IO_READ, c->nsid, nsze(c), 1, &c->buf),
				  NVME_SC_LBA_RANGE);
		EXPECT_OK(vnvme_io_write_zeroes(&c->ns, c->q, 1, 2, 0));
		EXPECT_OK(vnvme_io_verify(&c->ns, c->q, 0, 16));
	}
	c->nsid = saved;
}

/* ------------------------------------------------------------------------ */
/* PRPs and SGLs                                                             */
/* ------------------------------------------------------------------------ */

/*
 * Write through one data-pointer layout, read back through another (plain
 * PRPs), compare; and the other way round.  pages: scattered data pages in
 * buf2 (page indexes), offset into the first.
 */
static int rw_layout(struct tctx *c, uint8_t opcode, uint64_t slba, uint32_t nlb,
		     const unsigned int *page_idx, size_t npages, uint32_t offset,
		     size_t list_off)
{
	uint64_t pages[600];
	struct nvme_sqe sqe;
	size_t i;
	int ret;

	for (i = 0; i < npages && i < 600; i++)
		pages[i] = tc_page(&c->buf2, page_idx[i]);
	vnvme_cmd_rw(&sqe, opcode, c->nsid, slba, nlb);
	ret = vnvme_build_prps(&sqe, pages, npages, offset, (size_t)nlb * c->ns.lba_size,
			       &c->list, list_off);
	return ret ? ret : vnvme_exec(c->q, &sqe, NULL);
}

/* Copy between a contiguous buffer and the scattered layout. */
static void scatter(struct tctx *c, const uint8_t *src, size_t len, const unsigned int *idx,
		    uint32_t offset, bool to_layout, uint8_t *dst)
{
	size_t done = 0, i = 0, off = offset;

	while (done < len) {
		size_t n = NVME_PAGE_SIZE - off;
		uint8_t *p = (uint8_t *)tc_vpage(&c->buf2, idx[i]) + off;

		if (n > len - done)
			n = len - done;
		if (to_layout)
			memcpy(p, src + done, n);
		else
			memcpy(dst + done, p, n);
		done += n;
		off = 0;
		i++;
	}
}

/* One layout: write from it, check with a plain read, read into it, compare. */
static void check_layout(struct tctx *c, const char *what, uint64_t slba, uint32_t nlb,
			 const unsigned int *idx, size_t npages, uint32_t offset, size_t list_off)
{
	size_t len = (size_t)nlb * c->ns.lba_size;
	uint8_t *want = malloc(len), *got = malloc(len);

	if (!want || !got)
		goto out;
	tc_fill(want, len, slba * 31 + nlb);
	scatter(c, want, len, idx, offset, true, NULL);
	if (!tc_check(c, rw_layout(c, NVME_IO_WRITE, slba, nlb, idx, npages, offset, list_off) == 0,
		      __LINE__, "%s: write failed", what))
		goto out;
	memset(c->buf.vaddr, 0, len);
	if (!EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, c->nsid, slba, nlb, &c->buf)))
		goto out;
	tc_check(c, !memcmp(c->buf.vaddr, want, len), __LINE__, "%s: written data differs", what);
	/* and back into the layout */
	scatter(c, (uint8_t[NVME_PAGE_SIZE]){ 0 }, 0, idx, offset, true, NULL);
	memset(c->buf2.vaddr, 0, c->buf2.size);
	if (!tc_check(c, rw_layout(c, NVME_IO_READ, slba, nlb, idx, npages, offset, list_off) == 0,
		      __LINE__, "%s: read failed", what))
		goto out;
	scatter(c, NULL, len, idx, offset, false, got);
	tc_check(c, !memcmp(got, want, len), __LINE__, "%s: read data differs", what);
out:
	free(want);
	free(got);
}

static void t_prp_offsets(struct tctx *c)
{
	static const uint32_t offsets[] = { 4, 512, 2048, 4092 };
	unsigned int idx[200], i, k;

	if (!tc_up(c, 0))
		return;
	for (i = 0; i < 200; i++)
		idx[i] = (i * 7) % 400;	/* scattered, never repeating within 200 */
	for (k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
		char what[64];

		snprintf(what, sizeof(what), "1 block at offset %u", offsets[k]);
		check_layout(c, what, 3000, 1, idx, 2, offsets[k], 0);
		snprintf(what, sizeof(what), "PRP2 data page, offset %u", offsets[k]);
		check_layout(c, what, 3010, NVME_PAGE_SIZE / c->ns.lba_size, idx, 2, offsets[k], 0);
	}
}

static void t_prp_lists(struct tctx *c)
{
	unsigned int idx[300], i;
	uint32_t lba, per_page, max_nlb;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	per_page = NVME_PAGE_SIZE / lba;
	max_nlb = mdts_bytes(c) / lba;
	for (i = 0; i < 300; i++)
		idx[i] = 511 - i;	/* descending pages: nothing contiguous */
	/* A list of 2 entries; at an offset in its page; with a data offset. */
	check_layout(c, "3-page list", 4000, 3 * per_page, idx, 3, 0, 0);
	check_layout(c, "list at offset 2048", 4100, 5 * per_page, idx, 5, 0, 2048);
	check_layout(c, "list and data offset", 4200, 5 * per_page, idx, 6, 1024, 1000);
	/* Lists that run off their page and chain: at the last slot, the last two. */
	check_layout(c, "chained at once (list at 4088)", 4300, 8 * per_page, idx, 8, 0, 4088);
	check_layout(c, "chained after one entry (list at 4080)", 4400, 8 * per_page, idx, 8, 0,
		     4080);
	check_layout(c, "chained, MDTS transfer", 4500, max_nlb, idx,
		     max_nlb / per_page + 1, 0, 4096 - 8 * 20);
	/* Several chain hops: entries straddle two more page ends. */
	check_layout(c, "two chain hops", 5000, max_nlb, idx, max_nlb / per_page + 1, 512,
		     4096 - 8 * 3);
}

static void t_prp_errors(struct tctx *c)
{
	struct nvme_sqe sqe;
	uint64_t *l = c->list.vaddr;
	uint32_t per_page;

	if (!tc_up(c, 0))
		return;
	per_page = NVME_PAGE_SIZE / c->ns.lba_size;
	/* PRP1 not dword aligned */
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 1);
	sqe.prp1 = c->buf.iova + 2;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_PRP_OFFSET_INVALID);
	/* PRP2 (second data page) with an offset */
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 2 * per_page);
	sqe.prp1 = c->buf.iova;
	sqe.prp2 = c->buf.iova + 4096 + 512;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_PRP_OFFSET_INVALID);
	/* List pointer not qword aligned */
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 3 * per_page);
	sqe.prp1 = c->buf.iova;
	sqe.prp2 = c->list.iova + 4;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_PRP_OFFSET_INVALID);
	/* A list entry with an offset */
	l[0] = c->buf.iova + 4096;
	l[1] = c->buf.iova + 8192 + 8;
	sqe.prp2 = c->list.iova;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_PRP_OFFSET_INVALID);
	/* A chain pointer with an offset */
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 4 * per_page);
	sqe.prp1 = c->buf.iova;
	sqe.prp2 = c->list.iova + 4088;
	l[511] = c->list.iova + 4096 + 16;
	EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_PRP_OFFSET_INVALID);
	/* Data pages that are not mapped: Data Transfer Error, reads and writes */
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 1);
	sqe.prp1 = 0x7000000000ull;
	EXPECT_STATUS(vnvme_exec(c->q, &sqe, NULL), NVME_SC_DATA_XFER_ERROR);
	sqe.opcode = NVME_IO_WRITE;
	sqe.cdw10 = 9000;
	EXPECT_STATUS(vnvme_exec(c->q, &sqe, NULL), NVME_SC_DATA_XFER_ERROR);
	/* A list that is not mapped */
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 3 * per_page);
	sqe.prp1 = c->buf.iova;
	sqe.prp2 = 0x7000000000ull;
	EXPECT_STATUS(vnvme_exec(c->q, &sqe, NULL), NVME_SC_DATA_XFER_ERROR);
	/* A data page at the top of the address space */
	vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 2 * per_page);
	sqe.prp1 = c->buf.iova;
	sqe.prp2 = 0xfffffffffffff000ull;
	EXPECT_NVME_ERROR(vnvme_exec(c->q, &sqe, NULL));
	/* Nothing of the above disturbed the queue. */
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 90));
}

static void sgl_rw(struct tctx *c, uint8_t opcode, uint64_t slba, uint32_t nlb,
		   const struct nvme_sgl_desc *sgl1, int *ret)
{
	struct nvme_sqe sqe;

	vnvme_cmd_rw(&sqe, opcode, c->nsid, slba, nlb);
	vnvme_set_sgl(&sqe, sgl1);
	*ret = vnvme_exec(c->q, &sqe, NULL);
}

static void t_sgl_data_block(struct tctx *c)
{
	struct nvme_sgl_desc d;
	uint32_t lba;
	size_t len;
	uint8_t *want;
	int ret;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	len = 9 * (size_t)lba;
	want = malloc(len);
	if (!want)
		return;
	tc_fill(want, len, 100);
	/* Byte-aligned data block (SGLS bits 1:0 = 01b: no alignment needed). */
	memcpy((uint8_t *)c->buf2.vaddr + 3, want, len);
	vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, c->buf2.iova + 3, (uint32_t)len);
	sgl_rw(c, NVME_IO_WRITE, 6000, 9, &d, &ret);
	EXPECT_OK(ret);
	EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, c->nsid, 6000, 9, &c->buf));
	EXPECT(!memcmp(c->buf.vaddr, want, len), "data written through an SGL data block");
	memset(c->buf2.vaddr, 0, len + 16);
	vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, c->buf2.iova + 5, (uint32_t)len);
	sgl_rw(c, NVME_IO_READ, 6000, 9, &d, &ret);
	EXPECT_OK(ret);
	EXPECT(!memcmp((uint8_t *)c->buf2.vaddr + 5, want, len), "data read through an SGL data block");
	EXPECT(((uint8_t *)c->buf2.vaddr)[4] == 0 && ((uint8_t *)c->buf2.vaddr)[5 + len] == 0,
	       "nothing written outside the block");
	free(want);
}

/* SGL1 -> segment -> last segment, with data blocks of odd sizes and a bit bucket. */
static void t_sgl_segments(struct tctx *c)
{
	struct nvme_sgl_desc d, *seg1 = c->list.vaddr, *seg2 = (void *)((uint8_t *)c->list.vaddr + 1024);
	uint32_t lba;
	size_t len, a, b, bb;
	uint8_t *want, *base = c->buf2.vaddr;
	int ret;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	len = 4 * (size_t)lba;
	want = malloc(len);
	if (!want)
		return;
	tc_fill(want, len, 200);
	/* segment 1: data a bytes, data b bytes, then a Segment descriptor */
	a = 1000;
	b = 37;
	memcpy(base + 100, want, a);
	memcpy(base + 8000, want + a, b);
	memcpy(base + 20001, want + a + b, len - a - b);
	vnvme_sgl_desc(&seg1[0], NVME_SGL_DATA_BLOCK, c->buf2.iova + 100, (uint32_t)a);
	vnvme_sgl_desc(&seg1[1], NVME_SGL_DATA_BLOCK, c->buf2.iova + 8000, (uint32_t)b);
	vnvme_sgl_desc(&seg1[2], NVME_SGL_LAST_SEGMENT, c->list.iova + 1024, 16);
	vnvme_sgl_desc(&seg2[0], NVME_SGL_DATA_BLOCK, c->buf2.iova + 20001, (uint32_t)(len - a - b));
	vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, c->list.iova, 3 * 16);
	sgl_rw(c, NVME_IO_WRITE, 6100, 4, &d, &ret);
	EXPECT_OK(ret);
	EXPECT_OK(tc_rw(c, c->q, NVME_IO_READ, c->nsid, 6100, 4, &c->buf));
	EXPECT(!memcmp(c->buf.vaddr, want, len), "data written through SGL segments");
	/* Read back through SGL1 = Last Segment with a bit bucket in the middle */
	memset(base, 0, 65536);
	bb = 512;
	vnvme_sgl_desc(&seg1[0], NVME_SGL_DATA_BLOCK, c->buf2.iova + 300, (uint32_t)a);
	vnvme_sgl_desc(&seg1[1], NVME_SGL_BIT_BUCKET, 0, (uint32_t)bb);
	vnvme_sgl_desc(&seg1[2], NVME_SGL_DATA_BLOCK, c->buf2.iova + 30000, (uint32_t)(len - a - bb));
	vnvme_sgl_desc(&d, NVME_SGL_LAST_SEGMENT, c->list.iova, 3 * 16);
	sgl_rw(c, NVME_IO_READ, 6100, 4, &d, &ret);
	EXPECT_OK(ret);
	EXPECT(!memcmp(base + 300, want, a), "first block through the SGL");
	EXPECT(!memcmp(base + 30000, want + a + bb, len - a - bb), "after the bit bucket");
	EXPECT(base + 299 && base[299] == 0 && base[300 + a] == 0, "nothing around the blocks");
	/* A three-level chain of one-descriptor segments */
	vnvme_sgl_desc(&seg1[0], NVME_SGL_SEGMENT, c->list.iova + 2048, 16);
	vnvme_sgl_desc((void *)((uint8_t *)c->list.vaddr + 2048), NVME_SGL_LAST_SEGMENT,
		       c->list.iova + 3072, 16);
	vnvme_sgl_desc((void *)((uint8_t *)c->list.vaddr + 3072), NVME_SGL_DATA_BLOCK,
		       c->buf2.iova + 40000, (uint32_t)len);
	vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, c->list.iova, 16);
	memset(base + 40000, 0, len);
	sgl_rw(c, NVME_IO_READ, 6100, 4, &d, &ret);
	EXPECT_OK(ret);
	EXPECT(!memcmp(base + 40000, want, len), "data read through chained segments");
	free(want);
}

static void t_sgl_errors(struct tctx *c)
{
	struct nvme_sgl_desc d, *seg = c->list.vaddr;
	uint32_t lba, len;
	unsigned int t;
	int ret;

	if (!tc_up(c, 0))
		return;
	lba = c->ns.lba_size;
	len = 2 * lba;
	/* Descriptor types that are not for PCIe, and sub types other than address */
	for (t = NVME_SGL_KEYED_DATA; t < 16; t++) {
		d.addr = c->buf2.iova;
		d.len = len;
		memset(d.rsvd, 0, 3);
		d.id = NVME_SGL_ID(t, 0);
		sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
		tc_check(c, ret > 0 && NVME_STATUS_CODE(ret) == 0x011, __LINE__,
			 "SGL type %u: 0x%x, expected SGL Descriptor Type Invalid", t, ret);
	}
	d.id = NVME_SGL_ID(NVME_SGL_DATA_BLOCK, 1);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x011);
	/* Data block shorter and longer than the transfer */
	vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, c->buf2.iova, len - 1);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x00f);
	vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, c->buf2.iova, len + 512);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x00f);
	/* A segment whose last descriptor runs short */
	vnvme_sgl_desc(&seg[0], NVME_SGL_DATA_BLOCK, c->buf2.iova, lba);
	vnvme_sgl_desc(&d, NVME_SGL_LAST_SEGMENT, c->list.iova, 16);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x00f);
	/* A Segment descriptor that is not the last of its segment */
	vnvme_sgl_desc(&seg[0], NVME_SGL_SEGMENT, c->list.iova + 512, 16);
	vnvme_sgl_desc(&seg[1], NVME_SGL_DATA_BLOCK, c->buf2.iova, len);
	vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, c->list.iova, 32);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x00e);
	/* A Segment descriptor inside a Last Segment */
	vnvme_sgl_desc(&seg[0], NVME_SGL_DATA_BLOCK, c->buf2.iova, lba);
	vnvme_sgl_desc(&seg[1], NVME_SGL_SEGMENT, c->list.iova + 512, 16);
	vnvme_sgl_desc(&d, NVME_SGL_LAST_SEGMENT, c->list.iova, 32);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x00d);
	/* Segment length 0, not a multiple of 16; segment address not qword aligned */
	vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, c->list.iova, 0);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x00d);
	vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, c->list.iova, 24);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x00d);
	vnvme_sgl_desc(&d, NVME_SGL_LAST_SEGMENT, c->list.iova + 4, 16);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, 0x00d);
	/* A segment that points at itself: the walk gives up */
	vnvme_sgl_desc(&seg[0], NVME_SGL_SEGMENT, c->list.iova, 16);
	vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, c->list.iova, 16);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_NVME_ERROR(ret);
	/* A segment that is not mapped; a data block that is not mapped */
	vnvme_sgl_desc(&d, NVME_SGL_SEGMENT, 0x7000000000ull, 16);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, NVME_SC_DATA_XFER_ERROR);
	vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, 0x7000000000ull, len);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_STATUS(ret, NVME_SC_DATA_XFER_ERROR);
	/* A data block that wraps the address space */
	vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, ~0ull - 100, len);
	sgl_rw(c, NVME_IO_READ, 0, 2, &d, &ret);
	EXPECT_NVME_ERROR(ret);
	/* PSDT 11b is reserved */
	{
		struct nvme_sqe sqe;

		vnvme_cmd_rw(&sqe, NVME_IO_READ, c->nsid, 0, 2);
		vnvme_sgl_desc(&d, NVME_SGL_DATA_BLOCK, c->buf2.iova, len);
		vnvme_set_sgl(&sqe, &d);
		sqe.flags |= NVME_SQE_PSDT_MASK;
		EXPECT_STATUS_DNR(vnvme_exec(c->q, &sqe, NULL), NVME_SC_INVALID_FIELD);
	}
	EXPECT_OK(tc_verified_io(c, c->q, 0, 8, 91));
}

/* ------------------------------------------------------------------------ */

/* vnvme/zero_copy may change only while no VFIO user has the device open. */
static void t_zero_copy_knob_busy(struct tctx *c)
{
	long before = tc_sysfs_long(c, "vnvme/zero_copy", -1);

	if (!EXPECT(before == 0 || before == 1, "vnvme/zero_copy reads %ld", before))
		return;
	EXPECT_ERRNO(tc_sysfs_write(c, "vnvme/zero_copy", before ? "0" : "1"), EBUSY);
	EXPECT_EQ(tc_sysfs_long(c, "vnvme/zero_copy", -1), before);
}

static const struct tcase cases[] = {
	{ "reg_cap", t_reg_cap },
	{ "reg_vs", t_reg_vs },
	{ "reg_intms_intmc", t_reg_intms_intmc },
	{ "reg_cc_disabled", t_reg_cc_disabled },
	{ "reg_cc_enabled_fields_frozen", t_reg_cc_enabled_fields_frozen },
	{ "reg_csts", t_reg_csts },
	{ "reg_admin_queue_attributes", t_reg_admin_queue_attrs },
	{ "reg_nssr", t_reg_nssr },
	{ "reg_reserved_zero", t_reg_reserved_zero },
	{ "enable_invalid", t_enable_invalid },
	{ "shutdown", t_shutdown },
	{ "disable_drops_queues", t_disable_drops_queues },
	{ "function_reset", t_function_reset },
	{ "identify_controller", t_identify_ctrl },
	{ "identify_namespace", t_identify_ns },
	{ "identify_active_ns_list", t_identify_active_ns_list },
	{ "identify_ns_descriptors", t_identify_ns_desc_list },
	{ "identify_invalid_cns", t_identify_invalid_cns },
	{ "identify_cs_controller_nvm", t_identify_cs_ctrl_nvm },
	{ "features_supported", t_features_supported },
	{ "features_select", t_features_select },
	{ "features_values", t_features_values },
	{ "features_number_of_queues", t_features_num_queues },
	{ "log_error_information", t_log_error },
	{ "log_smart", t_log_smart },
	{ "log_firmware_slot", t_log_fw_slot },
	{ "log_changed_ns_list", t_log_changed_ns },
	{ "log_new_vfio_user", t_log_new_vfio_user },
	{ "log_commands_effects", t_log_effects },
	{ "log_invalid", t_log_invalid },
	{ "create_queue_errors", t_create_queue_errors },
	{ "delete_queue_errors", t_delete_queue_errors },
	{ "phase_tag_wrap", t_phase_tag_wrap },
	{ "sq_head_reporting", t_sq_head_reporting },
	{ "cid_echo", t_cid_echo },
	{ "sq_full", t_sq_full },
	{ "cq_full", t_cq_full },
	{ "shadow_doorbells", t_shadow_doorbells },
	{ "irq_vectors_and_polled_cq", t_irq_vectors_and_polled_cq },
	{ "irq_coalescing", t_irq_coalescing },
	{ "features_irq_config_all_vectors", t_features_irq_config_all_vectors },
	{ "aer_invalid_doorbell", t_aer_invalid_doorbell },
	{ "aer_ns_attach", t_aer_ns_attach },
	{ "aer_limit", t_aer_limit },
	{ "aer_queued_event", t_aer_queued_event },
	{ "abort", t_abort },
	{ "keep_alive", t_keep_alive },
	{ "admin_invalid_opcode", t_admin_invalid_opcode },
	{ "io_read_write", t_io_read_write },
	{ "io_fua_and_flush", t_io_fua_and_flush },
	{ "io_write_zeroes", t_io_write_zeroes },
	{ "io_dataset_management", t_io_dsm },
	{ "io_compare", t_io_compare },
	{ "io_verify", t_io_verify },
	{ "io_size_limits", t_io_size_limits },
	{ "io_lba_range", t_io_lba_range },
	{ "io_mdts", t_io_mdts },
	{ "io_invalid_namespace", t_io_invalid_ns },
	{ "io_invalid_opcode", t_io_invalid_opcode },
	{ "io_read_only_namespace", t_io_read_only_ns },
	{ "io_4k_namespace", t_io_4k_namespace },
	{ "prp_offsets", t_prp_offsets },
	{ "prp_lists", t_prp_lists },
	{ "prp_errors", t_prp_errors },
	{ "sgl_data_block", t_sgl_data_block },
	{ "sgl_segments", t_sgl_segments },
	{ "sgl_errors", t_sgl_errors },
	{ "zero_copy_knob_busy", t_zero_copy_knob_busy },
};

int main(int argc, char **argv)
{
	return tcase_main(argc, argv, "conformance",
			  "  --set attach_ns=N  namespace slot with device_path set, not enabled\n"
			  "  --set ro_nsid=N    an active read-only namespace\n"
			  "  --set nsid_4k=N    an active namespace with 4096-byte blocks\n"
			  "  --set large_uuid=U a second instance with more than 32 vectors\n",
			  cases, sizeof(cases) / sizeof(cases[0]));
}
