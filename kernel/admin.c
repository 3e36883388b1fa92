// SPDX-License-Identifier: GPL-2.0
/*
 * admin.c - the admin command set: Identify, Get/Set Features, Get Log
 * Page, queue management, Abort, Asynchronous Event Request, Keep Alive.
 *
 * Admin commands run one at a time in the admin SQ's worker.  They return an
 * NVMe status; where the specification names a status for an error, that is
 * the one returned, with DNR when retrying cannot help.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/ktime.h>

#include "vnvme.h"

#define VNVME_IDENTIFY_SIZE	4096
#define VNVME_NSID_ALL		0xffffffff
#define VNVME_TEMP_KELVIN	313	/* reported composite temperature */
#define VNVME_WCTEMP		343
#define VNVME_CCTEMP		363
#define VNVME_CNS_CS_CTRL	0x06
#define VNVME_CSI_NVM		0x00

#define DNR(sc)			((sc) | VNVME_SC_DNR)

static u32 vnvme_cdw(const struct vnvme_req *req, unsigned int n)
{
	const __le32 *cdw = &req->cmd.cdw10;

	return le32_to_cpu(cdw[n - 10]);
}

static void vnvme_put_le16(u8 *p, u16 v)
{
	put_unaligned_le16(v, p);
}

static void vnvme_put_le32(u8 *p, u32 v)
{
	put_unaligned_le32(v, p);
}

static void vnvme_put_le64(u8 *p, u64 v)
{
	put_unaligned_le64(v, p);
}

/* Space-padded ASCII as Identify wants it. */
static void vnvme_put_str(u8 *p, const char *s, size_t len)
{
	memset(p, ' ', len);
	memcpy(p, s, min(strlen(s), len));
}

/* Returns data to the guest: map its buffer, copy, completion copies out. */
static u16 vnvme_admin_reply(struct vnvme_req *req, const void *buf, u32 len)
{
	u16 status = vnvme_req_map_data(req, len, true);

	if (status)
		return status;
	vnvme_req_fill(req, buf, len);
	return VNVME_SC_SUCCESS;
}

/* ---- Identify ----------------------------------------------------------- */

static u16 vnvme_oncs(struct vnvme_ctrl *ctrl)
{
	u16 oncs = BIT(0) | BIT(3) | BIT(6) | BIT(7);	/* Compare, WZ, TS, Verify */
	struct vnvme_backing *b;
	u32 nsid;

	/* DSM when any namespace can discard; elsewhere deallocate is a no-op. */
	for (nsid = 1; nsid <= VNVME_MAX_NS; nsid++) {
		b = vnvme_ns_get(ctrl, nsid);
		if (!b)
			continue;
		if (b->can_discard)
			oncs |= BIT(2);
		vnvme_ns_put(b);
	}
	return oncs;
}

static void vnvme_identify_ctrl(struct vnvme_ctrl *ctrl, u8 *id)
{
	char nqn[96];

	vnvme_put_le16(id + 0, vnvme_vendor_id);
	vnvme_put_le16(id + 2, vnvme_subsys_vendor_id);
	vnvme_put_str(id + 4, ctrl->serial, 20);
	vnvme_put_str(id + 24, ctrl->model, 40);
	vnvme_put_str(id + 64, ctrl->firmware, 8);
	id[72] = 6;				/* RAB */
	id[77] = ctrl->mdts;			/* MDTS */
	vnvme_put_le16(id + 78, ctrl->cntlid);
	vnvme_put_le32(id + 80, 0x00010400);	/* VER 1.4 */
	vnvme_put_le32(id + 92, BIT(8));	/* OAES: NS attribute notices */
	id[111] = 1;				/* CNTRLTYPE: I/O controller */
	memcpy(id + 112, ctrl->mdev->uuid.b, 16);	/* FGUID */
	/* OACS: Doorbell Buffer Config */
	vnvme_put_le16(id + 256, vnvme_shadow_doorbells ? BIT(8) : 0);
	id[258] = VNVME_ACL;
	id[259] = VNVME_AERL;
	id[260] = BIT(0) | 1 << 1;		/* FRMW: slot 1 read-only, 1 slot */
	id[261] = BIT(1) | BIT(2);		/* LPA: effects log, extended data */
	id[262] = VNVME_ERR_LOG_ENTRIES - 1;	/* ELPE */
	id[263] = 0;				/* NPSS: one power state */
	vnvme_put_le16(id + 266, VNVME_WCTEMP);
	vnvme_put_le16(id + 268, VNVME_CCTEMP);
	id[512] = VNVME_SQES << 4 | VNVME_SQES;
	id[513] = VNVME_CQES << 4 | VNVME_CQES;
	vnvme_put_le32(id + 516, VNVME_MAX_NS);	/* NN */
	vnvme_put_le16(id + 520, vnvme_oncs(ctrl));
	id[525] = 0x7;				/* VWC present, flush all NSIDs */
	/* SGLS: supported (no alignment), bit bucket descriptors. */
	vnvme_put_le32(id + 536, BIT(0) | BIT(16));
	snprintf(nqn, sizeof(nqn), "nqn.2014-08.org.nvmexpress:uuid:%pUl",
		 &ctrl->mdev->uuid);
	memcpy(id + 768, nqn, strlen(nqn));
	/* PSD0: 9 W maximum, entry/exit latency not reported. */
	vnvme_put_le16(id + 2048, 900);
}

static void vnvme_identify_ns(struct vnvme_ctrl *ctrl, u32 nsid, u8 *id)
{
	struct vnvme_backing *b = vnvme_ns_get(ctrl, nsid);
	struct vnvme_ns *ns = &ctrl->ns[nsid - 1];

	if (!b)
		return;	/* inactive: all zeroes */
	vnvme_put_le64(id + 0, b->nr_lbas);	/* NSZE */
	vnvme_put_le64(id + 8, b->nr_lbas);	/* NCAP */
	vnvme_put_le64(id + 16, b->nr_lbas);	/* NUSE */
	id[24] = b->can_discard ? BIT(0) : 0;	/* NSFEAT: thin provisioning */
	id[25] = 0;				/* NLBAF: one format */
	id[26] = 0;				/* FLBAS */
	id[99] = b->readonly ? BIT(0) : 0;	/* NSATTR: write protected */
	memcpy(id + 104, ns->nguid, 16);
	memcpy(id + 120, ns->eui64, 8);
	id[128 + 2] = b->lba_shift;		/* LBAF0.LBADS */
	vnvme_ns_put(b);
}

/*
 * I/O Command Set specific Identify Controller, NVM Command Set (NVM Command
 * Set 1.0, figure 97): the limits of the commands that have no data transfer
 * for MDTS to bound.  VSL and WZSL are powers of two of the minimum page size
 * like MDTS; DMRSL and DMSL are logical blocks.  DMRL stays 0: the 256 ranges
 * a command can carry need no further limit.
 */
static void vnvme_identify_ctrl_nvm(struct vnvme_ctrl *ctrl, u8 *id)
{
	id[0] = ctrl->mdts;			/* VSL */
	id[1] = ctrl->mdts;			/* WZSL */
	id[2] = 0;				/* WUSL: no Write Uncorrectable */
	id[3] = 0;				/* DMRL */
	vnvme_put_le32(id + 4, VNVME_DMRSL);	/* DMRSL */
	vnvme_put_le64(id + 8, VNVME_DMSL);	/* DMSL */
}

static u32 vnvme_identify_active_list(struct vnvme_ctrl *ctrl, u32 after,
				      u8 *id)
{
	u32 nsid, n = 0;

	for (nsid = after + 1; nsid <= VNVME_MAX_NS && after < VNVME_MAX_NS;
	     nsid++)
		if (vnvme_ns_active(ctrl, nsid))
			vnvme_put_le32(id + 4 * n++, nsid);
	return n;
}

static void vnvme_identify_ns_descs(struct vnvme_ctrl *ctrl, u32 nsid, u8 *id)
{
	struct vnvme_ns *ns = &ctrl->ns[nsid - 1];
	u8 *p = id;

	p[0] = 1;		/* NIDT: IEEE EUI-64 */
	p[1] = 8;
	memcpy(p + 4, ns->eui64, 8);
	p += 4 + 8;
	p[0] = 2;		/* NIDT: NGUID */
	p[1] = 16;
	memcpy(p + 4, ns->nguid, 16);
}

static u16 vnvme_admin_identify(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u32 nsid = le32_to_cpu(req->cmd.nsid);
	u8 cns = vnvme_cdw(req, 10) & 0xff;
	u16 status = VNVME_SC_SUCCESS;
	u8 *id;

	id = kzalloc(VNVME_IDENTIFY_SIZE, GFP_KERNEL);
	if (!id)
		return VNVME_SC_INTERNAL;

	switch (cns) {
	case 0x00:	/* Namespace */
		if (nsid == 0 || nsid > VNVME_MAX_NS)
			status = DNR(VNVME_SC_INVALID_NS);
		else
			vnvme_identify_ns(ctrl, nsid, id);
		break;
	case 0x01:	/* Controller */
		vnvme_identify_ctrl(ctrl, id);
		break;
	case 0x02:	/* Active Namespace ID list */
		if (nsid >= 0xfffffffe)
			status = DNR(VNVME_SC_INVALID_NS);
		else
			vnvme_identify_active_list(ctrl, nsid, id);
		break;
	case 0x03:	/* Namespace Identification Descriptor list */
		if (!vnvme_ns_active(ctrl, nsid))
			status = DNR(VNVME_SC_INVALID_NS);
		else
			vnvme_identify_ns_descs(ctrl, nsid, id);
		break;
	case VNVME_CNS_CS_CTRL:	/* I/O Command Set specific Controller */
		if (vnvme_cdw(req, 11) >> 24 != VNVME_CSI_NVM)
			status = DNR(VNVME_SC_INVALID_FIELD);
		else
			vnvme_identify_ctrl_nvm(ctrl, id);
		break;
	default:
		status = DNR(VNVME_SC_INVALID_FIELD);
	}
	if (!status)
		status = vnvme_admin_reply(req, id, VNVME_IDENTIFY_SIZE);
	kfree(id);
	return status;
}

/* ---- Features ----------------------------------------------------------- */

#define VNVME_FEAT_CAP_SAVEABLE		BIT(0)
#define VNVME_FEAT_CAP_NS_SPECIFIC	BIT(1)
#define VNVME_FEAT_CAP_CHANGEABLE	BIT(2)

static void vnvme_features_default(struct vnvme_ctrl *ctrl)
{
	struct vnvme_features *f = &ctrl->feat;

	memset(f, 0, sizeof(*f));
	f->temp_over = VNVME_WCTEMP;
	f->vwc = true;
}

static u64 vnvme_timestamp_now(struct vnvme_ctrl *ctrl)
{
	struct vnvme_features *f = &ctrl->feat;
	u64 elapsed_ms = div_u64(ktime_get_ns() - f->timestamp_set_ns,
				 NSEC_PER_MSEC);

	return (f->timestamp_ms + elapsed_ms) & GENMASK_ULL(47, 0);
}

static bool vnvme_feature_known(u8 fid)
{
	switch (fid) {
	case VNVME_FEAT_ARBITRATION:
	case VNVME_FEAT_POWER_MGMT:
	case VNVME_FEAT_TEMP_THRESH:
	case VNVME_FEAT_ERR_RECOVERY:
	case VNVME_FEAT_VOLATILE_WC:
	case VNVME_FEAT_NUM_QUEUES:
	case VNVME_FEAT_IRQ_COALESCE:
	case VNVME_FEAT_IRQ_CONFIG:
	case VNVME_FEAT_WRITE_ATOMIC:
	case VNVME_FEAT_ASYNC_EVENT:
	case VNVME_FEAT_TIMESTAMP:
		return true;
	}
	return false;
}

/* Reads feature fid from f (current or default values) into *dw0. */
static u16 vnvme_feature_value(struct vnvme_ctrl *ctrl,
			       const struct vnvme_features *f,
			       struct vnvme_req *req, u8 fid, u32 *dw0)
{
	u32 dw11 = vnvme_cdw(req, 11);
	u16 n = ctrl->type->nr_io_queues - 1;

	switch (fid) {
	case VNVME_FEAT_ARBITRATION:
		*dw0 = f->arbitration;
		break;
	case VNVME_FEAT_POWER_MGMT:
		*dw0 = f->power_mgmt;
		break;
	case VNVME_FEAT_TEMP_THRESH: {
		u8 tmpsel = (dw11 >> 16) & 0xf;
		u8 thsel = (dw11 >> 20) & 0x3;

		if (tmpsel != 0 || thsel > 1)
			return DNR(VNVME_SC_INVALID_FIELD);
		*dw0 = thsel ? f->temp_under : f->temp_over;
		break;
	}
	case VNVME_FEAT_ERR_RECOVERY:
		*dw0 = f->err_recovery;
		break;
	case VNVME_FEAT_VOLATILE_WC:
		*dw0 = f->vwc;
		break;
	case VNVME_FEAT_NUM_QUEUES:
		if (f->nr_sqs_granted)
			*dw0 = (f->nr_cqs_granted - 1) << 16 | (f->nr_sqs_granted - 1);
		else
			*dw0 = n << 16 | n;
		break;
	case VNVME_FEAT_IRQ_COALESCE:
		*dw0 = f->irq_coalesce;
		break;
	case VNVME_FEAT_IRQ_CONFIG: {
		u16 iv = dw11 & 0xffff;

		if (iv >= ctrl->nr_vectors)
			return DNR(VNVME_SC_INVALID_FIELD);
		*dw0 = iv | (test_bit(iv, f->irq_config_cd) ? BIT(16) : 0);
		break;
	}
	case VNVME_FEAT_WRITE_ATOMIC:
		*dw0 = f->write_atomic;
		break;
	case VNVME_FEAT_ASYNC_EVENT:
		*dw0 = f->async_event;
		break;
	default:
		return DNR(VNVME_SC_INVALID_FIELD);
	}
	return VNVME_SC_SUCCESS;
}

static u16 vnvme_admin_get_features(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u32 dw10 = vnvme_cdw(req, 10);
	u8 fid = dw10 & 0xff;
	u8 sel = (dw10 >> 8) & 0x7;
	struct vnvme_features defaults;
	u8 ts[8] = {};

	if (!vnvme_feature_known(fid))
		return DNR(VNVME_SC_INVALID_FIELD);

	switch (sel) {
	case 0:		/* current */
		break;
	case 1:		/* default */
	case 2:		/* saved: nothing is saveable, so the default */
		if (fid == VNVME_FEAT_TIMESTAMP)
			break;
		memset(&defaults, 0, sizeof(defaults));
		defaults.temp_over = VNVME_WCTEMP;
		defaults.vwc = true;
		return vnvme_feature_value(ctrl, &defaults, req, fid, &req->dw0);
	case 3:		/* supported capabilities */
		req->dw0 = VNVME_FEAT_CAP_CHANGEABLE;
		return VNVME_SC_SUCCESS;
	default:
		return DNR(VNVME_SC_INVALID_FIELD);
	}

	if (fid == VNVME_FEAT_TIMESTAMP) {
		vnvme_put_le64(ts, vnvme_timestamp_now(ctrl));
		/* Attributes: origin 1 = set by the host, else 0 = since reset. */
		ts[6] = ctrl->feat.timestamp_set ? 1 << 1 : 0;
		return vnvme_admin_reply(req, ts, sizeof(ts));
	}
	return vnvme_feature_value(ctrl, &ctrl->feat, req, fid, &req->dw0);
}

static u16 vnvme_set_num_queues(struct vnvme_ctrl *ctrl, u32 dw11, u32 *dw0)
{
	struct vnvme_features *f = &ctrl->feat;
	u16 nsqr = dw11 & 0xffff, ncqr = dw11 >> 16;
	u16 max = ctrl->type->nr_io_queues;

	if (nsqr == 0xffff || ncqr == 0xffff)
		return DNR(VNVME_SC_INVALID_FIELD);
	/* The allocation does not change until the next reset. */
	if (!f->nr_sqs_granted) {
		f->nr_sqs_granted = min_t(u16, nsqr + 1, max);
		f->nr_cqs_granted = min_t(u16, ncqr + 1, max);
	}
	*dw0 = (f->nr_cqs_granted - 1) << 16 | (f->nr_sqs_granted - 1);
	return VNVME_SC_SUCCESS;
}

static u16 vnvme_admin_set_features(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	struct vnvme_features *f = &ctrl->feat;
	u32 dw10 = vnvme_cdw(req, 10), dw11 = vnvme_cdw(req, 11);
	u8 fid = dw10 & 0xff;
	__le64 ts;
	u16 status;

	if (!vnvme_feature_known(fid))
		return DNR(VNVME_SC_INVALID_FIELD);
	if (dw10 & BIT(31))	/* SV */
		return DNR(VNVME_SC_FEATURE_NOT_SAVEABLE);

	switch (fid) {
	case VNVME_FEAT_ARBITRATION:
		f->arbitration = dw11 & 0xffffff07;
		break;
	case VNVME_FEAT_POWER_MGMT:
		if (dw11 & 0x1f)	/* only power state 0 exists */
			return DNR(VNVME_SC_INVALID_FIELD);
		f->power_mgmt = dw11 & 0xff;
		break;
	case VNVME_FEAT_TEMP_THRESH: {
		u8 tmpsel = (dw11 >> 16) & 0xf;
		u8 thsel = (dw11 >> 20) & 0x3;

		if ((tmpsel != 0 && tmpsel != 0xf) || thsel > 1)
			return DNR(VNVME_SC_INVALID_FIELD);
		if (thsel)
			f->temp_under = dw11 & 0xffff;
		else
			f->temp_over = dw11 & 0xffff;
		break;
	}
	case VNVME_FEAT_ERR_RECOVERY:
		if (dw11 & BIT(16))	/* DULBE needs deallocated-block errors */
			return DNR(VNVME_SC_INVALID_FIELD);
		f->err_recovery = dw11 & 0xffff;
		break;
	case VNVME_FEAT_VOLATILE_WC:
		WRITE_ONCE(f->vwc, dw11 & BIT(0));
		break;
	case VNVME_FEAT_NUM_QUEUES:
		return vnvme_set_num_queues(ctrl, dw11, &req->dw0);
	case VNVME_FEAT_IRQ_COALESCE:
		WRITE_ONCE(f->irq_coalesce, dw11 & 0xffff);
		break;
	case VNVME_FEAT_IRQ_CONFIG: {
		u16 iv = dw11 & 0xffff;

		if (iv >= ctrl->nr_vectors)
			return DNR(VNVME_SC_INVALID_FIELD);
		/* Atomic bit operations: vnvme_cq_irq() reads them any time. */
		if (dw11 & BIT(16))
			set_bit(iv, f->irq_config_cd);
		else
			clear_bit(iv, f->irq_config_cd);
		break;
	}
	case VNVME_FEAT_WRITE_ATOMIC:
		f->write_atomic = dw11 & BIT(0);
		break;
	case VNVME_FEAT_ASYNC_EVENT:
		WRITE_ONCE(f->async_event, dw11 & (0xff | VNVME_AEC_NS_ATTR));
		break;
	case VNVME_FEAT_TIMESTAMP:
		status = vnvme_req_map_data(req, sizeof(ts), false);
		if (!status)
			status = vnvme_req_copy_data(req, false);
		if (status)
			return status;
		vnvme_req_extract(req, &ts, sizeof(ts));
		f->timestamp_ms = le64_to_cpu(ts) & GENMASK_ULL(47, 0);
		f->timestamp_set_ns = ktime_get_ns();
		f->timestamp_set = true;
		/* Nothing goes back to the guest. */
		vnvme_req_free_data(req);
		req->to_guest = false;
		break;
	}
	return VNVME_SC_SUCCESS;
}

/* ---- Log pages ---------------------------------------------------------- */

static void vnvme_put_le128(u8 *p, u64 v)
{
	vnvme_put_le64(p, v);
	vnvme_put_le64(p + 8, 0);
}

static void vnvme_aen_unmask(struct vnvme_ctrl *ctrl, u8 type)
{
	unsigned long flags;

	spin_lock_irqsave(&ctrl->aer_lock, flags);
	ctrl->aer_masked &= ~BIT(type);
	spin_unlock_irqrestore(&ctrl->aer_lock, flags);
}

static size_t vnvme_log_error(struct vnvme_ctrl *ctrl, u8 *buf)
{
	unsigned int i, n = VNVME_ERR_LOG_ENTRIES;

	spin_lock(&ctrl->log_lock);
	/* Newest first. */
	for (i = 0; i < n; i++) {
		unsigned int idx = (ctrl->err_log_next + n - 1 - i) % n;

		memcpy(buf + i * sizeof(struct vnvme_error_entry),
		       &ctrl->err_log[idx], sizeof(struct vnvme_error_entry));
	}
	spin_unlock(&ctrl->log_lock);
	return n * sizeof(struct vnvme_error_entry);
}

static size_t vnvme_log_smart(struct vnvme_ctrl *ctrl, u8 *buf)
{
	struct vnvme_smart *s = &ctrl->smart;
	u64 busy_min = div64_u64(atomic64_read(&s->busy_ns), 60ULL * NSEC_PER_SEC);

	buf[0] = 0;				/* critical warning */
	vnvme_put_le16(buf + 1, VNVME_TEMP_KELVIN);
	buf[3] = 100;				/* available spare */
	buf[4] = 10;				/* spare threshold */
	buf[5] = 0;				/* percentage used */
	/* Data units are thousands of 512-byte units, rounded up. */
	vnvme_put_le128(buf + 32, DIV_ROUND_UP_ULL(atomic64_read(&s->bytes_read), 512000));
	vnvme_put_le128(buf + 48, DIV_ROUND_UP_ULL(atomic64_read(&s->bytes_written), 512000));
	vnvme_put_le128(buf + 64, atomic64_read(&s->read_cmds));
	vnvme_put_le128(buf + 80, atomic64_read(&s->write_cmds));
	vnvme_put_le128(buf + 96, busy_min);
	vnvme_put_le128(buf + 112, s->power_cycles);
	vnvme_put_le128(buf + 128, div_u64(ktime_get_boottime_seconds(), 3600));
	vnvme_put_le128(buf + 144, s->unsafe_shutdowns);
	vnvme_put_le128(buf + 160, atomic64_read(&s->media_errors));
	vnvme_put_le128(buf + 176, atomic64_read(&s->err_log_count));
	return 512;
}

static size_t vnvme_log_fw_slot(struct vnvme_ctrl *ctrl, u8 *buf)
{
	buf[0] = 1;				/* AFI: slot 1 active */
	vnvme_put_str(buf + 8, ctrl->firmware, 8);
	return 512;
}

static size_t vnvme_log_changed_ns(struct vnvme_ctrl *ctrl, u8 *buf,
				   bool clear)
{
	unsigned int i;

	spin_lock(&ctrl->log_lock);
	if (ctrl->changed_ns_overflow)
		vnvme_put_le32(buf, 0xffffffff);
	else
		for (i = 0; i < ctrl->nr_changed_ns; i++)
			vnvme_put_le32(buf + 4 * i, ctrl->changed_ns[i]);
	if (clear) {
		ctrl->nr_changed_ns = 0;
		ctrl->changed_ns_overflow = false;
	}
	spin_unlock(&ctrl->log_lock);
	return 4096;
}

static size_t vnvme_log_effects(u8 *buf)
{
	static const u8 admin[] = {
		VNVME_ADM_DELETE_SQ, VNVME_ADM_CREATE_SQ, VNVME_ADM_GET_LOG_PAGE,
		VNVME_ADM_DELETE_CQ, VNVME_ADM_CREATE_CQ, VNVME_ADM_IDENTIFY,
		VNVME_ADM_ABORT, VNVME_ADM_SET_FEATURES, VNVME_ADM_GET_FEATURES,
		VNVME_ADM_ASYNC_EVENT, VNVME_ADM_KEEP_ALIVE,
	};
	static const u8 io_reads[] = {
		VNVME_IO_FLUSH, VNVME_IO_READ, VNVME_IO_COMPARE, VNVME_IO_VERIFY,
	};
	static const u8 io_writes[] = {
		VNVME_IO_WRITE, VNVME_IO_WRITE_ZEROES, VNVME_IO_DSM,
	};
	const u32 csupp = BIT(0), lbcc = BIT(1);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(admin); i++)
		vnvme_put_le32(buf + 4 * admin[i], csupp);
	if (vnvme_shadow_doorbells)
		vnvme_put_le32(buf + 4 * VNVME_ADM_DBBUF_CONFIG, csupp);
	for (i = 0; i < ARRAY_SIZE(io_reads); i++)
		vnvme_put_le32(buf + 1024 + 4 * io_reads[i], csupp);
	for (i = 0; i < ARRAY_SIZE(io_writes); i++)
		vnvme_put_le32(buf + 1024 + 4 * io_writes[i], csupp | lbcc);
	return 4096;
}

static u16 vnvme_admin_get_log_page(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u32 dw10 = vnvme_cdw(req, 10), dw11 = vnvme_cdw(req, 11);
	u32 nsid = le32_to_cpu(req->cmd.nsid);
	u8 lid = dw10 & 0xff;
	bool rae = dw10 & BIT(15);
	u64 numd = ((u64)(dw11 & 0xffff) << 16 | dw10 >> 16) + 1;
	u64 lpo = (u64)vnvme_cdw(req, 13) << 32 | vnvme_cdw(req, 12);
	u64 len = numd * 4;
	size_t size;
	u16 status;
	u8 *buf;

	if (len > (PAGE_SIZE << ctrl->mdts) || (lpo & 3))
		return DNR(VNVME_SC_INVALID_FIELD);

	buf = kzalloc(4096, GFP_KERNEL);
	if (!buf)
		return VNVME_SC_INTERNAL;

	switch (lid) {
	case VNVME_LOG_ERROR:
		size = vnvme_log_error(ctrl, buf);
		if (!rae)
			vnvme_aen_unmask(ctrl, VNVME_AER_TYPE_ERROR);
		break;
	case VNVME_LOG_SMART:
		/* LPA bit 0 is clear: no per-namespace SMART data. */
		if (nsid != 0 && nsid != VNVME_NSID_ALL) {
			status = DNR(VNVME_SC_INVALID_FIELD);
			goto out;
		}
		size = vnvme_log_smart(ctrl, buf);
		if (!rae)
			vnvme_aen_unmask(ctrl, VNVME_AER_TYPE_SMART);
		break;
	case VNVME_LOG_FW_SLOT:
		size = vnvme_log_fw_slot(ctrl, buf);
		break;
	case VNVME_LOG_CHANGED_NS:
		size = vnvme_log_changed_ns(ctrl, buf, !rae);
		if (!rae)
			vnvme_aen_unmask(ctrl, VNVME_AER_TYPE_NOTICE);
		break;
	case VNVME_LOG_CMD_EFFECTS:
		size = vnvme_log_effects(buf);
		break;
	default:
		status = DNR(VNVME_SC_INVALID_LOG_PAGE);
		goto out;
	}
	if (lpo >= size) {
		status = DNR(VNVME_SC_INVALID_FIELD);
		goto out;
	}
	status = vnvme_req_map_data(req, len, true);
	if (!status)
		vnvme_req_fill(req, buf + lpo, min_t(u64, len, size - lpo));
out:
	kfree(buf);
	return status;
}

/* ---- Queue management --------------------------------------------------- */

static bool vnvme_io_qid_valid(struct vnvme_ctrl *ctrl, u16 qid, bool is_cq)
{
	const struct vnvme_features *f = &ctrl->feat;
	u16 max = ctrl->type->nr_io_queues;

	/* Without Number of Queues (SeaBIOS) the whole budget is allowed. */
	if (f->nr_sqs_granted)
		max = is_cq ? f->nr_cqs_granted : f->nr_sqs_granted;
	return qid >= 1 && qid <= max;
}

static u16 vnvme_admin_create_cq(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u32 dw10 = vnvme_cdw(req, 10), dw11 = vnvme_cdw(req, 11);
	u16 qid = dw10 & 0xffff, qsize = dw10 >> 16;
	bool pc = dw11 & BIT(0), ien = dw11 & BIT(1);
	u16 iv = dw11 >> 16;
	u64 base = le64_to_cpu(req->cmd.dptr.prp1);
	u16 status = VNVME_SC_SUCCESS;

	if (!vnvme_io_qid_valid(ctrl, qid, true))
		return DNR(VNVME_SC_QID_INVALID);
	if (qsize == 0 || qsize > VNVME_MQES)
		return DNR(VNVME_SC_QUEUE_SIZE);
	if (!pc || VNVME_CC_IOCQES(READ_ONCE(ctrl->cc)) != VNVME_CQES)
		return DNR(VNVME_SC_INVALID_FIELD);
	if (ien && iv >= ctrl->nr_vectors)
		return DNR(VNVME_SC_INVALID_VECTOR);
	if (base & ~PAGE_MASK)
		return DNR(VNVME_SC_INVALID_PRP_OFFSET);

	mutex_lock(&ctrl->queue_lock);
	if (rcu_access_pointer(ctrl->cqs[qid]))
		status = DNR(VNVME_SC_QID_INVALID);
	mutex_unlock(&ctrl->queue_lock);
	if (status)
		return status;
	/* Only this worker creates queues, so the slot stays free. */
	if (vnvme_cq_create(ctrl, qid, base, qsize + 1, iv, ien))
		return DNR(VNVME_SC_INVALID_FIELD);
	return VNVME_SC_SUCCESS;
}

static u16 vnvme_admin_create_sq(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u32 dw10 = vnvme_cdw(req, 10), dw11 = vnvme_cdw(req, 11);
	u16 qid = dw10 & 0xffff, qsize = dw10 >> 16;
	u16 cqid = dw11 >> 16;
	bool pc = dw11 & BIT(0);
	u64 base = le64_to_cpu(req->cmd.dptr.prp1);
	u16 status = VNVME_SC_SUCCESS;
	int ret;

	if (!vnvme_io_qid_valid(ctrl, qid, false))
		return DNR(VNVME_SC_QID_INVALID);
	if (qsize == 0 || qsize > VNVME_MQES)
		return DNR(VNVME_SC_QUEUE_SIZE);
	if (!pc || VNVME_CC_IOSQES(READ_ONCE(ctrl->cc)) != VNVME_SQES)
		return DNR(VNVME_SC_INVALID_FIELD);
	if (cqid == 0 || cqid >= VNVME_MAX_QUEUES)
		return DNR(VNVME_SC_CQ_INVALID);
	if (base & ~PAGE_MASK)
		return DNR(VNVME_SC_INVALID_PRP_OFFSET);

	mutex_lock(&ctrl->queue_lock);
	if (rcu_access_pointer(ctrl->sqs[qid]))
		status = DNR(VNVME_SC_QID_INVALID);
	else if (!rcu_access_pointer(ctrl->cqs[cqid]))
		status = DNR(VNVME_SC_CQ_INVALID);
	mutex_unlock(&ctrl->queue_lock);
	if (status)
		return status;
	ret = vnvme_sq_create(ctrl, qid, base, qsize + 1, cqid);
	if (ret == -ENOENT)
		return DNR(VNVME_SC_CQ_INVALID);
	return ret ? DNR(VNVME_SC_INVALID_FIELD) : VNVME_SC_SUCCESS;
}

static u16 vnvme_admin_delete_sq(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u16 qid = vnvme_cdw(req, 10) & 0xffff;
	u16 status = VNVME_SC_SUCCESS;

	if (qid == 0 || qid >= VNVME_MAX_QUEUES)
		return DNR(VNVME_SC_QID_INVALID);
	mutex_lock(&ctrl->queue_lock);
	if (!rcu_access_pointer(ctrl->sqs[qid]))
		status = DNR(VNVME_SC_QID_INVALID);
	else
		vnvme_sq_delete(ctrl, qid);
	mutex_unlock(&ctrl->queue_lock);
	return status;
}

static u16 vnvme_admin_delete_cq(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	u16 qid = vnvme_cdw(req, 10) & 0xffff;
	u16 status = VNVME_SC_SUCCESS;
	struct vnvme_cq *cq;

	if (qid == 0 || qid >= VNVME_MAX_QUEUES)
		return DNR(VNVME_SC_QID_INVALID);
	mutex_lock(&ctrl->queue_lock);
	cq = vnvme_cq_locked(ctrl, qid);
	if (!cq)
		status = DNR(VNVME_SC_QID_INVALID);
	else if (cq->nr_sqs)
		status = DNR(VNVME_SC_INVALID_QUEUE_DELETE);
	else
		vnvme_cq_delete(ctrl, qid);
	mutex_unlock(&ctrl->queue_lock);
	return status;
}

static u16 vnvme_admin_dbbuf_config(struct vnvme_req *req)
{
	if (!vnvme_shadow_doorbells)
		return DNR(VNVME_SC_INVALID_OPCODE);
	/* PRP1 and PRP2 are plain page addresses here, never SGLs. */
	if (VNVME_SQE_PSDT(req->cmd.flags))
		return DNR(VNVME_SC_INVALID_FIELD);
	return vnvme_dbbuf_config(req->sq->ctrl,
				  le64_to_cpu(req->cmd.dptr.prp1),
				  le64_to_cpu(req->cmd.dptr.prp2));
}

/* ---- Abort and asynchronous events -------------------------------------- */

static u16 vnvme_admin_abort(struct vnvme_req *req)
{
	u32 dw10 = vnvme_cdw(req, 10);

	/* DW0 bit 0 clear: aborted; set: not aborted. */
	req->dw0 = vnvme_sq_mark_abort(req->sq->ctrl, dw10 & 0xffff,
				       dw10 >> 16) ? 0 : 1;
	return VNVME_SC_SUCCESS;
}

/* Completes req with a queued event if there is one; else holds it. */
static bool vnvme_aer_hold(struct vnvme_req *req)
{
	struct vnvme_ctrl *ctrl = req->sq->ctrl;
	unsigned long flags;
	bool held = true;

	spin_lock_irqsave(&ctrl->aer_lock, flags);
	if (ctrl->nr_aer_pending) {
		req->dw0 = ctrl->aer_pending[0];
		memmove(ctrl->aer_pending, ctrl->aer_pending + 1,
			--ctrl->nr_aer_pending * sizeof(ctrl->aer_pending[0]));
		held = false;
	} else if (ctrl->nr_aer > VNVME_AERL) {
		req->status = VNVME_SC_AER_LIMIT;
		held = false;
	} else {
		ctrl->aer_reqs[ctrl->nr_aer++] = req;
	}
	spin_unlock_irqrestore(&ctrl->aer_lock, flags);
	return held;
}

/*
 * Reports an event.  After it is reported, events of the same type stay
 * masked until the host reads the log page that clears them.
 */
void vnvme_aen_post(struct vnvme_ctrl *ctrl, u8 type, u8 info, u8 log_page)
{
	u32 dw0 = type | info << 8 | log_page << 16;
	struct vnvme_req *req = NULL;
	unsigned long flags;

	if (type == VNVME_AER_TYPE_NOTICE &&
	    !(READ_ONCE(ctrl->feat.async_event) & VNVME_AEC_NS_ATTR))
		return;

	spin_lock_irqsave(&ctrl->aer_lock, flags);
	if (ctrl->aer_masked & BIT(type)) {
		spin_unlock_irqrestore(&ctrl->aer_lock, flags);
		return;
	}
	ctrl->aer_masked |= BIT(type);
	/* Frozen for migration: the event waits, a held AER migrates. */
	if (ctrl->nr_aer && !READ_ONCE(ctrl->mig.frozen))
		req = ctrl->aer_reqs[--ctrl->nr_aer];
	else if (ctrl->nr_aer_pending < ARRAY_SIZE(ctrl->aer_pending))
		ctrl->aer_pending[ctrl->nr_aer_pending++] = dw0;
	spin_unlock_irqrestore(&ctrl->aer_lock, flags);

	if (req) {
		req->dw0 = dw0;
		vnvme_req_complete(req);
	}
}

/*
 * Events queued while migration froze the controller, for AERs it held:
 * once it runs again, each held AER takes one, as a new AER would.
 */
void vnvme_aer_deliver_pending(struct vnvme_ctrl *ctrl)
{
	struct vnvme_req *req;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&ctrl->aer_lock, flags);
		if (!ctrl->nr_aer || !ctrl->nr_aer_pending) {
			spin_unlock_irqrestore(&ctrl->aer_lock, flags);
			return;
		}
		req = ctrl->aer_reqs[--ctrl->nr_aer];
		req->dw0 = ctrl->aer_pending[0];
		memmove(ctrl->aer_pending, ctrl->aer_pending + 1,
			--ctrl->nr_aer_pending * sizeof(ctrl->aer_pending[0]));
		spin_unlock_irqrestore(&ctrl->aer_lock, flags);
		vnvme_req_complete(req);
	}
}

/* Back to power-on admin state; held AERs end without being posted. */
void vnvme_admin_reset(struct vnvme_ctrl *ctrl)
{
	struct vnvme_req *held[VNVME_AERL + 1];
	unsigned int i, n;
	unsigned long flags;

	spin_lock_irqsave(&ctrl->aer_lock, flags);
	n = ctrl->nr_aer;
	memcpy(held, ctrl->aer_reqs, n * sizeof(held[0]));
	ctrl->nr_aer = 0;
	ctrl->nr_aer_pending = 0;
	ctrl->aer_masked = 0;
	spin_unlock_irqrestore(&ctrl->aer_lock, flags);

	for (i = 0; i < n; i++) {
		held[i]->status = VNVME_SC_ABORT_SQ_DELETED;
		vnvme_req_complete(held[i]);
	}
	vnvme_features_default(ctrl);
}

/*
 * A new VFIO user (the next VM) on this controller: the Error Information
 * entries (LBAs, NSIDs, CIDs of the previous VM's commands) and the Changed
 * Namespace List (changes the previous one had not read, and any made while
 * nobody had the device open) were the previous tenant's and go.  The SMART
 * counters, the error count among them, are the controller's lifetime, as
 * on a drive that moves to another host; so Error Count values stay unique.
 * Register, queue, feature and event state was reset at the last close.
 */
void vnvme_admin_new_user(struct vnvme_ctrl *ctrl)
{
	spin_lock(&ctrl->log_lock);
	memset(ctrl->err_log, 0, sizeof(ctrl->err_log));
	ctrl->err_log_next = 0;
	memset(ctrl->changed_ns, 0, sizeof(ctrl->changed_ns));
	ctrl->nr_changed_ns = 0;
	ctrl->changed_ns_overflow = false;
	spin_unlock(&ctrl->log_lock);
}

void vnvme_error_log_add(struct vnvme_ctrl *ctrl, struct vnvme_req *req)
{
	struct vnvme_error_entry *e;
	u64 count = atomic64_inc_return(&ctrl->smart.err_log_count);

	spin_lock(&ctrl->log_lock);
	e = &ctrl->err_log[ctrl->err_log_next];
	ctrl->err_log_next = (ctrl->err_log_next + 1) % VNVME_ERR_LOG_ENTRIES;
	memset(e, 0, sizeof(*e));
	e->error_count = cpu_to_le64(count);
	e->sqid = cpu_to_le16(req->sq->qid);
	e->cid = req->cmd.cid;
	e->status = cpu_to_le16(req->status << 1);
	e->param_loc = cpu_to_le16(0xffff);
	e->lba = cpu_to_le64(req->slba);
	e->nsid = req->cmd.nsid;
	spin_unlock(&ctrl->log_lock);
}

/* ---- Dispatch ----------------------------------------------------------- */

void vnvme_admin_exec(struct vnvme_req *req)
{
	u16 status;

	if (VNVME_SQE_FUSE(req->cmd.flags)) {
		status = DNR(VNVME_SC_INVALID_FIELD);
		goto done;
	}

	switch (req->cmd.opcode) {
	case VNVME_ADM_IDENTIFY:
		status = vnvme_admin_identify(req);
		break;
	case VNVME_ADM_GET_FEATURES:
		status = vnvme_admin_get_features(req);
		break;
	case VNVME_ADM_SET_FEATURES:
		status = vnvme_admin_set_features(req);
		break;
	case VNVME_ADM_GET_LOG_PAGE:
		status = vnvme_admin_get_log_page(req);
		break;
	case VNVME_ADM_CREATE_CQ:
		status = vnvme_admin_create_cq(req);
		break;
	case VNVME_ADM_CREATE_SQ:
		status = vnvme_admin_create_sq(req);
		break;
	case VNVME_ADM_DELETE_SQ:
		status = vnvme_admin_delete_sq(req);
		break;
	case VNVME_ADM_DELETE_CQ:
		status = vnvme_admin_delete_cq(req);
		break;
	case VNVME_ADM_ABORT:
		status = vnvme_admin_abort(req);
		break;
	case VNVME_ADM_ASYNC_EVENT:
		if (vnvme_aer_hold(req))
			return;
		status = req->status;
		break;
	case VNVME_ADM_KEEP_ALIVE:
		status = VNVME_SC_SUCCESS;
		break;
	case VNVME_ADM_DBBUF_CONFIG:
		status = vnvme_admin_dbbuf_config(req);
		break;
	default:
		status = DNR(VNVME_SC_INVALID_OPCODE);
	}
done:
	req->status = status;
	vnvme_req_complete(req);
}
