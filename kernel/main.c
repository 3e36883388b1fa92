// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init/exit, the vnvme parent device, mdev types and module
 * parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/device.h>
#include <linux/init.h>

#include "vnvme.h"

static unsigned int max_instances = 16;
module_param(max_instances, uint, 0444);
MODULE_PARM_DESC(max_instances, "Maximum number of vnvme instances, all types together (1-256, default 16)");

ushort vnvme_vendor_id = 0x1b36;
module_param_named(vendor_id, vnvme_vendor_id, ushort, 0444);
MODULE_PARM_DESC(vendor_id, "PCI vendor ID of the virtual controllers");

ushort vnvme_device_id = 0x0e5d;
module_param_named(device_id, vnvme_device_id, ushort, 0444);
MODULE_PARM_DESC(device_id, "PCI device ID of the virtual controllers");

ushort vnvme_subsys_vendor_id = 0x1af4;
module_param_named(subsys_vendor_id, vnvme_subsys_vendor_id, ushort, 0444);
MODULE_PARM_DESC(subsys_vendor_id, "PCI subsystem vendor ID");

ushort vnvme_subsys_id = 0x1100;
module_param_named(subsys_id, vnvme_subsys_id, ushort, 0444);
MODULE_PARM_DESC(subsys_id, "PCI subsystem ID");

unsigned int vnvme_max_pinned_pages = 4096;
module_param_named(max_pinned_pages, vnvme_max_pinned_pages, uint, 0444);
MODULE_PARM_DESC(max_pinned_pages, "Guest pages one instance may keep pinned (queue rings), default 4096");

unsigned int vnvme_max_bounce_pages = 8192;
module_param_named(max_bounce_pages, vnvme_max_bounce_pages, uint, 0444);
MODULE_PARM_DESC(max_bounce_pages, "Data buffer pages one instance may have in flight, default 8192 (32 MiB)");

bool vnvme_shadow_doorbells = true;
module_param_named(shadow_doorbells, vnvme_shadow_doorbells, bool, 0444);
MODULE_PARM_DESC(shadow_doorbells, "Offer Doorbell Buffer Config (OACS bit 8) so guests skip most doorbell traps, default Y");

bool vnvme_inline_fetch = true;
module_param_named(inline_fetch, vnvme_inline_fetch, bool, 0644);
MODULE_PARM_DESC(inline_fetch, "A doorbell write fetches an idle I/O queue itself instead of waking its worker, default Y");

static struct vnvme_type vnvme_types[] = {
	{
		.mtype.sysfs_name = "small",
		.mtype.pretty_name = "vnvme-small",
		.description = "NVMe controller, 4 I/O queue pairs, 5 MSI-X vectors",
		.nr_io_queues = 4,
	},
	{
		.mtype.sysfs_name = "medium",
		.mtype.pretty_name = "vnvme-medium",
		.description = "NVMe controller, 16 I/O queue pairs, 17 MSI-X vectors",
		.nr_io_queues = 16,
	},
	{
		.mtype.sysfs_name = "large",
		.mtype.pretty_name = "vnvme-large",
		.description = "NVMe controller, 32 I/O queue pairs, 33 MSI-X vectors",
		.nr_io_queues = VNVME_MAX_IO_QUEUES,
	},
};

static struct mdev_type *vnvme_mdev_types[ARRAY_SIZE(vnvme_types)];

static struct class *vnvme_class;
static struct device vnvme_parent_dev;
static struct mdev_parent vnvme_parent;

static void vnvme_parent_release(struct device *dev)
{
	/* Static object; nothing to free. */
}

static int __init vnvme_init(void)
{
	unsigned int i;
	int ret;

	if (max_instances < 1 || max_instances > 256) {
		pr_err("max_instances=%u out of range 1-256\n", max_instances);
		return -EINVAL;
	}
	vnvme_mdev_driver.max_instances = max_instances;

	ret = vnvme_netlink_init();
	if (ret)
		return ret;

	vnvme_sysfs_init();
	ret = mdev_register_driver(&vnvme_mdev_driver);
	if (ret)
		goto err_netlink;

	vnvme_class = vnvme_class_create(KBUILD_MODNAME);
	if (IS_ERR(vnvme_class)) {
		ret = PTR_ERR(vnvme_class);
		goto err_driver;
	}

	vnvme_parent_dev.class = vnvme_class;
	vnvme_parent_dev.release = vnvme_parent_release;
	dev_set_name(&vnvme_parent_dev, KBUILD_MODNAME);
	ret = device_register(&vnvme_parent_dev);
	if (ret)
		goto err_put_dev;

	for (i = 0; i < ARRAY_SIZE(vnvme_types); i++)
		vnvme_mdev_types[i] = &vnvme_types[i].mtype;
	ret = mdev_register_parent(&vnvme_parent, &vnvme_parent_dev,
				   &vnvme_mdev_driver, vnvme_mdev_types,
				   ARRAY_SIZE(vnvme_mdev_types));
	if (ret)
		goto err_unreg_dev;

	pr_info("ready: %zu types, up to %u instances\n",
		ARRAY_SIZE(vnvme_types), max_instances);
	return 0;

err_unreg_dev:
	device_unregister(&vnvme_parent_dev);
	goto err_class;
err_put_dev:
	put_device(&vnvme_parent_dev);
err_class:
	class_destroy(vnvme_class);
err_driver:
	mdev_unregister_driver(&vnvme_mdev_driver);
err_netlink:
	vnvme_netlink_exit();
	return ret;
}

/*
 * Unloading removes every instance.  An instance a VFIO user holds open pins
 * the module (vfio takes a module reference on open), so rmmod fails with
 * EBUSY before it gets here.
 */
static void __exit vnvme_exit(void)
{
	mdev_unregister_parent(&vnvme_parent);
	device_unregister(&vnvme_parent_dev);
	class_destroy(vnvme_class);
	mdev_unregister_driver(&vnvme_mdev_driver);
	vnvme_netlink_exit();
}

module_init(vnvme_init);
module_exit(vnvme_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Virtual NVMe controllers as VFIO mediated devices");
MODULE_AUTHOR("The vnvme developers");
MODULE_SOFTDEP("pre: vfio_iommu_type1");
