// SPDX-License-Identifier: GPL-2.0
/*
 * ns.c - namespaces: backing block devices, attach/detach while the guest
 * runs, and the Namespace Attribute Changed event.
 *
 * The I/O path finds a namespace's backing under RCU and holds a percpu_ref
 * on it for the life of the command; detaching kills the ref, waits for the
 * last command and only then closes the block device.
 */
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vnvme.h"

void vnvme_ns_init(struct vnvme_ctrl *ctrl)
{
	const u8 *u = ctrl->mdev->uuid.b;
	unsigned int i;

	for (i = 0; i < VNVME_MAX_NS; i++) {
		struct vnvme_ns *ns = &ctrl->ns[i];
		u32 nsid = i + 1;

		ns->ctrl = ctrl;
		ns->nsid = nsid;
		/* Stable and unique: the instance UUID with the NSID mixed in. */
		memcpy(ns->nguid, u, sizeof(ns->nguid));
		ns->nguid[15] ^= nsid;
		ns->nguid[14] ^= 0x5a;
		ns->eui64[0] = 0x02;	/* locally administered */
		ns->eui64[1] = u[0] ^ u[8];
		ns->eui64[2] = u[1] ^ u[9];
		ns->eui64[3] = u[2] ^ u[10];
		ns->eui64[4] = u[3] ^ u[11];
		ns->eui64[5] = u[4] ^ u[12];
		ns->eui64[6] = u[5] ^ u[13] ^ u[14] ^ u[15];
		ns->eui64[7] = nsid;
	}
}

static struct vnvme_backing *vnvme_ns_backing(struct vnvme_ns *ns)
{
	return rcu_dereference_protected(ns->backing,
					 lockdep_is_held(&ns->ctrl->ns_lock));
}

bool vnvme_ns_active(struct vnvme_ctrl *ctrl, u32 nsid)
{
	if (nsid == 0 || nsid > VNVME_MAX_NS)
		return false;
	return rcu_access_pointer(ctrl->ns[nsid - 1].backing) != NULL;
}

/* Takes a reference on an enabled namespace; NULL if there is none. */
struct vnvme_backing *vnvme_ns_get(struct vnvme_ctrl *ctrl, u32 nsid)
{
	struct vnvme_backing *b;

	if (nsid == 0 || nsid > VNVME_MAX_NS)
		return NULL;
	rcu_read_lock();
	b = rcu_dereference(ctrl->ns[nsid - 1].backing);
	if (b && !percpu_ref_tryget_live(&b->ref))
		b = NULL;
	rcu_read_unlock();
	return b;
}

void vnvme_ns_put(struct vnvme_backing *backing)
{
	percpu_ref_put(&backing->ref);
}

static void vnvme_backing_release(struct percpu_ref *ref)
{
	struct vnvme_backing *b = container_of(ref, struct vnvme_backing, ref);

	complete(&b->released);
}

/* Records the change and tells a running guest (Namespace Attribute Notice). */
static void vnvme_ns_changed(struct vnvme_ctrl *ctrl, u32 nsid)
{
	unsigned int i;

	spin_lock(&ctrl->log_lock);
	for (i = 0; i < ctrl->nr_changed_ns; i++)
		if (ctrl->changed_ns[i] == nsid)
			break;
	if (i == ctrl->nr_changed_ns) {
		if (ctrl->nr_changed_ns < ARRAY_SIZE(ctrl->changed_ns))
			ctrl->changed_ns[ctrl->nr_changed_ns++] = nsid;
		else
			ctrl->changed_ns_overflow = true;
	}
	spin_unlock(&ctrl->log_lock);

	if (vnvme_ctrl_ready(ctrl))
		vnvme_aen_post(ctrl, VNVME_AER_TYPE_NOTICE,
			       VNVME_AER_NOTICE_NS_CHANGED, VNVME_LOG_CHANGED_NS);
}

int vnvme_ns_set_path(struct vnvme_ns *ns, const char *path)
{
	struct vnvme_ctrl *ctrl = ns->ctrl;
	char *copy;
	dev_t devt;
	int ret;

	if (path[0] != '/') {
		dev_err(vnvme_dev(ctrl), "ns%u: device_path must be an absolute path\n",
			ns->nsid);
		return -EINVAL;
	}
	ret = lookup_bdev(path, &devt);
	if (ret) {
		dev_err(vnvme_dev(ctrl), "ns%u: %s is %s\n", ns->nsid, path,
			ret == -ENOTBLK ? "not a block device" : "not found");
		return ret;
	}
	copy = kstrdup(path, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;

	mutex_lock(&ctrl->ns_lock);
	if (vnvme_ns_backing(ns)) {
		mutex_unlock(&ctrl->ns_lock);
		kfree(copy);
		dev_err(vnvme_dev(ctrl), "ns%u is enabled; disable it before changing device_path\n",
			ns->nsid);
		return -EBUSY;
	}
	kfree(ns->device_path);
	ns->device_path = copy;
	mutex_unlock(&ctrl->ns_lock);
	return 0;
}

static int vnvme_backing_open(struct vnvme_ns *ns, struct vnvme_backing *b)
{
	struct vnvme_ctrl *ctrl = ns->ctrl;
	struct block_device *bdev;
	int ret;

	ret = vnvme_bdev_open(&b->bdev, ns->device_path, ns->readonly, ctrl);
	if (ret) {
		dev_err(vnvme_dev(ctrl), "ns%u: cannot open %s: %s\n", ns->nsid,
			ns->device_path, ret == -EBUSY ?
			"in use by another holder (mounted or claimed)" :
			ret == -ENOENT || ret == -ENXIO ? "no such device" :
			"open failed");
		return ret;
	}
	bdev = b->bdev.bdev;
	b->lba_shift = ilog2(bdev_logical_block_size(bdev));
	b->nr_lbas = bdev_nr_bytes(bdev) >> b->lba_shift;
	b->readonly = ns->readonly || bdev_read_only(bdev);
	b->can_discard = bdev_max_discard_sectors(bdev) > 0;
	b->can_write_zeroes = true;	/* blkdev_issue_zeroout falls back to writes */
	if (!b->nr_lbas) {
		dev_err(vnvme_dev(ctrl), "ns%u: %s is empty\n", ns->nsid,
			ns->device_path);
		vnvme_bdev_close(&b->bdev);
		return -EINVAL;
	}
	return 0;
}

int vnvme_ns_enable(struct vnvme_ns *ns)
{
	struct vnvme_ctrl *ctrl = ns->ctrl;
	struct vnvme_backing *b;
	int ret;

	mutex_lock(&ctrl->ns_lock);
	if (vnvme_ns_backing(ns)) {
		ret = 0;
		goto out_unlock;
	}
	if (!ns->device_path) {
		dev_err(vnvme_dev(ctrl), "ns%u: set device_path before enabling\n",
			ns->nsid);
		ret = -EINVAL;
		goto out_unlock;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	init_completion(&b->released);
	ret = percpu_ref_init(&b->ref, vnvme_backing_release, 0, GFP_KERNEL);
	if (ret) {
		kfree(b);
		goto out_unlock;
	}
	ret = vnvme_backing_open(ns, b);
	if (ret) {
		percpu_ref_exit(&b->ref);
		kfree(b);
		goto out_unlock;
	}
	rcu_assign_pointer(ns->backing, b);
	mutex_unlock(&ctrl->ns_lock);
	dev_info(vnvme_dev(ctrl), "ns%u: attached %s (%llu x %u bytes%s)\n",
		 ns->nsid, ns->device_path, b->nr_lbas, 1U << b->lba_shift,
		 b->readonly ? ", read-only" : "");
	vnvme_ns_changed(ctrl, ns->nsid);
	vnvme_notify(ctrl, VNVME_EVENT_NS_ATTACHED, ns->nsid, 0);
	return 0;

out_unlock:
	mutex_unlock(&ctrl->ns_lock);
	return ret;
}

static void vnvme_backing_destroy(struct vnvme_backing *b)
{
	percpu_ref_kill(&b->ref);
	wait_for_completion(&b->released);
	percpu_ref_exit(&b->ref);
	vnvme_bdev_close(&b->bdev);
	kfree(b);
}

int vnvme_ns_disable(struct vnvme_ns *ns)
{
	struct vnvme_ctrl *ctrl = ns->ctrl;
	struct vnvme_backing *b;

	mutex_lock(&ctrl->ns_lock);
	b = vnvme_ns_backing(ns);
	if (!b) {
		mutex_unlock(&ctrl->ns_lock);
		return 0;
	}
	RCU_INIT_POINTER(ns->backing, NULL);
	vnvme_backing_destroy(b);
	mutex_unlock(&ctrl->ns_lock);
	dev_info(vnvme_dev(ctrl), "ns%u: detached\n", ns->nsid);
	vnvme_ns_changed(ctrl, ns->nsid);
	vnvme_notify(ctrl, VNVME_EVENT_NS_DETACHED, ns->nsid, 0);
	return 0;
}

/* Flushes every writable namespace; the first error, after trying them all. */
int vnvme_ns_flush_all(struct vnvme_ctrl *ctrl)
{
	struct vnvme_backing *b;
	int ret = 0, err;
	u32 nsid;

	for (nsid = 1; nsid <= VNVME_MAX_NS; nsid++) {
		b = vnvme_ns_get(ctrl, nsid);
		if (!b)
			continue;
		if (!b->readonly) {
			err = blkdev_issue_flush(b->bdev.bdev);
			if (err && !ret)
				ret = err;
		}
		vnvme_ns_put(b);
	}
	return ret;
}

void vnvme_ns_release_all(struct vnvme_ctrl *ctrl)
{
	unsigned int i;

	for (i = 0; i < VNVME_MAX_NS; i++) {
		struct vnvme_ns *ns = &ctrl->ns[i];
		struct vnvme_backing *b;

		mutex_lock(&ctrl->ns_lock);
		b = vnvme_ns_backing(ns);
		RCU_INIT_POINTER(ns->backing, NULL);
		if (b)
			vnvme_backing_destroy(b);
		kfree(ns->device_path);
		ns->device_path = NULL;
		mutex_unlock(&ctrl->ns_lock);
	}
}
