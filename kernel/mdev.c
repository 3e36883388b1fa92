// SPDX-License-Identifier: GPL-2.0
/*
 * mdev.c - mdev probe/remove and the vfio_device_ops of an instance: region
 * and irq info, region read/write dispatch, reset, request and dma_unmap.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/mdev.h>

#include "vnvme.h"

static DEFINE_IDA(vnvme_cntlid_ida);

/*
 * Identity defaults derived from the UUID: unique per instance and stable.
 * The serial is "VN" and the first 18 hex digits of the UUID as written.
 */
static void vnvme_ctrl_init_identity(struct vnvme_ctrl *ctrl)
{
	char uuid[UUID_STRING_LEN + 1];
	unsigned int i, n = 2;

	snprintf(uuid, sizeof(uuid), "%pUl", &ctrl->mdev->uuid);
	strscpy(ctrl->serial, "VN", sizeof(ctrl->serial));
	for (i = 0; uuid[i] && n < sizeof(ctrl->serial) - 1; i++)
		if (uuid[i] != '-')
			ctrl->serial[n++] = uuid[i];
	ctrl->serial[n] = '\0';
	strscpy(ctrl->model, "vnvme virtual NVMe controller", sizeof(ctrl->model));
	strscpy(ctrl->firmware, "1.0", sizeof(ctrl->firmware));
}

static void vnvme_fatal_work(struct work_struct *work)
{
	struct vnvme_ctrl *ctrl = container_of(work, struct vnvme_ctrl,
					       fatal_work);

	vnvme_ctrl_fatal(ctrl, "guest memory under a queue is not mapped", true);
}

static int vnvme_vfio_init(struct vfio_device *vdev)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	int id;

	id = ida_alloc_range(&vnvme_cntlid_ida, 1, 0xffef, GFP_KERNEL);
	if (id < 0)
		return id;
	/*
	 * No WQ_MEM_RECLAIM: host reclaim never waits for a guest's I/O, and
	 * our work items wait for each other (Delete SQ and reset wait for CQ
	 * work), which deadlocks when the rescuer runs them one after another.
	 */
	ctrl->wq = alloc_workqueue("vnvme/%d", WQ_UNBOUND | WQ_HIGHPRI, 0, id);
	ctrl->cmd_wq = alloc_workqueue("vnvme/%d-cmd", WQ_UNBOUND,
				       VNVME_SYNC_CMDS_ACTIVE, id);
	if (!ctrl->wq || !ctrl->cmd_wq) {
		if (ctrl->wq)
			destroy_workqueue(ctrl->wq);
		if (ctrl->cmd_wq)
			destroy_workqueue(ctrl->cmd_wq);
		ida_free(&vnvme_cntlid_ida, id);
		return -ENOMEM;
	}

	ctrl->mdev = mdev;
	ctrl->type = container_of(mdev->type, struct vnvme_type, mtype);
	ctrl->cntlid = id;
	ctrl->nr_vectors = ctrl->type->nr_io_queues + 1;
	ctrl->mdts = 7;
	ctrl->zero_copy = vnvme_zero_copy;
	mutex_init(&ctrl->open_lock);
	mutex_init(&ctrl->lock);
	mutex_init(&ctrl->queue_lock);
	mutex_init(&ctrl->ns_lock);
	spin_lock_init(&ctrl->irq_lock);
	spin_lock_init(&ctrl->aer_lock);
	spin_lock_init(&ctrl->log_lock);
	init_waitqueue_head(&ctrl->idle_wait);
	INIT_WORK(&ctrl->fatal_work, vnvme_fatal_work);
	vnvme_dbbuf_init(ctrl);
	vnvme_dbpage_init(ctrl);
	vnvme_pins_init(ctrl);

	vnvme_ctrl_init_identity(ctrl);
	vnvme_pci_init_config(ctrl);
	vnvme_regs_init(ctrl);
	vnvme_ns_init(ctrl);
	vnvme_mig_init(ctrl);
	return 0;
}

static void vnvme_vfio_release(struct vfio_device *vdev)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);

	vnvme_ns_release_all(ctrl);
	destroy_workqueue(ctrl->cmd_wq);
	destroy_workqueue(ctrl->wq);
	ida_free(&vnvme_cntlid_ida, ctrl->cntlid);
	mutex_destroy(&ctrl->open_lock);
	mutex_destroy(&ctrl->lock);
	mutex_destroy(&ctrl->queue_lock);
	mutex_destroy(&ctrl->ns_lock);
	vnvme_dbpage_destroy(ctrl);
	mutex_destroy(&ctrl->mig.state_mutex);
	vnvme_vfio_release_device(vdev);
}

static int vnvme_open_device(struct vfio_device *vdev)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);
	int ret;

	vnvme_pins_forget_revoked(ctrl);
	mutex_lock(&ctrl->open_lock);
	ret = vnvme_dbpage_open(ctrl);
	if (ret) {
		mutex_unlock(&ctrl->open_lock);
		return ret;
	}
	ctrl->opened = true;
	ctrl->smart.power_cycles++;
	mutex_unlock(&ctrl->open_lock);
	/* What the previous VFIO user left in the logs (admin.c). */
	vnvme_admin_new_user(ctrl);
	return 0;
}

/* Last close: stop all DMA, unpin everything, drop the eventfds. */
static void vnvme_close_device(struct vfio_device *vdev)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);

	vnvme_mig_close(ctrl);
	cancel_work_sync(&ctrl->fatal_work);
	vnvme_pci_reset_config(ctrl);
	vnvme_irq_disable_all(ctrl);
	mutex_lock(&ctrl->open_lock);
	vnvme_dbpage_close(ctrl);
	ctrl->opened = false;
	mutex_unlock(&ctrl->open_lock);
}

/* Largest naturally aligned access at pos that fits in the remaining bytes. */
static size_t vnvme_access_size(u64 pos, size_t left, size_t max)
{
	size_t n = max;

	while (n > 1 && ((pos & (n - 1)) || n > left))
		n >>= 1;
	return n;
}

/*
 * Region access of any length (QEMU reads the whole config space at once),
 * split into naturally aligned pieces of at most 4 (config) or 8 (BAR0)
 * bytes, which is what the register emulation understands.
 */
static ssize_t vnvme_region_rw(struct vnvme_ctrl *ctrl, char __user *ubuf,
			       size_t count, loff_t *ppos, bool is_write)
{
	unsigned int index = VNVME_REGION_INDEX(*ppos);
	u64 pos = VNVME_REGION_OFFSET(*ppos);
	size_t done = 0, max;
	u8 buf[8];
	int ret;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		max = 4;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		max = 8;
		break;
	default:
		return -EINVAL;
	}

	while (done < count) {
		size_t n = vnvme_access_size(pos + done, count - done, max);

		if (is_write && copy_from_user(buf, ubuf + done, n))
			return -EFAULT;
		if (index == VFIO_PCI_CONFIG_REGION_INDEX)
			ret = vnvme_pci_config_rw(ctrl, pos + done, buf, n, is_write);
		else
			ret = vnvme_bar0_rw(ctrl, pos + done, buf, n, is_write);
		if (ret)
			return done ? done : ret;
		if (!is_write && copy_to_user(ubuf + done, buf, n))
			return -EFAULT;
		done += n;
	}
	*ppos += done;
	return done;
}

static ssize_t vnvme_read(struct vfio_device *vdev, char __user *buf,
			  size_t count, loff_t *ppos)
{
	return vnvme_region_rw(vdev_to_ctrl(vdev), buf, count, ppos, false);
}

static ssize_t vnvme_write(struct vfio_device *vdev, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	return vnvme_region_rw(vdev_to_ctrl(vdev), (char __user *)buf, count,
			       ppos, true);
}

static int vnvme_get_region_info(struct vfio_region_info *info)
{
	if (info->index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;

	info->offset = (u64)info->index << VNVME_REGION_SHIFT;
	info->flags = 0;
	info->size = 0;
	switch (info->index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = VNVME_CONFIG_SIZE;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		info->size = VNVME_BAR0_SIZE;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		break;
	}
	return 0;
}

static int vnvme_get_irq_info(struct vnvme_ctrl *ctrl,
			      struct vfio_irq_info *info)
{
	if (info->index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;

	info->flags = 0;
	info->count = 0;
	switch (info->index) {
	case VFIO_PCI_MSIX_IRQ_INDEX:
		info->count = ctrl->nr_vectors;
		info->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		info->count = 1;
		info->flags = VFIO_IRQ_INFO_EVENTFD;
		break;
	}
	return 0;
}

static long vnvme_ioctl(struct vfio_device *vdev, unsigned int cmd,
			unsigned long arg)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);
	void __user *uarg = (void __user *)arg;
	unsigned long minsz;
	int ret;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info info;

		minsz = offsetofend(struct vfio_region_info, offset);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		ret = vnvme_get_region_info(&info);
		if (!ret)
			ret = vnvme_dbpage_region_info(ctrl, &info, uarg);
		if (ret)
			return ret;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;

		minsz = offsetofend(struct vfio_irq_info, count);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		ret = vnvme_get_irq_info(ctrl, &info);
		if (ret)
			return ret;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set hdr;

		minsz = offsetofend(struct vfio_irq_set, count);
		if (copy_from_user(&hdr, uarg, minsz))
			return -EFAULT;
		return vnvme_irq_set(ctrl, &hdr, uarg + minsz);
	}
	case VFIO_DEVICE_RESET:
		vnvme_mig_reset(ctrl);
		vnvme_notify(ctrl, VNVME_EVENT_CTRL_RESET, 0, 0);
		vnvme_pci_reset_config(ctrl);
		return 0;
	}
	return -ENOTTY;
}

static void vnvme_request(struct vfio_device *vdev, unsigned int count)
{
	struct vnvme_ctrl *ctrl = vdev_to_ctrl(vdev);

	if (count == 0)
		dev_info(vnvme_dev(ctrl), "asking the user to release the device\n");
	vnvme_irq_request(ctrl);
}

/*
 * The guest memory backing [iova, iova + length) is going away.  Queue
 * rings, the shadow doorbell pages and zero-copy data pages hold pins; all
 * are dropped before we return, after the commands using data pages there
 * have ended (dma.c, pincache.c).
 */
static void vnvme_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	vnvme_pins_dma_unmap(vdev_to_ctrl(vdev), iova, length);
}

static const struct vfio_device_ops vnvme_vfio_ops = {
	.name		= "vnvme",
	.init		= vnvme_vfio_init,
	.release	= vnvme_vfio_release,
	.open_device	= vnvme_open_device,
	.close_device	= vnvme_close_device,
	.read		= vnvme_read,
	.write		= vnvme_write,
	.mmap		= vnvme_dbpage_mmap,
	.ioctl		= vnvme_ioctl,
	.request	= vnvme_request,
	.dma_unmap	= vnvme_dma_unmap,
	.device_feature	= vnvme_mig_device_feature,
	VNVME_VFIO_IOMMUFD_OPS
};

static int vnvme_probe(struct mdev_device *mdev)
{
	struct vnvme_ctrl *ctrl;
	int ret;

	ctrl = vfio_alloc_device(vnvme_ctrl, vdev, &mdev->dev, &vnvme_vfio_ops);
	if (IS_ERR(ctrl))
		return PTR_ERR(ctrl);

	ret = vfio_register_emulated_iommu_dev(&ctrl->vdev);
	if (ret) {
		vfio_put_device(&ctrl->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, ctrl);
	vnvme_notify(ctrl, VNVME_EVENT_INSTANCE_CREATED, 0, 0);
	dev_info(&mdev->dev, "created %s controller, serial %s\n",
		 ctrl->type->mtype.sysfs_name, ctrl->serial);
	return 0;
}

static void vnvme_remove(struct mdev_device *mdev)
{
	struct vnvme_ctrl *ctrl = dev_get_drvdata(&mdev->dev);

	/* Blocks until the user closes the device, calling ->request. */
	vfio_unregister_group_dev(&ctrl->vdev);
	vnvme_notify(ctrl, VNVME_EVENT_INSTANCE_REMOVED, 0, 0);
	vfio_put_device(&ctrl->vdev);
}

static ssize_t vnvme_show_description(struct mdev_type *mtype, char *buf)
{
	struct vnvme_type *type = container_of(mtype, struct vnvme_type, mtype);

	return sysfs_emit(buf, "%s\n", type->description);
}

struct mdev_driver vnvme_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.probe = vnvme_probe,
	.remove = vnvme_remove,
	.show_description = vnvme_show_description,
	.driver = {
		.name = "vnvme",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = vnvme_mdev_groups,
	},
};
