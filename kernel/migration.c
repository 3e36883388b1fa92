// SPDX-License-Identifier: GPL-2.0
/*
 * migration.c - live migration through VFIO migration v2: the device state
 * machine (STOP_COPY and RUNNING_P2P), the save and resume data files, and
 * applying a validated stream to the destination controller.
 *
 * RUNNING -> RUNNING_P2P is the quiesce (queue.c): no command is fetched
 * after it, every fetched one has completed and been posted, and nothing
 * writes guest memory until RUNNING again.  STOP -> STOP_COPY flushes the
 * namespaces and snapshots the controller (migration_stream.c); the saving
 * file reads the snapshot.  STOP -> RESUMING resets the controller; the
 * resuming file takes a stream, validated as it completes; RESUMING -> STOP
 * applies it.  Documentation/migration.md describes all of it.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/pci_regs.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "vnvme.h"
#include "migration.h"

/* One data transfer session: the saving or the resuming file. */
struct vnvme_migf {
	struct file		*filp;
	struct mutex		lock;	/* everything below */
	struct vnvme_ctrl	*ctrl;
	u8			*buf;
	size_t			len;	/* bytes in buf */
	size_t			total;	/* resuming: whole stream, once known */
	bool			disabled;
	int			error;	/* resuming: why the stream was refused */
	bool			valid;	/* resuming: image describes buf */
	struct vnvme_mig_image	image;
};

static int vnvme_migf_release(struct inode *inode, struct file *filp)
{
	struct vnvme_migf *migf = filp->private_data;

	kvfree(migf->buf);
	mutex_destroy(&migf->lock);
	kfree(migf);
	return 0;
}

static ssize_t vnvme_migf_read(struct file *filp, char __user *ubuf,
			       size_t len, loff_t *pos)
{
	struct vnvme_migf *migf = filp->private_data;
	ssize_t ret;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	len = min_t(size_t, len, migf->len - filp->f_pos);
	ret = -EFAULT;
	if (copy_to_user(ubuf, migf->buf + filp->f_pos, len))
		goto out;
	filp->f_pos += len;
	ret = len;
out:
	mutex_unlock(&migf->lock);
	return ret;
}

/* Header in: size the buffer for the whole stream. */
static int vnvme_migf_start(struct vnvme_migf *migf)
{
	struct vnvme_mig_header hdr;
	size_t total;
	u8 *buf;
	int ret;

	memcpy(&hdr, migf->buf, sizeof(hdr));
	ret = vnvme_mig_check_header(migf->ctrl, &hdr, &total);
	if (ret)
		return ret;
	buf = kvzalloc(total, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, migf->buf, migf->len);
	kvfree(migf->buf);
	migf->buf = buf;
	migf->total = total;
	return 0;
}

static ssize_t vnvme_migf_write(struct file *filp, const char __user *ubuf,
				size_t len, loff_t *pos)
{
	struct vnvme_migf *migf = filp->private_data;
	size_t room, n, done = 0;
	int ret = 0;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (migf->disabled) {
		mutex_unlock(&migf->lock);
		return -ENODEV;
	}
	while (done < len) {
		room = (migf->total ? migf->total :
			sizeof(struct vnvme_mig_header)) - migf->len;
		if (!room) {
			dev_warn_ratelimited(vnvme_dev(migf->ctrl),
					     "migration stream refused: bytes after its end\n");
			ret = -EBADMSG;
			break;
		}
		n = min(room, len - done);
		if (copy_from_user(migf->buf + migf->len, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		migf->len += n;
		done += n;
		if (!migf->total && migf->len == sizeof(struct vnvme_mig_header))
			ret = vnvme_migf_start(migf);
		else if (migf->total && migf->len == migf->total)
			ret = vnvme_mig_parse(migf->ctrl, migf->buf, migf->len,
					      &migf->image);
		if (ret)
			break;
		migf->valid = migf->total && migf->len == migf->total;
	}
	if (ret && ret != -EFAULT) {
		/* A refused stream stays refused: RESUMING -> STOP says why. */
		migf->error = ret;
		migf->valid = false;
		migf->disabled = true;
	}
	mutex_unlock(&migf->lock);
	if (ret)
		return ret;
	filp->f_pos += done;
	return done;
}

static const struct file_operations vnvme_save_fops = {
	.owner		= THIS_MODULE,
	.read		= vnvme_migf_read,
	.release	= vnvme_migf_release,
};

static const struct file_operations vnvme_resume_fops = {
	.owner		= THIS_MODULE,
	.write		= vnvme_migf_write,
	.release	= vnvme_migf_release,
};

static struct vnvme_migf *vnvme_migf_create(struct vnvme_ctrl *ctrl,
					    bool saving)
{
	struct vnvme_migf *migf;
	struct file *filp;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	migf->ctrl = ctrl;
	if (!saving) {
		migf->buf = kvzalloc(sizeof(struct vnvme_mig_header),
				     GFP_KERNEL_ACCOUNT);
		if (!migf->buf) {
			kfree(migf);
			return ERR_PTR(-ENOMEM);
		}
	}
	filp = anon_inode_getfile(saving ? "vnvme_mig_save" : "vnvme_mig_resume",
				  saving ? &vnvme_save_fops : &vnvme_resume_fops,
				  migf, saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(filp)) {
		kvfree(migf->buf);
		kfree(migf);
		return ERR_CAST(filp);
	}
	stream_open(filp->f_inode, filp);
	migf->filp = filp;
	return migf;
}

/* Ends a session: the file's user now gets -ENODEV.  Drops our reference. */
static void vnvme_migf_disable(struct vnvme_migf **slot)
{
	struct vnvme_migf *migf = *slot;

	if (!migf)
		return;
	mutex_lock(&migf->lock);
	migf->disabled = true;
	mutex_unlock(&migf->lock);
	*slot = NULL;
	fput(migf->filp);
}

static void vnvme_mig_disable_files(struct vnvme_ctrl *ctrl)
{
	vnvme_migf_disable(&ctrl->mig.saving);
	vnvme_migf_disable(&ctrl->mig.resuming);
}

/* ---- Applying a stream -------------------------------------------------- */

/* The identity the guest saw on the source, for the rest of this open. */
static void vnvme_mig_adopt_identity(struct vnvme_ctrl *ctrl,
				     const struct vnvme_mig_image *img)
{
	struct vnvme_mig *mig = &ctrl->mig;
	unsigned int i;

	mutex_lock(&ctrl->open_lock);
	if (!mig->adopted) {
		memcpy(mig->own.serial, ctrl->serial, sizeof(ctrl->serial));
		memcpy(mig->own.model, ctrl->model, sizeof(ctrl->model));
		memcpy(mig->own.firmware, ctrl->firmware, sizeof(ctrl->firmware));
		mig->own.mdts = ctrl->mdts;
		mig->own.cntlid = ctrl->cntlid;
		for (i = 0; i < VNVME_MAX_NS; i++) {
			memcpy(mig->own.nguid[i], ctrl->ns[i].nguid, 16);
			memcpy(mig->own.eui64[i], ctrl->ns[i].eui64, 8);
		}
		mig->adopted = true;
	}
	memcpy(ctrl->serial, img->ident->serial, sizeof(img->ident->serial));
	ctrl->serial[sizeof(img->ident->serial)] = '\0';
	strim(ctrl->serial);
	memcpy(ctrl->model, img->ident->model, sizeof(img->ident->model));
	ctrl->model[sizeof(img->ident->model)] = '\0';
	strim(ctrl->model);
	memcpy(ctrl->firmware, img->ident->firmware,
	       sizeof(img->ident->firmware));
	ctrl->firmware[sizeof(img->ident->firmware)] = '\0';
	strim(ctrl->firmware);
	ctrl->mdts = img->ident->mdts;
	ctrl->cntlid = le16_to_cpu(img->ident->cntlid);
	for (i = 0; i < VNVME_MAX_NS; i++) {
		if (!img->ns[i])
			continue;
		memcpy(ctrl->ns[i].nguid, img->ns[i]->nguid, 16);
		memcpy(ctrl->ns[i].eui64, img->ns[i]->eui64, 8);
	}
	mutex_unlock(&ctrl->open_lock);
}

/* The instance's own identity again (close, reset). */
static void vnvme_mig_drop_identity(struct vnvme_ctrl *ctrl)
{
	struct vnvme_mig *mig = &ctrl->mig;
	unsigned int i;

	mutex_lock(&ctrl->open_lock);
	if (mig->adopted) {
		memcpy(ctrl->serial, mig->own.serial, sizeof(ctrl->serial));
		memcpy(ctrl->model, mig->own.model, sizeof(ctrl->model));
		memcpy(ctrl->firmware, mig->own.firmware, sizeof(ctrl->firmware));
		ctrl->mdts = mig->own.mdts;
		ctrl->cntlid = mig->own.cntlid;
		for (i = 0; i < VNVME_MAX_NS; i++) {
			memcpy(ctrl->ns[i].nguid, mig->own.nguid[i], 16);
			memcpy(ctrl->ns[i].eui64, mig->own.eui64[i], 8);
		}
		mig->adopted = false;
	}
	mutex_unlock(&ctrl->open_lock);
}

static void vnvme_mig_apply_features(struct vnvme_ctrl *ctrl,
				     const struct vnvme_mig_features *mf)
{
	struct vnvme_features *f = &ctrl->feat;
	u64 cd = le64_to_cpu(mf->irq_config_cd);
	unsigned int v;

	f->arbitration = le32_to_cpu(mf->arbitration);
	f->power_mgmt = le32_to_cpu(mf->power_mgmt);
	f->temp_over = le16_to_cpu(mf->temp_over);
	f->temp_under = le16_to_cpu(mf->temp_under);
	f->err_recovery = le32_to_cpu(mf->err_recovery);
	f->vwc = mf->vwc;
	f->nr_sqs_granted = le16_to_cpu(mf->nr_sqs_granted);
	f->nr_cqs_granted = le16_to_cpu(mf->nr_cqs_granted);
	WRITE_ONCE(f->irq_coalesce, le32_to_cpu(mf->irq_coalesce));
	for (v = 0; v < VNVME_MAX_VECTORS; v++)
		assign_bit(v, f->irq_config_cd, v < 64 && (cd & BIT_ULL(v)));
	f->write_atomic = le32_to_cpu(mf->write_atomic);
	WRITE_ONCE(f->async_event, le32_to_cpu(mf->async_event));
	f->timestamp_set = mf->timestamp_set;
	f->timestamp_ms = le64_to_cpu(mf->timestamp_ms);
	f->timestamp_set_ns = ktime_get_ns();
}

static void vnvme_mig_apply_events(struct vnvme_ctrl *ctrl,
				   const struct vnvme_mig_image *img)
{
	const struct vnvme_mig_changed_ns *cns = img->changed_ns;
	const struct vnvme_mig_smart *sm = img->smart;
	const struct vnvme_mig_aer *aer = img->aer;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&ctrl->aer_lock, flags);
	ctrl->aer_masked = aer->masked;
	ctrl->nr_aer_pending = aer->nr_pending;
	for (i = 0; i < aer->nr_pending; i++)
		ctrl->aer_pending[i] = le32_to_cpu(aer->pending_dw0[i]);
	spin_unlock_irqrestore(&ctrl->aer_lock, flags);

	spin_lock_irqsave(&ctrl->log_lock, flags);
	ctrl->err_log_next = le16_to_cpu(img->err_log->next);
	memcpy(ctrl->err_log, img->err_entries, sizeof(ctrl->err_log));
	ctrl->nr_changed_ns = le16_to_cpu(cns->nr);
	ctrl->changed_ns_overflow = cns->overflow;
	for (i = 0; i < ctrl->nr_changed_ns; i++)
		ctrl->changed_ns[i] = le32_to_cpu(cns->nsid[i]);
	spin_unlock_irqrestore(&ctrl->log_lock, flags);

	atomic64_set(&ctrl->smart.bytes_read, le64_to_cpu(sm->bytes_read));
	atomic64_set(&ctrl->smart.bytes_written, le64_to_cpu(sm->bytes_written));
	atomic64_set(&ctrl->smart.read_cmds, le64_to_cpu(sm->read_cmds));
	atomic64_set(&ctrl->smart.write_cmds, le64_to_cpu(sm->write_cmds));
	atomic64_set(&ctrl->smart.busy_ns, le64_to_cpu(sm->busy_ns));
	atomic64_set(&ctrl->smart.media_errors, le64_to_cpu(sm->media_errors));
	atomic64_set(&ctrl->smart.err_log_count, le64_to_cpu(sm->err_log_count));
	ctrl->smart.unsafe_shutdowns = le64_to_cpu(sm->unsafe_shutdowns);
}

/* Queues in the source's positions; the caller holds ctrl->lock. */
static int vnvme_mig_apply_queues(struct vnvme_ctrl *ctrl,
				  const struct vnvme_mig_image *img)
{
	struct vnvme_sq *sq;
	struct vnvme_cq *cq;
	unsigned int qid;
	int ret;

	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		const struct vnvme_mig_cq *m = img->cq[qid];

		if (!m)
			continue;
		ret = vnvme_cq_create(ctrl, qid, le64_to_cpu(m->iova),
				      le16_to_cpu(m->size), le16_to_cpu(m->vector),
				      le16_to_cpu(m->flags) & VNVME_MIG_CQ_IEN);
		if (ret)
			return ret;
		cq = rcu_dereference_protected(ctrl->cqs[qid],
					       lockdep_is_held(&ctrl->lock));
		mutex_lock(&cq->ring.lock);
		cq->tail = le16_to_cpu(m->tail);
		cq->phase = m->phase;
		mutex_unlock(&cq->ring.lock);
	}
	for (qid = 0; qid < VNVME_MAX_QUEUES; qid++) {
		const struct vnvme_mig_sq *m = img->sq[qid];

		if (!m)
			continue;
		ret = vnvme_sq_create(ctrl, qid, le64_to_cpu(m->iova),
				      le16_to_cpu(m->size), le16_to_cpu(m->cqid));
		if (ret)
			return ret;
		sq = rcu_dereference_protected(ctrl->sqs[qid],
					       lockdep_is_held(&ctrl->lock));
		mutex_lock(&sq->ring.lock);
		WRITE_ONCE(sq->head, le16_to_cpu(m->head));
		mutex_unlock(&sq->ring.lock);
	}
	return 0;
}

/* The AERs the source held, held again by the admin SQ here. */
static int vnvme_mig_apply_held_aers(struct vnvme_ctrl *ctrl,
				     const struct vnvme_mig_aer *aer)
{
	struct vnvme_sq *sq = rcu_dereference_protected(ctrl->sqs[0],
					lockdep_is_held(&ctrl->lock));
	struct vnvme_req *req;
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < aer->nr_held; i++) {
		req = vnvme_sq_adopt_req(sq, VNVME_ADM_ASYNC_EVENT,
					 le16_to_cpu(aer->held_cid[i]));
		if (!req)
			return -ENOSPC;
		spin_lock_irqsave(&ctrl->aer_lock, flags);
		ctrl->aer_reqs[ctrl->nr_aer++] = req;
		spin_unlock_irqrestore(&ctrl->aer_lock, flags);
	}
	return 0;
}

/*
 * RESUMING -> STOP.  The controller was reset at STOP -> RESUMING; on
 * failure it is reset again, so it is never left half-applied.  Nothing is
 * fetched or posted until RUNNING.
 */
static int vnvme_mig_apply(struct vnvme_ctrl *ctrl,
			   const struct vnvme_mig_image *img)
{
	const struct vnvme_mig_regs *r = img->regs;
	__le16 v;
	int ret;
	u32 i;

	/* Namespaces may have changed since the stream was written. */
	ret = vnvme_mig_check_namespaces(ctrl, img);
	if (ret)
		return ret;
	vnvme_mig_adopt_identity(ctrl, img);
	v = img->pci->command;
	vnvme_pci_config_rw(ctrl, PCI_COMMAND, &v, 2, true);
	v = img->pci->msix_flags;
	vnvme_pci_config_rw(ctrl, VNVME_CAP_MSIX + PCI_MSIX_FLAGS, &v, 2, true);

	mutex_lock(&ctrl->lock);
	vnvme_mig_apply_features(ctrl, img->feat);
	vnvme_mig_apply_events(ctrl, img);
	ctrl->aqa = le32_to_cpu(r->aqa);
	ctrl->asq = le64_to_cpu(r->asq);
	ctrl->acq = le64_to_cpu(r->acq);
	ctrl->intms = le32_to_cpu(r->intms);
	WRITE_ONCE(ctrl->cc, le32_to_cpu(r->cc));
	ret = vnvme_mig_apply_queues(ctrl, img);
	if (!ret && img->dbbuf)
		ret = vnvme_dbbuf_restore(ctrl,
					  le64_to_cpu(img->dbbuf->shadow_iova),
					  le64_to_cpu(img->dbbuf->eventidx_iova));
	if (!ret && img->aer->nr_held)
		ret = vnvme_mig_apply_held_aers(ctrl, img->aer);
	if (!ret) {
		for (i = 0; i < ARRAY_SIZE(ctrl->db); i++)
			WRITE_ONCE(ctrl->db[i], le32_to_cpu(img->db_values[i]));
		WRITE_ONCE(ctrl->csts, le32_to_cpu(r->csts));
		/* A mapped page is served from here on, as after CC.EN. */
		if (vnvme_ctrl_ready(ctrl))
			vnvme_dbpage_start(ctrl);
	}
	mutex_unlock(&ctrl->lock);
	if (ret) {
		dev_warn(vnvme_dev(ctrl),
			 "migration: the source's queues cannot be set up here (%d)\n",
			 ret);
		vnvme_ctrl_reset(ctrl);
	}
	return ret;
}

/* ---- The state machine -------------------------------------------------- */

static struct file *vnvme_mig_save(struct vnvme_ctrl *ctrl)
{
	struct vnvme_migf *migf;
	int ret;

	if (ctrl->mig.pending) {
		dev_warn(vnvme_dev(ctrl),
			 "migration: %u CQs are full with completions pending; not supported yet\n",
			 ctrl->mig.pending);
		return ERR_PTR(-EBUSY);
	}
	/* A mapped page written since the pause: recorded, not run. */
	vnvme_dbpage_drain(ctrl);
	/* Completed writes must be visible through the destination's path. */
	ret = vnvme_ns_flush_all(ctrl);
	if (ret) {
		dev_warn(vnvme_dev(ctrl), "migration: flush failed (%d)\n", ret);
		return ERR_PTR(-EIO);
	}
	migf = vnvme_migf_create(ctrl, true);
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	ret = vnvme_mig_snapshot(ctrl, &migf->buf, &migf->len);
	if (ret) {
		fput(migf->filp);
		return ERR_PTR(ret);
	}
	get_file(migf->filp);
	ctrl->mig.saving = migf;
	return migf->filp;
}

static struct file *vnvme_mig_resume_start(struct vnvme_ctrl *ctrl)
{
	struct vnvme_migf *migf;

	/* What the destination's guest never saw goes; the stream replaces it. */
	vnvme_ctrl_reset(ctrl);
	migf = vnvme_migf_create(ctrl, false);
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	get_file(migf->filp);
	ctrl->mig.resuming = migf;
	return migf->filp;
}

static int vnvme_mig_resume_end(struct vnvme_ctrl *ctrl)
{
	struct vnvme_migf *migf = ctrl->mig.resuming;
	int ret;

	mutex_lock(&migf->lock);
	if (migf->error)
		ret = migf->error;
	else if (!migf->valid)
		ret = -ENODATA;
	else
		ret = vnvme_mig_apply(ctrl, &migf->image);
	mutex_unlock(&migf->lock);
	if (ret == -ENODATA)
		dev_warn(vnvme_dev(ctrl),
			 "migration stream refused: truncated (%zu bytes)\n",
			 migf->len);
	if (!ret)
		vnvme_migf_disable(&ctrl->mig.resuming);
	return ret;
}

/* One arc of the FSM; the caller holds mig.state_mutex. */
static struct file *vnvme_mig_step(struct vnvme_ctrl *ctrl,
				   enum vfio_device_mig_state cur,
				   enum vfio_device_mig_state next)
{
	int ret;

	if (cur == VFIO_DEVICE_STATE_RUNNING &&
	    next == VFIO_DEVICE_STATE_RUNNING_P2P) {
		mutex_lock(&ctrl->lock);
		/* Doorbells the guest left in a mapped page run before the pause. */
		vnvme_dbpage_drain(ctrl);
		ctrl->mig.pending = vnvme_queues_quiesce(ctrl);
		mutex_unlock(&ctrl->lock);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	    next == VFIO_DEVICE_STATE_RUNNING) {
		ctrl->mig.pending = 0;
		vnvme_queues_resume(ctrl);
		return NULL;
	}
	if ((cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P))
		return NULL;
	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_STOP_COPY)
		return vnvme_mig_save(ctrl);
	if (cur == VFIO_DEVICE_STATE_STOP_COPY && next == VFIO_DEVICE_STATE_STOP) {
		vnvme_migf_disable(&ctrl->mig.saving);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_RESUMING)
		return vnvme_mig_resume_start(ctrl);
	if (cur == VFIO_DEVICE_STATE_RESUMING && next == VFIO_DEVICE_STATE_STOP) {
		ret = vnvme_mig_resume_end(ctrl);
		return ret ? ERR_PTR(ret) : NULL;
	}
	/* vfio_mig_get_next_state() only hands out the arcs above. */
	WARN_ON_ONCE(1);
	return ERR_PTR(-EINVAL);
}

static struct file *vnvme_mig_set_state(struct vfio_device *vdev,
					enum vfio_device_mig_state target)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&ctrl->mig.state_mutex);
	while (ctrl->mig.state != target) {
		ret = vfio_mig_get_next_state(vdev, ctrl->mig.state, target,
					      &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = vnvme_mig_step(ctrl, ctrl->mig.state, next);
		if (IS_ERR(res))
			break;
		ctrl->mig.state = next;
		/* Only the last arc may open a data file. */
		if (WARN_ON_ONCE(res && next != target)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&ctrl->mig.state_mutex);
	return res;
}

static int vnvme_mig_get_state(struct vfio_device *vdev,
			       enum vfio_device_mig_state *state)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);

	mutex_lock(&ctrl->mig.state_mutex);
	*state = ctrl->mig.state;
	mutex_unlock(&ctrl->mig.state_mutex);
	return 0;
}

/* An upper bound: the state is small, and QEMU only needs the order. */
static int vnvme_mig_get_data_size(struct vfio_device *vdev,
				   unsigned long *stop_copy_length)
{
	*stop_copy_length = VNVME_MIG_SAVE_MAX;
	return 0;
}

static const struct vfio_migration_ops vnvme_mig_ops = {
	.migration_set_state	= vnvme_mig_set_state,
	.migration_get_state	= vnvme_mig_get_state,
	VNVME_MIG_DATA_SIZE_OP(vnvme_mig_get_data_size)
};

/*
 * VFIO_DEVICE_FEATURE_MIG_DATA_SIZE where the core lacks it (6.1): without
 * an answer QEMU assumes 100 GiB of device state and never switches over.
 */
int vnvme_mig_device_feature(struct vfio_device *vdev, u32 flags,
			     void __user *arg, size_t argsz)
{
#ifdef VNVME_MIG_DATA_SIZE_FEATURE
	struct vfio_device_feature_mig_data_size size;
	unsigned long len;
	int ret;

	if ((flags & VFIO_DEVICE_FEATURE_MASK) != VFIO_DEVICE_FEATURE_MIG_DATA_SIZE)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 sizeof(size));
	if (ret != 1)
		return ret;
	vnvme_mig_get_data_size(vdev, &len);
	size.stop_copy_length = len;
	return copy_to_user(arg, &size, sizeof(size)) ? -EFAULT : 0;
#else
	return -ENOTTY;
#endif
}

void vnvme_mig_init(struct vnvme_ctrl *ctrl)
{
	mutex_init(&ctrl->mig.state_mutex);
	ctrl->mig.state = VFIO_DEVICE_STATE_RUNNING;
	ctrl->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY |
				     VFIO_MIGRATION_P2P;
	ctrl->vdev.mig_ops = &vnvme_mig_ops;
}

/* Back to RUNNING with nothing held; the caller resets the controller. */
static void vnvme_mig_to_running(struct vnvme_ctrl *ctrl)
{
	lockdep_assert_held(&ctrl->mig.state_mutex);
	vnvme_mig_disable_files(ctrl);
	ctrl->mig.state = VFIO_DEVICE_STATE_RUNNING;
	ctrl->mig.pending = 0;
	WRITE_ONCE(ctrl->mig.frozen, false);
	WRITE_ONCE(ctrl->mig.paused, false);
}

/* VFIO_DEVICE_RESET: any state returns to RUNNING, as the uapi requires. */
void vnvme_mig_reset(struct vnvme_ctrl *ctrl)
{
	mutex_lock(&ctrl->mig.state_mutex);
	vnvme_ctrl_reset(ctrl);
	vnvme_mig_to_running(ctrl);
	mutex_unlock(&ctrl->mig.state_mutex);
}

/* Last close: no file outlives the open, the instance's identity returns. */
void vnvme_mig_close(struct vnvme_ctrl *ctrl)
{
	mutex_lock(&ctrl->mig.state_mutex);
	vnvme_ctrl_reset(ctrl);
	vnvme_mig_to_running(ctrl);
	vnvme_mig_drop_identity(ctrl);
	mutex_unlock(&ctrl->mig.state_mutex);
}
