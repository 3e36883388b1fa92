// SPDX-License-Identifier: GPL-2.0
/*
 * migration_stream.c - the migration stream: a snapshot of a quiesced
 * controller written as stream v1, and a stream read back and validated
 * into a struct vnvme_mig_image without touching the device.
 *
 * The stream comes from the VFIO user, who may be hostile: every length,
 * every field and every cross-reference is checked here, so that applying
 * an image (migration.c) only has to follow it.  Each refusal logs one
 * warning naming what was wrong and returns one errno
 * (Documentation/migration.md, "Errors").
 */
#include <linux/crc32c.h>
#include <linux/pci_regs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "vnvme.h"
#include "migration.h"

#define VNVME_MIG_ABI	1

static u32 vnvme_mig_crc(const void *buf, size_t len)
{
	return ~crc32c(~0U, buf, len);
}

/* ---- Writing ------------------------------------------------------------ */

struct vnvme_mig_writer {
	u8	*buf;
	size_t	pos;
	u32	nr_sections;
};

/* Appends a section header; returns its zeroed body of len bytes. */
static void *vnvme_mig_put(struct vnvme_mig_writer *w, u16 type, u32 len)
{
	struct vnvme_mig_section *sec = (void *)(w->buf + w->pos);

	sec->type = cpu_to_le16(type);
	sec->flags = 0;
	sec->length = cpu_to_le32(len);
	w->pos += sizeof(*sec) + ALIGN(len, 8);
	w->nr_sections++;
	return sec + 1;
}

/* An OPTIONAL section of one u32. */
static void vnvme_mig_put_optional_u32(struct vnvme_mig_writer *w, u16 type,
				       u32 val)
{
	__le32 *body = vnvme_mig_put(w, type, sizeof(*body));
	struct vnvme_mig_section *sec = (void *)body - sizeof(*sec);

	sec->flags = cpu_to_le16(VNVME_MIG_SECTION_OPTIONAL);
	*body = cpu_to_le32(val);
}

static void vnvme_mig_put_host(struct vnvme_mig_writer *w,
			       struct vnvme_ctrl *ctrl)
{
	vnvme_mig_put_optional_u32(w, VNVME_MIG_DOORBELL_MODE,
				   READ_ONCE(ctrl->dbpage.mapped_mode));
	vnvme_mig_put_optional_u32(w, VNVME_MIG_ZERO_COPY,
				   READ_ONCE(ctrl->zero_copy));
}

static void vnvme_mig_put_ident(struct vnvme_mig_writer *w,
				struct vnvme_ctrl *ctrl)
{
	struct vnvme_mig_ident *id = vnvme_mig_put(w, VNVME_MIG_IDENT,
						   sizeof(*id));

	mutex_lock(&ctrl->open_lock);
	memcpy_and_pad(id->serial, sizeof(id->serial), ctrl->serial,
		       strlen(ctrl->serial), ' ');
	memcpy_and_pad(id->model, sizeof(id->model), ctrl->model,
		       strlen(ctrl->model), ' ');
	memcpy_and_pad(id->firmware, sizeof(id->firmware), ctrl->firmware,
		       strlen(ctrl->firmware), ' ');
	id->mdts = ctrl->mdts;
	id->cntlid = cpu_to_le16(ctrl->cntlid);
	mutex_unlock(&ctrl->open_lock);
}

static void vnvme_mig_put_pci(struct vnvme_mig_writer *w,
			      struct vnvme_ctrl *ctrl)
{
	struct vnvme_mig_pci *pci = vnvme_mig_put(w, VNVME_MIG_PCI,
						  sizeof(*pci));
	__le16 v;

	vnvme_pci_config_rw(ctrl, PCI_COMMAND, &v, 2, false);
	pci->command = v;
	vnvme_pci_config_rw(ctrl, VNVME_CAP_MSIX + PCI_MSIX_FLAGS, &v, 2,
			    false);
	pci->msix_flags = v;
}

/* Registers, doorbells and shadow doorbells; the caller holds ctrl->lock. */
static void vnvme_mig_put_regs(struct vnvme_mig_writer *w,
			       struct vnvme_ctrl *ctrl)
{
	struct vnvme_mig_regs *regs;
	struct vnvme_mig_doorbells *db;
	struct vnvme_mig_dbbuf *dbbuf;
	__le32 *values;
	unsigned int i;

	regs = vnvme_mig_put(w, VNVME_MIG_REGS, sizeof(*regs));
	regs->cap = cpu_to_le64(ctrl->cap);
	regs->cc = cpu_to_le32(ctrl->cc);
	regs->csts = cpu_to_le32(READ_ONCE(ctrl->csts));
	regs->aqa = cpu_to_le32(ctrl->aqa);
	regs->intms = cpu_to_le32(ctrl->intms);
	regs->asq = cpu_to_le64(ctrl->asq);
	regs->acq = cpu_to_le64(ctrl->acq);

	db = vnvme_mig_put(w, VNVME_MIG_DOORBELLS,
			   sizeof(*db) + sizeof(ctrl->db));
	db->count = cpu_to_le16(ARRAY_SIZE(ctrl->db));
	values = (__le32 *)(db + 1);
	for (i = 0; i < ARRAY_SIZE(ctrl->db); i++)
		values[i] = cpu_to_le32(READ_ONCE(ctrl->db[i]));

	mutex_lock(&ctrl->dbbuf.lock);
	if (ctrl->dbbuf.enabled) {
		dbbuf = vnvme_mig_put(w, VNVME_MIG_DBBUF, sizeof(*dbbuf));
		dbbuf->enabled = 1;
		dbbuf->shadow_iova = cpu_to_le64(ctrl->dbbuf.shadow.iova);
		dbbuf->eventidx_iova = cpu_to_le64(ctrl->dbbuf.eventidx.iova);
	}
	mutex_unlock(&ctrl->dbbuf.lock);
}

static void vnvme_mig_put_features(struct vnvme_mig_writer *w,
				   struct vnvme_ctrl *ctrl)
{
	struct vnvme_features *f = &ctrl->feat;
	struct vnvme_mig_features *mf;
	u64 cd = 0, ts = f->timestamp_ms;
	unsigned int v;

	mf = vnvme_mig_put(w, VNVME_MIG_FEATURES, sizeof(*mf));
	for (v = 0; v < ctrl->nr_vectors; v++)
		if (test_bit(v, f->irq_config_cd))
			cd |= BIT_ULL(v);
	if (f->timestamp_set)
		ts += div_u64(ktime_get_ns() - f->timestamp_set_ns, NSEC_PER_MSEC);
	mf->arbitration = cpu_to_le32(f->arbitration);
	mf->power_mgmt = cpu_to_le32(f->power_mgmt);
	mf->temp_over = cpu_to_le16(f->temp_over);
	mf->temp_under = cpu_to_le16(f->temp_under);
	mf->err_recovery = cpu_to_le32(f->err_recovery);
	mf->vwc = f->vwc;
	mf->timestamp_set = f->timestamp_set;
	mf->nr_sqs_granted = cpu_to_le16(f->nr_sqs_granted);
	mf->nr_cqs_granted = cpu_to_le16(f->nr_cqs_granted);
	mf->irq_coalesce = cpu_to_le32(READ_ONCE(f->irq_coalesce));
	mf->write_atomic = cpu_to_le32(f->write_atomic);
	mf->async_event = cpu_to_le32(READ_ONCE(f->async_event));
	mf->irq_config_cd = cpu_to_le64(cd);
	mf->timestamp_ms = cpu_to_le64(ts & GENMASK_ULL(47, 0));
}

/* Queues in qid order, CQs first; the caller holds queue_lock. */
static void vnvme_mig_put_queues(struct vnvme_mig_writer *w,
				 struct vnvme_ctrl *ctrl)
{
	struct vnvme_mig_cq *mcq;
	struct vnvme_mig_sq *msq;
	struct vnvme_sq *sq;
	struct vnvme_cq *cq;
	int qid;

	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		cq = vnvme_cq_locked(ctrl, qid);
		if (!cq)
			continue;
		mcq = vnvme_mig_put(w, VNVME_MIG_CQ, sizeof(*mcq));
		mcq->qid = cpu_to_le16(qid);
		mcq->size = cpu_to_le16(cq->size);
		mcq->vector = cpu_to_le16(cq->vector);
		mcq->flags = cpu_to_le16(cq->irq_enabled ? VNVME_MIG_CQ_IEN : 0);
		mcq->iova = cpu_to_le64(cq->ring.iova);
		mutex_lock(&cq->ring.lock);
		mcq->tail = cpu_to_le16(cq->tail);
		mcq->phase = cq->phase;
		mutex_unlock(&cq->ring.lock);
		mcq->coalesced = cpu_to_le16((u16)atomic_read(&cq->coalesced));
	}
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		sq = vnvme_sq_locked(ctrl, qid);
		if (!sq)
			continue;
		msq = vnvme_mig_put(w, VNVME_MIG_SQ, sizeof(*msq));
		msq->qid = cpu_to_le16(qid);
		msq->size = cpu_to_le16(sq->size);
		msq->cqid = cpu_to_le16(sq->cq->qid);
		msq->head = cpu_to_le16(READ_ONCE(sq->head));
		msq->iova = cpu_to_le64(sq->ring.iova);
	}
}

static void vnvme_mig_put_events(struct vnvme_mig_writer *w,
				 struct vnvme_ctrl *ctrl)
{
	struct vnvme_mig_changed_ns *cns;
	struct vnvme_mig_error_log *log;
	struct vnvme_mig_smart *smart;
	struct vnvme_mig_aer *aer;
	unsigned long flags;
	unsigned int i;

	aer = vnvme_mig_put(w, VNVME_MIG_AER, sizeof(*aer));
	spin_lock_irqsave(&ctrl->aer_lock, flags);
	aer->masked = ctrl->aer_masked;
	aer->nr_held = ctrl->nr_aer;
	aer->nr_pending = ctrl->nr_aer_pending;
	for (i = 0; i < ctrl->nr_aer; i++)
		aer->held_cid[i] = ctrl->aer_reqs[i]->cmd.cid;
	for (i = 0; i < ctrl->nr_aer_pending; i++)
		aer->pending_dw0[i] = cpu_to_le32(ctrl->aer_pending[i]);
	spin_unlock_irqrestore(&ctrl->aer_lock, flags);

	log = vnvme_mig_put(w, VNVME_MIG_ERROR_LOG,
			    sizeof(*log) + sizeof(ctrl->err_log));
	cns = vnvme_mig_put(w, VNVME_MIG_CHANGED_NS, sizeof(*cns));
	spin_lock_irqsave(&ctrl->log_lock, flags);
	log->next = cpu_to_le16(ctrl->err_log_next);
	log->count = cpu_to_le64(atomic64_read(&ctrl->smart.err_log_count));
	memcpy(log + 1, ctrl->err_log, sizeof(ctrl->err_log));
	cns->nr = cpu_to_le16(ctrl->nr_changed_ns);
	cns->overflow = ctrl->changed_ns_overflow;
	for (i = 0; i < ctrl->nr_changed_ns; i++)
		cns->nsid[i] = cpu_to_le32(ctrl->changed_ns[i]);
	spin_unlock_irqrestore(&ctrl->log_lock, flags);

	smart = vnvme_mig_put(w, VNVME_MIG_SMART, sizeof(*smart));
	smart->bytes_read = cpu_to_le64(atomic64_read(&ctrl->smart.bytes_read));
	smart->bytes_written =
		cpu_to_le64(atomic64_read(&ctrl->smart.bytes_written));
	smart->read_cmds = cpu_to_le64(atomic64_read(&ctrl->smart.read_cmds));
	smart->write_cmds = cpu_to_le64(atomic64_read(&ctrl->smart.write_cmds));
	smart->busy_ns = cpu_to_le64(atomic64_read(&ctrl->smart.busy_ns));
	smart->media_errors =
		cpu_to_le64(atomic64_read(&ctrl->smart.media_errors));
	smart->err_log_count =
		cpu_to_le64(atomic64_read(&ctrl->smart.err_log_count));
	smart->unsafe_shutdowns = cpu_to_le64(ctrl->smart.unsafe_shutdowns);
}

static void vnvme_mig_put_namespaces(struct vnvme_mig_writer *w,
				     struct vnvme_ctrl *ctrl)
{
	struct vnvme_mig_namespace *mns;
	struct vnvme_backing *b;
	u32 nsid;

	mutex_lock(&ctrl->ns_lock);
	for (nsid = 1; nsid <= VNVME_MAX_NS; nsid++) {
		b = vnvme_ns_get(ctrl, nsid);
		if (!b)
			continue;
		mns = vnvme_mig_put(w, VNVME_MIG_NAMESPACE, sizeof(*mns));
		mns->nsid = cpu_to_le32(nsid);
		mns->flags = cpu_to_le32(b->readonly ? VNVME_MIG_NS_READONLY : 0);
		mns->nr_lbas = cpu_to_le64(b->nr_lbas);
		mns->lba_shift = b->lba_shift;
		memcpy(mns->nguid, ctrl->ns[nsid - 1].nguid, sizeof(mns->nguid));
		memcpy(mns->eui64, ctrl->ns[nsid - 1].eui64, sizeof(mns->eui64));
		vnvme_ns_put(b);
	}
	mutex_unlock(&ctrl->ns_lock);
}

/*
 * The state of a quiesced controller (RUNNING_P2P or later: nothing moves)
 * as a stream.  Returns 0 with a kvmalloc()ed *stream, or -ENOMEM.
 */
int vnvme_mig_snapshot(struct vnvme_ctrl *ctrl, u8 **stream, size_t *len)
{
	struct vnvme_mig_writer w = { .pos = sizeof(struct vnvme_mig_header) };
	struct vnvme_mig_header *hdr;

	w.buf = kvzalloc(VNVME_MIG_SAVE_MAX, GFP_KERNEL_ACCOUNT);
	if (!w.buf)
		return -ENOMEM;

	vnvme_mig_put_ident(&w, ctrl);
	vnvme_mig_put_pci(&w, ctrl);
	mutex_lock(&ctrl->lock);
	vnvme_mig_put_regs(&w, ctrl);
	vnvme_mig_put_features(&w, ctrl);
	mutex_lock(&ctrl->queue_lock);
	vnvme_mig_put_queues(&w, ctrl);
	mutex_unlock(&ctrl->queue_lock);
	vnvme_mig_put_events(&w, ctrl);
	mutex_unlock(&ctrl->lock);
	vnvme_mig_put_namespaces(&w, ctrl);
	vnvme_mig_put_host(&w, ctrl);
	vnvme_mig_put(&w, VNVME_MIG_END, 0);

	hdr = (void *)w.buf;
	memcpy(hdr->magic, VNVME_MIG_MAGIC, sizeof(hdr->magic));
	hdr->version_major = cpu_to_le16(VNVME_MIG_VERSION_MAJOR);
	hdr->version_minor = cpu_to_le16(VNVME_MIG_VERSION_MINOR);
	hdr->header_size = cpu_to_le32(sizeof(*hdr));
	hdr->payload_len = cpu_to_le32(w.pos - sizeof(*hdr));
	hdr->payload_crc = cpu_to_le32(vnvme_mig_crc(hdr + 1,
						     w.pos - sizeof(*hdr)));
	hdr->nr_io_queues = cpu_to_le16(ctrl->type->nr_io_queues);
	hdr->nr_vectors = cpu_to_le16(ctrl->nr_vectors);
	hdr->max_ns = cpu_to_le16(VNVME_MAX_NS);
	hdr->page_shift = cpu_to_le16(PAGE_SHIFT);
	hdr->nr_sections = cpu_to_le32(w.nr_sections);
	hdr->module_abi = cpu_to_le32(VNVME_MIG_ABI);
	hdr->header_crc = cpu_to_le32(vnvme_mig_crc(hdr, sizeof(*hdr)));
	*stream = w.buf;
	*len = w.pos;
	return 0;
}

/* ---- Reading ------------------------------------------------------------ */

#define vnvme_mig_refuse(ctrl, err, fmt, ...)				\
	({								\
		dev_warn_ratelimited(vnvme_dev(ctrl),			\
				     "migration stream refused: " fmt "\n", \
				     ##__VA_ARGS__);			\
		(err);							\
	})

/*
 * Checks the 64-byte header as soon as it is in; *total is then the
 * length of the whole stream.
 */
int vnvme_mig_check_header(struct vnvme_ctrl *ctrl,
			   const struct vnvme_mig_header *hdr, size_t *total)
{
	struct vnvme_mig_header copy = *hdr;
	u32 payload_len = le32_to_cpu(hdr->payload_len);
	u16 major = le16_to_cpu(hdr->version_major);

	if (memcmp(hdr->magic, VNVME_MIG_MAGIC, sizeof(hdr->magic)))
		return vnvme_mig_refuse(ctrl, -EINVAL, "not a vnvme stream");
	copy.header_crc = 0;
	if (vnvme_mig_crc(&copy, sizeof(copy)) != le32_to_cpu(hdr->header_crc))
		return vnvme_mig_refuse(ctrl, -EBADMSG, "header CRC mismatch");
	if (major > VNVME_MIG_VERSION_MAJOR ||
	    (le32_to_cpu(hdr->flags) & VNVME_MIG_FLAGS_REQUIRED))
		return vnvme_mig_refuse(ctrl, -EPROTONOSUPPORT,
					"version %u.%u flags %#x: newer than this module reads",
					major, le16_to_cpu(hdr->version_minor),
					le32_to_cpu(hdr->flags));
	if (!major || le32_to_cpu(hdr->header_size) != sizeof(*hdr) ||
	    memchr_inv(hdr->reserved, 0, sizeof(hdr->reserved)))
		return vnvme_mig_refuse(ctrl, -EBADMSG, "malformed header");
	if (payload_len > VNVME_MIG_MAX_STREAM - sizeof(*hdr))
		return vnvme_mig_refuse(ctrl, -EFBIG, "payload of %u bytes",
					payload_len);
	if (payload_len % 8)
		return vnvme_mig_refuse(ctrl, -EBADMSG, "payload length %u",
					payload_len);
	if (le16_to_cpu(hdr->nr_io_queues) != ctrl->type->nr_io_queues ||
	    le16_to_cpu(hdr->nr_vectors) != ctrl->nr_vectors ||
	    le16_to_cpu(hdr->max_ns) != VNVME_MAX_NS ||
	    le16_to_cpu(hdr->page_shift) != PAGE_SHIFT)
		return vnvme_mig_refuse(ctrl, -EXDEV,
					"from another controller type (%u I/O queues, %u vectors)",
					le16_to_cpu(hdr->nr_io_queues),
					le16_to_cpu(hdr->nr_vectors));
	*total = sizeof(*hdr) + payload_len;
	return 0;
}

static bool vnvme_mig_printable(const u8 *s, size_t len)
{
	while (len--)
		if (s[len] < 0x20 || s[len] > 0x7e)
			return false;
	return true;
}

/* Where each known section goes; fixed sections must have their size. */
static int vnvme_mig_take(struct vnvme_ctrl *ctrl, struct vnvme_mig_image *img,
			  u16 type, u16 flags, const void *body, u32 len)
{
	const void **slot = NULL;
	size_t want = 0;
	u16 id;

	switch (type) {
	case VNVME_MIG_IDENT:
		slot = (const void **)&img->ident;
		want = sizeof(*img->ident);
		break;
	case VNVME_MIG_PCI:
		slot = (const void **)&img->pci;
		want = sizeof(*img->pci);
		break;
	case VNVME_MIG_REGS:
		slot = (const void **)&img->regs;
		want = sizeof(*img->regs);
		break;
	case VNVME_MIG_DOORBELLS:
		slot = (const void **)&img->db;
		want = sizeof(*img->db) + 8 * VNVME_MAX_QUEUES;
		img->db_values = (const __le32 *)((const u8 *)body +
						  sizeof(*img->db));
		break;
	case VNVME_MIG_FEATURES:
		slot = (const void **)&img->feat;
		want = sizeof(*img->feat);
		break;
	case VNVME_MIG_DBBUF:
		slot = (const void **)&img->dbbuf;
		want = sizeof(*img->dbbuf);
		break;
	case VNVME_MIG_AER:
		slot = (const void **)&img->aer;
		want = sizeof(*img->aer);
		break;
	case VNVME_MIG_ERROR_LOG:
		slot = (const void **)&img->err_log;
		want = sizeof(*img->err_log) + sizeof(ctrl->err_log);
		img->err_entries = (const void *)((const u8 *)body +
						  sizeof(*img->err_log));
		break;
	case VNVME_MIG_CHANGED_NS:
		slot = (const void **)&img->changed_ns;
		want = sizeof(*img->changed_ns);
		break;
	case VNVME_MIG_SMART:
		slot = (const void **)&img->smart;
		want = sizeof(*img->smart);
		break;
	case VNVME_MIG_CQ:
	case VNVME_MIG_SQ:
		want = type == VNVME_MIG_CQ ? sizeof(struct vnvme_mig_cq) :
					      sizeof(struct vnvme_mig_sq);
		if (len != want)
			break;
		/* qid is the first field of both. */
		id = get_unaligned_le16(body);
		if (id > ctrl->type->nr_io_queues)
			return vnvme_mig_refuse(ctrl, -EINVAL, "queue %u", id);
		slot = type == VNVME_MIG_CQ ? (const void **)&img->cq[id] :
					      (const void **)&img->sq[id];
		break;
	case VNVME_MIG_NAMESPACE:
		want = sizeof(struct vnvme_mig_namespace);
		if (len != want)
			break;
		id = get_unaligned_le32(body);
		if (id < 1 || id > VNVME_MAX_NS)
			return vnvme_mig_refuse(ctrl, -EINVAL, "NSID %u", id);
		slot = (const void **)&img->ns[id - 1];
		break;
	case VNVME_MIG_END:
		slot = NULL;
		want = 0;
		if (len)
			break;
		img->end = true;
		return 0;
	default:
		if (flags & VNVME_MIG_SECTION_OPTIONAL)
			return 0;
		return vnvme_mig_refuse(ctrl, -EPROTONOSUPPORT,
					"unknown section %#x", type);
	}
	if (len != want)
		return vnvme_mig_refuse(ctrl, -EBADMSG,
					"section %#x of %u bytes", type, len);
	if (*slot)
		return vnvme_mig_refuse(ctrl, -EBADMSG,
					"section %#x twice", type);
	*slot = body;
	return 0;
}

static int vnvme_mig_split(struct vnvme_ctrl *ctrl, const u8 *p, size_t len,
			   u32 nr_sections, struct vnvme_mig_image *img)
{
	const struct vnvme_mig_section *sec;
	size_t pos = 0, body;
	u32 n = 0;
	int ret;

	while (pos < len) {
		if (img->end || len - pos < sizeof(*sec))
			return vnvme_mig_refuse(ctrl, -EBADMSG,
						"bytes after the end at %zu", pos);
		sec = (const void *)(p + pos);
		body = le32_to_cpu(sec->length);
		if (le16_to_cpu(sec->flags) & ~VNVME_MIG_SECTION_OPTIONAL)
			return vnvme_mig_refuse(ctrl, -EBADMSG,
						"section flags %#x",
						le16_to_cpu(sec->flags));
		if (body > len - pos - sizeof(*sec) ||
		    ALIGN(body, 8) > len - pos - sizeof(*sec))
			return vnvme_mig_refuse(ctrl, -EBADMSG,
						"section %#x runs past the end",
						le16_to_cpu(sec->type));
		if (memchr_inv(p + pos + sizeof(*sec) + body, 0,
			       ALIGN(body, 8) - body))
			return vnvme_mig_refuse(ctrl, -EBADMSG, "padding");
		ret = vnvme_mig_take(ctrl, img, le16_to_cpu(sec->type),
				     le16_to_cpu(sec->flags), sec + 1, body);
		if (ret)
			return ret;
		pos += sizeof(*sec) + ALIGN(body, 8);
		n++;
	}
	if (!img->end || n != nr_sections)
		return vnvme_mig_refuse(ctrl, -EBADMSG, "%u sections, %u announced",
					n, nr_sections);
	if (!img->ident || !img->pci || !img->regs || !img->db || !img->feat ||
	    !img->aer || !img->err_log || !img->changed_ns || !img->smart)
		return vnvme_mig_refuse(ctrl, -EBADMSG, "a section is missing");
	return 0;
}

static int vnvme_mig_check_ident(struct vnvme_ctrl *ctrl,
				 const struct vnvme_mig_ident *id)
{
	u16 cntlid = le16_to_cpu(id->cntlid);

	if (!vnvme_mig_printable(id->serial, sizeof(id->serial)) ||
	    !vnvme_mig_printable(id->model, sizeof(id->model)) ||
	    !vnvme_mig_printable(id->firmware, sizeof(id->firmware)) ||
	    id->mdts < VNVME_MDTS_MIN || id->mdts > VNVME_MDTS_MAX ||
	    cntlid < 1 || cntlid > 0xffef ||
	    id->reserved)
		return vnvme_mig_refuse(ctrl, -EINVAL, "identity");
	return 0;
}

#define VNVME_MIG_CSTS_KNOWN	(VNVME_CSTS_RDY | VNVME_CSTS_CFS | \
				 VNVME_CSTS_SHST_MASK)
#define VNVME_MIG_AQA_MASK	(GENMASK(27, 16) | GENMASK(11, 0))

static int vnvme_mig_check_regs(struct vnvme_ctrl *ctrl,
				const struct vnvme_mig_image *img)
{
	const struct vnvme_mig_regs *r = img->regs;
	u32 cc = le32_to_cpu(r->cc), csts = le32_to_cpu(r->csts);
	u64 asq = le64_to_cpu(r->asq), acq = le64_to_cpu(r->acq);

	if (le64_to_cpu(r->cap) != ctrl->cap)
		return vnvme_mig_refuse(ctrl, -EXDEV, "CAP %#llx",
					le64_to_cpu(r->cap));
	if ((cc & ~VNVME_CC_WRITABLE) || (csts & ~VNVME_MIG_CSTS_KNOWN) ||
	    ((csts & VNVME_CSTS_RDY) && !(cc & VNVME_CC_EN)) ||
	    (le32_to_cpu(r->aqa) & ~VNVME_MIG_AQA_MASK) ||
	    ((asq | acq) & (VNVME_PAGE_SIZE - 1)) ||
	    ((csts & VNVME_CSTS_RDY) && (!asq || !acq)) ||
	    r->fatal_pending > 1 || memchr_inv(r->reserved, 0,
					       sizeof(r->reserved)))
		return vnvme_mig_refuse(ctrl, -EINVAL,
					"registers CC %#x CSTS %#x", cc, csts);
	if (le16_to_cpu(img->db->count) != 2 * VNVME_MAX_QUEUES ||
	    memchr_inv(img->db->reserved, 0, sizeof(img->db->reserved)))
		return vnvme_mig_refuse(ctrl, -EINVAL, "doorbell count");
	return 0;
}

static int vnvme_mig_check_features(struct vnvme_ctrl *ctrl,
				    const struct vnvme_mig_features *f)
{
	u16 nr = ctrl->type->nr_io_queues;

	if (le16_to_cpu(f->nr_sqs_granted) >= nr ||
	    le16_to_cpu(f->nr_cqs_granted) >= nr ||
	    (le64_to_cpu(f->irq_config_cd) & ~GENMASK_ULL(ctrl->nr_vectors - 1, 0)) ||
	    (le64_to_cpu(f->timestamp_ms) & ~GENMASK_ULL(47, 0)) ||
	    f->vwc > 1 || f->timestamp_set > 1 || f->reserved || f->reserved2)
		return vnvme_mig_refuse(ctrl, -EINVAL, "features");
	return 0;
}

/* Queues match the registers and each other; doorbells fit their queues. */
static int vnvme_mig_check_queues(struct vnvme_ctrl *ctrl,
				  const struct vnvme_mig_image *img)
{
	u32 csts = le32_to_cpu(img->regs->csts);
	u32 aqa = le32_to_cpu(img->regs->aqa);
	bool live = (csts & VNVME_CSTS_RDY) && !(csts & VNVME_CSTS_CFS);
	unsigned int qid;

	if (live != (img->cq[0] && img->sq[0]))
		return vnvme_mig_refuse(ctrl, -EINVAL,
					"admin queues and CSTS %#x disagree", csts);
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		const struct vnvme_mig_cq *cq = img->cq[qid];
		const struct vnvme_mig_sq *sq = img->sq[qid];
		u32 sq_db = le32_to_cpu(img->db_values[2 * qid]);
		u32 cq_db = le32_to_cpu(img->db_values[2 * qid + 1]);

		if (cq) {
			u16 size = le16_to_cpu(cq->size);
			u16 flags = le16_to_cpu(cq->flags);
			u64 iova = le64_to_cpu(cq->iova);

			if (!live || size < 2 || size > VNVME_MQES + 1 ||
			    (flags & ~VNVME_MIG_CQ_IEN) || !iova ||
			    (iova & (VNVME_PAGE_SIZE - 1)) ||
			    iova + (u64)size * sizeof(struct vnvme_cqe) < iova ||
			    ((flags & VNVME_MIG_CQ_IEN) &&
			     le16_to_cpu(cq->vector) >= ctrl->nr_vectors) ||
			    le16_to_cpu(cq->tail) >= size || cq->phase > 1 ||
			    le16_to_cpu(cq->coalesced) > size ||
			    cq->reserved || cq->reserved2 || cq_db >= size ||
			    (!qid && (iova != le64_to_cpu(img->regs->acq) ||
				      size != ((aqa >> 16) & 0xfff) + 1 ||
				      !(flags & VNVME_MIG_CQ_IEN) ||
				      cq->vector)))
				return vnvme_mig_refuse(ctrl, -EINVAL, "CQ %u", qid);
		} else if (cq_db) {
			return vnvme_mig_refuse(ctrl, -EINVAL,
						"doorbell of absent CQ %u", qid);
		}
		if (sq) {
			u16 size = le16_to_cpu(sq->size);
			u16 cqid = le16_to_cpu(sq->cqid);
			u64 iova = le64_to_cpu(sq->iova);

			if (!live || size < 2 || size > VNVME_MQES + 1 ||
			    cqid >= VNVME_MAX_QUEUES || !img->cq[cqid] ||
			    (!qid != !cqid) || !iova ||
			    (iova & (VNVME_PAGE_SIZE - 1)) ||
			    iova + (u64)size * sizeof(struct vnvme_sqe) < iova ||
			    le16_to_cpu(sq->head) >= size || sq_db >= size ||
			    (!qid && (iova != le64_to_cpu(img->regs->asq) ||
				      size != (aqa & 0xfff) + 1)))
				return vnvme_mig_refuse(ctrl, -EINVAL, "SQ %u", qid);
		} else if (sq_db) {
			return vnvme_mig_refuse(ctrl, -EINVAL,
						"doorbell of absent SQ %u", qid);
		}
	}
	if (img->dbbuf) {
		u64 shadow = le64_to_cpu(img->dbbuf->shadow_iova);
		u64 eventidx = le64_to_cpu(img->dbbuf->eventidx_iova);

		if (!live || img->dbbuf->enabled != 1 || !shadow || !eventidx ||
		    shadow == eventidx ||
		    ((shadow | eventidx) & (VNVME_PAGE_SIZE - 1)) ||
		    memchr_inv(img->dbbuf->reserved, 0,
			       sizeof(img->dbbuf->reserved)))
			return vnvme_mig_refuse(ctrl, -EINVAL, "shadow doorbells");
	}
	return 0;
}

static int vnvme_mig_check_events(struct vnvme_ctrl *ctrl,
				  const struct vnvme_mig_image *img)
{
	const struct vnvme_mig_changed_ns *cns = img->changed_ns;
	const struct vnvme_mig_aer *aer = img->aer;
	unsigned int i, nr = le16_to_cpu(cns->nr);
	u32 nsid;

	if ((aer->masked & ~7) || aer->nr_held > VNVME_AERL + 1 ||
	    aer->nr_pending > ARRAY_SIZE(aer->pending_dw0) ||
	    (aer->nr_held && !img->sq[0]) || aer->reserved ||
	    memchr_inv(aer->reserved2, 0, sizeof(aer->reserved2)))
		return vnvme_mig_refuse(ctrl, -EINVAL, "AER state");
	if (le16_to_cpu(img->err_log->next) >= VNVME_ERR_LOG_ENTRIES)
		return vnvme_mig_refuse(ctrl, -EINVAL, "error log");
	if (nr > ARRAY_SIZE(cns->nsid) || cns->overflow > 1)
		return vnvme_mig_refuse(ctrl, -EINVAL, "changed namespace list");
	for (i = 0; i < nr; i++) {
		nsid = le32_to_cpu(cns->nsid[i]);
		if (nsid < 1 || nsid > VNVME_MAX_NS)
			return vnvme_mig_refuse(ctrl, -EINVAL,
						"changed namespace %u", nsid);
	}
	return 0;
}

/*
 * The stream's namespaces against the ones enabled here: the same NSIDs,
 * sizes, LBA formats and write protection.  Device paths may differ.
 */
int vnvme_mig_check_namespaces(struct vnvme_ctrl *ctrl,
			       const struct vnvme_mig_image *img)
{
	const struct vnvme_mig_namespace *mns;
	struct vnvme_backing *b;
	int ret = 0;
	u32 nsid;

	for (nsid = 1; nsid <= VNVME_MAX_NS && !ret; nsid++) {
		mns = img->ns[nsid - 1];
		if (mns && ((le32_to_cpu(mns->flags) & ~VNVME_MIG_NS_READONLY) ||
			    mns->lba_shift < 9 || mns->lba_shift > 12 ||
			    memchr_inv(mns->reserved, 0, sizeof(mns->reserved))))
			return vnvme_mig_refuse(ctrl, -EINVAL, "namespace %u",
						nsid);
		b = vnvme_ns_get(ctrl, nsid);
		if (!mns != !b)
			ret = vnvme_mig_refuse(ctrl, -ENXIO,
					       "namespace %u is %s here", nsid,
					       b ? "enabled" : "not enabled");
		else if (b && (le64_to_cpu(mns->nr_lbas) != b->nr_lbas ||
			       mns->lba_shift != b->lba_shift))
			ret = vnvme_mig_refuse(ctrl, -EMEDIUMTYPE,
					       "namespace %u: %llu blocks of %u bytes, here %llu of %u",
					       nsid, le64_to_cpu(mns->nr_lbas),
					       1U << mns->lba_shift, b->nr_lbas,
					       1U << b->lba_shift);
		else if (b && !!(le32_to_cpu(mns->flags) & VNVME_MIG_NS_READONLY) !=
			 b->readonly)
			ret = vnvme_mig_refuse(ctrl, -EROFS,
					       "namespace %u: write protection differs",
					       nsid);
		if (b)
			vnvme_ns_put(b);
	}
	return ret;
}

/* A whole stream (header already checked) into img, or an errno. */
int vnvme_mig_parse(struct vnvme_ctrl *ctrl, const u8 *stream, size_t len,
		    struct vnvme_mig_image *img)
{
	const struct vnvme_mig_header *hdr = (const void *)stream;
	size_t payload = len - sizeof(*hdr);
	int ret;

	memset(img, 0, sizeof(*img));
	if (vnvme_mig_crc(stream + sizeof(*hdr), payload) !=
	    le32_to_cpu(hdr->payload_crc))
		return vnvme_mig_refuse(ctrl, -EBADMSG, "payload CRC mismatch");
	ret = vnvme_mig_split(ctrl, stream + sizeof(*hdr), payload,
			      le32_to_cpu(hdr->nr_sections), img);
	if (!ret)
		ret = vnvme_mig_check_ident(ctrl, img->ident);
	if (!ret)
		ret = vnvme_mig_check_regs(ctrl, img);
	if (!ret)
		ret = vnvme_mig_check_features(ctrl, img->feat);
	if (!ret)
		ret = vnvme_mig_check_queues(ctrl, img);
	if (!ret)
		ret = vnvme_mig_check_events(ctrl, img);
	if (!ret)
		ret = vnvme_mig_check_namespaces(ctrl, img);
	return ret;
}
